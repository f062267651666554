// Package assert checks service-level objectives over a test's summary. Check* functions return an error
// describing a violation (nil when the objective is met); Assert* functions report that error through
// testing.TB.Errorf and return whether the objective was met. A latency with no successful request behind it
// never passes: "no data" is a failure.
//
// Each Check function tests its own arguments first (the metric name, the limit, the tolerances, the
// expression) and returns an error matching ErrInvalidCheck for a name that does not exist or a limit that
// no run could meet or fail, whatever the summary, so that a mistake in the test shows before any load runs.
package assert

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmtest/vmtest/summary"
)

// checkBelow checks that the statistic p (0 = mean, else a percentile) of the client-side latency metric is
// strictly below limit. An unknown metric or a limit ≤ 0 is an ErrInvalidCheck error, whatever s is.
func checkBelow(s *summary.Summary, metric string, p int, limit time.Duration) error {
	if err := checkLatencyMetric(metric); err != nil {
		return err
	}
	if err := checkLatencyLimit(statName(p)+" "+metric, limit); err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("vmtest: %s %s: no summary", statName(p), metric)
	}
	st, err := s.Latency(metric)
	if err != nil {
		return fmt.Errorf("vmtest: %w", err)
	}
	limitMS := float64(limit) / float64(time.Millisecond)
	win := "unknown"
	if w := s.Requests.WindowS; w != nil {
		win = strconv.FormatFloat(*w, 'f', 1, 64) + " s"
	}
	v, ok := st.Quantile(p)
	if !ok && s.Requests.OK > 0 {
		// Requests succeeded, but none carried what this metric is computed from.
		return fmt.Errorf("vmtest: %s %s < %v: no data (n=0 %s values from %d successful requests: %s; run %s; data: %s)",
			statName(p), metric, limit, metric, s.Requests.OK, needs(metric), s.RunID, s.DataFile())
	}
	if !ok {
		return fmt.Errorf("vmtest: %s %s < %v: no data (n=0 successful requests of %d recorded: %d failed, %d incomplete, %d rejected; run %s; data: %s)",
			statName(p), metric, limit, s.Requests.Total, s.Requests.Failed, s.Requests.Incomplete, s.Requests.Rejected,
			s.RunID, s.DataFile())
	}
	if v >= limitMS {
		return fmt.Errorf("vmtest: %s %s = %.3f ms, want < %v (n=%d, window %s, run %s; data: %s)",
			statName(p), metric, v, limit, st.N, win, s.RunID, s.DataFile())
	}
	return nil
}

// needs says what a request must carry for metric to have a value.
func needs(metric string) string {
	switch strings.ToLower(metric) {
	case "itl":
		return "ITL needs the time of every token-bearing chunk (Request.TokenTimes, at least two)"
	case "tpot":
		return "TPOT needs output_tokens > 1 and the first-token and end times"
	case "ttft", "ttft_from_intended":
		return "TTFT needs Request.FirstToken"
	}
	return "each request needs Request.End (and IntendedStart for *_from_intended)"
}

func statName(p int) string {
	if p == 0 {
		return "mean"
	}
	return "p" + strconv.Itoa(p)
}

// CheckP99Below returns nil when the p99 of the client-side latency metric over successful requests is
// strictly below limit. metric is one of LatencyMetricsText ("ttft", "tpot", "itl", "e2e", ...; case does not
// matter; see summary.Summary.Latency). Otherwise it returns an error naming the metric, value, limit, n,
// window, run and data file; with no successful request, an error saying "no data". An unknown metric, or a
// limit ≤ 0 (no latency is below 0), is an error matching ErrInvalidCheck, returned before s is looked at and
// naming the valid metrics. Percentiles are numpy-linear (DESIGN.md).
func CheckP99Below(s *summary.Summary, metric string, limit time.Duration) error {
	return checkBelow(s, metric, 99, limit)
}

// CheckP90Below is CheckP99Below for the p90.
func CheckP90Below(s *summary.Summary, metric string, limit time.Duration) error {
	return checkBelow(s, metric, 90, limit)
}

// CheckP50Below is CheckP99Below for the p50 (median).
func CheckP50Below(s *summary.Summary, metric string, limit time.Duration) error {
	return checkBelow(s, metric, 50, limit)
}

// CheckMeanBelow is CheckP99Below for the arithmetic mean.
func CheckMeanBelow(s *summary.Summary, metric string, limit time.Duration) error {
	return checkBelow(s, metric, 0, limit)
}

func report(tb testing.TB, err error) bool {
	tb.Helper()
	if err != nil {
		tb.Errorf("%v", err)
		return false
	}
	return true
}

// AssertP99Below reports CheckP99Below's error through tb.Errorf (the test goes on) and returns whether the
// objective was met. Call it from the test goroutine, after the summary is computed (or register it on the
// Collector to run at cleanup).
func AssertP99Below(tb testing.TB, s *summary.Summary, metric string, limit time.Duration) bool {
	tb.Helper()
	return report(tb, CheckP99Below(s, metric, limit))
}

// AssertP90Below reports CheckP90Below's error through tb.Errorf and returns whether the objective was met.
func AssertP90Below(tb testing.TB, s *summary.Summary, metric string, limit time.Duration) bool {
	tb.Helper()
	return report(tb, CheckP90Below(s, metric, limit))
}

// AssertP50Below reports CheckP50Below's error through tb.Errorf and returns whether the objective was met.
func AssertP50Below(tb testing.TB, s *summary.Summary, metric string, limit time.Duration) bool {
	tb.Helper()
	return report(tb, CheckP50Below(s, metric, limit))
}

// AssertMeanBelow reports CheckMeanBelow's error through tb.Errorf and returns whether the objective was met.
func AssertMeanBelow(tb testing.TB, s *summary.Summary, metric string, limit time.Duration) bool {
	tb.Helper()
	return report(tb, CheckMeanBelow(s, metric, limit))
}
