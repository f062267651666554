package assert

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

func fp(v float64) *float64 { return &v }

// issue5 is issue 5's pinned input — TTFT [120 95 110 400 105 98 130 101 99 2500] ms and two failed requests:
// p50 107.5, p90 610, p99 2311, mean 375.8 — with a 12 s window, one GPU and a server reading.
func issue5() *summary.Summary {
	return &summary.Summary{
		RunID: "run-1", DurationS: 20, Snapshots: 10,
		Files: map[string]string{"requests_csv": "/tmp/requests.csv", "snapshots_csv": "/tmp/snapshots.csv"},
		Requests: recorder.Summary{
			Counts:            recorder.Counts{Total: 12, OK: 10, Failed: 2},
			TTFTMS:            recorder.ComputeStats([]float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500}),
			WindowS:           fp(12),
			RequestThroughput: fp(10.0 / 12),
			ErrorRate:         fp(2.0 / 12),
			LastError:         "HTTP 500",
		},
		GPU:  map[string]summary.GPUStats{"gpu_0": {AvgUtilization: fp(62.5), MaxUtilization: fp(99), Samples: 10}},
		VLLM: summary.VLLMStats{AvgKVCacheUsagePercent: fp(40), MaxKVCacheUsagePercent: fp(80), Scrapes: 9},
	}
}

// recTB records what a check reports; Fatalf records and panics, as t.Fatalf ends the test's goroutine.
type recTB struct {
	errs, logs, fatal []string
}

func (r *recTB) Helper()                        {}
func (r *recTB) Errorf(format string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(format, a...)) }
func (r *recTB) Logf(format string, a ...any)   { r.logs = append(r.logs, fmt.Sprintf(format, a...)) }
func (r *recTB) Fatalf(format string, a ...any) {
	r.fatal = append(r.fatal, fmt.Sprintf(format, a...))
	panic(fatalStop{})
}

// fatalStop is what recTB.Fatalf panics with.
type fatalStop struct{}

