package recorder

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The values issue 5 pins, checked by hand: sorted = 95 98 99 101 105 110 120 130 400 2500;
// mean = 3758/10; p50: h=4.5 → 105+0.5·5; p90: h=8.1 → 400+0.1·2100; p99: h=8.91 → 400+0.91·2100.
func TestComputeStatsPinnedByIssue5(t *testing.T) {
	s := ComputeStats([]float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500})
	require.Equal(t, 10, s.N)
	assert.InDelta(t, 375.8, *s.Mean, 1e-9)
	assert.InDelta(t, 107.5, *s.P50, 1e-9)
	assert.InDelta(t, 610, *s.P90, 1e-9)
	assert.InDelta(t, 2311, *s.P99, 1e-9)
	assert.InDelta(t, 95, *s.Min, 0)
	assert.InDelta(t, 2500, *s.Max, 0)
	// numpy.std([...]) (ddof=0) = 714.4458... computed from the definition below, independently of Welford.
	var ss float64
	for _, v := range []float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500} {
		ss += (v - 375.8) * (v - 375.8)
	}
	assert.InDelta(t, math.Sqrt(ss/10), *s.Std, 1e-9)
	// p95: h = 8.55 → 400 + 0.55·2100 = 1555.
	assert.InDelta(t, 1555, *s.P95, 1e-9)
}

func TestComputeStatsEmptyIsNoData(t *testing.T) {
	for _, in := range [][]float64{nil, {}, {math.NaN(), math.Inf(1)}} {
		s := ComputeStats(in)
		assert.Equal(t, 0, s.N)
		assert.Nil(t, s.Mean)
		assert.Nil(t, s.P99)
		_, ok := s.Quantile(99)
		assert.False(t, ok)
	}
}

func TestPercentileEdges(t *testing.T) {
	xs := []float64{1, 2, 3, 4}
	assert.Equal(t, 1.0, Percentile(xs, 0))
	assert.Equal(t, 4.0, Percentile(xs, 100))
	assert.InDelta(t, 2.5, Percentile(xs, 50), 1e-12)
	// h = 3·0.99 = 2.97 → 3 + 0.97·1.
	assert.InDelta(t, 3.97, Percentile(xs, 99), 1e-12)
	assert.Equal(t, 7.0, Percentile([]float64{7}, 99))
	assert.True(t, math.IsNaN(Percentile(nil, 50)))
	assert.True(t, math.IsNaN(Percentile(xs, 101)))
}
