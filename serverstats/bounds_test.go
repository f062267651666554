package serverstats

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The user's case through the Window: 100 queue times of 0.23 µs (0.00023 ms), all in the lowest bucket
// (0, 0.3 s]. histogram_quantile spreads them evenly over the bucket; the bucket and the _sum say better.
func TestQueueTimeQuantilesCarryTheirBucketAndSumBound(t *testing.T) {
	base := capture(t, v0)
	w := NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, observe(t, base, famQueue, v0Labels, repeat(2.3e-7, 100)...), t0.Add(2*time.Second)))
	h := w.Summary().QueueTime
	require.NotNil(t, h)
	require.Equal(t, 100.0, h.Count)
	// _sum increase: 100 × 2.3e-7 s = 2.3e-5 s = 0.023 ms; mean 0.00023 ms.
	assert.InEpsilon(t, 0.00023, deref(h.MeanMS), 1e-6)

	for _, c := range []struct {
		name  string
		q     *Quantile
		value float64 // histogram_quantile: 0.3 s × k/100
		inB   float64 // observations from the k-th smallest on: 100 − k + 1
	}{
		{"p50", h.P50MS, 150, 51}, // k = 50
		{"p90", h.P90MS, 270, 11}, // k = 90
		{"p95", h.P95MS, 285, 6},  // k = 95
		{"p99", h.P99MS, 297, 2},  // k = 99
	} {
		require.NotNil(t, c.q, c.name)
		// histogram_quantile's figure lies above what the _sum proves: kept apart, and the value is the bound.
		assert.InDelta(t, c.value, deref(c.q.InterpolatedMS), 1e-9, c.name)
		assert.Equal(t, deref(c.q.AtMostMS), ms(c.q), "%s: the value never lies outside (bucket_lower, at_most]", c.name)
		assert.False(t, c.q.IsLowerBound, c.name)
		assert.Equal(t, 0.0, deref(c.q.BucketLowerMS), c.name)
		assert.InDelta(t, 300, deref(c.q.BucketUpperMS), 1e-9, c.name)
		// All lower bounds are 0 (lowest bucket), so the bound is Markov's: 0.023 ms / inB.
		// p50: 0.023/51 = 0.000451 ms; p90: 0.023/11 = 0.00209 ms; p95: 0.023/6 = 0.00383 ms; p99: 0.023/2 = 0.0115 ms.
		assert.InEpsilon(t, 0.023/c.inB, deref(c.q.AtMostMS), 1e-6, c.name)
		assert.GreaterOrEqual(t, deref(c.q.AtMostMS), 0.00023, "%s: the bound holds the true quantile", c.name)
		assert.Less(t, deref(c.q.AtMostMS), deref(c.q.InterpolatedMS), "%s: the interpolated value is known to be too high", c.name)
	}
}

// quantileRange by hand on the worked example's buckets with observations that fit them:
//
//	10 at 0.05 s, 30 at 0.2, 30 at 0.3, 20 at 0.6, 10 at 2.0 → sum 0.5 + 6 + 9 + 12 + 20 = 47.5 s
//	le      0.1   0.25   0.5   1.0   +Inf
//	count    10     40    70    90    100
func TestQuantileRangeWorkedExample(t *testing.T) {
	bk := []Bucket{{0.1, 10}, {0.25, 40}, {0.5, 70}, {1.0, 90}, {inf, 100}}

	// p50 (k = 50) in (0.25, 0.5]: sum bound (47.5 − 10·0 − 30·0.1 − 9·0.25 − 20·0.5 − 10·1.0) / (70 − 50 + 1)
	// = 22.25 / 21 = 1.06 > 0.5: the bucket's bound stays.
	lo, up, most := quantileRange(0.5, bk, 47.5, 0, 100, false)
	assert.Equal(t, 0.25, deref(lo))
	assert.Equal(t, 0.5, deref(up))
	assert.Equal(t, 0.5, deref(most))

	// p95 (k = 95) in the +Inf bucket: no bucket upper bound, but the sum bounds it:
	// others = 10·0 + 30·0.1 + 30·0.25 + 20·0.5 + (94 − 90)·1.0 = 24.5; (47.5 − 24.5) / (100 − 95 + 1) = 23/6 s.
	// The true p95 (2.0 s) lies in (1.0, 3.833…].
	lo, up, most = quantileRange(0.95, bk, 47.5, 0, 100, false)
	assert.Equal(t, 1.0, deref(lo))
	assert.Nil(t, up)
	assert.InEpsilon(t, 23.0/6, deref(most), 1e-11)
	assert.GreaterOrEqual(t, deref(most), 23.0/6, "rounded up, never down")

	// p5 (k = 5) in the lowest bucket: lower 0.
	lo, up, _ = quantileRange(0.05, bk, 47.5, 0, 100, false)
	assert.Equal(t, 0.0, deref(lo))
	assert.Equal(t, 0.1, deref(up))
}

