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
	"github.com/vmtest/vmtest/snapshot"
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

// RunNotes reads a run's state from its summary: a finished run has none; one that did not finish says so,
// with the journal's account when it was rebuilt; each early stop is named with its cause. The caveat names
// the runs that fell short and gives every run's window and requests.
func TestRunNotesAndCaveat(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	done := &summary.Summary{Finished: true, DurationS: 20, Events: []snapshot.Event{{Time: at, Source: "gpu", Message: "gpu_0 lost"}}}
	done.Requests.Total = 64
	assert.Empty(t, RunNotes(done))
	assert.Empty(t, RunNotes(nil))
	assert.Equal(t, []string{"did not finish: the summary was taken while the run went on, not at its end"}, RunNotes(&summary.Summary{}))
	rebuilt := &summary.Summary{DurationS: 12.04, Events: []snapshot.Event{
		{Time: at, Source: "vmtest", Message: "stopped early: interrupt signal received"},
		{Time: at, Source: "journal", Message: "the run did not finish: rebuilt from its journal up to its last interval (13 snapshots)"}}}
	rebuilt.Requests.Total = 52
	assert.Equal(t, []string{"did not finish: rebuilt from its journal up to its last interval (13 snapshots)",
		"stopped early: interrupt signal received"}, RunNotes(rebuilt))

	assert.Empty(t, ComparisonCaveat([]ComparisonEntry{{ID: "a", Summary: done}, {ID: "b", Summary: done}, {ID: "c", Err: "did not start"}}))
	assert.Equal(t, "b does not cover a whole run: the figures compared cover different windows (20.0 s for a, 12.0 s for b) "+
		"and request sets (requests: 64 for a, 52 for b), so a change between them may come from that rather than from what was compared.",
		ComparisonCaveat([]ComparisonEntry{{ID: "a", Summary: done}, {ID: "b", Summary: rebuilt}, {ID: "c", Err: "did not start"}}))

	// Two collect-only runs (no requests sent): the windows differ, but no request set does.
	collected := &summary.Summary{Finished: true, DurationS: 30}
	killed := &summary.Summary{DurationS: 8}
	assert.Equal(t, "b does not cover a whole run: the figures compared cover different windows (30.0 s for a, 8.0 s for b), "+
		"so a change between them may come from that rather than from what was compared.",
		ComparisonCaveat([]ComparisonEntry{{ID: "a", Summary: collected}, {ID: "b", Summary: killed}}))
}
