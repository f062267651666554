package vmtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmtest/vmtest/assert"
)

// TB is the part of *testing.T and *testing.B that Collect and the Collector use: the smallest interface, as
// testify's TestingT is, so that another test framework's handle (or a test's fake) can stand in. Collect also
// uses, when tb has them, Deadline() (time.Time, bool) (*testing.T: stop before go test -timeout),
// ArtifactDir() string (go test -artifacts) and ReportMetric(float64, string) (*testing.B: a short log).
type TB interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// deadliner is *testing.T's Deadline.
type deadliner interface {
	Deadline() (time.Time, bool)
}

// MinDeadlineMargin is the least time before the test's deadline (go test -timeout) at which Collect stops
// collecting by itself, unless less than twice it is left; see DeadlineMargin.
const MinDeadlineMargin = 5 * time.Second

// MinScaledMargin is the least margin DeadlineMargin scales down to for a short deadline: time to write the
// files.
const MinScaledMargin = time.Second

// DeadlineMargin is how long before the test's deadline Collect stops collecting, given the sampling interval
// and the time left when Collect was called: the largest of 2 × interval (a last tick and a slow one),
// 5 % of the time left (the summary and files of a long run take longer to write) and MinDeadlineMargin.
// When that is more than half the time left (a short go test -timeout), it is half the time left, but at
// least MinScaledMargin (or all the time left, when less), so that the run measures something before it stops.
// Collector.Context ends a fifth of the margin earlier, so that the load returns before the collector finishes:
// with 1.2 × MinScaledMargin or less left (that margin and its fifth), Context is therefore already done when
// Collect returns, and the load measures nothing; give go test -timeout more.
func DeadlineMargin(interval, left time.Duration) time.Duration {
	m := fullMargin(interval, left)
	if m > left/2 {
		m = max(left/2, min(left, MinScaledMargin), 0)
	}
	return m
}

// fullMargin is DeadlineMargin before it is scaled down for a short deadline.
func fullMargin(interval, left time.Duration) time.Duration {
	return max(2*interval, left/20, MinDeadlineMargin)
}

// ErrTestDeadline is wrapped by Collector.Context's cause (context.Cause) when Collect ended it because the
// test's deadline (go test -timeout) is near; a load bounded by Context returns an error wrapping it, which
// is the planned end of the load, not a failure.
var ErrTestDeadline = errors.New("vmtest: the test's deadline is near")

// deadlineError is the cause Collect gives when the test's deadline is near: its text says when and by how
// much, and it wraps ErrTestDeadline.
type deadlineError struct{ msg string }

func (e *deadlineError) Error() string { return e.msg }
func (e *deadlineError) Unwrap() error { return ErrTestDeadline }

// loadGrace is how long before the collector's early finish its Context ends, for a margin: a fifth of it.
func loadGrace(margin time.Duration) time.Duration { return margin / 5 }

// deadlineStop returns when Collect, called with left until the test's deadline dl at the sampling interval
// iv, finishes (finishAt) and ends the load (loadAt), and the reason it gives.
func deadlineStop(dl time.Time, iv, left time.Duration) (finishAt, loadAt time.Time, cause error) {
	margin := DeadlineMargin(iv, left)
	scaled := ""
	if full := fullMargin(iv, left); margin < full {
		scaled = fmt.Sprintf(" (scaled down from %v: only %v was left when Collect was called)", full, left.Round(10*time.Millisecond))
	}
	grace := loadGrace(margin)
	cause = &deadlineError{fmt.Sprintf("the test's deadline (go test -timeout) is at %s; stopping %v before it%s so that the summary, the files and the checks are done in time, and the load bounded by Collector.Context %v before that",
		dl.Format("15:04:05"), margin.Round(10*time.Millisecond), scaled, grace.Round(10*time.Millisecond))}
	return dl.Add(-margin), dl.Add(-margin - grace), cause
}

// active holds the collector of every test now collecting, keyed by its TB, so a second Collect in one test
// is refused.
var active sync.Map

