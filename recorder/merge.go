package recorder

import (
	"fmt"
	"math"
	"slices"
)

// MergeStates returns the State of one recorder that recorded every request of states: counts and the
// goodput count summed, the window from the earliest FirstStart to the latest LastEnd, failures merged by
// class (at most MaxErrorClasses), and each distribution merged — its values concatenated while the merged
// count is at most ExactCap, else one DDSketch holding every value (mean, M2, min and max combined exactly,
// Chan et al.'s pairwise formula). It returns an error naming the state (by index) that has another
// Version, another Goodput SLO, or a distribution no recorder could have made.
func MergeStates(states []State) (State, error) {
	if len(states) == 0 {
		return State{}, fmt.Errorf("recorder: no state to merge")
	}
	m := State{Version: StateVersion, Goodput: states[0].Goodput}
	var errs errorTally
	for i := range states {
		s := &states[i]
		switch {
		case s.Version != StateVersion:
			return State{}, fmt.Errorf("recorder: state #%d has version %d, want %d", i, s.Version, StateVersion)
		case s.Goodput != m.Goodput:
			return State{}, fmt.Errorf("recorder: state #%d has goodput SLO %+v, state #0 %+v", i, s.Goodput, m.Goodput)
		}
		m.Counts = addCounts(m.Counts, s.Counts)
		m.GoodputRequests += s.GoodputRequests
		if s.FirstStart != nil && (m.FirstStart == nil || s.FirstStart.Before(*m.FirstStart)) {
			m.FirstStart = s.FirstStart
		}
		if s.LastEnd != nil && (m.LastEnd == nil || s.LastEnd.After(*m.LastEnd)) {
			m.LastEnd = s.LastEnd
		}
		if s.LastError != "" {
			m.LastError = s.LastError
		}
		for _, e := range s.Errors {
			errs.addN(e.First, e.Count)
		}
	}
	for i := range errs.classes {
		m.Errors = append(m.Errors, ErrorCount{Class: errs.classes[i], First: errs.first[i], Count: errs.counts[i]})
	}
	names := [8]string{"ttft_ms", "tpot_ms", "e2e_ms", "itl_ms", "ttft_from_intended_ms", "e2e_from_intended_ms", "time_to_reject_ms", "ttfo_ms"}
	for k, dst := range m.dists() {
		parts := make([]*DistState, len(states))
		for i := range states {
			parts[i] = states[i].dists()[k]
			if err := parts[i].check(); err != nil {
				return State{}, fmt.Errorf("recorder: state #%d, %s: %w", i, names[k], err)
			}
		}
		d, err := mergeDists(parts)
		if err != nil {
			return State{}, fmt.Errorf("recorder: %s: %w", names[k], err)
		}
		*dst = d.state()
	}
	return m, nil
}

// addCounts returns a + b, field by field.
func addCounts(a, b Counts) Counts {
	return Counts{Total: a.Total + b.Total, OK: a.OK + b.OK, Failed: a.Failed + b.Failed, Incomplete: a.Incomplete + b.Incomplete,
		Rejected: a.Rejected + b.Rejected, Canceled: a.Canceled + b.Canceled, OutputTokens: a.OutputTokens + b.OutputTokens,
		PromptTokens: a.PromptTokens + b.PromptTokens, ReasoningTokens: a.ReasoningTokens + b.ReasoningTokens, Dropped: a.Dropped + b.Dropped,
		ITLPerToken: a.ITLPerToken + b.ITLPerToken, ITLPerChunk: a.ITLPerChunk + b.ITLPerChunk,
		OutputLength: OutputLengthCounts{Free: a.OutputLength.Free.plus(b.OutputLength.Free), IgnoreEOS: a.OutputLength.IgnoreEOS.plus(b.OutputLength.IgnoreEOS)},
		Warmup: WarmupCounts{Total: a.Warmup.Total + b.Warmup.Total, OK: a.Warmup.OK + b.Warmup.OK, OutputTokens: a.Warmup.OutputTokens + b.Warmup.OutputTokens}}
}

// plus returns t + o, field by field.
func (t LengthTally) plus(o LengthTally) LengthTally {
	return LengthTally{Requests: t.Requests + o.Requests, RequestedTokens: t.RequestedTokens + o.RequestedTokens,
		OutputTokens: t.OutputTokens + o.OutputTokens, Short: t.Short + o.Short, Off: t.Off + o.Off}
}

// mergeDists merges checked states into one dist: exact while the total count is at most ExactCap.
func mergeDists(parts []*DistState) (dist, error) {
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
	if exact && d.n <= ExactCap {
		d.exact = make([]float64, 0, d.n)
		for _, p := range parts {
			d.exact = p.exactValues(d.exact)
		}
		return d, nil
	}
	d.sk = newSketch()
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

// Summary returns the Summary of the requests s describes, as a Recorder that recorded them computes it,
// and an error for a distribution no recorder could have made.
func (s State) Summary() (Summary, error) {
	r := &Recorder{slo: s.Goodput}
	c := cutCopy{s: Summary{Counts: s.Counts, LastError: s.LastError}, good: s.GoodputRequests, firstS: math.NaN()}
	var errs errorTally
	for _, e := range s.Errors {
		errs.addN(e.First, e.Count)
	}
	c.s.DominantError, c.s.DominantErrorCount = errs.dominant()
	if s.FirstStart != nil && s.LastEnd != nil {
		c.firstS, c.lastS = 0, s.LastEnd.Sub(*s.FirstStart).Seconds()
	}
	for k, p := range s.dists() {
		if err := p.check(); err != nil {
			return Summary{}, fmt.Errorf("recorder: state: distribution #%d: %w", k, err)
		}
		d, err := mergeDists([]*DistState{p})
		if err != nil {
			return Summary{}, fmt.Errorf("recorder: state: distribution #%d: %w", k, err)
		}
		c.dists[k] = d
	}
	sum, _ := r.summarize(c)
	return sum, nil
}
