package assert

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/summary"
)

// Check is one service-level objective over a run's summary: built by a typed constructor (P99Below,
// ErrorRateBelow, ThroughputAbove, GoodputAbove, Baseline, Func) or parsed from a threshold expression
// (Expr). It is a value: build it once, evaluate it over any number of summaries with Eval, report it in a
// test with Assert or Require, or register it on a collector (vmtest's Collector.Assert) to run when the
// test ends. A check whose own arguments are wrong (an unknown metric name, a limit no run could meet or
// fail, an expression that does not parse) carries that error from the moment it is built: Err returns it,
// and Eval returns it whatever the summary.
type Check struct {
	desc    string // how it was built, e.g. `P99Below("ttft", 200ms)` or `threshold "p(99) ttft < 150ms"`
	expr    string // the threshold expression it was parsed from (Expr); "" for the others
	same    string // a threshold expression with the same verdict (Expression); "" when there is none
	metrics []string
	invalid error // nil, or an error matching ErrInvalidCheck
	eval    func(*summary.Summary) (notes []string, err error)
}

// String says how the check was built: `P99Below("ttft", 200ms)`, `threshold "p(99) ttft < 150ms"`,
// `Baseline("testdata/b.json", ttft.p99)`, or the name given to Func.
func (c Check) String() string { return c.desc }

// Threshold returns the threshold expression the check was parsed from (Expr), as given, so that
// Expr(c.Threshold()) is the same check; "" for a check built by a typed constructor, Baseline or Func.
func (c Check) Threshold() string { return c.expr }

// Expression returns a threshold expression that Expr parses into a check with the same verdict as c on every
// summary: Threshold for a check parsed by Expr; for P99Below, P90Below, P50Below, MeanBelow, ErrorRateBelow,
// ThroughputAbove and GoodputAbove, the same figure, comparison and limit written as an expression (e.g.
// "ttft.p99 < 150ms", the limit in ms); "" for Baseline and Func, whose verdicts depend on a file or on Go code,
// and for an invalid check. A run's journal keeps it, so that the rebuild of a killed run checks again.
func (c Check) Expression() string {
	if c.invalid != nil {
		return ""
	}
	if c.expr != "" {
		return c.expr
	}
	return c.same
}

// Err returns the error in the check's own arguments, matching ErrInvalidCheck (for an expression, a
// *ThresholdError), or nil when the check can run. It does not depend on any run.
func (c Check) Err() error {
	if c.eval == nil && c.invalid == nil {
		return invalidf("vmtest: empty Check: build one with P99Below, Expr, Baseline, ... (package assert)")
	}
	return c.invalid
}

// Metrics returns the summary.Lookup names the check reads (e.g. "ttft.p99", "goodput"), as written; nil
// for a Func check. vmtest's Collector uses it to refuse a goodput check without Options.Goodput.
func (c Check) Metrics() []string { return append([]string(nil), c.metrics...) }

// Eval evaluates the check over s and returns nil when the objective is met; otherwise an error naming the
// metric, its value and unit, the limit, n, the window, the run and the data file. A figure s does not have
// is an error ("no data"), never a pass; a nil s is an error ("no summary"). The error in the check's own
// arguments (Err) comes back first, whatever s is.
func (c Check) Eval(s *summary.Summary) error {
	_, err := c.run(s)
	return err
}

// run evaluates the check and also returns the notes (what a baseline did) Assert and Require log.
func (c Check) run(s *summary.Summary) ([]string, error) {
	if err := c.Err(); err != nil {
		return nil, err
	}
	return c.eval(s)
}

// TestingT is the part of *testing.T (and *testing.B, or any test framework's handle) that Assert and
// Require use: the smallest interface, as testify's TestingT is.
type TestingT interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Assert evaluates every check over s, logs what a baseline check did (t.Logf), reports each check not met
// (or invalid) through t.Errorf, so the test goes on, and returns whether all were met. Names that start
// with Assert report with Errorf and go on; names that start with Require stop the test (DESIGN.md).
func Assert(t TestingT, s *summary.Summary, checks ...Check) bool {
	t.Helper()
	return report(t, s, checks) == 0
}

