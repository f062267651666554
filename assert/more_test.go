package assert

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

func TestErrorRateBelow(t *testing.T) {
	s := issue5() // 2 failed of 12: 0.1667
	require.NoError(t, ErrorRateBelow(0.17).Eval(s))
	require.EqualError(t, ErrorRateBelow(0.01).Eval(s),
		"vmtest: error_rate = 0.1667 (16.67%), want < 0.01 (1%) (n=12, window 12.0 s, run run-1; data: /tmp/requests.csv); "+
			"10 ok, 2 failed, 0 incomplete, 0 rejected, 0 canceled; last error: HTTP 500")
	require.ErrorContains(t, ErrorRateBelow(2.0/12).Eval(s), "want < 0.1666", "the limit is strict")
	clean := &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 5, OK: 5}, ErrorRate: fp(0)}}
	require.NoError(t, ErrorRateBelow(0.01).Eval(clean))
	require.EqualError(t, ErrorRateBelow(0.01).Eval(&summary.Summary{RunID: "r"}),
		"vmtest: error_rate < 0.01 (1%): no data (n=0, no request recorded; run r; data: (files not written)); 0 ok, 0 failed, 0 incomplete, 0 rejected, 0 canceled")
	// A limit outside (0, 1) is refused whatever the summary: 1 is 100 %, and 0 can never be met.
	for limit, msg := range map[float64]string{
		1:    `vmtest: error_rate < 1: error_rate is a fraction from 0 to 1 (1 is 100%), so "< 1" passes unless every request failed; for 1% write "error_rate < 0.01" or "error_rate < 1%" (as this limit: 0.01)`,
		5:    `vmtest: error_rate < 5: error_rate is a fraction from 0 to 1 (1 is 100%), so this always passes; for 5% write "error_rate < 0.05" or "error_rate < 5%" (as this limit: 0.05)`,
		0:    `vmtest: error_rate < 0: error_rate is never below 0, so this could never pass; to allow no error at all, use the threshold "error_rate == 0"`,
		-0.1: `vmtest: error_rate < -0.1: error_rate is never below 0, so this could never pass; to allow no error at all, use the threshold "error_rate == 0"`,
	} {
		for _, sum := range []*summary.Summary{s, clean, nil} {
			err := ErrorRateBelow(limit).Eval(sum)
			require.EqualError(t, err, msg)
			require.ErrorIs(t, err, ErrInvalidCheck)
		}
	}
	require.ErrorContains(t, ErrorRateBelow(math.NaN()).Eval(s), "want a fraction between 0 and 1")
	require.NotErrorIs(t, ErrorRateBelow(0.01).Eval(s), ErrInvalidCheck, "a missed SLO is not a bad check")
	require.ErrorContains(t, ErrorRateBelow(0.1).Eval(nil), "no summary")

	tb := &recTB{}
	require.True(t, Assert(tb, s, ErrorRateBelow(0.5)))
	require.False(t, Assert(tb, s, ErrorRateBelow(0.1)))
	require.Len(t, tb.errs, 1)
	require.Contains(t, tb.errs[0], "error_rate = 0.1667 (16.67%), want < 0.1 (10%)")
}

func TestThroughputAbove(t *testing.T) {
	s := issue5() // 10 ok over 12 s: 0.8333 req/s
	require.NoError(t, ThroughputAbove(0.83).Eval(s))
	require.EqualError(t, ThroughputAbove(0.84).Eval(s),
		"vmtest: request_throughput = 0.833 req/s, want > 0.84 req/s (n=10, window 12.0 s, run run-1; data: /tmp/requests.csv)")
	require.Error(t, ThroughputAbove(10.0/12).Eval(s), "the limit is strict")
	none := &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 4, Failed: 4}, ErrorRate: fp(1)}}
	require.EqualError(t, ThroughputAbove(0).Eval(none),
		"vmtest: request_throughput > 0 req/s: no data (n=0 successful requests of 4 recorded: 4 failed, 0 incomplete, 0 rejected, 0 canceled; run r; data: (files not written))")

	tb := &recTB{}
	require.True(t, Assert(tb, s, ThroughputAbove(0.5)))
	require.False(t, Assert(tb, none, ThroughputAbove(0.5)))
	require.Len(t, tb.errs, 1)
	require.Contains(t, tb.errs[0], "no data")
}

func TestGoodputAbove(t *testing.T) {
	s := issue5()
	// 6 of the 12 requests met TTFT ≤ 150 ms and E2E ≤ 2000 ms over the 12 s window: 0.5 req/s.
	s.Requests.Goodput, s.Requests.GoodputRequests = fp(0.5), new(6)
	s.Requests.GoodputSLOs = map[string]float64{"ttft": 150, "e2e": 2000}
	require.NoError(t, GoodputAbove(0.49).Eval(s))
	require.EqualError(t, GoodputAbove(0.5).Eval(s),
		"vmtest: goodput = 0.500 req/s, want > 0.5 req/s (6 of 12 requests met every SLO: e2e 2000 ms, ttft 150 ms; window 12.0 s, run run-1; data: /tmp/requests.csv)")

	noSLO := issue5()
	require.EqualError(t, GoodputAbove(0).Eval(noSLO),
		"vmtest: goodput > 0 req/s: no data (no SLO given; SLOs: none; run run-1; data: /tmp/requests.csv)")
	none := &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 3, Failed: 3},
		GoodputSLOs: map[string]float64{"ttft": 150}}}
	require.EqualError(t, GoodputAbove(0).Eval(none),
		"vmtest: goodput > 0 req/s: no data (n=0 successful requests of 3 recorded; SLOs: ttft 150 ms; run r; data: (files not written))")
	require.ErrorContains(t, GoodputAbove(0).Eval(nil), "no summary")

	tb := &recTB{}
	require.True(t, Assert(tb, s, GoodputAbove(0.1)))
	require.False(t, Assert(tb, s, GoodputAbove(1)))
	require.Len(t, tb.errs, 1)

	// The same figure through Lookup and a threshold.
	require.NoError(t, Expr("goodput > 0.4").Eval(s))
	require.NoError(t, Expr("goodput_requests == 6").Eval(s))
}
