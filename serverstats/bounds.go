package serverstats

import "math"

// sumBoundDigits is the number of significant digits the sum bound of quantileRange is rounded up to, so that
// the JSON does not show float noise. The rounding is upward (never below the padded bound); the float
// rounding of the bound's inputs and arithmetic is covered by the padding described in quantileRange.
const sumBoundDigits = 12

// sumStepSlackULPs is the part of sumStepErr that does not grow with the observations; see there.
const sumStepSlackULPs = 8

// sumStepErr bounds, in the histogram's unit (s), how far one step's increase of a histogram series' _sum
// (the difference of two cumulative _sum readings, or the later one alone for a step counted from 0) can be
// from the exact sum of the m observations made in the step, through float64 rounding; top is the larger
// magnitude of the two readings. The cumulative _sum grows over the server's life (10⁶ s after days under load),
// so this error, small next to top, can be large next to the step's increase: a single 0.75 ms observation
// added to a _sum of 10⁶ s changes it by 0.75 ms ± 5.8e-11 s, i.e. by up to 7.8e-8 of itself.
//
//   - The server adds each observation into a float64 running _sum (client_golang and Python's
//     prometheus_client alike); each addition rounds by ≤ ½ulp of the running sum, which lies between the
//     two readings (observations ≥ 0: it only grows), so ≤ ½ulp(top): m·½ulp(top) for the step.
//   - The exposition writes the float exactly (shortest round-trip decimal: Go's strconv, Python's repr) and
//     expfmt parses it exactly: nothing.
//   - A multiprocess server (prometheus_client's multiprocess mode) exposes the sum of its P processes'
//     running sums, added up at each scrape: ≤ (P−1)·½ulp(top) at each end of the step, (P−1)·ulp(top).
//   - The subtraction of the two readings rounds by ≤ ½ulp(top) (nothing when they are within a factor 2 of
//     each other, by Sterbenz's lemma).
//
// Total ≤ (m/2 + 1/2 + P − 1)·ulp(top). sumStepErr charges (m + sumStepSlackULPs)·ulp(top): whole ulps per
// observation, and 8 more, which covers up to P = 8 processes whatever m (and more as m grows). At top = 10⁶ s
// an ulp is 2⁻³³ s ≈ 1.2e-10 s, so the pad is far below any bucket width.
func sumStepErr(m, top float64) float64 {
	return (max(m, 0) + sumStepSlackULPs) * ulp(top)
}

// ulp returns the gap between |x| and the next float64 above it (for x = 0 the smallest denormal): every
// value of magnitude ≤ |x| is represented within ½ulp(x) by rounding to nearest.
func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

