package assert

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/summary"
)

// A check says how it was built and which figures it reads; an invalid one carries its error from the start.
func TestCheckDescribesItself(t *testing.T) {
	c := P99Below("Latency", 200*time.Millisecond)
	require.Equal(t, `P99Below("Latency", 200ms)`, c.String())
	require.Equal(t, []string{"e2e.p99"}, c.Metrics())
	require.NoError(t, c.Err())
	require.Equal(t, []string{"ttft.mean"}, MeanBelow("ttft", time.Second).Metrics())
	require.Equal(t, []string{"goodput"}, GoodputAbove(1).Metrics())
	e := Expr("p(99) ttft < 150ms")
	require.Equal(t, `threshold "p(99) ttft < 150ms"`, e.String())
	require.Equal(t, []string{"ttft.p99"}, e.Metrics())
	require.Equal(t, []string{"ttft.p99", "request_throughput"}, Baseline("b.json", Rel("ttft.p99", 0.1), Rel("request_throughput", 0.1)).Metrics())

	bad := Expr("p(99) ttfb < 150ms")
	var te *ThresholdError
	require.True(t, errors.As(bad.Err(), &te))
	require.ErrorContains(t, bad.Err(), "ttft.p99")
	require.Equal(t, bad.Err(), bad.Eval(pinned()), "the argument error comes back whatever the summary")
	require.ErrorIs(t, Check{}.Err(), ErrInvalidCheck)
	require.ErrorIs(t, Func("mine", nil).Err(), ErrInvalidCheck)
	require.ErrorIs(t, ErrorRateBelow(1).Err(), ErrInvalidCheck)
	require.NoError(t, ErrorRateBelow(0.5).Err())
}

// Assert reports every failure and goes on; Require then stops the test with one Fatalf.
func TestAssertAndRequire(t *testing.T) {
	s := pinned() // p99 TTFT 2311 ms, p50 107.5 ms
	tb := &recTB{}
	require.False(t, Assert(tb, s, P99Below("ttft", time.Second), P50Below("ttft", time.Second), Expr("ttft.p50 < 100ms")))
	require.Len(t, tb.errs, 2)
	require.Contains(t, tb.errs[0], "p99 ttft = 2311.000 ms")
	require.Contains(t, tb.errs[1], "ttft.p50 = 107.500 ms")
	require.Empty(t, tb.fatal)

	tb = &recTB{}
	require.NotPanics(t, func() { Require(tb, s, P99Below("ttft", 3*time.Second)) })
	require.Empty(t, tb.errs)
	require.PanicsWithValue(t, fatalStop{}, func() { Require(tb, s, P99Below("ttft", time.Second), P50Below("ttft", time.Second)) })
	require.Len(t, tb.errs, 1)
	require.Equal(t, []string{"vmtest: 1 of 2 checks not met (reported above)"}, tb.fatal)
}

// Func wraps a check of one's own; its error is reported as is.
func TestFuncCheck(t *testing.T) {
	c := Func("at least 12 requests", func(s *summary.Summary) error {
		if s == nil || s.Requests.Total < 12 {
			return errors.New("fewer than 12 requests")
		}
		return nil
	})
	require.Equal(t, "at least 12 requests", c.String())
	require.NoError(t, c.Eval(pinned()))
	require.EqualError(t, c.Eval(&summary.Summary{}), "fewer than 12 requests")
	require.Nil(t, c.Metrics())
}

// A latency limit under a microsecond is a number without a unit (500 is 500 ns): refused, with the fix.
func TestLatencyLimitWithoutUnitIsRefused(t *testing.T) {
	err := P99Below("ttft", 500).Err()
	require.ErrorIs(t, err, ErrInvalidCheck)
	require.EqualError(t, err, "vmtest: p99 ttft < 500ns: a latency limit under 1µs is likely a number without a unit (a time.Duration counts nanoseconds); write e.g. 500*time.Millisecond")
	require.ErrorIs(t, MeanBelow("e2e", time.Microsecond-1).Err(), ErrInvalidCheck)
	require.NoError(t, P50Below("itl", time.Microsecond).Err(), "1 µs is a limit, if a tight one")
}

// A check parsed from an expression gives it back, so it can be kept and built again; typed ones give none.
func TestCheckThreshold(t *testing.T) {
	c := Expr("p(99) ttft < 150ms")
	require.Equal(t, "p(99) ttft < 150ms", c.Threshold())
	require.Equal(t, c.String(), Expr(c.Threshold()).String())
	require.Empty(t, P99Below("ttft", 150*time.Millisecond).Threshold())
	require.Empty(t, ErrorRateBelow(0.01).Threshold())
}

// A typed check's expression gives the same verdict on every summary, at the limit too (both are strict), so
// a journal that keeps it checks a killed run again; Baseline, Func and invalid checks have none.
func TestTypedCheckExpressionSameVerdict(t *testing.T) {
	full := pinned() // p99 TTFT 2311 ms, p90 610, p50 107.5, mean 375.8; 2 of 12 failed; 10 ok over 12 s
	full.Requests.GoodputSLOs, full.Requests.Goodput = map[string]float64{"ttft": 150}, new(0.5)
	summaries := []*summary.Summary{full, pinned(), {RunID: "empty"}, nil}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	var checks []Check
	for _, v := range []float64{2311, 610, 107.5, 375.8, 1, 5000} {
		for _, lim := range []time.Duration{ms(v) - time.Microsecond, ms(v), ms(v) + time.Microsecond} {
			checks = append(checks, P99Below("ttft", lim), P90Below("TTFT", lim), P50Below("ttft", lim), MeanBelow("ttft", lim),
				P99Below("latency", lim))
		}
	}
	for _, f := range []float64{2.0 / 12, 0.1, 0.2, 0.5} {
		checks = append(checks, ErrorRateBelow(f))
	}
	for _, r := range []float64{10.0 / 12, 0.8, 0.9, 0.5, 0.4, 0} {
		checks = append(checks, ThroughputAbove(r), GoodputAbove(r))
	}
	met := 0
	for _, c := range checks {
		require.NoError(t, c.Err(), c.String())
		e := Expr(c.Expression())
		require.NoError(t, e.Err(), "%s: %q", c, c.Expression())
		require.Equal(t, c.Metrics(), e.Metrics(), c.String())
		for _, s := range summaries {
			want := c.Eval(s)
			got := e.Eval(s)
			require.Equal(t, want == nil, got == nil, "%s and %q on %v: %v / %v", c, c.Expression(), s != nil, want, got)
			if want == nil {
				met++
			}
		}
	}
	require.Greater(t, met, 20, "both verdicts occur")
	require.Less(t, met, len(checks)*len(summaries)/2)

	require.Equal(t, "ttft.p99 < 150ms", P99Below("TTFT", 150*time.Millisecond).Expression())
	require.Equal(t, "e2e.mean < 1500ms", MeanBelow("latency", 1500*time.Millisecond).Expression())
	require.Equal(t, "error_rate < 0.01", ErrorRateBelow(0.01).Expression())
	require.Equal(t, "goodput > 2.5", GoodputAbove(2.5).Expression())
	require.Equal(t, "p(99) ttft < 150ms", Expr("p(99) ttft < 150ms").Expression())
	require.Empty(t, P99Below("ttfb", time.Second).Expression(), "invalid")
	require.Empty(t, ErrorRateBelow(1).Expression(), "invalid")
	require.Empty(t, Func("mine", func(*summary.Summary) error { return nil }).Expression())
	require.Empty(t, Baseline("b.json", Rel("ttft.p99", 0.1)).Expression())
}
