package recorder

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// MergeStates returns the State of one recorder that recorded every request of states: counts and the
// goodput count summed, Start the earliest, the window from the earliest FirstStart to the latest LastEnd,
// the open-loop intended starts' range likewise, failures merged by class (at most MaxErrorClasses), each
// distribution merged — its values concatenated while the merged count is at most ExactCap, else one DDSketch
// holding every value (mean, M2, min and max combined exactly, Chan et al.'s pairwise formula) — and the
// per-model and per-turn groups merged by key the same way (GroupExactCap, at most MaxGroups models). It
// returns an error naming the state (by index) that has another Version (naming both), another Goodput SLO,
// or a distribution no recorder could have made.
func MergeStates(states []State) (State, error) { return mergeStates(states, ExactCap) }

// mergeStates is MergeStates for distributions that keep capacity values exactly.
func mergeStates(states []State, capacity int) (State, error) {
	if len(states) == 0 {
		return State{}, fmt.Errorf("recorder: no state to merge")
	}
	m := State{Version: StateVersion, Start: states[0].Start, Goodput: states[0].Goodput}
	for i := range states {
		s := &states[i]
		switch {
		case s.Version != StateVersion:
			return State{}, fmt.Errorf("recorder: state #%d has version %d, want %d", i, s.Version, StateVersion)
		case s.Goodput != m.Goodput:
			return State{}, fmt.Errorf("recorder: state #%d has goodput SLO %+v, state #0 %+v", i, s.Goodput, m.Goodput)
		}
		if s.Start.Before(m.Start) {
			m.Start = s.Start
		}
	}
	var errs errorTally
	for i := range states {
		m.addTallies(&states[i], &errs)
	}
	for i := range errs.classes {
		m.Errors = append(m.Errors, ErrorCount{Class: errs.classes[i], First: errs.first[i], Count: errs.counts[i]})
	}
	if err := m.mergeDists(states, capacity); err != nil {
		return State{}, err
	}
	if err := m.mergeGroups(states); err != nil {
		return State{}, err
	}
	return m, nil
}

// addTallies adds s's counts, window, intended-start range and failures to m (errs tallies the failures).
func (m *State) addTallies(s *State, errs *errorTally) {
	m.Counts = addCounts(m.Counts, s.Counts)
	m.GoodputRequests += s.GoodputRequests
	if s.FirstStart != nil && (m.FirstStart == nil || s.FirstStart.Before(*m.FirstStart)) {
		m.FirstStart = s.FirstStart
	}
	if s.LastEnd != nil && (m.LastEnd == nil || s.LastEnd.After(*m.LastEnd)) {
		m.LastEnd = s.LastEnd
	}
	shift := s.Start.Sub(m.Start).Seconds() // s's offsets counted from m.Start
	m.IntendedFirstS = extreme(m.IntendedFirstS, s.IntendedFirstS, shift, true)
	m.IntendedLastS = extreme(m.IntendedLastS, s.IntendedLastS, shift, false)
	if s.LastError != "" {
		m.LastError = s.LastError
	}
	for _, e := range s.Errors {
		errs.addN(e.First, e.Count)
	}
}

// extreme returns the lower (or, with lower false, the higher) of cur and v + shift, or whichever of them is
// known; nil when neither is.
func extreme(cur, v *float64, shift float64, lower bool) *float64 {
	if v == nil {
		return cur
	}
	x := *v + shift
	if cur != nil && (*cur < x) == lower {
		x = *cur
	}
	return &x
}

// mergeDists sets each of m's distributions to the merge of states' (capacity values kept exactly).
func (m *State) mergeDists(states []State, capacity int) error {
	parts := make([]*DistState, len(states))
	for k, dst := range m.dists() {
		for i := range states {
			parts[i] = states[i].dists()[k]
			if err := parts[i].check(); err != nil {
				return fmt.Errorf("recorder: state #%d, %s: %w", i, distNames[k], err)
			}
		}
		d, err := mergeDists(parts, capacity)
		if err != nil {
			return fmt.Errorf("recorder: %s: %w", distNames[k], err)
		}
		*dst = d.state()
	}
	return nil
}

