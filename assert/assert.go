// Package assert checks service-level objectives over a run's summary. One value, Check, is every
// objective: built by a typed constructor (P99Below("ttft", 200*time.Millisecond), ErrorRateBelow(0.01),
// ThroughputAbove, GoodputAbove, Baseline, Func) or parsed from a threshold expression (Expr("p(99) ttft <
// 150ms"); grammar: ParseThreshold). Check.Eval returns an error describing a violation (nil when the
// objective is met); Assert reports violations through t.Errorf and goes on, Require stops the test with
// t.Fatalf; vmtest's Collector.Assert registers checks to run when the test ends. A figure with no data
// behind it never passes: "no data" is a failure.
//
// A check tests its own arguments when it is built (the metric name, the limit, the tolerances, the
// expression): Check.Err returns an error matching ErrInvalidCheck for a name that does not exist (naming
// the nearest valid ones) or a limit that no run could meet or fail, so a mistake in the test shows before
// any load runs.
//
// Examples: ExampleExpr, ExampleExpr_invalid, ExampleParseThreshold and ExampleP99Below (example_test.go;
// `go test -run Example -v ./assert` runs them offline), run by go test with their output checked.
package assert

import (
	"fmt"
	"strconv"
	"strings"
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
		return fmt.Errorf("vmtest: %s %s < %v: no data (n=0 successful requests of %d recorded: %d failed, %d incomplete, %d rejected, %d canceled; run %s; data: %s)",
			statName(p), metric, limit, s.Requests.Total, s.Requests.Failed, s.Requests.Incomplete, s.Requests.Rejected, s.Requests.Canceled,
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
