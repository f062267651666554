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

// sketchMapping is every sketch's index mapping: cubically interpolated (no logarithm per value), at
// SketchRelativeAccuracy. It is never changed.
var sketchMapping = func() *mapping.CubicallyInterpolatedMapping {
	m, err := mapping.NewCubicallyInterpolatedMapping(SketchRelativeAccuracy)
	if err != nil { // only for an invalid accuracy constant
		panic(err)
	}
	return m
}()

// newSketch returns a DDSketch with sketchMapping and dense stores: the fastest Add the library offers, with
// memory proportional to the log of the value range (about 1,600 bins for 0.01 ms to 100 s at 0.5 %).
func newSketch() *ddsketch.DDSketch {
	return ddsketch.NewDDSketch(sketchMapping, store.NewDenseStore(), store.NewDenseStore())
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
	pos           *store.DenseStore // sk's positive store if sk has sketchMapping and dense stores; set by setSketch
}

// setSketch makes sk (not nil) d's sketch, and pos its positive store where addBins can use it.
func (d *dist) setSketch(sk *ddsketch.DDSketch) {
	d.sk, d.pos = sk, posOf(sk)
}

// posOf returns sk's positive store when addBins can place values in it directly, else nil (every value then
// goes through sk.Add).
func posOf(sk *ddsketch.DDSketch) *store.DenseStore {
	if m, ok := sk.IndexMapping.(*mapping.CubicallyInterpolatedMapping); !ok || m != sketchMapping {
		return nil
	}
	pos, _ := sk.GetPositiveValueStore().(*store.DenseStore)
	return pos
}

func (d *dist) add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if d.sk != nil {
		d.addSketched([]float64{v})
		return
	}
	capacity := d.exactCapacity
	if capacity == 0 {
		capacity = ExactCap
	}
	if len(d.exact) < capacity {
		d.n++
		d.exact = append(d.exact, v)
		return
	}
	d.toSketch(v)
}

// gapBatch is how many gaps addGaps computes at a time once d is sketched (a stack buffer).
const gapBatch = 64

// addGaps adds the gaps between consecutive times of ts, ms, as add would one at a time (a duration is
// always finite).
func (d *dist) addGaps(ts []time.Time) {
	var buf [gapBatch]float64
	for len(ts) > 1 {
		k := min(len(ts)-1, gapBatch)
		d.addFinite(gapsMS(buf[:k], ts[:k+1]))
		ts = ts[k:]
	}
}

// gapsMS sets dst[i] to the gap between ts[i] and ts[i+1], ms, for each i of dst (len(ts) > len(dst)), and
// returns dst.
func gapsMS(dst []float64, ts []time.Time) []float64 {
	for i := range dst {
		dst[i] = ms(ts[i+1].Sub(ts[i]))
	}
	return dst
}

// addFinite adds vs, finite, as add would one at a time.
func (d *dist) addFinite(vs []float64) {
	for len(vs) > 0 && d.sk == nil {
		d.add(vs[0])
		vs = vs[1:]
	}
	if len(vs) > 0 {
		d.addSketched(vs)
	}
}

// addSketched counts vs, finite, in the moments and the sketch, as one at a time would.
func (d *dist) addSketched(vs []float64) {
	d.moments(vs)
	d.addBins(vs)
}

// addBins counts vs, finite, in the sketch: its bins get the same counts as DDSketch.Add one at a time (a run
// of values in one bin is added as one count).
func (d *dist) addBins(vs []float64) {
	if d.pos == nil {
		for _, v := range vs {
			_ = d.sk.Add(v) // finite values never fail
		}
		return
	}
	m := sketchMapping
	lo, hi := m.MinIndexableValue(), m.MaxIndexableValue() // lo < v ≤ hi goes to the positive store, as in DDSketch.Add
	run, count := 0, 0.0
	for _, v := range vs {
		if v <= lo || v > hi {
			_ = d.sk.Add(v) // the zero bin, the negative store, or out of range: not the positive store
			continue
		}
		b := m.Index(v)
		if count > 0 && b == run {
			count++
			continue
		}
		if count > 0 {
			d.pos.AddWithCount(run, count)
		}
		run, count = b, 1
	}
	if count > 0 {
		d.pos.AddWithCount(run, count)
	}
}

// moments counts vs, in order, in d.n, the mean, M2 (Welford), min and max.
func (d *dist) moments(vs []float64) {
	if len(vs) == 0 {
		return
	}
	mean, m2, lo, hi := d.mean, d.m2, d.minV, d.maxV
	if d.n == 0 {
		lo, hi = vs[0], vs[0]
	}
	k := float64(d.n) // exact: a count stays far below 2^53
	for _, v := range vs {
		k++
		delta := v - mean
		mean += delta / k
		m2 += delta * (v - mean)
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	d.n += len(vs)
	d.mean, d.m2, d.minV, d.maxV = mean, m2, lo, hi
}

// toSketch moves the exact values into a new sketch and adds v, the next value: the moments are computed
// over the exact values in order, as they would have been one value at a time.
func (d *dist) toSketch(v float64) {
	d.exactMoments()
	d.setSketch(newSketch())
	d.addBins(d.exact)
	d.exact = nil
	d.addSketched([]float64{v})
}

// exactMoments sets d.n and the moments (mean, M2, min, max) from the exact values, in order, as counting
// them one at a time would: they are kept only once d is sketched.
func (d *dist) exactMoments() {
	d.n, d.mean, d.m2 = 0, 0, 0
	d.moments(d.exact)
}

// detached returns a copy of d that shares no memory with it, so its stats can be computed without the
// recorder's lock (copying is a memmove; sorting is the slow part).
func (d *dist) detached() dist {
	c := *d
	if d.sk != nil {
		c.setSketch(d.sk.Copy())
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
