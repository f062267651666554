package report

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// windowOf is the server window over Prometheus text bodies scraped 2 s apart.
func windowOf(t *testing.T, bodies ...string) *serverstats.Stats {
	t.Helper()
	w := serverstats.NewWindow()
	t0 := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	for i, b := range bodies {
		sc, err := serverstats.Parse([]byte(b), t0.Add(time.Duration(i)*2*time.Second), "")
		require.NoError(t, err)
		w.Add(sc)
	}
	st := w.Summary()
	return &st
}

// The text summary shows the busiest engine's KV-cache maximum (engines 0.9/0.1 then 0.2/0.4: max 90 %, mean
// of the per-scrape means 40 %), and a histogram whose engines share no finite bucket bound says why its
// quantiles are unknown.
func TestTextServerRoadFigures(t *testing.T) {
	kv := func(e0, e1 string) string {
		return "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine=\"0\"} " + e0 +
			"\nvllm:kv_cache_usage_perc{engine=\"1\"} " + e1 + "\n"
	}
	hist := func(c string) string {
		return strings.ReplaceAll(`# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="1"} C
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf"} C
vllm:e2e_request_latency_seconds_count{engine="0"} C
vllm:e2e_request_latency_seconds_sum{engine="0"} C
vllm:e2e_request_latency_seconds_bucket{engine="1",le="2"} C
vllm:e2e_request_latency_seconds_bucket{engine="1",le="+Inf"} C
vllm:e2e_request_latency_seconds_count{engine="1"} C
vllm:e2e_request_latency_seconds_sum{engine="1"} C
`, "C", c)
	}
	s := summary.Compute(summary.Input{Server: windowOf(t, kv("0.9", "0.1")+hist("0"), kv("0.2", "0.4")+hist("3"))})
	text := strings.Join(TextSummary(s), "\n")
	assert.Contains(t, text, "KV cache avg 40.0% max 90.0%")
	assert.Contains(t, text, "p50 n/a  p90 n/a  p99 n/a ms (n=6, vllm:e2e_request_latency_seconds); bucket bounds differ")
	assert.Contains(t, text, "no finite bound in common: quantiles unknown")
}
