package assert

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// An unknown latency metric is refused before the summary is looked at, by every *Below check, naming the
// nearest name and every valid one.
func TestLatencyMetricCheckedBeforeTheSummary(t *testing.T) {
	const want = `vmtest: unknown latency metric "ttfb" (did you mean ttft?); want ttft, ttfot, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended`
	for name, check := range map[string]func(string, time.Duration) Check{
		"P99": P99Below, "P90": P90Below, "P50": P50Below, "Mean": MeanBelow,
	} {
		require.EqualError(t, check("ttfb", time.Second).Err(), want, name)
		for _, s := range []*summary.Summary{nil, pinned()} {
			err := check("ttfb", time.Second).Eval(s)
			require.EqualError(t, err, want, name)
			require.ErrorIs(t, err, ErrInvalidCheck, name)
		}
	}
	require.EqualError(t, P99Below("nonsense", time.Second).Eval(nil),
		`vmtest: unknown latency metric "nonsense"; want ttft, ttfot, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended`)

	// latency and e2e_latency are e2e, in any case.
	s := pinned()
	s.Requests.E2EMS = s.Requests.TTFTMS
	for _, m := range []string{"latency", "E2E_LATENCY", "e2e"} {
		require.NoError(t, P99Below(m, 3*time.Second).Eval(s), m)
	}
	// A valid check with no summary is "no summary", not a bad check.
	err := P99Below("ttft", time.Second).Eval(nil)
	require.EqualError(t, err, "vmtest: p99 ttft: no summary")
	require.NotErrorIs(t, err, ErrInvalidCheck)
}

// No latency is below 0, so a limit ≤ 0 could never pass: refused at once.
func TestLatencyLimitMustBePositive(t *testing.T) {
	err := P99Below("ttft", -5*time.Millisecond).Eval(nil)
	require.EqualError(t, err, "vmtest: p99 ttft < -5ms: a latency is never below 0, so the check could never pass; want a positive limit")
	require.ErrorIs(t, err, ErrInvalidCheck)
	require.ErrorIs(t, MeanBelow("e2e", 0).Eval(pinned()), ErrInvalidCheck)
}

func TestRateLimitsCheckedBeforeTheSummary(t *testing.T) {
	err := ThroughputAbove(-1).Eval(pinned())
	require.EqualError(t, err, "vmtest: request_throughput > -1 req/s: a rate is never below 0, so the check could never fail; want a limit ≥ 0")
	require.ErrorIs(t, err, ErrInvalidCheck)
	require.ErrorIs(t, ThroughputAbove(math.NaN()).Eval(nil), ErrInvalidCheck)
	err = GoodputAbove(-0.5).Eval(nil)
	require.EqualError(t, err, "vmtest: goodput > -0.5 req/s: a rate is never below 0, so the check could never fail; want a limit ≥ 0")
	require.ErrorIs(t, err, ErrInvalidCheck)
	require.NotErrorIs(t, ThroughputAbove(0).Eval(nil), ErrInvalidCheck)
	require.NotErrorIs(t, GoodputAbove(0).Eval(nil), ErrInvalidCheck)
}

func TestBaselineArgumentsCheckedBeforeTheSummaryAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.json")
	for tols, want := range map[*[]Tolerance]string{
		{Rel("ttfb.p99", 0.1)}:               `vmtest: baseline ` + path + `: unknown metric "ttfb.p99"; did you mean ttft.p99? (every name: go doc github.com/vmtest/vmtest/summary Summary.Lookup, or vmtest help metrics)`,
		{Rel("ttft.p99", -1)}:                `vmtest: baseline ` + path + `: ttft.p99: tolerance Rel -1, Abs 0: want finite values ≥ 0`,
		{{Metric: "ttft.p99", Direction: 7}}: `vmtest: baseline ` + path + `: ttft.p99: unknown Direction 7 (want AutoDirection, LowerIsBetter, HigherIsBetter or Neutral)`,
		{}:                                   `vmtest: baseline ` + path + `: no metric chosen`,
	} {
		for _, s := range []*summary.Summary{nil, baselineRun()} {
			err := Baseline(path, *tols...).Eval(s)
			require.EqualError(t, err, want)
			require.ErrorIs(t, err, ErrInvalidCheck)
		}
	}
	require.ErrorIs(t, Baseline(" ", Rel("ttft.p99", 0)).Eval(nil), ErrInvalidCheck)
	// Valid arguments: the summary (here none) and the file are looked at only then.
	err := Baseline(path, Rel("ttft.p99", 0.1)).Eval(nil)
	require.EqualError(t, err, "vmtest: baseline "+path+": no summary")
	require.NotErrorIs(t, err, ErrInvalidCheck)
}