func TestParseThresholdForms(t *testing.T) {
	for expr, want := range map[string]Threshold{
		"p(99) ttft < 150ms":             {Metric: "ttft.p99", Op: "<", Limit: 150, Unit: "ms", LimitText: "150ms"},
		"P( 95 )TTFT<150ms":              {Metric: "ttft.p95", Op: "<", Limit: 150, Unit: "ms", LimitText: "150ms"},
		"p99 ttft < 150ms":               {Metric: "ttft.p99", Op: "<", Limit: 150, Unit: "ms", LimitText: "150ms"},
		"p(90) e2e <= 2s":                {Metric: "e2e.p90", Op: "<=", Limit: 2000, Unit: "ms", LimitText: "2s"},
		"mean tpot < 20ms":               {Metric: "tpot.mean", Op: "<", Limit: 20, Unit: "ms", LimitText: "20ms"},
		"avg ttft < 100ms":               {Metric: "ttft.mean", Op: "<", Limit: 100, Unit: "ms", LimitText: "100ms"},
		"median ttft < 1.5 s":            {Metric: "ttft.p50", Op: "<", Limit: 1500, Unit: "ms", LimitText: "1.5 s"},
		"max itl < 1s":                   {Metric: "itl.max", Op: "<", Limit: 1000, Unit: "ms", LimitText: "1s"},
		"min itl >= 500us":               {Metric: "itl.min", Op: ">=", Limit: 0.5, Unit: "ms", LimitText: "500us"},
		"ttft.min > 250µs":               {Metric: "ttft.min", Op: ">", Limit: 0.25, Unit: "ms", LimitText: "250µs"},
		"ttft.min > 2e6ns":               {Metric: "ttft.min", Op: ">", Limit: 2, Unit: "ms", LimitText: "2e6ns"},
		"e2e.max < 1.5m":                 {Metric: "e2e.max", Op: "<", Limit: 90000, Unit: "ms", LimitText: "1.5m"},
		"std e2e < 300":                  {Metric: "e2e.std", Op: "<", Limit: 300, Unit: "ms", LimitText: "300ms"},
		"p(99) ttft < 40":                {Metric: "ttft.p99", Op: "<", Limit: 40, Unit: "ms", LimitText: "40ms"},
		"p(99) latency < 1s":             {Metric: "e2e.p99", Op: "<", Limit: 1000, Unit: "ms", LimitText: "1s"},
		"e2e_latency.p99 < 1s":           {Metric: "e2e.p99", Op: "<", Limit: 1000, Unit: "ms", LimitText: "1s"},
		"error_rate < 100%":              {Metric: "error_rate", Op: "<", Limit: 1, Unit: "fraction", LimitText: "100%"},
		"error_rate == 0":                {Metric: "error_rate", Op: "==", Limit: 0, Unit: "fraction", LimitText: "0 (0%)"},
		"gpu.temp_c.max < -1":            {Metric: "gpu.temp_c.max", Op: "<", Limit: -1, Unit: "°C", LimitText: "-1 °C"},
		"ttft.p99 < 150ms":               {Metric: "ttft.p99", Op: "<", Limit: 150, Unit: "ms", LimitText: "150ms"},
		"error_rate < 1%":                {Metric: "error_rate", Op: "<", Limit: 0.01, Unit: "fraction", LimitText: "1%"},
		"error_rate<0.01":                {Metric: "error_rate", Op: "<", Limit: 0.01, Unit: "fraction", LimitText: "0.01 (1%)"},
		"throughput > 10":                {Metric: "request_throughput", Op: ">", Limit: 10, Unit: "req/s", LimitText: "10 req/s"},
		"throughput > 10 req/s":          {Metric: "request_throughput", Op: ">", Limit: 10, Unit: "req/s", LimitText: "10 req/s"},
		"gpu.utilization.mean > 50":      {Metric: "gpu.utilization.avg", Op: ">", Limit: 50, Unit: "%", LimitText: "50%"},
		"gpu.utilization.avg > 50%":      {Metric: "gpu.utilization.avg", Op: ">", Limit: 50, Unit: "%", LimitText: "50%"},
		"avg gpu.utilization > 50":       {Metric: "gpu.utilization.avg", Op: ">", Limit: 50, Unit: "%", LimitText: "50%"},
		"requests.failed == 0":           {Metric: "requests.failed", Op: "==", Limit: 0, Unit: "requests", LimitText: "0 requests"},
		"requests.ok != 0":               {Metric: "requests.ok", Op: "!=", Limit: 0, Unit: "requests", LimitText: "0 requests"},
		"  server.queue.max <= +4  ":     {Metric: "server.queue.max", Op: "<=", Limit: 4, Unit: "requests", LimitText: "+4 requests"},
		"gpu_0.power_w.max < 700 W":      {Metric: "gpu_0.power_w.max", Op: "<", Limit: 700, Unit: "W", LimitText: "700 W"},
		"energy_per_output_token_j < .5": {Metric: "energy_per_output_token_j", Op: "<", Limit: 0.5, Unit: "J/token", LimitText: ".5 J/token"},
	} {
		got, err := ParseThreshold(expr)
		require.NoError(t, err, expr)
		want.Expr = expr
		require.InDelta(t, want.Limit, got.Limit, 1e-12, expr)
		want.Limit = got.Limit
		require.Equal(t, want, got, expr)
	}
}

