package serverstats

import "math"

// sumBoundDigits is the number of significant digits the sum bound of quantileRange is rounded up to: the
// rounding up (by less than 1e-11 of the bound) covers the float rounding of the bound's own arithmetic,
// so that it cannot land a few ulps below the true quantile.
const sumBoundDigits = 12

// quantileRange returns what the buckets (accepted by normalize) and the histogram's _sum prove about the
// q-quantile (0 < q ≤ 1), in the buckets' unit. The quantile here is the k-th smallest of the n observations,
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
// upper bound > 0. A bound below lower contradicts the buckets (one of those assumptions failed, e.g. _sum
// read at another moment than the buckets) and is not used. It matters where the observations sit far below
// their bucket's upper bound: for 100 queue times of 0.23 µs, all in (0, 0.3 s], the median (k = 50) is
// ≤ 23 µs / 51 ≈ 0.45 µs, where the bucket alone says ≤ 0.3 s and histogram_quantile says 0.15 s. It can
// also bound a quantile in the +Inf bucket from above.
//
// The sum cannot honestly raise lower in general: it bounds a total, and the observations above the
// quantile can carry all of it.
func quantileRange(q float64, buckets []Bucket, sum, count float64, forced bool) (lower, upper, atMost *float64) {
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
	if forced || !(q > 0) || n != math.Trunc(n) || math.Abs(count-n) > 1e-9*n || math.IsNaN(sum) || math.IsInf(sum, 0) {
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
	var others, prev float64 // Σ of the other observations' lower bounds; cumulative count so far
	for j := 0; j <= last; j++ {
		c := buckets[j].Count - prev
		if j == b {
			c = k - 1 - prev // those of bucket b below the k-th
		}
		if c > 0 {
			l, _ := lowerOf(j)
			others += c * l
		}
		prev = buckets[j].Count
	}
	bound := roundUp((sum-others)/inB, sumBoundDigits)
	if bound >= *lower && (atMost == nil || bound < *atMost) {
		atMost = ptr(bound)
	}
	return lower, upper, atMost
}

// roundUp rounds v up (towards +Inf) to digits significant digits.
func roundUp(v float64, digits int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	scale := math.Pow(10, float64(digits-1)-math.Floor(math.Log10(math.Abs(v))))
	return math.Ceil(v*scale) / scale
}

func ptr(v float64) *float64 { return &v }
