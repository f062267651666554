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
