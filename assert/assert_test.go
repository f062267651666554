package assert

import (
	"fmt"
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
	require.NoError(t, CheckP99Below(s, "ttft", 2312*time.Millisecond))
	err := CheckP99Below(s, "ttft", 2311*time.Millisecond)
	require.Error(t, err, "the limit is strict")
	require.Equal(t, "vmtest: p99 ttft = 2311.000 ms, want < 2.311s (n=10, window 12.0 s, run run-1; data: /tmp/requests.csv)", err.Error())
	require.NoError(t, CheckP90Below(s, "ttft", 611*time.Millisecond))
	require.Error(t, CheckP90Below(s, "ttft", 609*time.Millisecond))
	require.NoError(t, CheckP50Below(s, "TTFT", 108*time.Millisecond))
	require.Error(t, CheckP50Below(s, "ttft", 107*time.Millisecond))
	require.NoError(t, CheckMeanBelow(s, "ttft", 376*time.Millisecond))
	require.ErrorContains(t, CheckMeanBelow(s, "ttft", 375*time.Millisecond), "mean ttft = 375.800 ms")
}

func TestNoDataFails(t *testing.T) {
	s := &summary.Summary{RunID: "r", Files: map[string]string{"snapshots_json": "/x/metrics.json"}}
	err := CheckP99Below(s, "ttft", time.Hour)
	require.Error(t, err)
	for _, want := range []string{"p99 ttft", "no data", "n=0", "/x/metrics.json"} {
		require.Contains(t, err.Error(), want)
	}
	require.ErrorContains(t, CheckP99Below(nil, "ttft", time.Hour), "no summary")
	require.ErrorContains(t, CheckP99Below(pinned(), "ttfb", time.Hour), "unknown latency metric")
}

type fakeTB struct {
	testing.TB
	msgs []string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Errorf(format string, a ...any) { f.msgs = append(f.msgs, fmt.Sprintf(format, a...)) }

func TestAssertReportsThroughTB(t *testing.T) {
	ft := &fakeTB{}
	require.True(t, AssertP99Below(ft, pinned(), "ttft", 3*time.Second))
	require.False(t, AssertP99Below(ft, pinned(), "ttft", time.Second))
	require.False(t, AssertMeanBelow(ft, &summary.Summary{}, "e2e", time.Second))
	require.Len(t, ft.msgs, 2)
	require.True(t, strings.HasPrefix(ft.msgs[0], "vmtest: p99 ttft = 2311.000 ms"))
	require.Contains(t, ft.msgs[1], "no data")
}

func TestNoDataWithSuccessfulRequestsSaysWhatIsMissing(t *testing.T) {
	s := &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 100, OK: 100}}}
	err := CheckP99Below(s, "itl", time.Second)
	require.Error(t, err)
	require.Contains(t, err.Error(), "no data (n=0 itl values from 100 successful requests: ITL needs the time of every token-bearing chunk")
	require.NotContains(t, err.Error(), "n=0 successful requests")
}