// Observations just above a bucket's lower bound: the bucket lower bounds of the others tighten Markov's
// x ≤ sum / (n − k + 1).
func TestQuantileRangeMidBucket(t *testing.T) {
	// 100 observations at 0.11 s, all in (0.1, 1.0]; sum 11 s. histogram_quantile: p50 = 0.1 + 0.9 × 50/100 = 0.55 s.
	bk := []Bucket{{0.1, 0}, {1.0, 100}, {inf, 100}}
	// p50 (k = 50): the 49 below it in its bucket are > 0.1: (11 − 49·0.1) / 51 = 6.1/51 = 0.1196 s
	// (Markov alone: 11/51 = 0.216 s).
	lo, up, most := quantileRange(0.5, bk, 11, 0, 100, false)
	assert.Equal(t, 0.1, deref(lo))
	assert.Equal(t, 1.0, deref(up))
	assert.InEpsilon(t, 6.1/51, deref(most), 1e-11)
	// p99 (k = 99): (11 − 98·0.1) / 2 = 0.6 s.
	_, _, most = quantileRange(0.99, bk, 11, 0, 100, false)
	assert.InEpsilon(t, 0.6, deref(most), 1e-11)
}

// The sum bound is left out where its assumptions do not hold; the bucket bounds stay.
func TestQuantileRangeSumBoundGuards(t *testing.T) {
	bk := []Bucket{{0.1, 0}, {1.0, 100}, {inf, 100}}
	for name, c := range map[string]struct {
		sum, count float64
		forced     bool
	}{
		"buckets fixed":         {11, 100, true},
		"_count ≠ +Inf count":   {11, 101, false},
		"sum NaN":               {math.NaN(), 100, false},
		"sum +Inf":              {inf, 100, false},
		"sum below the buckets": {5, 100, false}, // (5 − 4.9)/51 = 0.002 < 0.1: contradicts the bucket
	} {
		lo, up, most := quantileRange(0.5, bk, c.sum, 0, c.count, c.forced)
		assert.Equal(t, 0.1, deref(lo), name)
		assert.Equal(t, 1.0, deref(up), name)
		assert.Equal(t, 1.0, deref(most), name)
	}

	// Not a whole number of observations: no k.
	_, _, most := quantileRange(0.5, []Bucket{{1, 2.5}, {inf, 2.5}}, 0.1, 0, 2.5, false)
	assert.Equal(t, 1.0, deref(most))

	// A lowest bucket at le ≤ 0 with observations in it: their sign is unknown, no sum bound. The quantile in
	// it has no lower bound and its value is that bucket's le (histogram_quantile).
	neg := []Bucket{{0, 5}, {1, 10}, {inf, 10}}
	lo, up, most := quantileRange(0.9, neg, 0.5, 0, 10, false)
	assert.Equal(t, 0.0, deref(lo))
	assert.Equal(t, 1.0, deref(up))
	assert.Equal(t, 1.0, deref(most))
	lo, up, most = quantileRange(0.2, neg, 0.5, 0, 10, false)
	assert.Nil(t, lo)
	assert.Equal(t, 0.0, deref(up))
	assert.Equal(t, 0.0, deref(most))

	// The +Inf bucket without a usable sum: nothing above it is known.
	lo, up, most = quantileRange(0.99, []Bucket{{1, 5}, {inf, 10}}, math.NaN(), 0, 10, false)
	assert.Equal(t, 1.0, deref(lo))
	assert.Nil(t, up)
	assert.Nil(t, most)
}

