package serverstats

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var inf = math.Inf(+1)

// The worked example, every step by hand.
//
//	le      0.1   0.25   0.5   1.0   +Inf      (seconds)
//	count    10     40    70    90    100      (cumulative; 100 observations)
//
// p50: rank = 0.5 × 100 = 50. The first bucket whose cumulative count ≥ 50 is le=0.5 (70). It spans
// (0.25, 0.5] and holds 70 − 40 = 30 observations; the rank inside it is 50 − 40 = 10, so the quantile is
// 0.25 + (0.5 − 0.25) × 10/30 = 0.3333… s.
//
// p90: rank 90 → le=1.0 (90 ≥ 90), bucket (0.5, 1.0] with 20 observations, rank inside 20 → 0.5 + 0.5 × 20/20 = 1.0.
//
// p95: rank 95; no finite bucket reaches 95 (the highest holds 90): the quantile is in the +Inf bucket, and
// all that is known is that it is above 1.0, the highest finite bound: a lower bound.
//
// p5: rank 5 → lowest bucket (0, 0.1], interpolated from 0: 0 + 0.1 × 5/10 = 0.05.
func TestBucketQuantileWorkedExample(t *testing.T) {
	bk := []Bucket{{0.1, 10}, {0.25, 40}, {0.5, 70}, {1.0, 90}, {inf, 100}}

	v, lower, forced, ok := BucketQuantile(0.5, bk)
	require.True(t, ok)
	assert.False(t, lower)
	assert.False(t, forced)
	assert.InDelta(t, 0.25+0.25*10.0/30.0, v, 1e-12)

	v, lower, _, ok = BucketQuantile(0.9, bk)
	require.True(t, ok)
	assert.False(t, lower)
	assert.InDelta(t, 1.0, v, 1e-12)

	v, lower, _, ok = BucketQuantile(0.95, bk)
	require.True(t, ok)
	assert.True(t, lower, "p95 is in the +Inf bucket")
	assert.Equal(t, 1.0, v, "lower bound = highest finite bound")

	v, lower, _, ok = BucketQuantile(0.05, bk)
	require.True(t, ok)
	assert.False(t, lower)
	assert.InDelta(t, 0.05, v, 1e-12, "lowest bucket interpolated from 0")

	assert.Equal(t, []Bucket{{0.1, 10}, {0.25, 40}, {0.5, 70}, {1.0, 90}, {inf, 100}}, bk, "input not modified")
}

// The lowest bucket is interpolated from 0 when its bound is > 0, and is returned as is when it is ≤ 0.
func TestBucketQuantileLowestBucket(t *testing.T) {
	// 8 observations in (0, 0.2]: p25 → rank 0.25×16 = 4 → 0 + 0.2 × 4/8 = 0.1.
	v, lower, _, ok := BucketQuantile(0.25, []Bucket{{0.2, 8}, {0.4, 16}, {inf, 16}})
	require.True(t, ok)
	assert.False(t, lower)
	assert.InDelta(t, 0.1, v, 1e-12)

	// A lowest bound ≤ 0: rank 0.2×10 = 2 falls in it → its bound, not an interpolation.
	v, _, _, ok = BucketQuantile(0.2, []Bucket{{0, 5}, {1, 10}, {inf, 10}})
	require.True(t, ok)
	assert.Equal(t, 0.0, v)
	v, _, _, ok = BucketQuantile(0.2, []Bucket{{-1, 5}, {1, 10}, {inf, 10}})
	require.True(t, ok)
	assert.Equal(t, -1.0, v)
}

// Non-monotonic cumulative counts are raised to the envelope before the search.
//
//	le      1    2    3   +Inf
//	count  10    4   20    20      → fixed to 10, 10, 20, 20
//
// p75: rank 15 → le=3, bucket (2, 3] with 20 − 10 = 10 observations, rank inside 15 − 10 = 5 → 2.5.
// Without the fix it would be 2 + (15 − 4)/(20 − 4) = 2.6875.
func TestBucketQuantileMonotonicityFix(t *testing.T) {
	v, lower, forced, ok := BucketQuantile(0.75, []Bucket{{1, 10}, {2, 4}, {3, 20}, {inf, 20}})
	require.True(t, ok)
	assert.False(t, lower)
	assert.True(t, forced)
	assert.InDelta(t, 2.5, v, 1e-12)
}

// Counts that differ by a relative 1e-12 or less are float rounding and are made equal (Prometheus does it
// before the monotonicity fix).
func TestBucketQuantilePrecisionFix(t *testing.T) {
	// 1e15 and 1e15+0.125 differ by 1.25e-16 relative; counts 10 and 1e15: not.
	bk := []Bucket{{1, 1e15 + 0.125}, {2, 1e15}, {inf, 1e15}}
	_, _, forced, ok := BucketQuantile(0.5, bk)
	require.True(t, ok)
	assert.True(t, forced)
}

// Sorting and merging: the input order does not matter, and buckets with the same bound add up (what
// sum by (le) over two series gives).
func TestBucketQuantileSortsAndMerges(t *testing.T) {
	a := []Bucket{{inf, 60}, {0.5, 35}, {0.1, 5}, {0.1, 5}, {0.5, 35}, {inf, 40}}
	b := []Bucket{{0.1, 10}, {0.5, 70}, {inf, 100}}
	for _, q := range []float64{0.05, 0.5, 0.7, 0.9, 0.99} {
		va, la, _, oka := BucketQuantile(q, a)
		vb, lb, _, okb := BucketQuantile(q, b)
		require.True(t, oka && okb)
		assert.Equal(t, vb, va, "q=%v", q)
		assert.Equal(t, lb, la, "q=%v", q)
	}
}

func TestBucketQuantileNoData(t *testing.T) {
	for name, bk := range map[string][]Bucket{
		"empty":            nil,
		"only +Inf":        {{inf, 5}},
		"no observations":  {{0.1, 0}, {1, 0}, {inf, 0}},
		"no +Inf bucket":   {{0.1, 1}, {1, 2}},
		"merged to 1":      {{inf, 1}, {inf, 2}},
		"NaN observations": {{1, 0}, {inf, math.NaN()}},
	} {
		_, _, _, ok := BucketQuantile(0.5, bk)
		assert.False(t, ok, name)
	}
	for _, q := range []float64{-0.1, 1.1, math.NaN()} {
		_, _, _, ok := BucketQuantile(q, []Bucket{{1, 1}, {inf, 1}})
		assert.False(t, ok, "q=%v", q)
	}
	// q = 1 is the highest observation's bucket; q = 0 with an empty lowest bucket is 0/0 in Prometheus: no data.
	v, lower, _, ok := BucketQuantile(1, []Bucket{{1, 1}, {2, 3}, {inf, 3}})
	require.True(t, ok)
	assert.False(t, lower)
	assert.Equal(t, 2.0, v)
	_, _, _, ok = BucketQuantile(0, []Bucket{{1, 0}, {2, 3}, {inf, 3}})
	assert.False(t, ok)
}
