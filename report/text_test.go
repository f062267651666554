package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// lineWith returns the one line of lines that starts with prefix.
func lineWith(t *testing.T, lines []string, prefix string) string {
	t.Helper()
	var found []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			found = append(found, l)
		}
	}
	require.Len(t, found, 1, "lines starting with %q in %q", prefix, lines)
	return found[0]
}

// The server and host lines of a 0.4 s run: avg and max both come from the one (short) interval, and an
// unknown percentage is "n/a", not "n/a%".
func TestTextSummaryShortRunRatesAndPercentages(t *testing.T) {
	s := summary.Compute(summary.Input{IntervalS: 2, Snapshots: []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 0.4, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(130.5)}, SystemMetrics: snapshot.System{CPUPercent: f(9.9)},
			GPUMetrics: map[string]snapshot.GPU{"gpu_0": {Name: "H200"}}},
	}})
	lines := TextSummary(s)
	// avg = max = 130.5 tok/s (one 0.4 s interval); no queue, batch or KV-cache reading.
	assert.Equal(t, "server: 130.5 tok/s avg, 130.5 max; queue avg n/a max n/a; batch avg n/a max n/a; KV cache avg n/a max n/a",
		lineWith(t, lines, "server: "))
	assert.Equal(t, "host: CPU avg 9.9% max 9.9%, memory avg n/a GiB max n/a GiB", lineWith(t, lines, "host: "))
	assert.Equal(t, "gpu_0 H200: util avg n/a max n/a, memory avg n/a MiB max n/a MiB, power avg n/a W, energy n/a J",
		lineWith(t, lines, "gpu_0 "))
	for _, l := range lines {
		assert.NotContains(t, l, "n/a%")
	}

	// Known percentages keep their "%": KV cache (10 + 30)/2 = 20.0 %, max 30.0 %.
	s.VLLM.AvgKVCacheUsagePercent, s.VLLM.MaxKVCacheUsagePercent = f(20), f(30)
	assert.Contains(t, lineWith(t, TextSummary(s), "server: "), "KV cache avg 20.0% max 30.0%")
}

// Server-side figures with no client request (vmtest collect): one neutral line, no warning.
func TestTextSummaryServerOnlyRun(t *testing.T) {
	gen := 2000.0
	sv := &serverstats.Stats{Scrapes: 10, Figures: serverstats.Figures{
		TTFT:             &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 20},
		GenerationTokens: &gen,
	}}
	lines := TextSummary(summary.Compute(summary.Input{Server: sv}))
	var neutral int
	for _, l := range lines {
		assert.False(t, strings.HasPrefix(l, "warning: "), l)
		if strings.Contains(l, "vmtest's client recorded no request") {
			neutral++
		}
	}
	assert.Equal(t, 1, neutral)

	// With a client request recorded the line is gone and the cross-check warns (20 observations vs 0 ok).
	lines = TextSummary(summary.Compute(summary.Input{Server: sv, Requests: recorder.Summary{Counts: recorder.Counts{Total: 1, Failed: 1}}}))
	assert.NotContains(t, strings.Join(lines, "\n"), "vmtest's client recorded no request")
	assert.Contains(t, strings.Join(lines, "\n"), "warning: server TTFT observations over the window (20 from")
}