// report evaluates checks over s, logs their notes, reports each failure through t.Errorf and returns how
// many failed.
func report(t TestingT, s *summary.Summary, checks []Check) int {
	t.Helper()
	failed := 0
	for _, c := range checks {
		notes, err := c.run(s)
		for _, n := range notes {
			t.Logf("%s", n)
		}
		if err != nil {
			t.Errorf("%v", err)
			failed++
		}
	}
	return failed
}

// Require is Assert, then t.Fatalf when a check was not met (each failed check was already reported with
// Errorf), so the test stops there.
func Require(t TestingT, s *summary.Summary, checks ...Check) {
	t.Helper()
	if n := report(t, s, checks); n > 0 {
		t.Fatalf("vmtest: %d of %d checks not met (reported above)", n, len(checks))
	}
}

// simple wraps an error-only evaluation.
func simple(f func(*summary.Summary) error) func(*summary.Summary) ([]string, error) {
	return func(s *summary.Summary) ([]string, error) { return nil, f(s) }
}

// build returns a check whose arguments are tested by running f over no summary: every evaluation below tests
// its own arguments before it looks at the summary, so an ErrInvalidCheck error shows here.
func build(desc string, metrics []string, f func(*summary.Summary) error) Check {
	c := Check{desc: desc, metrics: metrics, eval: simple(f)}
	if err := f(nil); errors.Is(err, ErrInvalidCheck) {
		c.invalid = err
	}
	return c
}

// latencyBelow builds a client-side latency check: the statistic p (0 = mean) of metric strictly below limit.
func latencyBelow(fn string, p int, metric string, limit time.Duration) Check {
	stat := "mean"
	if p > 0 {
		stat = fmt.Sprintf("p%d", p)
	}
	name := strings.ToLower(metric) + "." + stat
	if d, err := summary.Describe(name); err == nil {
		name = d.Name // the canonical name: "latency.p99" is "e2e.p99"
	}
	c := build(fmt.Sprintf("%s(%q, %v)", fn, metric, limit), []string{name},
		func(s *summary.Summary) error { return checkBelow(s, metric, p, limit) })
	c.same = name + " < " + strconv.FormatFloat(float64(limit)/float64(time.Millisecond), 'g', -1, 64) + "ms"
	return c
}

// above builds a check that metric is strictly above limit (a rate in req/s), with its expression.
func above(desc, metric string, limit float64, f func(*summary.Summary) error) Check {
	c := build(desc, []string{metric}, f)
	c.same = metric + " > " + strconv.FormatFloat(limit, 'g', -1, 64)
	return c
}

// P99Below checks that the p99 of the client-side latency metric over successful requests is strictly below
// limit. metric is one of LatencyMetricsText ("ttft", "tpot", "itl", "e2e", ...; case does not matter; see
// summary.Summary.Latency). Not met, its error names the metric, value, limit, n, window, run and data file;
// with no successful request it says "no data". An unknown metric, a limit ≤ 0 (no latency is below 0), or
// one under MinLatencyLimit (a number without a unit: P99Below("ttft", 500) is 500 ns) is invalid (Err),
// naming the valid metrics or the likely unit. Percentiles are numpy-linear (DESIGN.md).
func P99Below(metric string, limit time.Duration) Check {
	return latencyBelow("P99Below", 99, metric, limit)
}

// P90Below is P99Below for the p90.
func P90Below(metric string, limit time.Duration) Check {
	return latencyBelow("P90Below", 90, metric, limit)
}

// P50Below is P99Below for the p50 (median).
func P50Below(metric string, limit time.Duration) Check {
	return latencyBelow("P50Below", 50, metric, limit)
}

// MeanBelow is P99Below for the arithmetic mean.
func MeanBelow(metric string, limit time.Duration) Check {
	return latencyBelow("MeanBelow", 0, metric, limit)
}

// ErrorRateBelow checks that the run's error rate — (total − ok − canceled) / (total − canceled) over the
// recorded requests, a fraction — is strictly below limit (a fraction: 0.01 is 1 %). Not met, its error names the rate, the limit,
// the outcome counts, the window, the run and the data file; with no request recorded it says "no data". A
// limit outside (0, 1) is invalid (Err): 0 or less can never be met, and 1 or more is met by every run short
// of total failure (1 is 100 %, not 1 %); to demand no error at all, use Expr("error_rate == 0").
func ErrorRateBelow(limit float64) Check {
	c := build(fmt.Sprintf("ErrorRateBelow(%v)", limit), []string{"error_rate"},
		func(s *summary.Summary) error { return errorRateBelow(s, limit) })
	c.same = "error_rate < " + strconv.FormatFloat(limit, 'g', -1, 64)
	return c
}

