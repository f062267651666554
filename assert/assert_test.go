package assert

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

func pinned() *summary.Summary {
	// Issue 5's input: p50 107.5, p90 610, p99 2311, mean 375.8 ms.
	w := 12.0
	return &summary.Summary{RunID: "run-1", Files: map[string]string{"requests_csv": "/tmp/requests.csv"},
		Requests: recorder.Summary{Counts: recorder.Counts{Total: 12, OK: 10, Failed: 2}, WindowS: &w,
			TTFTMS: recorder.ComputeStats([]float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500})}}
}

func TestChecksAgainstPinnedValues(t *testing.T) {
	s := pinned()
	require.NoError(t, P99Below("ttft", 2312*time.Millisecond).Eval(s))
	err := P99Below("ttft", 2311*time.Millisecond).Eval(s)
	require.Error(t, err, "the limit is strict")
	require.Equal(t, "vmtest: p99 ttft = 2311.000 ms, want < 2.311s (n=10, window 12.0 s, run run-1; data: /tmp/requests.csv)", err.Error())
	require.NoError(t, P90Below("ttft", 611*time.Millisecond).Eval(s))
	require.Error(t, P90Below("ttft", 609*time.Millisecond).Eval(s))
	require.NoError(t, P50Below("TTFT", 108*time.Millisecond).Eval(s))
	require.Error(t, P50Below("ttft", 107*time.Millisecond).Eval(s))
	require.NoError(t, MeanBelow("ttft", 376*time.Millisecond).Eval(s))
	require.ErrorContains(t, MeanBelow("ttft", 375*time.Millisecond).Eval(s), "mean ttft = 375.800 ms")
}

func TestNoDataFails(t *testing.T) {
	s := &summary.Summary{RunID: "r", Files: map[string]string{"snapshots_json": "/x/metrics.json"}}
	err := P99Below("ttft", time.Hour).Eval(s)
	require.Error(t, err)
	for _, want := range []string{"p99 ttft", "no data", "n=0", "/x/metrics.json"} {
		require.Contains(t, err.Error(), want)
	}
	require.ErrorContains(t, P99Below("ttft", time.Hour).Eval(nil), "no summary")
	require.ErrorContains(t, P99Below("ttfb", time.Hour).Eval(pinned()), "unknown latency metric")
}

func TestAssertReportsThroughTB(t *testing.T) {
	ft := &recTB{}
	require.True(t, Assert(ft, pinned(), P99Below("ttft", 3*time.Second)))
	require.False(t, Assert(ft, pinned(), P99Below("ttft", time.Second)))
	require.False(t, Assert(ft, &summary.Summary{}, MeanBelow("e2e", time.Second)))
	require.Len(t, ft.errs, 2)
	require.True(t, strings.HasPrefix(ft.errs[0], "vmtest: p99 ttft = 2311.000 ms"))
	require.Contains(t, ft.errs[1], "no data")
}

func TestNoDataWithSuccessfulRequestsSaysWhatIsMissing(t *testing.T) {
	s := &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 100, OK: 100}}}
	err := P99Below("itl", time.Second).Eval(s)
	require.Error(t, err)
	require.Contains(t, err.Error(), "no data (n=0 itl values from 100 successful requests: ITL needs the time of every token-bearing chunk")
	require.NotContains(t, err.Error(), "n=0 successful requests")
}
