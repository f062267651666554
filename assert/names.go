package assert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/summary"
)

// ErrInvalidCheck matches (with errors.Is) every error a Check carries because of its own arguments
// rather than the run: an unknown metric name, a limit that is always or never met, a bad tolerance, a
// threshold expression that does not parse (*ThresholdError). A Check tests its arguments when it is built, before
// they look at the summary, so such an error comes back for any summary, nil included; vmtest's Collector
// relies on this to fail a test when a check is registered instead of when the test ends.
var ErrInvalidCheck = errors.New("vmtest: invalid check")

// invalidError is an error about a check's arguments; it matches ErrInvalidCheck.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalidCheck }

func invalidf(format string, a ...any) error { return &invalidError{msg: fmt.Sprintf(format, a...)} }

// LatencyMetricsText lists the names P99Below, P90Below, P50Below and MeanBelow accept,
// as their messages print it (summary.LatencyMetricsText, from the metric registry).
var LatencyMetricsText = summary.LatencyMetricsText()

// checkLatencyMetric returns an ErrInvalidCheck error when metric is not a client-side latency metric.
func checkLatencyMetric(metric string) error {
	m := strings.ToLower(metric) // as summary.Summary.Latency reads it: no trimming
	names := summary.LatencyNames()
	if slices.Contains(names, m) {
		return nil
	}
	msg := fmt.Sprintf("vmtest: unknown latency metric %q", metric)
	if near := summary.Nearest(m, names, 3); len(near) > 0 {
		msg += " (did you mean " + orList(near) + "?)"
	}
	return invalidf("%s; want %s", msg, LatencyMetricsText)
}

// checkLatencyLimit returns an ErrInvalidCheck error for a latency limit that no run can meet (a latency is
// never below 0, so "< 0" or "< -5ms" always fails) or that is under MinLatencyLimit.
func checkLatencyLimit(what string, limit time.Duration) error {
	if limit <= 0 {
		return invalidf("vmtest: %s < %v: a latency is never below 0, so the check could never pass; want a positive limit", what, limit)
	}
	if limit < MinLatencyLimit {
		return invalidf("vmtest: %s < %v: a latency limit under %v is likely a number without a unit (a time.Duration counts nanoseconds); write e.g. %d*time.Millisecond",
			what, limit, MinLatencyLimit, int64(limit))
	}
	return nil
}

// MinLatencyLimit is the least latency limit a typed check (P99Below, P90Below, P50Below, MeanBelow) accepts:
// below it, the limit is refused as invalid (ErrInvalidCheck), as a number passed without a unit
// (P99Below("ttft", 500) is 500 ns) is far likelier than an SLO finer than a microsecond.
const MinLatencyLimit = time.Microsecond

// checkRateLimit returns an ErrInvalidCheck error for a "rate > limit" check that is always met (a negative
// limit: a rate is never below 0) or meaningless (NaN, ±Inf).
func checkRateLimit(metric string, reqPerSec float64) error {
	switch {
	case math.IsNaN(reqPerSec) || math.IsInf(reqPerSec, 0):
		return invalidf("vmtest: %s > %v req/s: want a finite limit", metric, reqPerSec)
	case reqPerSec < 0:
		return invalidf("vmtest: %s > %v req/s: a rate is never below 0, so the check could never fail; want a limit ≥ 0", metric, reqPerSec)
	}
	return nil
}

// lookupDoc is where every summary.Lookup name is listed: for Go code (go doc works in a module that requires
// vmtest), and for the command (anywhere).
const lookupDoc = "go doc github.com/vmtest/vmtest/summary Summary.Lookup, or vmtest help metrics"

// unknownMetricText rewrites summary.Lookup's error for an unknown name into a short message: the name, the
// note (when not empty), what is wrong with it, the nearest valid names, and where the full list is. Other
// errors are returned as is.
func unknownMetricText(err error, note string) string {
	var u *summary.UnknownMetricError
	if !errors.As(err, &u) {
		return err.Error()
	}
	msg := fmt.Sprintf("unknown metric %q", u.Name)
	if note != "" {
		msg += " (" + note + ")"
	}
	if u.Reason != "" {
		msg += " (" + u.Reason + ")"
	}
	if near := u.Suggestions; len(near) > 0 {
		msg += "; did you mean " + orList(near) + "?"
	} else if u.Reason == "" {
		msg += "; names look like " + strings.Join(summary.ExampleNames, ", ")
	}
	return msg + " (every name: " + lookupDoc + ")"
}

// lookupStatic looks name up as a check registered before the run must: in no summary. It returns the
// canonical name and unit, or the *summary.UnknownMetricError of a name outside the registry.
func lookupStatic(name string) (summary.Value, error) {
	return (*summary.Summary)(nil).Lookup(name)
}

// lookupName checks that name is a summary.Lookup name and returns its canonical Value (unknown, with its
// unit), or an ErrInvalidCheck error starting with prefix and naming the nearest valid names.
func lookupName(prefix, name string) (summary.Value, error) {
	v, err := lookupStatic(name)
	if err != nil {
		return v, invalidf("%s%s", prefix, unknownMetricText(err, ""))
	}
	return v, nil
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// formatNum formats x as the shortest decimal that reads back as x.
func formatNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
