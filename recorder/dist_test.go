package recorder

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Past the exact cap a distribution moves into the sketch: count, mean, std, min and max stay exact, and the
// percentiles stay within the sketch's relative accuracy of numpy's.
func TestDistSwitchesToSketchWithinAccuracy(t *testing.T) {
	d := dist{exactCapacity: 1000}
	var all []float64
	for i := 0; i < 20000; i++ {
		// A skewed, deterministic set: 1 ms .. ~1000 ms.
		v := 1 + math.Pow(float64((i*7919)%20000)/20000, 3)*1000
		d.add(v)
		all = append(all, v)
	}
	require.True(t, d.approximate())
	got := d.stats()
	want := ComputeStats(all)
	assert.True(t, got.Approximate)
	assert.Equal(t, want.N, got.N)
	assert.InDelta(t, *want.Mean, *got.Mean, 1e-9)
	assert.InDelta(t, *want.Std, *got.Std, 1e-9)
	assert.Equal(t, *want.Min, *got.Min)
	assert.Equal(t, *want.Max, *got.Max)
	for _, pair := range [][2]*float64{{want.P50, got.P50}, {want.P90, got.P90}, {want.P95, got.P95}, {want.P99, got.P99}} {
		rel := math.Abs(*pair[1]-*pair[0]) / *pair[0]
		assert.Less(t, rel, 0.01, "want %v got %v", *pair[0], *pair[1])
	}
}

func TestDistExactBelowCap(t *testing.T) {
	d := dist{exactCapacity: 10}
	for _, v := range []float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500, math.NaN()} {
		d.add(v)
	}
	s := d.stats()
	assert.False(t, s.Approximate)
	assert.Equal(t, 10, s.N)
	assert.InDelta(t, 2311, *s.P99, 1e-9)
}
