package recorder

import (
	"errors"
	"fmt"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// SketchState is a distribution's state once it is a DDSketch (past ExactCap values): everything its Stats
// are computed from, so that a journal can carry it and a rebuild compute the same Stats (ms, as recorded).
type SketchState struct {
	// N is the number of values; Mean their mean; M2 the sum of squared deviations from it (Welford), so
	// the population variance is M2/N; Min and Max the extremes.
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	M2   float64 `json:"m2"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Sketch is the DDSketch in sketches-go's binary encoding (ddsketch.DDSketch.Encode, index mapping
	// omitted: it is the recorder's, SketchRelativeAccuracy); JSON carries it as base64.
	Sketch []byte `json:"sketch"`
}

// ITLSketch returns the state of the ITL distribution once it is a sketch (more than ExactCap chunk gaps
// recorded), and false before: until then the request rows carry every gap.
func (r *Recorder) ITLSketch() (SketchState, bool) {
	r.mu.Lock()
	d := r.itl
	if d.sk != nil {
		d.setSketch(d.sk.Copy())
	}
	r.mu.Unlock()
	if d.sk == nil {
		return SketchState{}, false
	}
	s := SketchState{N: d.n, Mean: d.mean, M2: d.m2, Min: d.minV, Max: d.maxV}
	d.sk.Encode(&s.Sketch, true)
	return s, true
}

// Stats returns the Stats of the distribution s describes, as the recorder computes them from its sketch
// (Approximate true). It returns an error for a state no recorder could have made (N < 1, values not
// finite, Min > Max, a sketch that does not decode or whose count is not N). Decoding into a sparse store
// keeps its memory proportional to len(Sketch), whatever the bins' indexes.
func (s SketchState) Stats() (Stats, error) {
	for _, v := range []float64{s.Mean, s.M2, s.Min, s.Max} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Stats{}, errors.New("sketch state: a figure is not finite")
		}
	}
	if s.N < 1 || s.Min > s.Max || s.M2 < 0 {
		return Stats{}, fmt.Errorf("sketch state: n = %d, min = %g, max = %g, m2 = %g: not a distribution", s.N, s.Min, s.Max, s.M2)
	}
	m := newSketch().IndexMapping
	sk, err := ddsketch.DecodeDDSketch(s.Sketch, store.SparseStoreConstructor, m)
	if err != nil {
		return Stats{}, fmt.Errorf("sketch state: %w", err)
	}
	if c := sk.GetCount(); c != float64(s.N) {
		return Stats{}, fmt.Errorf("sketch state: the sketch counts %g values, n = %d", c, s.N)
	}
	d := dist{n: s.N, mean: s.Mean, m2: s.M2, minV: s.Min, maxV: s.Max}
	d.setSketch(sk)
	st := d.stats()
	for _, p := range []*float64{st.P50, st.P90, st.P95, st.P99} {
		if p == nil || math.IsNaN(*p) {
			return Stats{}, errors.New("sketch state: the sketch's counts give no percentile")
		}
	}
	return st, nil
}