func TestParseThresholdErrorsNamePosition(t *testing.T) {
	cases := []struct {
		expr string
		pos  int
		msg  string
	}{
		{"", 0, "empty expression"},
		{"   ", 3, "empty expression"},
		{"< 150ms", 0, "expected a metric name or an aggregation"},
		{"p(99 ttft < 150ms", 5, `expected ")" after "p(99"`},
		{"p() ttft < 1s", 2, "expected a percentile (50, 90, 95 or 99)"},
		{"p(99.9) ttft < 1s", 2, "percentile 99.9 is not kept"},
		{"p98 ttft < 1s", 1, "percentile 98 is not kept"},
		{"p(99) < 150ms", 6, `expected a metric name after the aggregation "p(99)"`},
		{"p(99) ttfb < 150ms", 6, `unknown metric "ttfb.p99"`},
		{"ttft < 150ms", 0, "ttft takes one statistic"},
		{"avg gpu.utilization.avg > 5", 4, `(the aggregation "avg" with the metric "gpu.utilization.avg")`},
		{"ttft p99 < 1s", 4, `expected an operator (<, <=, >, >=, ==, !=) after the metric "ttft"`},
		{"ttft.p99 = 150ms", 9, "expected an operator"},
		{"ttft.p99 => 150ms", 9, "expected an operator"},
		{"ttft.p99 150ms", 9, "expected an operator"},
		{"ttft.p99 < ms", 11, `expected a number after "<"`},
		{"ttft.p99 <", 10, `expected a number after "<"`},
		{"ttft.p99 < 150 ms extra", 18, `expected the end of the expression after "150 ms"`},
		{"ttft.p99 < 150parsecs", 14, `unknown unit "parsecs" for ttft.p99 (unit ms)`},
		{"ttft.p99 < 15%", 13, "a percentage does not apply to ttft.p99 (unit ms)"},
		{"error_rate < 1s", 14, "a duration does not apply to error_rate (unit fraction)"},
		{"throughput > 10tok/s", 15, `unknown unit "tok/s" for request_throughput (unit req/s)`},
		{"throughput > 5%", 14, "a percentage does not apply to request_throughput"},
		{"ttft.p99 < 1e999", 11, "expected a finite number"},
		{"ttft.p99 < 1e306h", 11, "1e306h is not a finite limit in ms"}, // 1e306 × 3.6e6 ms overflows
		{"µttft.p99 < 1", 0, "expected a metric name"},
		{"ttft.p99 < 150ms)", 14, `unknown unit "ms)"`},
	}
	for _, c := range cases {
		_, err := ParseThreshold(c.expr)
		require.Error(t, err, c.expr)
		var te *ThresholdError
		require.True(t, errors.As(err, &te), c.expr)
		require.Equal(t, c.pos, te.Pos, "%q: %v", c.expr, err)
		require.Contains(t, te.Msg, c.msg, c.expr)
		require.True(t, errors.Is(err, ErrBadThreshold), c.expr)
		require.Contains(t, err.Error(), fmt.Sprintf("at byte %d: ", c.pos), c.expr)
	}
	// The caret points at the byte, counted in characters for display.
	_, err := ParseThreshold("p(99) ttft <> 150ms")
	require.Equal(t, "vmtest: threshold \"p(99) ttft <> 150ms\": at byte 12: expected a number after \"<\"\n"+
		"\tp(99) ttft <> 150ms\n"+
		"\t            ^", err.Error())
	_, err = ParseThreshold("ttft.min > 250µs x")
	require.Equal(t, "vmtest: threshold \"ttft.min > 250µs x\": at byte 18: expected the end of the expression after \"250µs\"\n"+
		"\tttft.min > 250µs x\n"+
		"\t                 ^", err.Error())
}