// Collect starts collecting for the test tb (a *testing.T or *testing.B, or anything with TB's methods): it
// is Start with the test's name as the run's name and ConfigID default, the test's log as the log
// (Options.Log is not used), and the files under OutputDir(tb, opts.OutputDir). It registers one tb.Cleanup
// that finishes the collector (Finish: last snapshot, summary, files, log) and reports through tb.Errorf
// each check registered with Assert that was not met, and files that could not be written.
//
// An invalid option fails the test at once (tb.Fatalf) naming the field; so does RequireGPU when no GPU
// source is available, and a second Collect in one test (one test, one run: use a subtest per run). Nothing
// a sampler meets later fails the test.
//
// When tb has a deadline (*testing.T under go test -timeout, 10 minutes by default), Collect finishes the
// collector DeadlineMargin before it by itself, so the summary and files exist and the checks have run before
// the test binary is killed; it logs that it stopped early and why, reports the checks' results, and writes
// the same in brief to stderr (the test's log is lost if the binary is then killed). Bound the load by
// c.Context() (loadgen.Run(c.Context(), ...)): it ends a fifth of the margin before that, so the load's last
// requests are recorded (canceled ones as canceled) and the test returns before the binary is killed. Requests
// recorded after the finish are counted in Counts but not in the files.
//
// In a benchmark (tb has ReportMetric), go test -bench calls the function once per b.N it tries, each call a
// Collect on the same *testing.B: each one removes the files the previous call wrote (all but
// summary_statistics.json, which it rewrites), so a benchmark run leaves one file set, its final b.N's.
func Collect(tb TB, opts Options) *Collector {
	tb.Helper()
	return collect(tb, opts, os.Stderr)
}

// collect is Collect, writing the early finish's notice (deadlineNotice) to stderr.
func collect(tb TB, opts Options, stderr io.Writer) *Collector {
	tb.Helper()
	if prev, ok := activeFor(tb); ok {
		tb.Fatalf("vmtest: Collect called a second time in test %s (run %s is collecting for it): one Collect per test, so that its files and checks are one run's; use a subtest (t.Run) for each run", tb.Name(), prev.runID)
		return nil
	}
	opts.OutputDir = OutputDir(tb, opts.OutputDir)
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	var loadAt time.Time
	var loadCause error
	if d, ok := tb.(deadliner); ok {
		if dl, ok := d.Deadline(); ok {
			iv := opts.Interval
			if iv <= 0 {
				iv = DefaultInterval
			}
			var finishAt time.Time
			finishAt, loadAt, loadCause = deadlineStop(dl, iv, time.Until(dl))
			ctx, cancel = context.WithDeadlineCause(ctx, finishAt, loadCause)
		}
	}
	// Reported once, by whichever comes first: the deadline's early finish or the cleanup. Every frame down to
	// the test or to the collector's watch is a helper (no sync.Once), so failures point at the test's line or,
	// from the early finish's goroutine, at vmtest's own.
	var (
		reportMu sync.Mutex
		reported bool
	)
	verdict := func(c *Collector) {
		tb.Helper()
		reportMu.Lock()
		defer reportMu.Unlock()
		if !reported {
			reported = true
			c.report(tb)
		}
	}
	_, bench := tb.(interface{ ReportMetric(float64, string) })
	key, keyed := tbKey(tb)
	if bench && keyed {
		supersedeProbe(key, tb.Logf)
	}
	early := func(c *Collector) {
		tb.Helper()
		verdict(c)
		c.deadlineNotice(stderr)
	}
	c, err := start(ctx, opts, runEnv{name: tb.Name(), logf: tb.Logf, helper: tb.Helper, brief: bench, early: early,
		loadAt: loadAt, loadCause: loadCause})
	if err != nil {
		cancel()
		tb.Fatalf("%v", err)
		return nil
	}
	c.tb = tb
	if keyed {
		active.Store(key, c)
		if bench {
			probes.Store(key, c.files)
		}
	}
	tb.Cleanup(func() {
		tb.Helper()
		_, _ = c.Finish() // before cancel: a cancelled ctx would finish it as "stopped early"
		cancel()
		verdict(c)
		if key, ok := tbKey(tb); ok {
			active.Delete(key)
		}
	})
	return c
}

