package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// StateVersion is the version of State's encoding; MergeStates refuses any other. Version 2 added Start,
// the open-loop schedule (send lag, slot wait, intended starts) and the per-model and per-turn groups.
const StateVersion = 2

// DistState is one distribution's state in a form that merges: what its Stats are computed from (ms, as
// recorded).
type DistState struct {
	// N is the number of values; Mean their mean; M2 the sum of squared deviations from it (Welford); Min and
	// Max the extremes. All 0 when N is 0.
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	M2   float64 `json:"m2"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Values holds every value while N ≤ ExactCap: N little-endian IEEE 754 float64s in the order recorded
	// (JSON: base64). Nil once the distribution is a sketch.
	Values []byte `json:"values,omitempty"`
	// Sketch is the DDSketch (sketches-go's encoding, index mapping omitted: SketchRelativeAccuracy) once N >
	// ExactCap; nil before.
	Sketch []byte `json:"sketch,omitempty"`
}

// ErrorCount is one class of failure messages (ErrorClass) in a State: the first message of the class and
// how many requests failed with the class.
type ErrorCount struct {
	Class string `json:"class"`
	First string `json:"first"`
	Count int    `json:"count"`
}

// State is everything a Recorder's Summary is computed from but the rows, in a form that merges
// (MergeStates): the State of several recorders merged gives the Summary of one recorder that recorded all
// their requests — counts exact, percentiles exact while the merged distribution holds at most ExactCap
// values, else within SketchRelativeAccuracy.
type State struct {
	// Version is StateVersion.
	Version int `json:"version"`
	// Start is the instant the recorder's offsets count from (New's start); merged, the earliest.
	Start time.Time `json:"start"`
	// Counts are the recorder's tallies; GoodputRequests the successful requests that met Goodput.
	Counts          Counts `json:"counts"`
	Goodput         SLO    `json:"goodput_slo"`
	GoodputRequests int    `json:"goodput_requests"`
	// FirstStart is the wall-clock send time of the first successful request, LastEnd the end of the last
	// one; nil with no successful request. Summary.WindowS runs from one to the other.
	FirstStart *time.Time `json:"first_start"`
	LastEnd    *time.Time `json:"last_end"`
	// IntendedFirstS and IntendedLastS are the earliest and latest open-loop intended start, s after Start;
	// nil with no open-loop request. Summary.MeanInterArrivalMS is computed from them.
	IntendedFirstS *float64 `json:"intended_first_s"`
	IntendedLastS  *float64 `json:"intended_last_s"`
	// LastError is the last failed request's message; Errors the failures by class, in order of appearance.
	LastError string       `json:"last_error,omitempty"`
	Errors    []ErrorCount `json:"errors,omitempty"`
	// The distributions, as in Summary.
	TTFTMS             DistState `json:"ttft_ms"`
	TTFOMS             DistState `json:"ttfo_ms"`
	TPOTMS             DistState `json:"tpot_ms"`
	ITLMS              DistState `json:"itl_ms"`
	E2EMS              DistState `json:"e2e_ms"`
	TTFTFromIntendedMS DistState `json:"ttft_from_intended_ms"`
	E2EFromIntendedMS  DistState `json:"e2e_from_intended_ms"`
	TimeToRejectMS     DistState `json:"time_to_reject_ms"`
	SendLagMS          DistState `json:"send_lag_ms"`
	SlotWaitMS         DistState `json:"slot_wait_ms"`
	// ByModel and ByTurn are the States of the per-model and per-turn groups (Summary.ByModel, ByTurn):
	// ByTurn[i] is turn i+1, nil where no request of that turn came. Their distributions keep
	// GroupExactCap values exactly.
	ByModel map[string]*State `json:"by_model,omitempty"`
	ByTurn  []*State          `json:"by_turn,omitempty"`
}

// numDists is the number of distributions a Summary has (cutCopy.dists): a distribution added there and not
// to State.dists leaves a nil pointer that State and MergeStates dereference, so every test fails.
const numDists = len(cutCopy{}.dists)

// distNames are the JSON names of State.dists(), in its order.
var distNames = [numDists]string{"ttft_ms", "tpot_ms", "e2e_ms", "itl_ms", "ttft_from_intended_ms", "e2e_from_intended_ms",
	"time_to_reject_ms", "ttfo_ms", "send_lag_ms", "slot_wait_ms"}

// dists returns pointers to s's distributions in the order of cutCopy.dists.
func (s *State) dists() [numDists]*DistState {
	return [numDists]*DistState{&s.TTFTMS, &s.TPOTMS, &s.E2EMS, &s.ITLMS, &s.TTFTFromIntendedMS, &s.E2EFromIntendedMS,
		&s.TimeToRejectMS, &s.TTFOMS, &s.SendLagMS, &s.SlotWaitMS}
}

// State returns the recorder's State at one instant (its groups' each at a moment after).
func (r *Recorder) State() State {
	r.mu.Lock()
	c := r.copyLocked(false)
	errs := make([]ErrorCount, len(r.errs.classes))
	for i := range errs {
		errs[i] = ErrorCount{Class: r.errs.classes[i], First: r.errs.first[i], Count: r.errs.counts[i]}
	}
	g := r.groups.copy()
	r.mu.Unlock()
	s := State{Version: StateVersion, Start: r.start, Counts: c.s.Counts, Goodput: r.slo, GoodputRequests: c.good,
		LastError: c.s.LastError, Errors: errs}
	if !math.IsNaN(c.firstS) {
		f, l := r.start.Add(seconds(c.firstS)), r.start.Add(seconds(c.lastS))
		s.FirstStart, s.LastEnd = &f, &l
	}
	if !math.IsNaN(c.intFirst) {
		f, l := c.intFirst, c.intLast
		s.IntendedFirstS, s.IntendedLastS = &f, &l
	}
	for i, p := range s.dists() {
		*p = c.dists[i].state()
	}
	s.ByModel, s.ByTurn = each(g, func(r *Recorder) *State { gs := r.State(); return &gs })
	return s
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// state encodes d (computing its moments when exact, so d must be a copy the caller owns).
func (d *dist) state() DistState {
	if d.sk == nil {
		d.exactMoments()
	}
	s := DistState{N: d.n, Mean: d.mean, M2: d.m2, Min: d.minV, Max: d.maxV}
	if d.sk != nil {
		d.sk.Encode(&s.Sketch, true)
		return s
	}
	if d.n > 0 {
		s.Values = make([]byte, 8*len(d.exact))
		for i, v := range d.exact {
			binary.LittleEndian.PutUint64(s.Values[8*i:], math.Float64bits(v))
		}
	}
	return s
}

// check returns an error for a state no recorder could have made.
func (s *DistState) check() error {
	for _, v := range []float64{s.Mean, s.M2, s.Min, s.Max} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("a figure is not finite")
		}
	}
	switch {
	case s.N < 0 || s.Min > s.Max || s.M2 < 0:
		return fmt.Errorf("n = %d, min = %g, max = %g, m2 = %g: not a distribution", s.N, s.Min, s.Max, s.M2)
	case s.Sketch == nil && len(s.Values) != 8*s.N:
		return fmt.Errorf("n = %d but %d bytes of values", s.N, len(s.Values))
	case s.Sketch != nil && s.Values != nil:
		return errors.New("both values and a sketch")
	}
	return nil
}

// exactValues decodes s.Values, appending to dst.
func (s *DistState) exactValues(dst []float64) []float64 {
	for i := 0; i+8 <= len(s.Values); i += 8 {
		dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(s.Values[i:])))
	}
	return dst
}

// decodeSketch decodes s.Sketch, checking that it counts N values, all within [Min, Max] up to the sketch's
// accuracy (which also bounds the memory a dense store of it takes).
func (s *DistState) decodeSketch() (*ddsketch.DDSketch, error) {
	sk, err := ddsketch.DecodeDDSketch(s.Sketch, store.SparseStoreConstructor, newSketch().IndexMapping)
	if err != nil {
		return nil, err
	}
	if c := sk.GetCount(); c != float64(s.N) {
		return nil, fmt.Errorf("the sketch counts %g values, n = %d", c, s.N)
	}
	lo, _ := sk.GetMinValue()
	hi, _ := sk.GetMaxValue()
	const slack = 4 * SketchRelativeAccuracy
	if lo < s.Min-slack*math.Abs(s.Min)-1e-9 || hi > s.Max+slack*math.Abs(s.Max)+1e-9 {
		return nil, fmt.Errorf("the sketch holds values from %g to %g, outside min %g and max %g", lo, hi, s.Min, s.Max)
	}
	return sk, nil
}