// Every name suggestions are drawn from is one Lookup accepts, as itself (canonical).
func TestSuggestedNamesAreCanonicalLookupNames(t *testing.T) {
	lookupNames := summary.Names()
	require.Greater(t, len(lookupNames), 100)
	for _, n := range lookupNames {
		v, err := lookupStatic(n)
		require.NoError(t, err, n)
		head := strings.Split(n, ".")[0]
		if n != "throughput" && head != "latency" && head != "e2e_latency" && !strings.HasSuffix(n, ".median") {
			require.Equal(t, n, v.Name, "%s is not canonical", n)
		}
		require.Contains(t, lookupNames, v.Name, "%s: its canonical name is suggested too", n)
	}
}

// Lookup with no server data accepts any statistic after server.<histogram>; lookupStatic refuses the ones a
// summary with server data refuses.
func TestServerHistogramStatisticsCheckedWithoutData(t *testing.T) {
	withData := &summary.Summary{Server: &serverstats.Stats{Figures: serverstats.Figures{
		TTFT: &serverstats.Histogram{}, E2ELatency: &serverstats.Histogram{}, QueueTime: &serverstats.Histogram{}, ITL: &serverstats.Histogram{},
	}}}
	for _, h := range []string{"ttft", "e2e", "queue_time", "itl"} {
		for _, st := range []string{"p50", "p90", "p95", "p99", "mean", "avg", "median", "med", "p98", "std", "max", "min"} {
			name := "server." + h + "." + st
			_, errData := withData.Lookup(name)
			_, errStatic := lookupStatic(name)
			require.Equal(t, errData == nil, errStatic == nil, "%s: with data %v, statically %v", name, errData, errStatic)
		}
	}
	_, err := ParseThreshold("server.ttft.p98 < 1s")
	require.ErrorContains(t, err, `unknown metric "server.ttft.p98" (no statistic "p98" for server.ttft; want p50, p90, p95, p99 or mean); did you mean server.ttft.p90, server.ttft.p95 or server.ttft.p99?`)
}

func TestNearest(t *testing.T) {
	for name, want := range map[string][]string{
		"ttfb.p99":      {"ttft.p99"},
		"ttft.p98":      {"ttft.p90", "ttft.p95", "ttft.p99"},
		"gpu.util.avg":  {"gpu.utilization.avg", "gpu_0.utilization.avg"},
		"error_rte":     {"error_rate"},
		"srv.ttft.p99":  {"server.ttft.p99"},
		"zzzzzz":        nil,
		"requests.fail": {"requests.failed"},
	} {
		require.Equal(t, want, summary.Nearest(name, summary.Names(), 3), name)
	}
	require.Equal(t, "a, b or c", orList([]string{"a", "b", "c"}))
	require.Equal(t, "a or b", orList([]string{"a", "b"}))
}

// The unknown-name message names the nearest names, or a few examples, and where the full list is: not every
// family on one line.
func TestUnknownMetricTextIsShort(t *testing.T) {
	_, err := (*summary.Summary)(nil).Lookup("foo")
	require.Error(t, err)
	require.Equal(t, `unknown metric "foo"; names look like ttft.p99, e2e.mean, error_rate, throughput, requests.failed, `+
		`gpu.utilization.avg, server.ttft.p99, cpu.max (every name: go doc github.com/vmtest/vmtest/summary Summary.Lookup, or vmtest help metrics)`,
		unknownMetricText(err, ""))
	_, err = (*summary.Summary)(nil).Lookup("ttft")
	require.Equal(t, `unknown metric "ttft" (the note) (ttft takes one statistic: ttft.<p50|p90|p95|p99|mean|median|std|min|max>) `+
		`(every name: go doc github.com/vmtest/vmtest/summary Summary.Lookup, or vmtest help metrics)`, unknownMetricText(err, "the note"))
	other := errors.New("not a name problem")
	require.Equal(t, "not a name problem", unknownMetricText(other, ""))
}