// deadlineNotice writes to w what the early finish at the test's deadline did: the test's log is lost when go
// test -timeout then kills a binary whose test has not returned (and is shown only with -v when it has), so
// the files and the checks' outcome are said where go test shows them, the output of a package that failed.
func (c *Collector) deadlineNotice(w io.Writer) {
	c.mu.Lock()
	errs, n := c.checkErrs, len(c.checks)
	c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "vmtest: %s stopped early for the test's deadline (go test -timeout)", c.name)
	if c.final != nil {
		fmt.Fprintf(&b, " at %.1f s (requests recorded: %d)", c.final.DurationS, c.final.Requests.Total)
	}
	if c.writeErr != nil {
		fmt.Fprintf(&b, "; its files could not be written to %s: %v", c.dir, strings.TrimPrefix(c.writeErr.Error(), "vmtest: "))
	} else {
		fmt.Fprintf(&b, "; its files are in %s", c.dir)
	}
	if n > 0 {
		fmt.Fprintf(&b, "; %d of %d checks not met", len(errs), n)
	}
	b.WriteString("\n")
	for _, err := range errs {
		first, _, _ := strings.Cut(err.Error(), "\n")
		fmt.Fprintf(&b, "vmtest:   %s\n", first)
	}
	_, _ = io.WriteString(w, b.String())
}

// tbKey returns tb as a map key, when its dynamic type can be one.
func tbKey(tb TB) (any, bool) {
	if tb == nil || !reflect.TypeOf(tb).Comparable() {
		return nil, false
	}
	return tb, true
}

// activeFor returns the collector now collecting for tb, if any.
func activeFor(tb TB) (*Collector, bool) {
	key, ok := tbKey(tb)
	if !ok {
		return nil, false
	}
	c, ok := active.Load(key)
	if !ok {
		return nil, false
	}
	return c.(*Collector), true
}

// report tells the test what went wrong once the collector finished: files not written, checks not met.
func (c *Collector) report(tb TB) {
	tb.Helper()
	if c.writeErr != nil {
		// Losing the files is not a sampler problem: the run's record is gone, so the test must say so.
		tb.Errorf("%v", c.writeErr)
	}
	c.mu.Lock()
	errs := c.checkErrs
	c.mu.Unlock()
	for _, err := range errs {
		tb.Errorf("%v", err)
	}
}

// Assert registers checks (package assert: P99Below, Expr, ErrorRateBelow, Baseline, ...) to be evaluated
// over the final summary when the collection finishes: under Collect, each one not met is reported through
// tb.Errorf at the end of the test (the test goes on to the others); outside a test, Finish returns them.
// Each failure ends with "(check registered at file.go:line)", the line that called Assert. Checks run in
// the order registered.
//
// A check that is invalid in itself (an unknown metric name, naming the nearest valid ones; a limit no run
// could meet or fail; an expression that does not parse; a goodput check without Options.Goodput) is a
// mistake in the test rather than a result: under Collect it fails the test at once through tb.Fatalf, naming
// every invalid check of the call; none of the call's checks is registered, nothing is logged after that
// failure (no summary), and a run that has measured nothing yet (no request, no tick after the first: Assert
// called before the load, as it should be) writes no files, so the latest run's files stay the last measured
// run's; the failure says which. Outside a test it is logged now and returned by Finish, and
// the call's valid checks are registered. Call it from the test's goroutine.
func (c *Collector) Assert(checks ...assert.Check) {
	if c.tb != nil {
		c.tb.Helper()
	}
	where := ""
	if site := callerSite(2); site != "" {
		where = "check registered at " + site
	}
	c.register(where, checks)
}

// AssertFrom registers checks as Assert does, for checks that come from outside Go code: a failure of one ends
// with "(from)", e.g. from `from -slo "p(99) ttft < 500ms"`, instead of the line that called it.
func (c *Collector) AssertFrom(from string, checks ...assert.Check) {
	if c.tb != nil {
		c.tb.Helper()
	}
	c.register(from, checks)
}

