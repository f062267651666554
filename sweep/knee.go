package sweep

import "math"

// FindKnee returns the index of the knee of the increasing, convex curve (xs[i], ys[i]) — where latency bends
// upward as load grows — by the Kneedle method (V. Satopää, J. Albrecht, D. Irwin, B. Raghavan, "Finding a
// 'Kneedle' in a Haystack: Detecting Knee Points in System Behavior", ICDCS Workshops 2011), offline and
// without its smoothing step, for a convex increasing curve:
//
//  1. normalize both axes to [0, 1]: xn = (x − min x)/(max x − min x), yn likewise;
//  2. the difference curve is d = xn − yn (how far the point lies below the diagonal from the first to the
//     last point; the paper's yn − xn, for a concave curve, mirrored);
//  3. a local maximum i of d (d[i] > d[i−1] and d[i] ≥ d[i+1]) with d[i] > 0 is a knee candidate; its threshold
//     is T = d[i] − sensitivity · mean(xn[j+1] − xn[j]) = d[i] − sensitivity/(n−1);
//  4. the knee is the first candidate after which d falls below its threshold before the next local maximum.
//
// xs must be strictly increasing; NaN ys are not allowed. With fewer than 3 points, equal ys, or no candidate
// that d falls below the threshold after, there is no knee: ok false. sensitivity is the paper's S ≥ 0; the
// paper's S = 1 needs many points, so a sweep of a handful of steps uses 0 (the first local maximum that d
// drops after).
func FindKnee(xs, ys []float64, sensitivity float64) (i int, ok bool) {
	n := len(xs)
	if n < 3 || len(ys) != n {
		return 0, false
	}
	ylo, yhi := ys[0], ys[0]
	for _, y := range ys {
		ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
	}
	xlo, xhi := xs[0], xs[n-1]
	if !(xhi > xlo) || !(yhi > ylo) {
		return 0, false
	}
	d := make([]float64, n)
	for j := range n {
		d[j] = (xs[j]-xlo)/(xhi-xlo) - (ys[j]-ylo)/(yhi-ylo)
	}
	step := 1 / float64(n-1)
	cand, threshold := -1, 0.0
	for j := 1; j < n; j++ {
		if j < n-1 && d[j] > d[j-1] && d[j] >= d[j+1] && d[j] > 0 {
			cand, threshold = j, d[j]-sensitivity*step
			continue
		}
		if cand >= 0 && d[j] < threshold {
			return cand, true
		}
	}
	return 0, false
}
