package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// The run page has the per-model, per-turn and server-node tables the text summary has, and headless
// Chromium renders them with the figures worked out by hand below.
func TestRunHTMLGroupsAndNodesRenderInChromium(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := recorder.New(t0, recorder.Config{})
	for k, ttft := range []time.Duration{10, 30, 20} {
		rec.RecordRequest(recorder.Request{Start: t0, FirstToken: t0.Add(ttft * time.Millisecond),
			End: t0.Add(100 * time.Millisecond), OutputTokens: 2, Model: []string{"b-lora", "base", "base"}[k], Turn: k%2 + 1})
	}
	s := summary.Compute(summary.Input{Requests: rec.Summarize()})
	f := snapshot.F
	s.Nodes = map[string]summary.NodeStats{
		"gpu-node-b": {},
		"gpu-node-a": {AvgCPUPercent: f(30), MaxCPUPercent: f(50), AvgMemoryGB: f(11), MaxMemoryGB: f(12), MemoryTotalGB: f(16),
			AvgNetworkSentBytesPerSecond: f(1.5e6), AvgNetworkRecvBytesPerSecond: f(3000), AvgDiskReadBytesPerSecond: f(0),
			AvgDiskWriteBytesPerSecond: f(250e6)},
	}
	page, err := runHTML(nil, s, nil)
	require.NoError(t, err)
	selfContained(t, page)
	path := filepath.Join(t.ArtifactDir(), "report_groups.html")
	require.NoError(t, os.WriteFile(path, page, 0o644))

	dom, _ := browse(t, path)
	text := visibleText(dom)
	// TPOT = (E2E − TTFT) / (2 − 1 tokens): 90, 70, 80 ms. numpy's linear percentiles over two values a < b:
	// p50 = (a + b) / 2, p99 = a + 0.99 (b − a). ITL: no chunk after the first, unknown; a turn keeps none.
	for _, want := range []string{
		"name requests ok TTFT p50 TTFT p99 TPOT p50 TPOT p99 ITL p50 ITL p99 E2E p50 E2E p99",
		"b-lora 1 1 10.0 10.0 90.0 90.0 n/a n/a 100.0 100.0",
		"base 2 2 25.0 29.9 75.0 79.9 n/a n/a 100.0 100.0",   // TTFT 30, 20; TPOT 70, 80
		"turn 1 2 2 15.0 19.9 85.0 89.9 n/a n/a 100.0 100.0", // requests 0 and 2: TTFT 10, 20; TPOT 90, 80
		"turn 2 1 1 30.0 30.0 70.0 70.0 n/a n/a 100.0 100.0",
		"gpu-node-a 30.0 50.0 11.00 12.00 16.00 1.50 0.00 0.00 250.00",
		"gpu-node-b n/a n/a n/a n/a n/a n/a n/a n/a n/a",
	} {
		assert.Contains(t, text, want)
	}
	assert.Contains(t, text, "Per model (ms, successful requests)")
	assert.Contains(t, text, "Per turn of multi-turn sessions")
	assert.Contains(t, text, "Server nodes")
}

// A run without models, turns or server nodes has none of those tables.
func TestRunHTMLWithoutGroupsHasNoGroupTables(t *testing.T) {
	page, err := runHTML(nil, summary.Compute(summary.Input{}), nil)
	require.NoError(t, err)
	for _, absent := range []string{"Per model", "Per turn", "Server nodes", `class="groups"`, `id="nodes"`} {
		assert.NotContains(t, string(page), absent)
	}
}

// The Sources table gives each source's covered share and its outages with times, count and reason, as the
// text summary does: readings at 12:00:00..04 of which 01, 02 and 04 failed cover 2 of 5 (40.0 %).
func TestRunHTMLSourcesHaveOutages(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var st, gpu summary.SourceStatus
	for i, err := range []string{"", "refused", "refused", "", "HTTP 500"} {
		st.Record(t0.Add(time.Duration(i)*time.Second), err)
		gpu.Record(t0.Add(time.Duration(i)*time.Second), "")
	}
	s := summary.Compute(summary.Input{IntervalS: 1, Sources: map[string]summary.SourceStatus{"vllm": st, "gpu": gpu}})
	page, err := runHTML(nil, s, nil)
	require.NoError(t, err)
	text := visibleText(string(page))
	assert.Contains(t, text, "source readings ok covered outages note")
	assert.Contains(t, text, "gpu 5/5 100.0% none")
	assert.Contains(t, text, "vllm 2/5 40.0% 12:00:01–12:00:02: 2 failed readings: refused "+
		"12:00:04–12:00:04: 1 failed readings, not back at the end: HTTP 500 mostly: refused; last error: HTTP 500")
}
