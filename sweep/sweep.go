package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vmtest"
)

// Mode is what a step's load is: a concurrency (closed loop) or a request rate (open loop).
type Mode string

const (
	// Concurrency steps set loadgen.LoadConfig.Concurrency: whole numbers of closed-loop workers.
	Concurrency Mode = "concurrency"
	// Rate steps set loadgen.LoadConfig.Rate, requests per second in an open loop.
	Rate Mode = "rate"
)

// Search finds the highest load that meets the SLO by bisection between Lo and Hi, assuming that a load meets
// it whenever a higher one does (latency and errors do not fall as load grows). Lo is run first: when it fails
// there is no answer; then Hi: when it meets, the answer is Hi (at least). Then the midpoint of the highest
// load that met and the lowest that failed, until they are Resolution apart or less.
type Search struct {
	// Lo and Hi bound the search, in the Mode's unit; 0 < Lo < Hi. Concurrencies must be whole.
	Lo, Hi float64
	// Resolution is how close the answer must be to the lowest load that failed, in the Mode's unit; default
	// 1 for concurrency (the exact answer), (Hi − Lo)/16 for rate. Midpoints of concurrencies are rounded down.
	Resolution float64
}

// Options configure a sweep.
type Options struct {
	// Mode is Concurrency or Rate. Required.
	Mode Mode
	// Loads is the ladder, run in increasing order; or set Search instead (exactly one of the two).
	Loads []float64
	// Search finds the answer by bisection instead of a given ladder.
	Search *Search

	// SLO are threshold expressions (assert.ParseThreshold: "p(99) ttft < 500ms", "error_rate < 1%"), each
	// checked over every step's summary; "error_rate <" and upper limits on client TTFT, E2E and TPOT
	// percentiles, of the totals or of one model or turn (model.<name>.*, turn.<k>.*), also stop a step early
	// once they are decided (with Load.Requests set).
	SLO []string
	// Checks are further checks of any kind (assert.Baseline, assert.Func, ...), judged at each step's end only.
	Checks []assert.Check

	// Load is every step's load: prompts, parameters, client, Requests or Duration, Seed, MaxConcurrency.
	// Concurrency or Rate is set per step, and Sink to the step's collector. Warmup is per step; 0 means one
	// request per worker (the step's concurrency) in closed loop and one second of requests (⌈rate⌉) in open
	// loop; negative means none.
	Load loadgen.LoadConfig
	// Collect are every step's collector options; ConfigID (the step's id, e.g. "concurrency_8") and OutputDir
	// (<OutputDir>/<step id>) are set per step, and Log when empty from Log.
	Collect vmtest.Options
	// OutputDir is where the sweep's own files go (sweep_report_<ts>.md/.html, sweep_<ts>.json); default
	// vmtest's default for a run named "sweep" ($VMTEST_OUTPUT_DIR/sweep, else metrics_output/sweep).
	OutputDir string
	// KneeMetric is the summary.Lookup name whose curve over the steps' loads FindKnee reads; default
	// "ttft.p99" (queueing shows first in TTFT). KneeSensitivity is FindKnee's sensitivity (default 0).
	KneeMetric      string
	KneeSensitivity float64
	// Title heads the report; default "Load sweep (<mode>)".
	Title string
	// Log receives one "sweep: ..." line per step and the verdict (nil: none).
	Log io.Writer
	// OnStep, when set, is called with each step once it has ended, in the order run (e.g. to show progress
	// against MaxSteps).
	OnStep func(Step)
}

// MaxSteps is the most steps the sweep runs: the ladder's length, or for a search Lo, Hi and one midpoint per
// halving of Hi − Lo down to the resolution (fewer when Lo fails or Hi meets the SLO). 0 for options
// without either.
func (o Options) MaxSteps() int {
	if o.Search == nil {
		return len(o.Loads)
	}
	n, res := 2, o.Search.resolution(o.Mode)
	for w := o.Search.Hi - o.Search.Lo; w > res && res > 0 && n < 64; w /= 2 {
		n++
	}
	return n
}

// Step is one load step's outcome.
type Step struct {
	// ID names the step: "concurrency_8", "rate_2.5" (a file-name-safe form).
	ID string `json:"config_id"`
	// Load is the step's concurrency or rate.
	Load float64 `json:"load"`
	// Met is true when the step ran and met every check.
	Met bool `json:"met"`
	// Failures are the checks not met, one message each (the check's Eval error).
	Failures []string `json:"failures,omitempty"`
	// StoppedEarly says why the step's load was cut short because its SLO could no longer be met; "" when not.
	StoppedEarly string `json:"stopped_early,omitempty"`
	// Error is why the step did not run to the end or its files were not written ("" when it did).
	Error string `json:"error,omitempty"`
	// Files are the step's own files (summary.Summary.Files).
	Files map[string]string `json:"files,omitempty"`
	// Summary is the step's final summary; nil when its collector did not start.
	Summary *summary.Summary `json:"-"`
	// LoadResult is the load driver's account of the step.
	LoadResult loadgen.Result `json:"-"`
}

