package serverstats

import (
	"math"
	"slices"
	"sort"
)

// Bucket is one bucket of a classic (non-native) Prometheus histogram: its upper bound, the value of the `le`
// label in the histogram's own unit (+Inf for the last bucket), and the cumulative count of observations less
// than or equal to it. Over a window, Count is the increase of the cumulative count.
type Bucket struct {
	// UpperBound is the bucket's inclusive upper bound (the `le` label), in the histogram's unit.
	UpperBound float64
	// Count is the cumulative number of observations ≤ UpperBound (or its increase over a window).
	Count float64
}

// precisionTolerance is the relative difference between two adjacent cumulative counts below which the
// larger is taken to be a floating-point rounding of the smaller (Prometheus promql/quantile.go uses 1e-12).
const precisionTolerance = 1e-12

// BucketQuantile returns the q-quantile (0 ≤ q ≤ 1) of classic histogram buckets, computed exactly as
// Prometheus's histogram_quantile does for classic buckets (promql/quantile.go bucketQuantile):
//
//  1. buckets are sorted by UpperBound and buckets with the same UpperBound are merged by adding their
//     counts (this is what `sum by (le)` over several series produces);
//  2. the highest bucket must be +Inf, else there is no result;
//  3. adjacent counts whose relative difference is ≤ 1e-12 are made equal (float rounding), then any count
//     lower than a count before it is raised to it (monotonicity fix; forced reports either fix);
//  4. fewer than 2 buckets, or 0 observations (the +Inf bucket's count), give no result;
//  5. rank = q × observations; the bucket found is the first one whose cumulative count ≥ rank, searched among
//     all but the +Inf bucket;
//  6. if none is found the quantile lies in the +Inf bucket: the result is the highest finite upper bound and
//     lowerBound is true (the true quantile is at least that; Prometheus returns it as a plain value);
//  7. if it is the lowest bucket and that bucket's upper bound is ≤ 0, the result is that upper bound;
//  8. otherwise the result is linearly interpolated inside the bucket found, from the previous bucket's upper
//     bound (0 for the lowest bucket) to its own: start + (end − start) × (rank − count below) / (count in
//     bucket).
//
// The result is in the buckets' unit. ok is false where Prometheus returns NaN or ±Inf (no data, q outside
// [0, 1] or NaN, no +Inf bucket, a non-finite result); then the other results are zero. buckets is not
// modified.
func BucketQuantile(q float64, buckets []Bucket) (value float64, lowerBound, forced, ok bool) {
	if len(buckets) == 0 {
		return 0, false, false, false
	}
	return bucketQuantileInPlace(q, slices.Clone(buckets))
}

// bucketQuantileInPlace is BucketQuantile sorting, merging and fixing buckets in place.
func bucketQuantileInPlace(q float64, buckets []Bucket) (value float64, lowerBound, forced, ok bool) {
	buckets, forced, ok = normalize(buckets)
	if !ok {
		return 0, false, false, false
	}
	value, lowerBound, ok = quantileOfNormalized(q, buckets)
	if !ok {
		return 0, false, false, false
	}
	return value, lowerBound, forced, true
}

// normalize applies steps 1–4 of BucketQuantile in place and returns the merged buckets, whether they had to
// be fixed, and false when no quantile can be computed from them (no +Inf bucket, fewer than 2 buckets, no
// observations).
func normalize(buckets []Bucket) (_ []Bucket, forced, ok bool) {
	if len(buckets) == 0 {
		return nil, false, false
	}
	if !slices.IsSortedFunc(buckets, cmpBound) {
		slices.SortStableFunc(buckets, cmpBound)
	}
	if !math.IsInf(buckets[len(buckets)-1].UpperBound, +1) {
		return nil, false, false
	}
	buckets = coalesce(buckets)
	fixedPrecision := fixPrecision(buckets)
	forcedMonotonic := fixMonotonic(buckets)
	if len(buckets) < 2 {
		return nil, false, false
	}
	if obs := buckets[len(buckets)-1].Count; !(obs > 0) || math.IsInf(obs, 0) {
		return nil, false, false
	}
	return buckets, fixedPrecision || forcedMonotonic, true
}

// findBucket applies step 5 of BucketQuantile to buckets that normalize accepted: it returns the index of the
// bucket the q-quantile (0 ≤ q ≤ 1) falls in, len(buckets)−1 for the +Inf bucket.
//
// For 0 < q, that bucket holds the ⌈q·n⌉-th smallest of the n observations (n the +Inf bucket's count, counts
// being whole numbers): its cumulative count is the first one ≥ q·n, so the one before it is < q·n, hence
// < ⌈q·n⌉.
func findBucket(q float64, buckets []Bucket) int {
	last := len(buckets) - 1
	rank := q * buckets[last].Count
	return sort.Search(last, func(i int) bool { return buckets[i].Count >= rank })
}

// quantileOfNormalized applies steps 5–8 of BucketQuantile to buckets that normalize accepted.
func quantileOfNormalized(q float64, buckets []Bucket) (value float64, lowerBound, ok bool) {
	if math.IsNaN(q) || q < 0 || q > 1 {
		return 0, false, false
	}
	last := len(buckets) - 1
	rank := q * buckets[last].Count
	b := findBucket(q, buckets)
	if b == last {
		// In the +Inf bucket: all we know is that the quantile is above the highest finite bound.
		return finite(buckets[last-1].UpperBound, true)
	}
	if b == 0 && buckets[0].UpperBound <= 0 {
		return finite(buckets[0].UpperBound, false)
	}
	var (
		start float64
		end   = buckets[b].UpperBound
		count = buckets[b].Count
	)
	if b > 0 {
		start = buckets[b-1].UpperBound
		count -= buckets[b-1].Count
		rank -= buckets[b-1].Count
	}
	return finite(start+(end-start)*(rank/count), false)
}

func finite(v float64, lowerBound bool) (float64, bool, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, false
	}
	return v, lowerBound, true
}

func cmpBound(a, b Bucket) int {
	switch {
	case a.UpperBound < b.UpperBound:
		return -1
	case a.UpperBound > b.UpperBound:
		return +1
	}
	return 0
}

// coalesce merges adjacent buckets (sorted) with the same upper bound, adding their counts.
func coalesce(buckets []Bucket) []Bucket {
	i := 0
	for j := 1; j < len(buckets); j++ {
		if buckets[j].UpperBound == buckets[i].UpperBound {
			buckets[i].Count += buckets[j].Count
			continue
		}
		i++
		buckets[i] = buckets[j]
	}
	return buckets[:i+1]
}

// fixPrecision makes a count equal to the last retained one when they differ by a relative 1e-12 or less.
func fixPrecision(buckets []Bucket) bool {
	fixed := false
	prev := buckets[0].Count
	for i := 1; i < len(buckets); i++ {
		cur := buckets[i].Count
		delta := math.Abs(cur - prev)
		if delta == 0 {
			continue
		}
		if delta/cur <= precisionTolerance {
			buckets[i].Count = prev
			fixed = true
		} else {
			prev = cur
		}
	}
	return fixed
}

// fixMonotonic raises every count to the largest count of the buckets below it (the envelope).
func fixMonotonic(buckets []Bucket) bool {
	forced := false
	top := buckets[0].Count
	for i := 1; i < len(buckets); i++ {
		switch c := buckets[i].Count; {
		case c > top:
			top = c
		case c < top:
			buckets[i].Count = top
			forced = true
		}
	}
	return forced
}
