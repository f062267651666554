package assert

import (
	"math"
	"strconv"
	"testing"

	"github.com/vmtest/vmtest/summary"
)

// FuzzParseThreshold: an expression either fails with a *ThresholdError whose position lies inside it, or
// parses to a finite limit in the metric's unit, on a metric the registry resolves, with an operator of the
// grammar; and the threshold prints back (String, and the canonical "metric op limit" in the metric's own
// unit) to expressions that parse to the same metric, operator and limit. Seeds: the README's and doc's
// examples and the error cases of the tests.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{
		"p(99) ttft < 150ms", "p(90) e2e <= 2s", "mean tpot < 20ms", "max itl < 1s", "ttft.p99 < 150ms",
		"error_rate < 1%", "error_rate < 0.01", "throughput > 10", "gpu.utilization.mean > 50", "requests.failed == 0",
		"server.ttft.p99 < 200ms", "p(99) ttft < 40", "avg gpu.utilization > 5", "throughput > 10 req/s",
		"cgroup_memory_percent.max < 90", "ttft.p99 < 1e306h", "ttft.p99 < 1e999", "error_rate < 100%",
		"p99 ttft < 1µs", "gpu_0.mig.gi1_ci0.memory_used_mb.max < 1e4", "ttft.p99 < 150 ms extra", "µttft.p99 < 1",
		"p(99) ttft <> 150ms", "ttft.p99 < -0", "gpu.temp_c.max != -5", "energy_per_output_token_j < 1e-300",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := ParseThreshold(expr)
		if err != nil {
			te, ok := err.(*ThresholdError)
			if !ok {
				t.Fatalf("%q: error %T, want *ThresholdError: %v", expr, err, err)
			}
			if te.Pos < 0 || te.Pos > len(expr) {
				t.Fatalf("%q: position %d outside the expression", expr, te.Pos)
			}
			_ = te.Error()
			return
		}
		if math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) {
			t.Fatalf("%q: limit %v", expr, th.Limit)
		}
		switch th.Op {
		case "<", "<=", ">", ">=", "==", "!=":
		default:
			t.Fatalf("%q: operator %q", expr, th.Op)
		}
		if _, err := (&summary.Summary{}).Lookup(th.Metric); err != nil {
			t.Fatalf("%q: metric %q does not resolve: %v", expr, th.Metric, err)
		}
		again, err := ParseThreshold(th.String())
		if err != nil || again != th {
			t.Fatalf("%q: String %q parses to %+v, %v", expr, th.String(), again, err)
		}
		canon := th.Metric + " " + th.Op + " " + strconv.FormatFloat(th.Limit, 'g', -1, 64)
		if th.Unit == summary.UnitFraction && th.Limit >= 1 {
			canon = th.Metric + " " + th.Op + " " + strconv.FormatFloat(th.Limit*100, 'g', -1, 64) + "%"
		}
		c, err := ParseThreshold(canon)
		if err != nil {
			t.Fatalf("%q: canonical %q does not parse: %v", expr, canon, err)
		}
		if c.Metric != th.Metric || c.Op != th.Op || c.Unit != th.Unit || math.Abs(c.Limit-th.Limit) > 1e-12*math.Abs(th.Limit) {
			t.Fatalf("%q: canonical %q parses to %+v, want %+v", expr, canon, c, th)
		}
	})
}
