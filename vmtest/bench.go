package vmtest

import (
	"fmt"
	"io"
	"os"
	"sync"

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

func latencySec(metric string, p int) func(*summary.Summary) (float64, bool) {
	return func(s *summary.Summary) (float64, bool) {
		st, err := s.Latency(metric)
		if err != nil {
			return 0, false
		}
		v, ok := st.Quantile(p)
		return v / 1000, ok
	}
}

func ptr(get func(*summary.Summary) *float64) func(*summary.Summary) (float64, bool) {
	return func(s *summary.Summary) (float64, bool) {
		if v := get(s); v != nil {
			return *v, true
		}
		return 0, false
	}
}

// BenchMetrics are the figures ReportMetrics reports, in order: p50/p90/p99 TTFT, p50/p99 TPOT, p99 ITL,
// p50/p99 E2E latency (seconds, client side, successful requests), request throughput (req/s), output
// token throughput (tok/s), goodput (req/s, when an SLO was given) and the error ratio (failed, incomplete and
// rejected requests over all requests, "err/req").
var BenchMetrics = []BenchMetric{
	{"p50-ttft-sec", true, latencySec("ttft", 50)},
	{"p90-ttft-sec", true, latencySec("ttft", 90)},
	{"p99-ttft-sec", true, latencySec("ttft", 99)},
	{"p50-tpot-sec", true, latencySec("tpot", 50)},
	{"p99-tpot-sec", true, latencySec("tpot", 99)},
	{"p99-itl-sec", true, latencySec("itl", 99)},
	{"p50-e2e-sec", true, latencySec("e2e", 50)},
	{"p99-e2e-sec", true, latencySec("e2e", 99)},
	{"req/s", false, ptr(func(s *summary.Summary) *float64 { return s.Requests.RequestThroughput })},
	{"tok/s", false, ptr(func(s *summary.Summary) *float64 { return s.Requests.OutputTokenThroughput })},
	{"goodput-req/s", false, ptr(func(s *summary.Summary) *float64 { return s.Requests.Goodput })},
	{"err/req", true, ptr(func(s *summary.Summary) *float64 { return s.Requests.ErrorRate })},
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