func TestExprPinned(t *testing.T) {
	s := issue5()
	pass := []string{
		"p(99) ttft < 2312ms", "p(99) ttft <= 2311ms", "p(99) ttft == 2311", "p(99) ttft >= 2.311s",
		"p(90) ttft < 611ms", "p(90) ttft > 609ms", "p(50) ttft == 107.5ms", "median ttft < 108",
		"mean ttft < 376ms", "avg ttft > 375ms", "ttft.mean != 375", "min ttft >= 95ms", "max ttft <= 2.5s",
		"error_rate < 17%", "error_rate > 0.16", // 2/12 = 16.67 %
		"throughput > 0.8", "throughput < 0.84 req/s", // 10/12 = 0.833 req/s
		"gpu.utilization.mean > 50", "gpu.utilization.avg < 62.6%", "gpu_0.utilization.max == 99",
		"server.kv_cache_usage.max <= 80", "requests.failed == 2", "requests.total > 11",
	}
	for _, e := range pass {
		require.NoError(t, Expr(e).Eval(s), e)
	}
	for expr, msg := range map[string]string{
		"p(99) ttft < 150ms":        `vmtest: threshold "p(99) ttft < 150ms" not met: ttft.p99 = 2311.000 ms, want < 150ms (n=10, window 12.0 s, run run-1; data: /tmp/requests.csv)`,
		"p(99) ttft < 2311":         `vmtest: threshold "p(99) ttft < 2311" not met: ttft.p99 = 2311.000 ms, want < 2311ms (n=10, window 12.0 s, run run-1; data: /tmp/requests.csv)`,
		"p(90) e2e <= 2s":           `vmtest: threshold "p(90) e2e <= 2s": e2e.p90 <= 2s: no data (n=0 values from 10 successful requests; run run-1; data: /tmp/requests.csv)`,
		"mean tpot < 20ms":          `vmtest: threshold "mean tpot < 20ms": tpot.mean < 20ms: no data (n=0 values from 10 successful requests; run run-1; data: /tmp/requests.csv)`,
		"error_rate < 1%":           `vmtest: threshold "error_rate < 1%" not met: error_rate = 0.1667 (16.67%), want < 1% (n=12, window 12.0 s, run run-1; data: /tmp/requests.csv)`,
		"throughput > 10":           `vmtest: threshold "throughput > 10" not met: request_throughput = 0.833 req/s, want > 10 req/s (n=10, window 12.0 s, run run-1; data: /tmp/requests.csv)`,
		"gpu.utilization.mean > 80": `vmtest: threshold "gpu.utilization.mean > 80" not met: gpu.utilization.avg = 62.500%, want > 80% (n=10, window 20.0 s, run run-1; data: /tmp/snapshots.csv)`,
		"requests.failed == 0":      `vmtest: threshold "requests.failed == 0" not met: requests.failed = 2 requests, want == 0 requests (n=12, window 12.0 s, run run-1; data: /tmp/requests.csv)`,
		"server.queue.max < 5":      `vmtest: threshold "server.queue.max < 5": server.queue.max < 5 requests: no data (n=9, no reading of request_queue_size in the 9 successful scrapes; run run-1; data: /tmp/snapshots.csv)`,
		"gpu_3.utilization.avg > 1": `vmtest: threshold "gpu_3.utilization.avg > 1": gpu_3.utilization.avg > 1%: no data (n=0, no gpu_3 in this run (GPUs: gpu_0); run run-1; data: /tmp/snapshots.csv)`,
	} {
		err := Expr(expr).Eval(s)
		require.Error(t, err, expr)
		require.Equal(t, msg, err.Error())
	}
	// No data never passes, whatever the operator.
	for _, e := range []string{"p(99) e2e < 1h", "p(99) e2e > 1", "p(99) e2e != 1", "cpu.avg >= 1"} {
		require.ErrorContains(t, Expr(e).Eval(s), "no data", e)
	}
	// A host or cgroup figure's data is in the snapshots, not the requests CSV.
	err := Expr("cgroup_cpu_percent.max < 50").Eval(s)
	require.ErrorContains(t, err, "no data")
	require.True(t, strings.HasSuffix(err.Error(), "; run run-1; data: /tmp/snapshots.csv)"), err.Error())
	require.ErrorContains(t, Expr("ttft.p99 < 1s").Eval(nil), "no summary")
	none := &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 3, Failed: 2, Rejected: 1}}}
	require.EqualError(t, Expr("p(99) ttft < 1h").Eval(none),
		`vmtest: threshold "p(99) ttft < 1h": ttft.p99 < 1h: no data (n=0 successful requests of 3 recorded: 2 failed, 0 incomplete, 1 rejected, 0 canceled; run r; data: (files not written))`)
	require.ErrorIs(t, Expr("ttft.p99 <").Eval(s), ErrBadThreshold)
}