func TestRoundUp(t *testing.T) {
	// 6.1/51 = 0.11960784313725490… → 12 significant digits, up: 0.119607843138.
	assert.Equal(t, 0.119607843138, roundUp(6.1/51, 12))
	assert.Equal(t, 3006.0, roundUp(3006, 12))
	assert.Equal(t, 0.0, roundUp(0, 12))
	assert.Equal(t, -0.11960784313, roundUp(-6.1/51, 11), "towards +Inf")
}

// longRunQueue is the queue-time histogram of a server up for a long time: a million observations, cumulative
// _sum sum s (observe adds new ones into it one at a time, in float64, as the server does).
func longRunQueue(sum float64) string {
	return `# TYPE vllm:request_queue_time_seconds histogram
vllm:request_queue_time_seconds_bucket{le="0.001",model_name="m"} 200000
vllm:request_queue_time_seconds_bucket{le="0.01",model_name="m"} 600000
vllm:request_queue_time_seconds_bucket{le="0.1",model_name="m"} 900000
vllm:request_queue_time_seconds_bucket{le="1.0",model_name="m"} 999000
vllm:request_queue_time_seconds_bucket{le="+Inf",model_name="m"} 1000000
vllm:request_queue_time_seconds_count{model_name="m"} 1000000
vllm:request_queue_time_seconds_sum{model_name="m"} ` + strconv.FormatFloat(sum, 'g', -1, 64) + "\n"
}

// The reviewer's case: the window's _sum increase is the difference of two cumulative sums of ~10⁶ s, and
// the server's float64 addition of the window's one observation into its _sum rounded it, so the increase
// is a little less than the observation. The bound must still hold it.
//
// One queue time of 0.543 ms, _sum 10⁶ s → 1000000.000543 s (the float nearest 10⁶ + 0.000543; floats are
// 2⁻³³ s apart there). The window's increase is 0.0005429999437183142 s, 5.6e-11 s (1.0e-7 of it) short of
// the observation. With n = 1 every quantile is the observation itself, in (0, 1] ms; the sum bound used to
// be that increase rounded up to 12 digits, 0.542999943719 ms, below the quantile. Now it is padded by
// sumStepErr(1, 10⁶) = (1 + 8)·2⁻³³ s = 1.0477e-9 s (plus a few ulps of the increase, 2⁻⁶³ s each):
// 0.0005429999437183142 + 0.0000000010477379 = 0.0005430009914562 s, rounded up to 12 digits:
// 0.543000991457 ms.
func TestSumBoundHoldsAgainstCancellationInALongRunsSum(t *testing.T) {
	assert.Equal(t, math.Ldexp(1, -33), ulp(1e6))
	assert.Equal(t, 9*math.Ldexp(1, -33), sumStepErr(1, 1000000.000543))

	base := longRunQueue(1e6)
	w := NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, observe(t, base, famQueue, `model_name="m"`, 0.000543), t0.Add(2*time.Second)))
	for name, h := range map[string]*Histogram{"window": w.Summary().QueueTime, "step": w.stepHistogram(hQueue)} {
		require.NotNil(t, h, name)
		require.Equal(t, 1.0, h.Count, name)
		assert.Equal(t, 0.0005429999437183142*1000, h.SumMS, "%s: the increase is short of the observation", name)
		for _, q := range []*Quantile{h.P50MS, h.P90MS, h.P95MS, h.P99MS} {
			require.NotNil(t, q, name)
			assert.Equal(t, 1.0, deref(q.BucketUpperMS), name)
			assert.GreaterOrEqual(t, deref(q.AtMostMS), 0.543, "%s: the bound holds the quantile", name)
			assert.InDelta(t, 0.543000991457, deref(q.AtMostMS), 1e-12, name)
		}
	}
}

