package serverstats

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// histSeries, the filter both Scrape.Histogram and the Window read histograms through, yields the selected
// model's histogram series in the family's order (model "b": the second and fourth of four), stops when the
// loop stops, and allocates nothing.
func TestHistSeriesFiltersAndDoesNotAllocate(t *testing.T) {
	body := "# TYPE vllm:e2e_request_latency_seconds histogram\n"
	for i, mn := range []string{"a", "b", "a", "b"} {
		body += fmt.Sprintf("vllm:e2e_request_latency_seconds_bucket{model_name=%q,engine=\"%d\",le=\"+Inf\"} %d\n", mn, i, i+1)
		body += fmt.Sprintf("vllm:e2e_request_latency_seconds_count{model_name=%q,engine=\"%d\"} %d\n", mn, i, i+1)
		body += fmt.Sprintf("vllm:e2e_request_latency_seconds_sum{model_name=%q,engine=\"%d\"} %d\n", mn, i, i+1)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	s := scrapeOf(fams, t0, "b")
	name := "vllm:e2e_request_latency_seconds"
	var counts []uint64
	for m := range s.histSeries(name) {
		counts = append(counts, m.GetHistogram().GetSampleCount())
	}
	assert.Equal(t, []uint64{2, 4}, counts)
	_, series := s.Histogram(FieldE2ELatencySeconds)
	assert.Len(t, series, 2)
	n := 0
	for range s.histSeries(name) {
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		for m := range s.histSeries(name) {
			_ = m
		}
	}))
}