// A server-percentile threshold uses what the histogram proves: all 100 queue times are 0.00023 ms, in vLLM's
// lowest bucket (0, 300 ms]; histogram_quantile reads p50 as 150 ms, the _sum (0.023 ms) proves p50 ≤
// 0.023/51 = 0.000451 ms, so the value is that bound (serverstats keeps 150 ms apart). TTFT p99 lies in the
// +Inf bucket (> 2560 s) and the sum proves it ≤ 3006 s.
func TestThresholdUsesServerPercentileBounds(t *testing.T) {
	lp := func(x float64) *float64 { return &x }
	dur := 20.0
	s := &summary.Summary{RunID: "r", Server: &serverstats.Stats{Scrapes: 11, DurationS: &dur, Figures: serverstats.Figures{
		QueueTime: &serverstats.Histogram{Count: 100, SumMS: 0.023, MeanMS: lp(0.00023),
			P50MS: &serverstats.Quantile{ValueMS: lp(0.023 / 51), InterpolatedMS: lp(150), BucketLowerMS: lp(0), BucketUpperMS: lp(300), AtMostMS: lp(0.023 / 51)}},
		TTFT: &serverstats.Histogram{Count: 16, SumMS: 3012000,
			P99MS: &serverstats.Quantile{LowerBoundMS: lp(2560000), IsLowerBound: true, BucketLowerMS: lp(2560000), AtMostMS: lp(3006000)}},
	}}}
	require.NoError(t, Expr("server.queue_time.p50 < 1ms").Eval(s), "proven ≤ 0.000451 ms, though interpolated at 150 ms")
	require.NoError(t, Expr("server.queue_time.p50 < 200ms").Eval(s))
	err := Expr("server.queue_time.p50 > 100ms").Eval(s)
	require.Error(t, err, "interpolated 150 ms, but proven ≤ 0.000451 ms")
	require.Contains(t, err.Error(), "server.queue_time.p50 = 0.000451 ms, the most its histogram allows (histogram_quantile interpolates 150.000 ms in its bucket, above what the histogram's sum proves), want > 100ms")
	require.NotContains(t, err.Error(), "= 150", "no figure outside what the histogram proves")
	err = Expr("server.queue_time.p50 < 0.0001ms").Eval(s)
	require.ErrorIs(t, err, ErrInvalidCheck, "a limit under 1 µs is refused before any figure is read")
	require.Contains(t, err.Error(), "a latency limit under 1µs is likely a slip of the unit")

	require.NoError(t, Expr("server.ttft.p99 < 4000s").Eval(s), "in the +Inf bucket but proven ≤ 3006 s")
	require.NoError(t, Expr("server.ttft.p99 > 1s").Eval(s), "proven > 2560 s")
	err = Expr("server.ttft.p99 < 1s").Eval(s)
	require.Error(t, err, "proven > 2560 s")
	require.Contains(t, err.Error(), "server.ttft.p99 = above 2560000 ms (it falls in the histogram's +Inf bucket), and at most 3006000 ms by the histogram's sum, want < 1s")
	err = Expr("server.ttft.p99 > 3100s").Eval(s)
	require.Error(t, err, "proven ≤ 3006 s")
	require.Contains(t, err.Error(), "server.ttft.p99 = above 2560000 ms")

	// Without the sum's bound: > 2560 s is all that is known. A limit inside (2560 s, ∞) cannot be decided.
	s.Server.TTFT.P99MS.AtMostMS = nil
	require.NoError(t, Expr("server.ttft.p99 > 2000s").Eval(s))
	require.NoError(t, Expr("server.ttft.p99 > 2560s").Eval(s), "p99 > 2560 s exactly what > says")
	err = Expr("server.ttft.p99 < 2560s").Eval(s)
	require.Error(t, err)
	require.Contains(t, err.Error(), "server.ttft.p99 = above 2560000 ms (it falls in the histogram's +Inf bucket), want < 2560s")
	err = Expr("server.ttft.p99 < 3000s").Eval(s)
	require.Error(t, err)
	require.Contains(t, err.Error(), "no data (n=16, only a lower bound is known: >= 2560000 ms")
}

func TestAssertExprs(t *testing.T) {
	tb := &recTB{}
	require.True(t, Assert(tb, issue5(), Expr("p(99) ttft < 3s"), Expr("error_rate < 20%")))
	require.Empty(t, tb.errs)
	require.False(t, Assert(tb, issue5(), Expr("p(99) ttft < 1s"), Expr("error_rate < 20%"), Expr("ttft <"), Expr("p(50) ttft < 1s")))
	require.Len(t, tb.errs, 2, "every failing expression is reported, the others are not")
	require.True(t, strings.HasPrefix(tb.errs[0], `vmtest: threshold "p(99) ttft < 1s" not met: ttft.p99 = 2311.000 ms`))
	require.Contains(t, tb.errs[1], `vmtest: threshold "ttft <": at byte 0:`)
}