// Knee is where the latency curve over the steps bends (FindKnee).
type Knee struct {
	// Load is the step's load at the knee; Metric the curve's summary.Lookup name and Value its figure there.
	Load   float64 `json:"load"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
}

// Result is a sweep's outcome.
type Result struct {
	// Mode is the sweep's mode.
	Mode Mode `json:"mode"`
	// Steps are every step run, in increasing load.
	Steps []Step `json:"steps"`
	// MaxMet is the highest load whose step met every check; nil when none did. With a given ladder a lower
	// step may still have failed (see Warnings).
	MaxMet *float64 `json:"max_load_met"`
	// MinFailed is the lowest load above MaxMet whose step failed; nil when none did (the answer may be higher).
	MinFailed *float64 `json:"min_load_failed"`
	// Knee is the knee of the KneeMetric curve; nil when FindKnee finds none.
	Knee *Knee `json:"knee"`
	// Warnings say what makes the answer doubtful (a failed step below MaxMet, a search answer at its bound).
	Warnings []string `json:"warnings,omitempty"`
	// Files are the sweep's own files: "markdown", "html", "json".
	Files map[string]string `json:"files"`
}

// validate checks the options before anything runs, naming the field.
func (o *Options) validate() error {
	switch {
	case o.Mode != Concurrency && o.Mode != Rate:
		return fmt.Errorf("sweep: Options.Mode %q: want %q or %q", o.Mode, Concurrency, Rate)
	case (len(o.Loads) == 0) == (o.Search == nil):
		return errors.New("sweep: set exactly one of Options.Loads (a ladder) and Options.Search (bisection)")
	case len(o.SLO) == 0 && len(o.Checks) == 0:
		return errors.New("sweep: no SLO: set Options.SLO or Options.Checks")
	case o.Load.Concurrency != 0 || o.Load.Rate != 0:
		return errors.New("sweep: Options.Load.Concurrency and Rate are set per step: leave them 0")
	}
	loads := o.Loads
	if s := o.Search; s != nil {
		if !(s.Lo > 0 && s.Hi > s.Lo) || math.IsInf(s.Hi, 0) || s.Resolution < 0 || math.IsNaN(s.Resolution) {
			return fmt.Errorf("sweep: Options.Search: want 0 < Lo < Hi (finite) and Resolution ≥ 0, got Lo %v, Hi %v, Resolution %v", s.Lo, s.Hi, s.Resolution)
		}
		loads = []float64{s.Lo, s.Hi}
	}
	for i, l := range loads {
		if !(l > 0) || math.IsInf(l, 0) || (o.Mode == Concurrency && l != math.Trunc(l)) {
			return fmt.Errorf("sweep: load %v (Loads[%d] or a Search bound): want a finite %s > 0%s", l, i, o.Mode, map[bool]string{true: ", whole"}[o.Mode == Concurrency])
		}
		if i > 0 && o.Search == nil && l <= loads[i-1] {
			return fmt.Errorf("sweep: Options.Loads must increase: Loads[%d] = %v after %v", i, l, loads[i-1])
		}
	}
	return nil
}

// compile parses the SLO and validates every check, naming each mistake at once.
func (o *Options) compile() ([]assert.Check, []assert.Threshold, error) {
	var checks []assert.Check
	var ts []assert.Threshold
	var bad []error
	for _, expr := range o.SLO {
		t, err := assert.ParseThreshold(expr)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		ts = append(ts, t)
		checks = append(checks, assert.Expr(expr))
	}
	for _, c := range o.Checks {
		if err := c.Err(); err != nil {
			bad = append(bad, err)
		}
	}
	if len(bad) > 0 {
		return nil, nil, errors.Join(bad...)
	}
	return append(checks, o.Checks...), ts, nil
}

// stepID is the step's name: "concurrency_8", "rate_2.5".
func stepID(m Mode, load float64) string {
	return vmtest.Sanitize(string(m) + "_" + strconv.FormatFloat(load, 'g', -1, 64))
}

// logf writes one line to the sweep's log.
func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, "sweep: "+format+"\n", args...)
	}
}

// named gives vmtest.OutputDir a run name outside a test.
type named string

func (n named) Name() string { return string(n) }

// Run runs the sweep: every step of the ladder in increasing load, or the bisection's steps, each to its end
// or until its SLO can no longer be met; then it writes the sweep's report and returns the result. A step
// whose load or files fail is recorded (Step.Error) and counts as not met; the sweep goes on. The error is
// an invalid option or check (before anything runs, naming it), ctx ending (with the steps so far), or the
// sweep's own files not written; a step not meeting its SLO is a result, not an error.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	checks, thresholds, err := opts.compile()
	if err != nil {
		return nil, err
	}
	if opts.OutputDir == "" {
		opts.OutputDir = vmtest.OutputDir(named("sweep"), "")
	}
	if abs, err := filepath.Abs(opts.OutputDir); err == nil {
		opts.OutputDir = abs
	}
	if opts.KneeMetric == "" {
		opts.KneeMetric = "ttft.p99"
	}
	if _, err := (*summary.Summary)(nil).Lookup(opts.KneeMetric); err != nil {
		return nil, fmt.Errorf("sweep: Options.KneeMetric: %w", err)
	}
	started := time.Now()
	r := &runner{opts: opts, checks: checks, thresholds: thresholds}
	if opts.Search != nil {
		err = r.bisect(ctx)
	} else {
		for _, l := range opts.Loads {
			if err = ctx.Err(); err != nil {
				break
			}
			r.run(ctx, l)
		}
	}
	res := r.result()
	if werr := writeFiles(&opts, started, res); werr != nil {
		err = errors.Join(err, werr)
	}
	opts.logf("%s", verdictLine(res))
	return res, err
}

// resolution is s.Resolution, or its default for mode when 0 (see Search).
func (s Search) resolution(mode Mode) float64 {
	switch {
	case s.Resolution != 0:
		return s.Resolution
	case mode == Rate:
		return (s.Hi - s.Lo) / 16
	}
	return 1
}

// runner holds a sweep's state: the steps so far.
type runner struct {
	opts       Options
	checks     []assert.Check
	thresholds []assert.Threshold
	steps      []Step
}

// bisect runs Lo, then Hi, then midpoints (see Search).
func (r *runner) bisect(ctx context.Context) error {
	s := *r.opts.Search
	s.Resolution = s.resolution(r.opts.Mode)
	if !r.run(ctx, s.Lo).Met {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil || r.run(ctx, s.Hi).Met {
		return err
	}
	met, failed := s.Lo, s.Hi
	for failed-met > s.Resolution {
		if err := ctx.Err(); err != nil {
			return err
		}
		mid := met + (failed-met)/2
		if r.opts.Mode == Concurrency {
			mid = math.Floor(mid)
		}
		if mid <= met || mid >= failed {
			break
		}
		if r.run(ctx, mid).Met {
			met = mid
		} else {
			failed = mid
		}
	}
	return nil
}

// result orders the steps by load and derives the answer, the knee and the warnings.
func (r *runner) result() *Result {
	steps := slices.Clone(r.steps)
	slices.SortStableFunc(steps, func(a, b Step) int { return cmp.Compare(a.Load, b.Load) })
	res := &Result{Mode: r.opts.Mode, Steps: steps, Files: map[string]string{}}
	for i := range steps {
		if steps[i].Met {
			res.MaxMet = &steps[i].Load
		}
	}
	var failedBelow []string
	for i := range steps {
		s := &steps[i]
		switch {
		case !s.Met && res.MaxMet != nil && s.Load < *res.MaxMet:
			failedBelow = append(failedBelow, s.ID)
		case !s.Met && res.MinFailed == nil && (res.MaxMet == nil || s.Load > *res.MaxMet):
			res.MinFailed = &s.Load
		}
	}
	if len(failedBelow) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("steps below the highest load that met the SLO failed it: %s; the answer is not a load every lower one meets",
			strings.Join(failedBelow, ", ")))
	}
	if s := r.opts.Search; s != nil && res.MaxMet != nil && *res.MaxMet == s.Hi {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the upper bound %v met the SLO: the highest load that meets it is at least %v; search higher", s.Hi, s.Hi))
	}
	res.Knee = knee(steps, r.opts.KneeMetric, r.opts.KneeSensitivity)
	return res
}

// knee finds the knee of metric over the steps whose summary knows it.
func knee(steps []Step, metric string, sensitivity float64) *Knee {
	var xs, ys []float64
	for _, s := range steps {
		if v, err := s.Summary.Lookup(metric); err == nil && v.Known && !math.IsNaN(v.Value) {
			xs, ys = append(xs, s.Load), append(ys, v.Value)
		}
	}
	i, ok := FindKnee(xs, ys, sensitivity)
	if !ok {
		return nil
	}
	v, _ := (&summary.Summary{}).Lookup(metric) // the canonical name
	name := metric
	if v.Name != "" {
		name = v.Name
	}
	return &Knee{Load: xs[i], Metric: name, Value: ys[i]}
}

// verdictLine is the sweep's answer in one line.
func verdictLine(res *Result) string {
	s := "no step met the SLO"
	if res.MaxMet != nil {
		s = fmt.Sprintf("highest %s that met the SLO: %v", res.Mode, *res.MaxMet)
		if res.MinFailed != nil {
			s += fmt.Sprintf(" (%v failed it)", *res.MinFailed)
		}
	}
	if res.Knee != nil {
		s += fmt.Sprintf("; knee of %s at %s %v (%.4g)", res.Knee.Metric, res.Mode, res.Knee.Load, res.Knee.Value)
	} else {
		s += "; no knee found"
	}
	for _, w := range res.Warnings {
		s += "; warning: " + w
	}
	return s
}
