package recorder

import (
	"math"
	"slices"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// Bounds of a distribution's memory.
const (
	// ExactCap is how many values a distribution keeps exactly (8 bytes each, 4 MiB); percentiles are then
	// numpy-exact. Past it the values move into a DDSketch and percentiles carry SketchRelativeAccuracy.
	ExactCap = 1 << 19
	// SketchRelativeAccuracy is the DDSketch's relative accuracy: a percentile read from the sketch is within
	// this fraction of the value of an order statistic at that rank (DDSketch, Masson et al., VLDB 2019).
	SketchRelativeAccuracy = 0.005
)

// newSketch returns a DDSketch with the cubically interpolated index mapping (no logarithm per value) and
// dense stores: the fastest Add the library offers, with memory proportional to the log of the value range
// (about 1,600 bins for 0.01 ms to 100 s at 0.5 %).
func newSketch() *ddsketch.DDSketch {
	m, err := mapping.NewCubicallyInterpolatedMapping(SketchRelativeAccuracy)
	if err != nil { // only for an invalid accuracy constant
		panic(err)
	}
	return ddsketch.NewDDSketch(m, store.NewDenseStore(), store.NewDenseStore())
}

// dist accumulates one distribution in bounded memory: count, mean, variance (Welford), min and max are
// always exact; values are kept exactly up to ExactCap, then in a DDSketch.
type dist struct {
	exact         []float64
	sk            *ddsketch.DDSketch
	n             int
	mean, m2      float64
	minV, maxV    float64
	exactCapacity int
}

func (d *dist) add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	d.n++
	delta := v - d.mean
	d.mean += delta / float64(d.n)
	d.m2 += delta * (v - d.mean)
	if d.n == 1 || v < d.minV {
		d.minV = v
	}
	if d.n == 1 || v > d.maxV {
		d.maxV = v
	}
	if d.sk != nil {
		_ = d.sk.Add(v) // finite values never fail
		return
	}
	capacity := d.exactCapacity
	if capacity == 0 {
		capacity = ExactCap
	}
	if len(d.exact) < capacity {
		d.exact = append(d.exact, v)
		return
	}
	sk := newSketch()
	for _, x := range d.exact {
		_ = sk.Add(x)
	}
	_ = sk.Add(v)
	d.sk, d.exact = sk, nil
}

// detached returns a copy of d that shares no memory with it, so its stats can be computed without the
// recorder's lock (copying is a memmove; sorting is the slow part).
func (d *dist) detached() dist {
	c := *d
	if d.sk != nil {
		c.sk = d.sk.Copy()
	} else {
		c.exact = slices.Clone(d.exact)
	}
	return c
}

// approximate reports whether percentiles come from the sketch.
func (d *dist) approximate() bool { return d.sk != nil }

// stats returns the distribution's Stats: exact (numpy linear) while all values are kept, else percentiles
// from the sketch, clamped to the exact min and max. It sorts d.exact in place: call it on a detached copy.
func (d *dist) stats() Stats {
	if d.sk == nil {
		return statsOfOwned(d.exact)
	}
	s := Stats{N: d.n, Approximate: true}
	p := func(v float64) *float64 { return &v }
	s.Mean, s.Std, s.Min, s.Max = p(d.mean), p(math.Sqrt(d.m2/float64(d.n))), p(d.minV), p(d.maxV)
	q := func(x float64) *float64 {
		v, err := d.sk.GetValueAtQuantile(x)
		if err != nil {
			return nil
		}
		return p(min(max(v, d.minV), d.maxV))
	}
	s.P50, s.P90, s.P95, s.P99 = q(0.50), q(0.90), q(0.95), q(0.99)
	s.Median = s.P50
	return s
}