// A limit without a unit is read in the metric's unit, and the failure message says which.
func TestThresholdShowsTheAssumedUnit(t *testing.T) {
	s := issue5()
	for expr, want := range map[string]string{
		"p(99) ttft < 40":      "ttft.p99 = 2311.000 ms, want < 40ms (",
		"error_rate < 0.01":    "error_rate = 0.1667 (16.67%), want < 0.01 (1%) (",
		"throughput > 2":       "request_throughput = 0.833 req/s, want > 2 req/s (",
		"requests.failed <= 1": "requests.failed = 2 requests, want <= 1 requests (",
	} {
		err := Expr(expr).Eval(s)
		require.Error(t, err, expr)
		require.Contains(t, err.Error(), want, expr)
		require.NotErrorIs(t, err, ErrInvalidCheck, "a missed SLO is not a bad check")
	}
}

// Thresholds that read but cannot mean what was written are refused, with the fix in the message.
func TestThresholdsThatCannotMeanWhatIsWritten(t *testing.T) {
	for expr, want := range map[string]string{
		"error_rate < 1": `at byte 13: error_rate is a fraction from 0 to 1 (1 is 100%), so "< 1" passes unless every request failed; ` +
			`for 1% write "error_rate < 0.01" or "error_rate < 1%"`,
		"error_rate <= 2": `at byte 14: error_rate is a fraction from 0 to 1 (1 is 100%), so this always passes; ` +
			`for 2% write "error_rate <= 0.02" or "error_rate <= 2%"`,
		"error_rate > 5": `at byte 13: error_rate is a fraction from 0 to 1 (1 is 100%), so this never holds; ` +
			`for 5% write "error_rate > 0.05" or "error_rate > 5%"`,
		"error_rate == 1": `at byte 14: error_rate is a fraction from 0 to 1 (1 is 100%), so this holds only when every request failed; ` +
			`for 1% write "error_rate == 0.01" or "error_rate == 1%"`,
		"error_rate <= 100%": `at byte 14: "error_rate <= 100%" always holds, so it could never fail: error_rate is a fraction from 0 to 1`,
		"error_rate < 0":     `at byte 13: "error_rate < 0 (0%)" never holds, so it could never pass: error_rate is a fraction from 0 to 1`,
		"error_rate < -1%":   `at byte 13: negative limit -1%: error_rate is a fraction from 0 to 1`,
		"p(99) ttft < -5ms":  `at byte 13: negative limit -5ms: ttft.p99 is never below 0`,
		"p(99) ttft > -5":    `at byte 13: negative limit -5ms: ttft.p99 is never below 0`,
		"p(99) ttft < 0ms":   `at byte 13: "ttft.p99 < 0ms" never holds, so it could never pass: ttft.p99 is never below 0`,
		"p(99) ttft >= 0":    `at byte 14: "ttft.p99 >= 0ms" always holds, so it could never fail: ttft.p99 is never below 0`,
		"ttft.p99 < 0.5us":   `at byte 11: "ttft.p99 < 0.5us": a latency limit under 1µs is likely a slip of the unit (a plain number is ms); write e.g. "ttft.p99 < 500ms"`,
		"ttft.p99 < 0.0005":  `at byte 11: "ttft.p99 < 0.0005ms": a latency limit under 1µs is likely a slip of the unit (a plain number is ms); write e.g. "ttft.p99 < 500ms"`,
		"e2e.p50 > 999ns":    `at byte 10: "e2e.p50 > 999ns": a latency limit under 1µs is likely a slip of the unit (a plain number is ms); write e.g. "e2e.p50 > 500ms"`,
		"ttft.p99 <= 0ms": `at byte 12: "ttft.p99 <= 0ms" holds only at exactly 0, so it asks for no latency at all: ttft.p99 is never below 0; ` +
			`want a positive limit, e.g. "ttft.p99 < 500ms"`,
		"ttfot.mean == 0": `at byte 14: "ttfot.mean == 0ms" holds only at exactly 0, so it asks for no latency at all: ttfot.mean is never below 0; ` +
			`want a positive limit, e.g. "ttfot.mean < 500ms"`,
		"server.e2e.p99 > 0": `at byte 17: "server.e2e.p99 > 0ms" fails only at exactly 0, so it checks nothing: server.e2e.p99 is never below 0; ` +
			`want a positive limit, e.g. "server.e2e.p99 < 500ms"`,
		"itl.p50 < 0": `at byte 10: "itl.p50 < 0ms" never holds, so it could never pass: itl.p50 is never below 0`,
		"ttft.p99 > 0ms": `at byte 11: "ttft.p99 > 0ms" fails only at exactly 0, so it checks nothing: ttft.p99 is never below 0; ` +
			`want a positive limit, e.g. "ttft.p99 < 500ms"`,
		"p(90) e2e != 0s": `at byte 13: "e2e.p90 != 0s" fails only at exactly 0, so it checks nothing: e2e.p90 is never below 0; ` +
			`want a positive limit, e.g. "e2e.p90 < 500ms"`,
		"gpu.utilization.avg > 100": `at byte 22: "gpu.utilization.avg > 100%" never holds, so it could never pass: gpu.utilization.avg is a percentage from 0 to 100`,
		"cpu.max <= 100%":           `at byte 11: "cpu.max <= 100%" always holds, so it could never fail: cpu.max is a percentage from 0 to 100`,
		"requests.failed != -1":     `at byte 19: negative limit -1 requests: requests.failed is never below 0`,
		"p(99) ttft < 5 0ms": `at byte 15: unknown unit "0ms" for ttft.p99 (unit ms) (is there a space inside the number?); ` +
			`expected ns, us, µs, ms, s, m or h (a plain number is ms)`,
		"avg(ttft) < 100ms": `at byte 3: "avg(" takes no parentheses; write "avg ttft" or "ttft.mean" (only a percentile takes them: "p(99) ttft")`,
		"p95( e2e ) < 1s":   `at byte 3: "p95(" takes no parentheses; write "p(95) e2e" or "e2e.p95" (only a percentile takes them: "p(99) ttft")`,
		"p(99) ttfb < 150ms": `at byte 6: unknown metric "ttfb.p99" (the aggregation "p(99)" with the metric "ttfb"); did you mean ttft.p99? ` +
			`(every name: go doc github.com/vmtest/vmtest/summary Summary.Lookup, or vmtest help metrics)`,
		"error_rate < 1 fraction%":  `at byte 15: unknown unit "fraction%" for error_rate (unit fraction); expected % (a plain number is a fraction: 0.01 is 1%)`,
		"gpu.utilization.avg > 5 W": `at byte 24: unknown unit "W" for gpu.utilization.avg (unit %); expected % (a plain number is in %)`,
		"throughput > 5 tok/s":      `at byte 15: unknown unit "tok/s" for request_throughput (unit req/s); expected req/s (a plain number is in req/s)`,
	} {
		_, err := ParseThreshold(expr)
		require.Error(t, err, expr)
		require.ErrorIs(t, err, ErrBadThreshold, expr)
		require.ErrorIs(t, err, ErrInvalidCheck, expr)
		first, _, _ := strings.Cut(err.Error(), "\n")
		require.Equal(t, fmt.Sprintf("vmtest: threshold %q: %s", expr, want), first, expr)
	}
	// A latency's unit error lists each unit once, and no percentage.
	_, err := ParseThreshold("p(99) ttft < 5 0ms")
	require.Equal(t, 1, strings.Count(err.Error(), "ms,"))
	require.NotContains(t, err.Error(), "%")
}

