package recorder

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

// A Window built from rows counts them as the recorder's drain does (a rejected row in Total only) and fills
// a snapshot's client latency fields: over E2E 100, 300 and 200 ms numpy's linear percentiles are p50 200,
// p90 200 + 0.8·100 = 280 (rank 0.9·2 = 1.8 of the sorted 100, 200, 300), p99 298 (rank 1.98); the mean
// TTFT of 10, 30 and 20 ms is 20.
func TestWindowFromRecordsFillsSnapshot(t *testing.T) {
	var w Window
	for _, r := range []Record{
		{Outcome: OutcomeOK, EndS: 1, TTFTMS: 10, E2EMS: 100, OutputTokens: 5},
		{Outcome: OutcomeRejected, EndS: 1.5, TTFTMS: math.NaN(), E2EMS: 2},
		{Outcome: OutcomeOK, EndS: 2, TTFTMS: 30, E2EMS: 300, OutputTokens: 7},
		{Outcome: OutcomeOK, EndS: 3, TTFTMS: 20, E2EMS: 200, OutputTokens: 9},
	} {
		w.AddRecord(&r)
	}
	assert.Equal(t, Window{TTFTMS: []float64{10, 30, 20}, E2EMS: []float64{100, 300, 200}, OK: 3, OutputTokens: 21, Total: 4}, w)
	var v snapshot.VLLM
	ttft, e2e := w.FillSnapshot(&v)
	assert.Equal(t, 3, v.RequestsFinished)
	require.NotNil(t, v.FirstTokenLatencyMS)
	assert.InDelta(t, 20, *v.FirstTokenLatencyMS, 1e-12)
	for name, want := range map[string][2]any{"mean": {200.0, v.MeanLatencyMS}, "p50": {200.0, v.P50LatencyMS},
		"p90": {280.0, v.P90LatencyMS}, "p99": {298.0, v.P99LatencyMS}} {
		got := want[1].(*float64)
		require.NotNil(t, got, name)
		assert.InDelta(t, want[0].(float64), *got, 1e-9, name)
	}
	assert.Equal(t, 3, ttft.N)
	assert.Equal(t, v.P99LatencyMS, e2e.P99)
	var empty snapshot.VLLM
	(&Window{}).FillSnapshot(&empty)
	assert.Nil(t, empty.MeanLatencyMS, "no request: unknown, not 0")
	assert.Zero(t, empty.RequestsFinished)
}