// mergeGroups sets m's groups to the merge of states' by key: models in order of first appearance (each
// state's in name order), at most MaxGroups; turns by index.
func (m *State) mergeGroups(states []State) error {
	for i := range states {
		for _, name := range slices.Sorted(maps.Keys(states[i].ByModel)) {
			if _, done := m.ByModel[name]; done || len(m.ByModel) >= MaxGroups {
				continue
			}
			g, err := mergeGroup(states, func(s *State) *State { return s.ByModel[name] })
			if err != nil {
				return fmt.Errorf("by_model %q: %w", name, err)
			}
			if m.ByModel == nil {
				m.ByModel = map[string]*State{}
			}
			m.ByModel[name] = g
		}
	}
	for t := 0; t < MaxGroups && slices.ContainsFunc(states, func(s State) bool { return t < len(s.ByTurn) }); t++ {
		g, err := mergeGroup(states, func(s *State) *State {
			if t < len(s.ByTurn) {
				return s.ByTurn[t]
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("by_turn[%d]: %w", t, err)
		}
		m.ByTurn = append(m.ByTurn, g)
	}
	return nil
}

// mergeGroup merges the groups that of picks from states (nil for none); nil when no state has it.
func mergeGroup(states []State, of func(*State) *State) (*State, error) {
	var parts []State
	for i := range states {
		if g := of(&states[i]); g != nil {
			parts = append(parts, *g)
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	g, err := mergeStates(parts, GroupExactCap)
	return &g, err
}

// addCounts returns a + b, field by field.
func addCounts(a, b Counts) Counts {
	return Counts{Total: a.Total + b.Total, OK: a.OK + b.OK, Failed: a.Failed + b.Failed, Incomplete: a.Incomplete + b.Incomplete,
		Rejected: a.Rejected + b.Rejected, Canceled: a.Canceled + b.Canceled, OutputTokens: a.OutputTokens + b.OutputTokens,
		PromptTokens: a.PromptTokens + b.PromptTokens, ReasoningTokens: a.ReasoningTokens + b.ReasoningTokens, Dropped: a.Dropped + b.Dropped,
		ITLPerToken: a.ITLPerToken + b.ITLPerToken, ITLPerChunk: a.ITLPerChunk + b.ITLPerChunk,
		OutputLength: OutputLengthCounts{Free: a.OutputLength.Free.plus(b.OutputLength.Free), IgnoreEOS: a.OutputLength.IgnoreEOS.plus(b.OutputLength.IgnoreEOS)},
		Warmup:       WarmupCounts{Total: a.Warmup.Total + b.Warmup.Total, OK: a.Warmup.OK + b.Warmup.OK, OutputTokens: a.Warmup.OutputTokens + b.Warmup.OutputTokens}}
}

// plus returns t + o, field by field.
func (t LengthTally) plus(o LengthTally) LengthTally {
	return LengthTally{Requests: t.Requests + o.Requests, RequestedTokens: t.RequestedTokens + o.RequestedTokens,
		OutputTokens: t.OutputTokens + o.OutputTokens, Short: t.Short + o.Short, Off: t.Off + o.Off}
}

// mergeDists merges checked states into one dist: exact while the total count is at most capacity.
func mergeDists(parts []*DistState, capacity int) (dist, error) {
	var d dist
	exact := true
	for _, p := range parts {
		if p.N == 0 {
			continue
		}
		if d.n == 0 {
			d.mean, d.m2, d.minV, d.maxV = p.Mean, p.M2, p.Min, p.Max
		} else {
			n := float64(d.n + p.N)
			delta := p.Mean - d.mean
			d.mean += delta * float64(p.N) / n
			d.m2 += p.M2 + delta*delta*float64(d.n)*float64(p.N)/n
			d.minV, d.maxV = min(d.minV, p.Min), max(d.maxV, p.Max)
		}
		d.n += p.N
		exact = exact && p.Sketch == nil
	}
	if exact && d.n <= capacity {
		d.exact = make([]float64, 0, d.n)
		for _, p := range parts {
			d.exact = p.exactValues(d.exact)
		}
		return d, nil
	}
	d.setSketch(newSketch())
	for i, p := range parts {
		if p.Sketch == nil {
			for _, v := range p.exactValues(nil) {
				_ = d.sk.Add(v) // finite values never fail
			}
			continue
		}
		sk, err := p.decodeSketch()
		if err != nil {
			return dist{}, fmt.Errorf("state #%d: %w", i, err)
		}
		if err := d.sk.MergeWith(sk); err != nil {
			return dist{}, fmt.Errorf("state #%d: %w", i, err)
		}
	}
	return d, nil
}

// addN counts n messages of msg's class.
func (t *errorTally) addN(msg string, n int) {
	if n <= 0 {
		return
	}
	t.add(msg)
	i := slices.Index(t.classes, ErrorClass(msg))
	if i < 0 {
		i = slices.Index(t.classes, OtherErrors)
	}
	t.counts[i] += n - 1
}

// Summary returns the Summary of the requests s describes, as a Recorder that recorded them computes it
// (its groups' too), and an error for a distribution no recorder could have made.
func (s State) Summary() (Summary, error) { return s.summary(ExactCap) }

// summary is Summary for distributions that keep capacity values exactly.
func (s State) summary(capacity int) (Summary, error) {
	r := &Recorder{slo: s.Goodput}
	nan := math.NaN()
	c := cutCopy{s: Summary{Counts: s.Counts, LastError: s.LastError}, good: s.GoodputRequests, firstS: nan, intFirst: nan, intLast: nan}
	var errs errorTally
	for _, e := range s.Errors {
		errs.addN(e.First, e.Count)
	}
	c.s.DominantError, c.s.DominantErrorCount = errs.dominant()
	if s.FirstStart != nil && s.LastEnd != nil {
		c.firstS, c.lastS = s.FirstStart.Sub(s.Start).Seconds(), s.LastEnd.Sub(s.Start).Seconds()
	}
	if s.IntendedFirstS != nil && s.IntendedLastS != nil {
		c.intFirst, c.intLast = *s.IntendedFirstS, *s.IntendedLastS
	}
	for k, p := range s.dists() {
		if err := p.check(); err != nil {
			return Summary{}, fmt.Errorf("recorder: state: %s: %w", distNames[k], err)
		}
		d, err := mergeDists([]*DistState{p}, capacity)
		if err != nil {
			return Summary{}, fmt.Errorf("recorder: state: %s: %w", distNames[k], err)
		}
		c.dists[k] = d
	}
	sum, _ := r.summarize(c)
	var err error
	sum.ByModel, sum.ByTurn, err = s.groupSummaries()
	return sum, err
}

// groupSummaries returns the Summaries of s's groups, as Recorder.Summarize gives them (a zero Summary for
// a turn no request reached).
func (s *State) groupSummaries() (byModel map[string]Summary, byTurn []Summary, err error) {
	if s.ByModel != nil {
		byModel = make(map[string]Summary, len(s.ByModel))
	}
	for name, g := range s.ByModel {
		if g == nil {
			continue
		}
		if byModel[name], err = g.summary(GroupExactCap); err != nil {
			return nil, nil, fmt.Errorf("by_model %q: %w", name, err)
		}
	}
	if len(s.ByTurn) > 0 {
		byTurn = make([]Summary, len(s.ByTurn))
	}
	for t, g := range s.ByTurn {
		if g == nil {
			continue
		}
		if byTurn[t], err = g.summary(GroupExactCap); err != nil {
			return nil, nil, fmt.Errorf("by_turn[%d]: %w", t, err)
		}
	}
	return byModel, byTurn, nil
}