// A threshold on a server percentile never fails where the histogram proves the percentile meets it, nor
// passes where it proves it misses it; only a limit inside the proven range goes by the figure shown, which
// lies in that range. The trial's E2E p50: bucket (500, 1000] ms, the _sum proves ≤ 588.6 ms, and
// histogram_quantile interpolates 650 ms, so the figure is 588.6 ms; in the second summary histogram_quantile
// gives 520 ms, inside the range, and that is the figure.
func TestServerPercentileVerdictFollowsTheProof(t *testing.T) {
	lp := func(x float64) *float64 { return &x }
	sumOf := func(q *serverstats.Quantile) *summary.Summary {
		return &summary.Summary{RunID: "r", Server: &serverstats.Stats{Scrapes: 3, Figures: serverstats.Figures{
			E2ELatency: &serverstats.Histogram{Count: 40, P50MS: q}}}}
	}
	clamped := sumOf(&serverstats.Quantile{ValueMS: lp(588.6), InterpolatedMS: lp(650), BucketLowerMS: lp(500), BucketUpperMS: lp(1000), AtMostMS: lp(588.6)})
	inside := sumOf(&serverstats.Quantile{ValueMS: lp(520), BucketLowerMS: lp(500), BucketUpperMS: lp(1000), AtMostMS: lp(588.6)})
	for _, c := range []struct {
		expr            string
		clamped, inside bool // met
		why             string
	}{
		{"server.e2e.p50 < 600ms", true, true, "proven ≤ 588.6 < 600"},
		{"server.e2e.p50 <= 588.6ms", true, true, "proven ≤ 588.6"},
		{"server.e2e.p50 < 500ms", false, false, "proven > 500"},
		{"server.e2e.p50 <= 500ms", false, false, "proven > 500"},
		{"server.e2e.p50 > 600ms", false, false, "proven ≤ 588.6"},
		{"server.e2e.p50 >= 588.7ms", false, false, "proven ≤ 588.6"},
		{"server.e2e.p50 >= 500ms", true, true, "proven > 500"},
		{"server.e2e.p50 > 400ms", true, true, "proven > 500"},
		{"server.e2e.p50 < 550ms", false, true, "undecided: 588.6 (the bound) and 520 (histogram_quantile)"},
		{"server.e2e.p50 > 550ms", true, false, "undecided: 588.6 (the bound) and 520 (histogram_quantile)"},
	} {
		for _, s := range []struct {
			name string
			sum  *summary.Summary
			met  bool
		}{{"clamped", clamped, c.clamped}, {"inside", inside, c.inside}} {
			err := Expr(c.expr).Eval(s.sum)
			if s.met {
				require.NoError(t, err, "%s, %s: %s", c.expr, s.name, c.why)
				continue
			}
			require.Error(t, err, "%s, %s: %s", c.expr, s.name, c.why)
			require.NotContains(t, err.Error(), "server.e2e.p50 = 650", "no figure outside the proven range")
		}
	}
	err := Expr("server.e2e.p50 < 550ms").Eval(clamped)
	require.ErrorContains(t, err, "server.e2e.p50 = 588.600 ms, the most its histogram allows (histogram_quantile interpolates 650.000 ms in its bucket, above what the histogram's sum proves), want < 550ms")
}

