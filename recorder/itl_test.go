package recorder

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Chunks of 1, 3 and 2 tokens at 100, 130 and 150 ms after Start (TTFT 100 ms): per token the gaps are
// 30/3 = 10 ms three times, then 20/2 = 10 ms twice, so ITL = {10, 10, 10, 10, 10}, mean 50/5 = 10 ms, equal
// to TPOT = (150 − 100)/(6 − 1). Per chunk they would be {30, 20}.
func TestITLPerTokenSplitsAChunksGapEvenly(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	q := req(t0, 0, 100, []float64{30, 20}, 6)
	q.TokenCounts = []int{1, 3, 2}
	r.RecordRequest(q)
	s, recs := r.Cut()
	require.Len(t, recs, 1)
	assert.True(t, recs[0].ITLPerToken)
	assert.Equal(t, 5, recs[0].ITLGaps)
	assert.InDelta(t, 10, recs[0].ITLMeanMS, 1e-9)
	assert.InDelta(t, recs[0].TPOTMS, recs[0].ITLMeanMS, 1e-9)
	assert.Equal(t, 5, s.ITLMS.N)
	assert.InDelta(t, 10, *s.ITLMS.Mean, 1e-9)
	assert.InDelta(t, 10, *s.ITLMS.P99, 1e-9)
	require.NotNil(t, s.ITLDefinition)
	assert.Equal(t, ITLPerToken, *s.ITLDefinition)
	assert.Equal(t, 1, s.ITLPerToken)
}

// A first chunk of 3 tokens at 100 ms, then chunks of 1 and 2 at 140 and 160 ms: the first chunk's two
// extra tokens came with it (gaps 0, 0), then 40, then 10, 10. Mean 60/5 = 12 = TPOT (160 − 100)/(6 − 1).
func TestITLPerTokenFirstChunkExtrasAreZeroGaps(t *testing.T) {
	q := req(time.Now(), 0, 100, []float64{40, 20}, 6)
	q.TokenCounts = []int{3, 1, 2}
	var gaps []float64
	n := q.itlGaps(func(g float64) { gaps = append(gaps, g) })
	assert.Equal(t, 5, n)
	assert.InDeltaSlice(t, []float64{0, 0, 40, 10, 10}, gaps, 1e-9)
	rec := RecordOf(&q, q.Start)
	assert.InDelta(t, 12, rec.ITLMeanMS, 1e-9)
	assert.InDelta(t, 12, rec.TPOTMS, 1e-9)
}

// Counts that do not match TokenTimes, or a count under 1, leave ITL per chunk; a recorder holding both
// kinds says "mixed".
func TestITLFallsBackToPerChunk(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	for _, counts := range [][]int{nil, {1, 2}, {1, 0, 2}} {
		q := req(t0, 0, 100, []float64{30, 20}, 4)
		q.TokenCounts = counts
		r.RecordRequest(q)
	}
	s, recs := r.Cut()
	for _, rec := range recs {
		assert.False(t, rec.ITLPerToken)
		assert.Equal(t, 2, rec.ITLGaps)
		assert.InDelta(t, 25, rec.ITLMeanMS, 1e-9)
	}
	require.NotNil(t, s.ITLDefinition)
	assert.Equal(t, ITLPerChunk, *s.ITLDefinition)
	q := req(t0, 0, 100, []float64{30}, 3)
	q.TokenCounts = []int{1, 2}
	r.RecordRequest(q)
	s = r.Summarize()
	assert.Equal(t, ITLMixed, *s.ITLDefinition)
	assert.Equal(t, 8, s.ITLMS.N)
	assert.Nil(t, New(t0, Config{}).Summarize().ITLDefinition)
}

// RecordRequest's ITL distribution, for its model's recorder too, holds what adding each chunk gap one at a
// time gives, for requests whose gaps are computed before the lock (up to 64) and those with more, across
// the switch to the sketch.
func TestRecordRequestITLMatchesOneAtATime(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	r.itl.exactCapacity = 50
	want := dist{exactCapacity: 50}
	for i, n := range []int{10, 100, 3, 64, 65, 40} {
		gaps := make([]float64, n)
		for j := range gaps {
			gaps[j] = 5 + float64((i*31+j*7919)%97)/10
		}
		q := req(t0, float64(i), 20, gaps, n+1)
		q.Model = "m"
		r.RecordRequest(q)
		for j := 1; j < len(q.TokenTimes); j++ {
			want.add(float64(q.TokenTimes[j].Sub(q.TokenTimes[j-1])) / 1e6)
		}
	}
	require.NotNil(t, r.itl.sk)
	var got, exp []byte
	r.itl.sk.Encode(&got, true)
	want.sk.Encode(&exp, true)
	assert.Equal(t, exp, got)
	assert.Equal(t, [5]float64{float64(want.n), want.mean, want.m2, want.minV, want.maxV},
		[5]float64{float64(r.itl.n), r.itl.mean, r.itl.m2, r.itl.minV, r.itl.maxV})
	m := r.Summarize().ByModel["m"].ITLMS
	assert.Equal(t, 282, m.N) // 10 + 100 + 3 + 64 + 65 + 40
	assert.InDelta(t, *r.Summarize().ITLMS.Mean, *m.Mean, 1e-9)
}