// quantileRange returns what the buckets (accepted by normalize) and the histogram's _sum increase (sum, with
// sumErr a bound on its float rounding error, both in the buckets' unit) prove about the q-quantile
// (0 < q ≤ 1), in the buckets' unit. The quantile here is the k-th smallest of the n observations,
// k = ⌈q·n⌉ (n the +Inf bucket's count); findBucket's bucket b holds it.
//
//   - lower, upper: the bounds of bucket b. lower is the previous bucket's upper bound; for the lowest bucket
//     it is 0 when its upper bound is > 0 (latencies are not negative; histogram_quantile interpolates from 0
//     there too), and nil when its upper bound is ≤ 0. upper is nil for the +Inf bucket.
//   - atMost: the smallest upper bound known, min(upper, the sum bound below); nil when neither is known.
//
// The sum bound. Every observation is at least the lower bound of its bucket (0 for the lowest), and the
// observations of bucket b from the k-th smallest on — C_b − k + 1 of them, C_b being b's cumulative count —
// are each at least the quantile x. So
//
//	sum ≥ Σ over the other observations of their bucket's lower bound + (C_b − k + 1)·x
//	x   ≤ (sum − that Σ) / (C_b − k + 1)
//
// (with lower bounds all 0 this is Markov's inequality, x ≤ sum / (n − k + 1); the bucket lower bounds only
// tighten it). It needs sum and the buckets to count the same observations and the lowest bucket's
// observations to be ≥ 0, so it is used only when: forced is false (no bucket count was fixed), count (the
// _count increase) equals n, n is a whole number, sum is finite, and the lowest bucket is empty or has an
// upper bound > 0. It matters where the observations sit far below their bucket's upper bound: for 100 queue
// times of 0.23 µs, all in (0, 0.3 s], the median (k = 50) is ≤ 23 µs / 51 ≈ 0.45 µs, where the bucket alone
// says ≤ 0.3 s and histogram_quantile says 0.15 s. It can also bound a quantile in the +Inf bucket from
// above.
//
// Nor is it used unless (sum − Σ)/(C_b − k + 1) > lower, strictly (before the padding below). The observations
// from the k-th on lie in bucket b, whose lower bound is lower, so sum − Σ − (C_b − k + 1)·lower is the sum
// over all the window's observations of their excess over their bucket's lower bound. Buckets are (l, u], so
// every observation exceeds its bucket's lower bound, but for one of exactly 0 in the lowest bucket (lower
// bound 0). So a bound ≤ lower means either that every observation of the window is exactly 0 (the bucket's
// upper bound, kept, is then still a bound, only a loose one) or that one of the assumptions failed,
// typically _sum and the buckets disagreeing: a multiprocess server (prometheus_client's multiprocess mode)
// reads each process's _sum and buckets one value at a time while the process writes them, so an observation
// can be in the window's bucket increases and not in its _sum increase. Such a shortfall cannot always be
// told from the data: where the other observations' excess makes up for it, the bound comes out above lower
// and can still be below the quantile. What is caught is the case where no excess is left, e.g. the window's
// one observation, in the lowest bucket, missing from _sum, which would give a bound of 0.
//
// Float rounding. sum is the difference of two cumulative _sum readings, each as large as everything the
// server observed since it started, so its rounding error can be far larger than the bound's own arithmetic
// (sumStepErr); sumErr bounds it (the Window adds up sumStepErr over steps and series, with the rounding of
// those additions). The bound is (sum − Σ + pad) / (C_b − k + 1), rounded up, where pad = sumErr +
// (4·t + 4)·ulp(M), t the number of terms of Σ and M = max(|sum|, Σ of the terms' magnitudes, sumErr): every
// intermediate (each term c·l, each partial sum of Σ, sum − Σ, the pad itself, and sum − Σ plus the pad) is at
// most 4M in magnitude, so rounds by ≤ ½ulp(4M) = 2·ulp(M), and there are at most 2·t + 2 of them. The
// division rounds by ≤ ½ulp of the result; taking the next float above covers it. So the bound holds the true
// quantile whatever the rounding (within the model of sumStepErr).
//
// The sum cannot honestly raise lower in general: it bounds a total, and the observations above the
// quantile can carry all of it.
func quantileRange(q float64, buckets []Bucket, sum, sumErr, count float64, forced bool) (lower, upper, atMost *float64) {
	last := len(buckets) - 1
	b := findBucket(q, buckets)
	// lowerOf is the lower bound of bucket j's observations, ok false when unknown.
	lowerOf := func(j int) (float64, bool) {
		if j > 0 {
			return buckets[j-1].UpperBound, true
		}
		return 0, buckets[0].UpperBound > 0
	}
	if l, ok := lowerOf(b); ok {
		lower = ptr(l)
	}
	if b < last {
		upper = ptr(buckets[b].UpperBound)
		atMost = upper
	}
	if lower == nil {
		return lower, upper, atMost
	}
	n := buckets[last].Count
	if forced || !(q > 0) || n != math.Trunc(n) || math.Abs(count-n) > 1e-9*n || math.IsNaN(sum) || math.IsInf(sum, 0) ||
		!(sumErr >= 0) || math.IsInf(sumErr, 0) {
		return lower, upper, atMost
	}
	if _, ok := lowerOf(0); !ok && buckets[0].Count > 0 {
		return lower, upper, atMost // observations of unknown sign
	}
	k := math.Ceil(q * n)
	inB := buckets[b].Count - k + 1 // observations of bucket b that are ≥ the quantile
	if !(inB >= 1) {
		return lower, upper, atMost
	}
	var others, othersAbs, prev float64 // Σ of the other observations' lower bounds, Σ of |terms|; cumulative count so far
	terms := 0
	for j := 0; j <= last; j++ {
		c := buckets[j].Count - prev
		if j == b {
			c = k - 1 - prev // those of bucket b below the k-th
		}
		if c > 0 {
			l, _ := lowerOf(j)
			others += c * l
			othersAbs += math.Abs(c * l)
			terms++
		}
		prev = buckets[j].Count
	}
	excess := sum - others
	if !(excess/inB > *lower) {
		return lower, upper, atMost // every observation 0, or _sum short of the buckets: see above
	}
	pad := sumErr + float64(4*terms+4)*ulp(max(math.Abs(sum), othersAbs, sumErr))
	bound := roundUp(math.Nextafter((excess+pad)/inB, math.Inf(1)), sumBoundDigits)
	if !math.IsInf(bound, 0) && (atMost == nil || bound < *atMost) {
		atMost = ptr(bound)
	}
	return lower, upper, atMost
}

// roundUp rounds v up (towards +Inf) to digits significant digits; the result is never below v (where the
// scaling's own rounding would put it a float below, the next float above v is returned instead).
func roundUp(v float64, digits int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	scale := math.Pow(10, float64(digits-1)-math.Floor(math.Log10(math.Abs(v))))
	if r := math.Ceil(v*scale) / scale; r >= v {
		return r
	}
	return math.Nextafter(v, math.Inf(1))
}

func ptr(v float64) *float64 { return &v }
