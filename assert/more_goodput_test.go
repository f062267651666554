//go:build goodput

package assert

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

func TestGoodputAbove(t *testing.T) {
	s := issue5()
	// 6 of the 12 requests met TTFT ≤ 150 ms and E2E ≤ 2000 ms over the 12 s window: 0.5 req/s.
	s.Requests.Goodput, s.Requests.GoodputRequests = fp(0.5), 6
	s.Requests.GoodputSLOs = map[string]float64{"ttft": 150, "e2e": 2000}
	require.NoError(t, CheckGoodputAbove(s, 0.49))
	require.EqualError(t, CheckGoodputAbove(s, 0.5),
		"vmtest: goodput = 0.500 req/s, want > 0.5 req/s (6 of 12 requests met every SLO: e2e 2000 ms, ttft 150 ms; window 12.0 s, run run-1; data: /tmp/requests.csv)")

	noSLO := issue5()
	require.EqualError(t, CheckGoodputAbove(noSLO, 0),
		"vmtest: goodput > 0 req/s: no data (no SLO given; SLOs: none; run run-1; data: /tmp/requests.csv)")
	none := &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 3, Failed: 3},
		GoodputSLOs: map[string]float64{"ttft": 150}}}
	require.EqualError(t, CheckGoodputAbove(none, 0),
		"vmtest: goodput > 0 req/s: no data (n=0 successful requests of 3 recorded; SLOs: ttft 150 ms; run r; data: (files not written))")
	require.ErrorContains(t, CheckGoodputAbove(nil, 0), "no summary")

	tb := &recTB{}
	require.True(t, AssertGoodputAbove(tb, s, 0.1))
	require.False(t, AssertGoodputAbove(tb, s, 1))
	require.Len(t, tb.errs, 1)

	// The same figure through Lookup and a threshold.
	require.NoError(t, CheckThreshold(s, "goodput > 0.4"))
	require.NoError(t, CheckThreshold(s, "goodput_requests == 6"))
}