// register registers checks as Assert says, each failure to end with "(where)" (nothing when where is "").
func (c *Collector) register(where string, checks []assert.Check) {
	if c.tb != nil {
		c.tb.Helper()
	}
	site := where
	var bad []error
	for _, check := range checks {
		if err := c.checkArgs(check); err != nil {
			bad = append(bad, err)
		}
	}
	if len(bad) > 0 && c.tb != nil { // every mistake at once; none of this call's checks is registered
		c.mu.Lock()
		// Measured: a request, or a tick after the first snapshot (Collect takes that one at once).
		measured := c.rec.Counts().Total > 0 || len(c.snaps)+c.dropped > 1
		c.silenced, c.abandoned = true, !measured
		c.mu.Unlock()
		then := "nothing was measured yet: no summary, no files"
		if measured {
			then = "no summary; the files of what was measured are still written in " + c.dir
		}
		c.tb.Fatalf("%v\nvmtest: the test stops here (%s)", errors.Join(bad...), then)
		return
	}
	for _, err := range bad {
		c.logf("%v", err)
	}
	c.mu.Lock()
	c.badArgs = append(c.badArgs, bad...)
	c.mu.Unlock()
	var valid []registered
	for _, check := range checks {
		if c.checkArgs(check) == nil {
			valid = append(valid, registered{check, site})
		}
	}
	for _, rc := range c.keepChecks(valid) {
		c.assertLate(rc)
	}
}

// keepChecks adds rcs to the checks evaluated at the finish and writes the list to the journal once, outside
// c.mu; it returns those that came after the checks were taken (the collector finished), to evaluate at once.
func (c *Collector) keepChecks(rcs []registered) (late []registered) {
	if c.tb != nil {
		c.tb.Helper()
	}
	if len(rcs) == 0 {
		return nil
	}
	c.mu.Lock()
	if c.checksTaken {
		c.mu.Unlock()
		return rcs
	}
	c.checks = append(c.checks, rcs...)
	w, list, gen, ok := c.checksToJournal()
	c.mu.Unlock()
	if !ok {
		return nil
	}
	if err := c.journalChecks(w, list, gen); err != nil {
		c.logf("vmtest: %v (if the run is killed, its rebuild evaluates only the checks this file kept)", err)
	}
	return nil
}

// assertLate evaluates a check registered after the collector finished (the test's deadline came first) over
// the final summary at once, and reports it as a check registered in time would have been.
func (c *Collector) assertLate(rc registered) {
	sum, _ := c.Finish()
	err := rc.check.Eval(sum)
	if err != nil {
		err = rc.located(err)
	}
	switch {
	case err == nil:
	case c.tb != nil:
		c.tb.Helper()
		c.tb.Errorf("%v (registered after the collector finished; evaluated over its final summary)", err)
	default:
		c.logf("%v (registered after the collector finished; evaluated over its final summary)", err)
		c.mu.Lock()
		c.checkErrs = append(c.checkErrs, err) // later Finish calls return it
		c.mu.Unlock()
	}
}

// callerSite returns "file.go:line" of the caller skip frames up (runtime.Caller's numbering), as go test
// names a line; "" when unknown.
func callerSite(skip int) string {
	_, file, line, ok := runtime.Caller(skip)
	if !ok {
		return ""
	}
	return filepath.Base(file) + ":" + strconv.Itoa(line)
}

// checkArgs returns, for a check that cannot run, an error naming the check (how it was built) and why.
func (c *Collector) checkArgs(check assert.Check) error {
	desc := check.String()
	if err := check.Err(); err != nil {
		msg := strings.TrimPrefix(err.Error(), "vmtest: ")
		if strings.HasPrefix(msg, desc) {
			return err
		}
		return fmt.Errorf("vmtest: %s: %s", desc, msg)
	}
	if g := c.opts.Goodput; g.TTFT <= 0 && g.TPOT <= 0 && g.E2E <= 0 {
		for _, m := range check.Metrics() {
			if strings.HasPrefix(strings.ToLower(m), "goodput") {
				return errors.New("vmtest: " + desc + ": no goodput objective: set Options.Goodput (TTFT, TPOT and/or E2E limits a request must meet to count)")
			}
		}
	}
	if err := CheckReplicaMetrics(c.opts, check.Metrics()); err != nil {
		return fmt.Errorf("vmtest: %s: %w", desc, err)
	}
	return nil
}
