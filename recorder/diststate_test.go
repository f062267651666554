package recorder

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gapsOf returns n chunk gaps, ms, spread over 1..100 ms (deterministic).
func gapsOf(n, seed int) []float64 {
	g := make([]float64, n)
	for i := range g {
		g[i] = 1 + float64((i*7919+seed*104729)%99000)/1000
	}
	return g
}

// Once ITL is a sketch, its state carries everything: the Stats computed from it equal the recorder's own.
func TestITLSketchStateGivesTheRecordersStats(t *testing.T) {
	r := New(time.Now(), Config{})
	row := Record{Outcome: OutcomeOK, TTFTMS: 10, E2EMS: 100, TPOTMS: math.NaN(), ITLMeanMS: math.NaN(),
		TTFTFromIntendedMS: math.NaN(), E2EFromIntendedMS: math.NaN(), OutputTokens: 2}
	r.AddRecord(row, gapsOf(ExactCap, 1))
	_, ok := r.ITLSketch()
	assert.False(t, ok, "ExactCap gaps: still exact")
	r.AddRecord(row, gapsOf(1000, 2))
	st, ok := r.ITLSketch()
	require.True(t, ok)
	assert.Equal(t, ExactCap+1000, st.N)
	got, err := st.Stats()
	require.NoError(t, err)
	want := r.Summarize().ITLMS
	require.True(t, want.Approximate)
	assert.Equal(t, want, got)

	for name, bad := range map[string]SketchState{
		"n":        {N: 0, Sketch: st.Sketch},
		"min>max":  {N: st.N, Min: 5, Max: 1, Sketch: st.Sketch},
		"count":    {N: st.N + 1, Min: st.Min, Max: st.Max, Sketch: st.Sketch},
		"encoding": {N: 1, Sketch: []byte{0xff, 0xff, 0xff}},
		"inf":      {N: 1, Mean: math.Inf(1)},
	} {
		_, err := bad.Stats()
		assert.Error(t, err, name)
	}
}
