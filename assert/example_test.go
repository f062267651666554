package assert_test

import (
	"fmt"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

// run is a summary as a collector's Finish returns it, cut down to four successful requests: TTFT 95, 110,
// 120 and 400 ms (p50 115 ms, p99 391.6 ms, numpy-linear) over a 2 s window (2 req/s).
func run() *summary.Summary {
	window, throughput := 2.0, 2.0
	return &summary.Summary{RunID: "run-1", Requests: recorder.Summary{
		Counts: recorder.Counts{Total: 4, OK: 4}, WindowS: &window, RequestThroughput: &throughput,
		TTFTMS: recorder.ComputeStats([]float64{120, 95, 110, 400}),
	}}
}

// A threshold expression names the metric, the operator and the limit with its unit; Eval checks it over a
// summary and says why it failed.
func ExampleExpr() {
	s := run()
	fmt.Println(assert.Expr("p(50) ttft < 150ms").Eval(s))
	fmt.Println(assert.Expr("p(99) ttft < 150ms").Eval(s))
	// Output:
	// <nil>
	// vmtest: threshold "p(99) ttft < 150ms" not met: ttft.p99 = 391.600 ms, want < 150ms (n=4, window 2.0 s, run run-1; data: (files not written))
}

// A mistake in a check shows when it is built, before any load runs: Err names the nearest valid names.
func ExampleExpr_invalid() {
	fmt.Println(assert.Expr("p(99) ttfb < 150ms").Err() != nil)
	fmt.Println(assert.P99Below("ttfb", 150*time.Millisecond).Err())
	fmt.Println(assert.ErrorRateBelow(1).Err())
	// Output:
	// true
	// vmtest: unknown latency metric "ttfb" (did you mean ttft?); want ttft, ttfot, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended
	// vmtest: error_rate < 1: error_rate is a fraction from 0 to 1 (1 is 100%), so "< 1" passes unless every request failed; for 1% write "error_rate < 0.01" or "error_rate < 1%" (as this limit: 0.01)
}

// ParseThreshold reads an expression into its parts: the canonical metric name, the operator, and the limit
// in the metric's unit.
func ExampleParseThreshold() {
	for _, e := range []string{"p(99) ttft < 150ms", "error_rate < 1%", "avg gpu.utilization > 50", "p90 e2e <= 2s"} {
		t, err := assert.ParseThreshold(e)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-26s %s %s %g %s\n", e, t.Metric, t.Op, t.Limit, t.Unit)
	}
	// Output:
	// p(99) ttft < 150ms         ttft.p99 < 150 ms
	// error_rate < 1%            error_rate < 0.01 fraction
	// avg gpu.utilization > 50   gpu.utilization.avg > 50 %
	// p90 e2e <= 2s              e2e.p90 <= 2000 ms
}

// Typed constructors build the same checks without an expression; Assert reports each failure through a
// test's Errorf (and Require through Fatalf). String says how a check was built.
func ExampleP99Below() {
	s := run()
	for _, c := range []assert.Check{
		assert.P99Below("ttft", 500*time.Millisecond),
		assert.P50Below("ttft", 100*time.Millisecond),
		assert.ThroughputAbove(1),
	} {
		fmt.Printf("%s: %v\n", c, c.Eval(s))
	}
	// Output:
	// P99Below("ttft", 500ms): <nil>
	// P50Below("ttft", 100ms): vmtest: p50 ttft = 115.000 ms, want < 100ms (n=4, window 2.0 s, run run-1; data: (files not written))
	// ThroughputAbove(1): <nil>
}
