package report

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

func fp(v float64) *float64 { return &v }

// The columns are summary.KeyMetrics, titled and judged by the registry: the lowest TTFT and error rate are
// best, the highest throughput is; an error rate (a fraction) is shown in %.
func TestComparisonColumnsFromTheRegistry(t *testing.T) {
	require.Len(t, ComparisonColumns, len(summary.KeyMetrics))
	headers := make([]string, len(ComparisonColumns))
	for i, c := range ComparisonColumns {
		headers[i] = c.Header
	}
	assert.Equal(t, []string{"TTFT p50 (ms)", "TTFT p99 (ms)", "TPOT p50 (ms)", "TPOT p99 (ms)", "ITL p99 (ms)",
		"E2E p50 (ms)", "E2E p99 (ms)", "request throughput (req/s)", "output token throughput (tok/s)",
		"goodput (req/s)", "error rate (%)", "server TTFT p99 (ms)", "GPU utilization avg (%)", "GPU power avg (W)",
		"energy per output token (J/token)"}, headers)

	run := func(ttft []float64, rps, errRate float64) *summary.Summary {
		return &summary.Summary{Requests: recorder.Summary{Counts: recorder.Counts{Total: 10, OK: len(ttft)},
			TTFTMS: recorder.ComputeStats(ttft), RequestThroughput: fp(rps), ErrorRate: fp(errRate)}}
	}
	md := string(ComparisonMarkdown("t", time.Unix(0, 0).UTC(), nil, []ComparisonEntry{
		{ID: "a", Summary: run([]float64{100, 100}, 4, 0.02)},
		{ID: "b", Summary: run([]float64{50, 50}, 3, 0.1)},
		{ID: "c", Err: "did not start"},
	}))
	rows := map[string][]string{}
	for _, line := range strings.Split(md, "\n") {
		if f := strings.Split(line, " | "); len(f) > 1 && strings.HasPrefix(line, "| ") {
			rows[strings.TrimPrefix(f[0], "| ")] = f[1:]
		}
	}
	// TTFT p50: b's 50 ms is best; request throughput: a's 4 req/s; error rate: a's 2.00 %; no data: n/a.
	assert.Equal(t, "100.0", rows["a"][0])
	assert.Equal(t, "**50.0** ★", rows["b"][0])
	assert.Equal(t, "**4.00** ★", rows["a"][7])
	assert.Equal(t, "3.00", rows["b"][7])
	assert.Equal(t, "**2.00** ★", rows["a"][10])
	assert.Equal(t, "10.00", rows["b"][10])
	assert.Equal(t, "n/a", rows["a"][9])
	assert.Equal(t, "–", rows["c"][0])
}

// A server percentile whose interpolation lay above what its histogram proves is shown as that bound, marked
// "≤" (the trial's sweep table showed histogram_quantile's 650 ms for a p99 proven ≤ 588.6 ms); one inside
// its range is histogram_quantile's figure, unmarked.
func TestComparisonMarksAServerPercentileBound(t *testing.T) {
	run := func(q *serverstats.Quantile) *summary.Summary {
		return &summary.Summary{Server: &serverstats.Stats{Scrapes: 3, Figures: serverstats.Figures{
			TTFT: &serverstats.Histogram{Count: 40, P99MS: q}}}}
	}
	md := string(ComparisonMarkdown("t", time.Unix(0, 0).UTC(), nil, []ComparisonEntry{
		{ID: "a", Summary: run(&serverstats.Quantile{ValueMS: fp(588.6), InterpolatedMS: fp(650), BucketLowerMS: fp(500), BucketUpperMS: fp(1000), AtMostMS: fp(588.6)})},
		{ID: "b", Summary: run(&serverstats.Quantile{ValueMS: fp(541.7), BucketLowerMS: fp(500), BucketUpperMS: fp(1000), AtMostMS: fp(588.6)})},
	}))
	col := slices.Index(summary.KeyMetrics, "server.ttft.p99")
	require.GreaterOrEqual(t, col, 0)
	rows := map[string][]string{}
	for _, line := range strings.Split(md, "\n") {
		if f := strings.Split(line, " | "); len(f) > 1 && strings.HasPrefix(line, "| ") {
			rows[strings.TrimPrefix(f[0], "| ")] = f[1:]
		}
	}
	assert.Equal(t, "≤588.6", rows["a"][col])
	assert.Equal(t, "**541.7** ★", rows["b"][col])
	assert.Contains(t, md, "≤ marks a server percentile that its histogram proves at most that figure")
	assert.NotContains(t, md, "650")
}