// ThroughputAbove checks that the client-side request throughput — successful requests per second over the
// requests' measured window (summary.Lookup "request_throughput") — is strictly above reqPerSec. Not met,
// its error names the throughput in req/s, the limit, n, the window, the run and the data file; with no
// successful request it says "no data". A negative or non-finite reqPerSec is invalid (Err).
func ThroughputAbove(reqPerSec float64) Check {
	return above(fmt.Sprintf("ThroughputAbove(%v)", reqPerSec), "request_throughput", reqPerSec,
		func(s *summary.Summary) error { return throughputAbove(s, reqPerSec) })
}

// GoodputAbove checks that the run's goodput — successful requests per second that met every per-request
// SLO (vmtest's Options.Goodput), over the requests' measured window (DistServe; recorder.Summary.Goodput) —
// is strictly above reqPerSec. Not met, its error names the goodput in req/s, the limit, how many requests
// met the SLOs, the SLOs (ms), the window, the run and the data file. Goodput with no SLO given, or with no
// successful request, is unknown and fails with "no data". A negative or non-finite reqPerSec is invalid.
func GoodputAbove(reqPerSec float64) Check {
	return above(fmt.Sprintf("GoodputAbove(%v)", reqPerSec), "goodput", reqPerSec,
		func(s *summary.Summary) error { return goodputAbove(s, reqPerSec) })
}

// Expr parses a threshold expression (grammar, units and refusals: ParseThreshold), e.g. "p(99) ttft <
// 150ms", "error_rate < 1%", "gpu.utilization.avg > 50", "server.ttft.p99 < 200ms". An expression that does
// not parse, or cannot mean what was written, is invalid: Err returns its *ThresholdError, which gives the
// byte offset and, for an unknown metric, the nearest valid names. The check compares the summary.Lookup
// figure exactly in the metric's unit; a server percentile read from a histogram passes or fails on what the
// histogram proves (summary.Value.AtMost, Above) when interpolation alone would not decide it.
func Expr(expr string) Check {
	t, err := ParseThreshold(expr)
	c := Check{desc: fmt.Sprintf("threshold %q", expr), expr: expr}
	if err != nil {
		c.invalid = err
		return c
	}
	c.metrics = []string{t.Metric}
	c.eval = simple(t.eval)
	return c
}

// Baseline checks the chosen metrics of the summary against the baseline file at path (JSON, see
// Baseline): it is met when no metric regressed beyond its tolerance; not met, its error has one line per
// failing metric (both values, the change in %, the tolerance, the direction, n, the window, both runs, the
// data file and the baseline file), a metric with no data in this run, or one the baseline lacks. A missing
// file is an error saying to run with -vmtest.update. With -vmtest.update (or VMTEST_UPDATE=1) it writes the
// chosen metrics to path instead, atomically, and is met; a chosen metric with no data is then an error and
// nothing is written. Assert and Require (and the Collector) log what it did for each metric. An empty path,
// no metric, an unknown metric name (naming the nearest valid ones), a negative or non-finite tolerance or
// an unknown Direction is invalid (Err); the file is read only when the check runs.
func Baseline(path string, metrics ...Tolerance) Check {
	names := make([]string, len(metrics))
	for i, t := range metrics {
		names[i] = t.Metric
	}
	c := Check{desc: fmt.Sprintf("Baseline(%s)", strings.Join(append([]string{strconv.Quote(path)}, names...), ", ")), metrics: names}
	c.invalid = checkTolerances(path, metrics)
	c.eval = func(s *summary.Summary) ([]string, error) { return baseline(s, path, updateRequested(), metrics) }
	return c
}

// Func makes a check of your own: f returns nil when the objective is met, else an error saying what was
// wrong (with the values behind it). name is how messages and String refer to the check. f must accept a nil
// summary (return an error for it).
func Func(name string, f func(*summary.Summary) error) Check {
	if f == nil {
		return Check{desc: name, invalid: invalidf("vmtest: Func(%q): nil function", name)}
	}
	return Check{desc: name, eval: simple(f)}
}
