package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/vmtest"
)

// run runs one step at load and records it: its own collector and files, its warm-up, its load (cut short
// by the guard once its SLO is decided), and its verdict.
func (r *runner) run(ctx context.Context, load float64) Step {
	st := Step{ID: stepID(r.opts.Mode, load), Load: load}
	defer func() {
		r.steps = append(r.steps, st)
		if r.opts.OnStep != nil {
			r.opts.OnStep(st)
		}
	}()
	co := r.opts.Collect
	co.ConfigID, co.OutputDir = st.ID, filepath.Join(r.opts.OutputDir, st.ID)
	if co.Log == nil {
		co.Log = r.opts.Log
	}
	cctx, stopCollector := context.WithCancelCause(ctx)
	defer stopCollector(nil)
	c, err := vmtest.Start(cctx, co)
	if err != nil {
		st.Error = err.Error()
		r.opts.logf("%s: not run: %v", st.ID, err)
		return st
	}
	c.AssertFrom("judged at every step of the sweep", r.checks...) // the step's own report shows each verdict
	lc := r.stepLoad(load)
	stepCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var rules []rule
	for _, t := range r.thresholds {
		if ru, ok := decidable(t, lc.Requests); ok {
			rules = append(rules, ru)
		}
	}
	g := newGuard(c, lc.Requests, rules, cancel)
	lc.Sink = g
	r.opts.logf("%s: %s", st.ID, stepText(r.opts.Mode, lc))
	st.LoadResult, err = loadgen.Run(stepCtx, lc)
	st.StoppedEarly = g.stopped()
	if st.StoppedEarly != "" { // the step's summary says so in its events: "stopped early: sweep: ..."
		stopCollector(errors.New("sweep: " + strings.TrimPrefix(st.StoppedEarly, snapshot.StoppedEarlyPrefix)))
	}
	sum, ferr := c.Finish()
	st.Summary, st.Files = sum, sum.Files
	if err != nil && !(st.StoppedEarly != "" && errors.Is(context.Cause(stepCtx), errStoppedEarly)) {
		st.Error = "load: " + err.Error()
	}
	for _, ch := range r.checks {
		if e := ch.Eval(sum); e != nil {
			st.Failures = append(st.Failures, e.Error())
		}
	}
	if other := otherErrors(ferr, st.Failures); other != "" {
		st.Error = strings.TrimPrefix(st.Error+"; "+other, "; ")
	}
	st.Met = len(st.Failures) == 0 && st.Error == "" && st.StoppedEarly == ""
	r.opts.logf("%s: %s", st.ID, stepVerdict(st))
	return st
}

// stepLoad is the step's load configuration: the template with the step's concurrency or rate and warm-up.
func (r *runner) stepLoad(load float64) loadgen.LoadConfig {
	lc := r.opts.Load
	warm := lc.Warmup
	if r.opts.Mode == Concurrency {
		lc.Concurrency = int(load)
		if warm == 0 {
			warm = lc.Concurrency
		}
	} else {
		lc.Rate = load
		if warm == 0 {
			warm = int(math.Ceil(load))
		}
	}
	lc.Warmup = max(warm, 0)
	return lc
}

// otherErrors are the errors of Finish that are not the checks' (files not written, a bad argument), joined.
func otherErrors(ferr error, failures []string) string {
	if ferr == nil {
		return ""
	}
	errs := []error{ferr}
	if j, ok := ferr.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []string
next:
	for _, e := range errs {
		for _, f := range failures {
			if strings.HasPrefix(e.Error(), f) {
				continue next
			}
		}
		out = append(out, e.Error())
	}
	return strings.Join(out, "; ")
}

// stepText describes a step's load on one line.
func stepText(m Mode, lc loadgen.LoadConfig) string {
	s := fmt.Sprintf("closed loop, %d concurrent clients", lc.Concurrency)
	if m == Rate {
		s = fmt.Sprintf("open loop, %g req/s", lc.Rate)
		if lc.MaxConcurrency > 0 {
			s += fmt.Sprintf(", at most %d in flight", lc.MaxConcurrency)
		}
	}
	if lc.Requests > 0 {
		s += fmt.Sprintf(", %d requests", lc.Requests)
	}
	if lc.Duration > 0 {
		s += fmt.Sprintf(", for %v", lc.Duration)
	}
	s += fmt.Sprintf(", %d warm-up", lc.Warmup)
	if lc.DrainTimeout > 0 {
		s += "; " + lc.DrainText()
	}
	return s
}

// stepVerdict is a step's outcome on one line.
func stepVerdict(st Step) string {
	var parts []string
	if st.Met {
		parts = append(parts, "SLO met")
	} else {
		parts = append(parts, "SLO not met")
	}
	if st.StoppedEarly != "" {
		parts = append(parts, st.StoppedEarly)
	}
	for _, f := range st.Failures {
		parts = append(parts, failureText(firstLine(f)))
	}
	if st.Error != "" {
		parts = append(parts, "error: "+st.Error)
	}
	return strings.Join(parts, "; ")
}

// failureText is a check's Eval error f as stepVerdict shows it after "SLO not met": without the "vmtest: "
// prefix and with the label's own " not met" said once, `threshold "p(99) ttft < 1ms": ttft.p99 = ...`.
func failureText(f string) string {
	return strings.Replace(strings.TrimPrefix(f, "vmtest: "), " not met: ", ": ", 1)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
