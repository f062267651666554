package recorder

import (
	"math"
	"slices"
)

// Stats describes one latency (or other) distribution over successful requests. Every field but N is nil
// when N is 0 ("no data"), never 0 and never NaN. Units are those of the input (vmtest passes milliseconds).
type Stats struct {
	// N is the number of values.
	N int `json:"n"`
	// Mean is the arithmetic mean.
	Mean *float64 `json:"mean"`
	// Median equals P50; kept under this name because vLLM's bench serve reports median_* fields.
	Median *float64 `json:"median"`
	// Std is the population standard deviation (ddof=0, as numpy.std and vLLM's bench serve compute it).
	Std *float64 `json:"std"`
	// Min is the smallest value.
	Min *float64 `json:"min"`
	// Max is the largest value.
	Max *float64 `json:"max"`
	// P50, P90, P95, P99 are percentiles by linear interpolation between order statistics (numpy.percentile's
	// default "linear" method, R type 7).
	P50 *float64 `json:"p50"`
	P90 *float64 `json:"p90"`
	P95 *float64 `json:"p95"`
	P99 *float64 `json:"p99"`
	// Approximate is true when the percentiles come from a DDSketch because more than ExactCap values were
	// recorded; each is then within SketchRelativeAccuracy of an order statistic at its rank. N, Mean, Std,
	// Min and Max stay exact.
	Approximate bool `json:"approximate,omitempty"`
	// Partial is true when the statistics cover only some of the values: a run rebuilt from a journal that
	// did not hold them all (journal.Load; the summary's warnings say which are missing). N counts those
	// covered.
	Partial bool `json:"partial,omitempty"`
}

// Percentile returns the q-th percentile (0 ≤ q ≤ 100) of sorted, by linear interpolation between the order
// statistics at ranks floor(h) and ceil(h) with h = (n−1)·q/100 — numpy.percentile's default method (R type 7).
// sorted must be in ascending order and hold no NaN. It returns NaN for an empty slice or q outside [0, 100].
func Percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 || q < 0 || q > 100 || math.IsNaN(q) {
		return math.NaN()
	}
	h := float64(n-1) * q / 100
	lo := math.Floor(h)
	i := int(lo)
	if i >= n-1 {
		return sorted[n-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// ComputeStats returns the Stats of values, ignoring NaN and ±Inf entries (a value that is unknown is not a
// value). values is not modified.
func ComputeStats(values []float64) Stats {
	xs := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			xs = append(xs, v)
		}
	}
	return statsOfOwned(xs)
}

// statsOfOwned computes Stats of finite xs, sorting xs in place.
func statsOfOwned(xs []float64) Stats {
	s := Stats{N: len(xs)}
	if s.N == 0 {
		return s
	}
	slices.Sort(xs)
	// Mean and variance by Welford's method: stable for long runs of large, close values.
	var mean, m2 float64
	for i, x := range xs {
		d := x - mean
		mean += d / float64(i+1)
		m2 += d * (x - mean)
	}
	p := func(v float64) *float64 { return &v }
	s.Mean = p(mean)
	s.Std = p(math.Sqrt(m2 / float64(s.N)))
	s.Min = p(xs[0])
	s.Max = p(xs[s.N-1])
	s.P50 = p(Percentile(xs, 50))
	s.Median = s.P50
	s.P90 = p(Percentile(xs, 90))
	s.P95 = p(Percentile(xs, 95))
	s.P99 = p(Percentile(xs, 99))
	return s
}

// Quantile returns the percentile named by p (50, 90, 95 or 99) or the mean (p = 0), and whether it is known.
func (s Stats) Quantile(p int) (float64, bool) {
	var v *float64
	switch p {
	case 0:
		v = s.Mean
	case 50:
		v = s.P50
	case 90:
		v = s.P90
	case 95:
		v = s.P95
	case 99:
		v = s.P99
	}
	if v == nil {
		return 0, false
	}
	return *v, true
}