// The reviewer's measurement: cumulative sums of 10⁵–10⁶ s, one observation of 0.1–10 ms in the window. The
// unpadded bound fell below the observation in about half of the cases; the padded one never does.
func TestSumBoundHoldsForRandomLongRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		s0 := 1e5 + r.Float64()*9e5
		x := 1e-4 + r.Float64()*1e-2
		base := longRunQueue(s0)
		w := NewWindow()
		w.Add(scrape(t, base, t0))
		w.Add(scrape(t, observe(t, base, famQueue, `model_name="m"`, x), t0.Add(2*time.Second)))
		h := w.Summary().QueueTime
		require.NotNil(t, h)
		for _, q := range []*Quantile{h.P50MS, h.P99MS} {
			require.NotNil(t, q)
			require.GreaterOrEqual(t, deref(q.AtMostMS), x*1000, "_sum %v s, observation %v s", s0, x)
			// Above it by at most the pad, (1 + 8) ulps of the cumulative sum, plus the ½ulp the server's
			// rounding may have added, 9.5·2⁻³³ s ≈ 1.106e-6 ms, and the rounding up to 12 digits.
			require.Less(t, deref(q.AtMostMS), x*1000+1.11e-6, "_sum %v s, observation %v s", s0, x)
		}
	}
}

// _sum read before an observation reached it while the buckets already had it (a multiprocess server, which
// reads each process's values one at a time): the window's one observation, in the lowest bucket, is missing
// from the _sum increase, which is then 0. That is impossible unless the observation is exactly 0, so the sum
// bound is not used and the bucket's 1 ms stays (the unguarded bound was 0 ms: an SLO "proven" met).
// The same holds for an observation of exactly 0, where a bound of 0 would have been right: the bucket's
// bound is looser, never wrong.
func TestSumBoundNotUsedWhenTheSumMissesTheObservations(t *testing.T) {
	base := longRunQueue(1e6)
	for name, v := range map[string]float64{"_sum behind the buckets": 0.0009, "an observation of 0": 0} {
		end := observe(t, base, famQueue, `model_name="m"`, v)
		end = set(t, end, `vllm:request_queue_time_seconds_sum{model_name="m"}`, 1e6)
		w := NewWindow()
		w.Add(scrape(t, base, t0))
		w.Add(scrape(t, end, t0.Add(2*time.Second)))
		h := w.Summary().QueueTime
		require.NotNil(t, h, name)
		require.Equal(t, 1.0, h.Count, name)
		assert.Equal(t, 0.0, h.SumMS, name)
		assert.Equal(t, 1.0, deref(h.P99MS.AtMostMS), name)
	}

	// Above the lowest bucket every observation exceeds its bucket's lower bound, so a sum bound equal to lower
	// is impossible too: 3 observations in (0.001, 0.01] s and a _sum increase of exactly 3 × 0.001 s (none of
	// their excess): p50 (k = 2), (0.003 − 0.001) / 2 = 0.001 s, is not > 0.001 and not used (it was, as
	// 0.00100000000001 s). With 0.0036 s: (0.0036 − 0.001) / 2 = 0.0013 s.
	bk := []Bucket{{0.001, 0}, {0.01, 3}, {inf, 3}}
	_, _, most := quantileRange(0.5, bk, 0.003, 0, 3, false)
	assert.Equal(t, 0.01, deref(most))
	_, _, most = quantileRange(0.5, bk, 0.0036, 0, 3, false)
	assert.InEpsilon(t, 0.0013, deref(most), 1e-11)
	assert.GreaterOrEqual(t, deref(most), 0.0013)
}

func TestRoundUpNeverBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100000; i++ {
		v := math.Ldexp(r.Float64()+0.5, r.IntN(80)-40)
		require.GreaterOrEqual(t, roundUp(v, sumBoundDigits), v, "%v", v)
	}
}

// The value a Quantile shows never lies outside what the histogram proves, (BucketLowerMS, AtMostMS], and it is
// histogram_quantile's own figure wherever that lies inside: random windows of queue times, many far below
// their bucket's top (where the _sum proves more than the bucket) and some spread over it, over the window
// and over the step. The true quantile (the ⌈q·n⌉-th smallest observation, from the observations themselves)
// lies in the range too; histogram_quantile's figure comes from BucketQuantile over buckets counted here.
func TestQuantileValueLiesInItsProvenRange(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	les := []float64{0.001, 0.01, 0.1, 1.0}
	clamped, agreed := 0, 0
	for i := 0; i < 300; i++ {
		obs := make([]float64, 1+r.IntN(200))
		for j := range obs {
			switch r.IntN(3) {
			case 0:
				obs[j] = 1e-7 + r.Float64()*1e-5 // an idle queue: far below 1 ms
			case 1:
				obs[j] = math.Exp(r.Float64()*math.Log(2000)) * 1e-3 // 1 ms to 2 s, +Inf bucket included
			default:
				obs[j] = les[r.IntN(len(les))] * (0.1 + 0.01*r.Float64()) // just above a tenth of a bound
			}
		}
		bk := []Bucket{{inf, float64(len(obs))}}
		for _, le := range les {
			c := 0.0
			for _, x := range obs {
				if x <= le {
					c++
				}
			}
			bk = append(bk, Bucket{le, c})
		}
		sorted := slices.Sorted(slices.Values(obs))
		base := longRunQueue(1000)
		w := NewWindow()
		w.Add(scrape(t, base, t0))
		w.Add(scrape(t, observe(t, base, famQueue, `model_name="m"`, obs...), t0.Add(2*time.Second)))
		for name, h := range map[string]*Histogram{"window": w.Summary().QueueTime, "step": w.stepHistogram(hQueue)} {
			require.NotNil(t, h, name)
			for qi, qu := range []*Quantile{h.P50MS, h.P90MS, h.P95MS, h.P99MS} {
				q := quantileLevels[qi]
				require.NotNil(t, qu)
				truth := sorted[int(math.Ceil(q*float64(len(obs))))-1] * 1000
				if qu.AtMostMS != nil {
					require.GreaterOrEqual(t, *qu.AtMostMS, truth, "%s q=%v: at_most holds the quantile", name, q)
				}
				prom, lowerBound, _, ok := BucketQuantile(q, bk)
				require.True(t, ok)
				require.Equal(t, lowerBound, qu.IsLowerBound, "%s q=%v", name, q)
				if lowerBound {
					require.Nil(t, qu.ValueMS)
					continue
				}
				lo, most, v := deref(qu.BucketLowerMS), deref(qu.AtMostMS), deref(qu.ValueMS)
				require.GreaterOrEqual(t, truth, lo, "%s q=%v", name, q)
				require.Greater(t, v, lo, "%s q=%v: the value is above the bucket's lower bound", name, q)
				require.LessOrEqual(t, v, most, "%s q=%v: the value is at most what the histogram proves", name, q)
				if qu.InterpolatedMS == nil {
					require.InEpsilon(t, prom*1000, v, 1e-12, "%s q=%v: histogram_quantile's figure where it lies inside", name, q)
					agreed++
					continue
				}
				require.InEpsilon(t, prom*1000, *qu.InterpolatedMS, 1e-12, "%s q=%v", name, q)
				require.Greater(t, *qu.InterpolatedMS, most, "%s q=%v: kept apart only when outside", name, q)
				require.Equal(t, most, v, "%s q=%v: clamped to at_most", name, q)
				clamped++
			}
		}
	}
	require.Greater(t, clamped, 100, "cases whose interpolation lay above at_most")
	require.Greater(t, agreed, 100, "cases whose interpolation lay inside the range")
}
