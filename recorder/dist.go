package recorder

import (
	"math"
	"slices"
	"time"

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

// dist accumulates one distribution in bounded memory: values are kept exactly up to ExactCap, then in a
// DDSketch, with count, mean, variance (Welford), min and max kept exact beside it.
type dist struct {
	exact         []float64
	sk            *ddsketch.DDSketch
	n             int
	mean, m2      float64 // Welford, over every value; kept only once sk is set (exact values give them before)
	minV, maxV    float64 // likewise
	exactCapacity int
	fast          sketchAdder
}

// sketchAdder adds a positive value to a sketch made by newSketch through its concrete mapping and store,
// as DDSketch.Add does through interfaces: the same bin, the same count.
type sketchAdder struct {
	m      *mapping.CubicallyInterpolatedMapping
	pos    *store.DenseStore
	lo, hi float64 // the mapping's indexable range: lo < v ≤ hi goes to pos
}

// adderOf returns sk's sketchAdder, or the zero one (every value through sk.Add) when sk was not made by
// newSketch.
func adderOf(sk *ddsketch.DDSketch) sketchAdder {
	m, ok1 := sk.IndexMapping.(*mapping.CubicallyInterpolatedMapping)
	pos, ok2 := sk.GetPositiveValueStore().(*store.DenseStore)
	if !ok1 || !ok2 {
		return sketchAdder{}
	}
	return sketchAdder{m: m, pos: pos, lo: m.MinIndexableValue(), hi: m.MaxIndexableValue()}
}

func (d *dist) add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	d.n++
	if d.sk != nil {
		d.addSketched(v)
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
	d.toSketch(v)
}

// addGaps adds the gaps between consecutive times of ts, ms, as add would one at a time (a duration is
// always finite).
func (d *dist) addGaps(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		v := ms(ts[i].Sub(ts[i-1]))
		if d.sk == nil {
			d.add(v)
			continue
		}
		d.n++
		d.addSketched(v)
	}
}

// addSketched counts v, finite, in the moments and the sketch; d.n already counts it.
func (d *dist) addSketched(v float64) {
	d.moments(v)
	if f := &d.fast; f.pos != nil && v > f.lo && v <= f.hi {
		f.pos.Add(f.m.Index(v))
		return
	}
	_ = d.sk.Add(v) // finite values never fail
}

// moments counts v, the d.n-th value, in the mean, M2 (Welford), min and max.
func (d *dist) moments(v float64) {
	delta := v - d.mean
	d.mean += delta / float64(d.n)
	d.m2 += delta * (v - d.mean)
	if d.n == 1 || v < d.minV {
		d.minV = v
	}
	if d.n == 1 || v > d.maxV {
		d.maxV = v
	}
}

// toSketch moves the exact values into a new sketch and adds v, the d.n-th value: the moments are computed
// over the exact values in order, as they would have been one value at a time.
func (d *dist) toSketch(v float64) {
	sk := newSketch()
	d.exactMoments()
	for _, x := range d.exact {
		_ = sk.Add(x)
	}
	d.n++
	d.moments(v)
	_ = sk.Add(v)
	d.sk, d.exact, d.fast = sk, nil, adderOf(sk)
}

// exactMoments sets the moments (mean, M2, min, max) from the exact values, in order, as counting them one
// at a time would: they are kept only once d is sketched.
func (d *dist) exactMoments() {
	d.mean, d.m2 = 0, 0
	for i, x := range d.exact {
		d.n = i + 1
		d.moments(x)
	}
}

// detached returns a copy of d that shares no memory with it, so its stats can be computed without the
// recorder's lock (copying is a memmove; sorting is the slow part).
func (d *dist) detached() dist {
	c := *d
	if d.sk != nil {
		c.sk = d.sk.Copy()
		c.fast = adderOf(c.sk)
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
