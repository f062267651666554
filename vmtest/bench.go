package vmtest

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/summary"
)

// BenchMetric is one figure ReportMetrics reports: its benchstat unit, whether lower is better, and how to
// read it from a summary (ok false when unknown, which is then not reported rather than reported as 0).
type BenchMetric struct {
	// Unit is the b.ReportMetric unit, e.g. "p99-ttft-sec". Durations are in seconds, as benchstat expects.
	Unit string
	// LowerIsBetter selects the "better=lower" or "better=higher" unit metadata line.
	LowerIsBetter bool
	// Value reads the figure.
	Value func(*summary.Summary) (v float64, ok bool)
}

// benchNames are the summary.Lookup names ReportMetrics reports, in order.
var benchNames = []string{
	"ttft.p50", "ttft.p90", "ttft.p99", "tpot.p50", "tpot.p99", "itl.p99", "e2e.p50", "e2e.p99",
	"request_throughput", "output_token_throughput", "goodput", "error_rate",
}

// BenchMetrics are the figures ReportMetrics reports, in order: p50/p90/p99 TTFT, p50/p99 TPOT, p99 ITL,
// p50/p99 E2E latency (seconds, client side, successful requests), request throughput (req/s), output
// token throughput (tok/s), goodput (req/s, when an SLO was given) and the error ratio (failed, incomplete and
// rejected requests over all requests but those canceled by the caller, "err/req"). Units, directions and values come from the metric registry
// (summary.Describe, summary.Summary.Lookup).
var BenchMetrics = benchMetrics(benchNames)

// benchMetrics builds the BenchMetric of each name; it panics on a name the registry does not report to
// benchstat (a bug TestBenchMetricsFromTheRegistry shows).
func benchMetrics(names []string) []BenchMetric {
	out := make([]BenchMetric, len(names))
	for i, name := range names {
		d, err := summary.Describe(name)
		if err != nil || d.BenchUnit == "" {
			panic(fmt.Sprintf("vmtest: %s has no benchstat unit in the metric registry (%v)", name, err))
		}
		scale := d.BenchScale
		out[i] = BenchMetric{Unit: d.BenchUnit, LowerIsBetter: d.Metric.Direction == summary.LowerIsBetter,
			Value: func(s *summary.Summary) (float64, bool) {
				v, err := s.Lookup(d.Name)
				return v.Value * scale, err == nil && v.Known
			}}
	}
	return out
}

var unitLinesOnce sync.Once

// unitLines writes benchstat's unit metadata lines ("Unit p99-ttft-sec better=lower"), which benchstat reads
// from anywhere in the benchmark output to know which direction is an improvement.
func unitLines(w io.Writer) {
	for _, m := range BenchMetrics {
		better := "higher"
		if m.LowerIsBetter {
			better = "lower"
		}
		fmt.Fprintf(w, "Unit %s better=%s\n", m.Unit, better)
	}
}

// MetricReporter is the part of *testing.B that ReportMetrics uses.
type MetricReporter interface {
	Helper()
	ReportMetric(n float64, unit string)
}

// ReportMetrics finishes the collector (see Finish: the files are written and the summary final) and reports
// BenchMetrics through b.ReportMetric, so that `go test -bench` prints them beside ns/op and benchstat can
// compare two runs. Figures with no data are left out, never reported as 0. The first call in a process
// prints benchstat's "Unit ... better=..." lines to stdout. Call it at the end of the benchmark function,
// before it returns (metrics reported from a cleanup are lost). ns/op stays the benchmark's own timing of
// whatever the function did.
func (c *Collector) ReportMetrics(b MetricReporter) {
	b.Helper()
	s, _ := c.Finish() // under Collect, the cleanup reports a write error or a check not met
	unitLinesOnce.Do(func() { unitLines(os.Stdout) })
	for _, m := range BenchMetrics {
		if v, ok := m.Value(s); ok {
			b.ReportMetric(v, m.Unit)
		}
	}
}

// probes holds, for each benchmark run now going (its *testing.B: one per -count repetition, the same for every
// b.N that run probes), the files its latest probe wrote.
var probes sync.Map

// supersedeProbe removes the files of the previous probe of benchmark run key (a smaller b.N that go test
// -bench ran to size the next), so that a run leaves one file set, its final b.N's. summary_statistics.json
// is left: the probe starting now rewrites it.
func supersedeProbe(key any, logf func(string, ...any)) {
	prev, ok := probes.LoadAndDelete(key)
	if !ok {
		return
	}
	for kind, path := range prev.(report.Files).Map() {
		if kind == "summary_json" || path == "" {
			continue
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			logf("vmtest: removing the files of the benchmark's previous b.N: %v", err)
		}
	}
}