// A comparison with 0 is taken for a latency figure that can be exactly 0, and evaluated: per-token ITL
// gaps of 0, 0, 3 ms have min 0 and p50 0 (numpy's linear percentile of [0, 0, 3]); one TTFT of 80 ms has
// std 0; TPOT, send_lag and server.queue_time take it too.
func TestZeroLimitsOnFiguresThatCanBeZero(t *testing.T) {
	s := issue5()
	s.Requests.ITLMS = recorder.ComputeStats([]float64{0, 3, 0})
	s.Requests.TTFTMS = recorder.ComputeStats([]float64{80})
	for expr, met := range map[string]bool{
		"itl.min == 0":  true,
		"itl.p50 <= 0":  true,
		"itl.min > 0":   false,
		"itl.max != 0":  true,
		"ttft.std == 0": true,
		"ttft.min > 0":  true,
	} {
		_, err := ParseThreshold(expr)
		require.NoError(t, err, expr)
		err = Expr(expr).Eval(s)
		require.Equal(t, met, err == nil, "%s: %v", expr, err)
		require.NotErrorIs(t, err, ErrInvalidCheck, expr)
	}
	for _, expr := range []string{"tpot.p50 == 0", "send_lag.p99 <= 0", "server.queue_time.p50 > 0", "e2e.std != 0"} {
		_, err := ParseThreshold(expr)
		require.NoError(t, err, expr)
	}
}
