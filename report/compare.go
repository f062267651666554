package report

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vmtest/vmtest/summary"
)

// ComparisonColumn is one metric column of the comparison report.
type ComparisonColumn struct {
	// Header is the column title, with its unit.
	Header string
	// LowerIsBetter says which end is best.
	LowerIsBetter bool
	// Value reads it from a configuration's summary; ok false means no data ("n/a").
	Value func(*summary.Summary) (v float64, ok bool)
	// Format is the fmt verb for the value.
	Format string
}

func statCol(header, metric string, p int) ComparisonColumn {
	return ComparisonColumn{Header: header, LowerIsBetter: true, Format: "%.1f", Value: func(s *summary.Summary) (float64, bool) {
		st, err := s.Latency(metric)
		if err != nil {
			return 0, false
		}
		return st.Quantile(p)
	}}
}

func ptrCol(header string, lower bool, format string, get func(*summary.Summary) *float64) ComparisonColumn {
	return ComparisonColumn{Header: header, LowerIsBetter: lower, Format: format, Value: func(s *summary.Summary) (float64, bool) {
		if v := get(s); v != nil {
			return *v, true
		}
		return 0, false
	}}
}

// meanGPUUtil is the mean over GPUs of each GPU's average utilization, %.
func meanGPUUtil(s *summary.Summary) *float64 {
	var sum float64
	n := 0
	for _, g := range s.GPU {
		if g.AvgUtilization != nil {
			sum += *g.AvgUtilization
			n++
		}
	}
	if n == 0 {
		return nil
	}
	v := sum / float64(n)
	return &v
}

// ComparisonColumns are the key metrics of the comparison report, in order.
var ComparisonColumns = []ComparisonColumn{
	statCol("TTFT p50 (ms)", "ttft", 50),
	statCol("TTFT p99 (ms)", "ttft", 99),
	statCol("TPOT p50 (ms)", "tpot", 50),
	statCol("ITL p99 (ms)", "itl", 99),
	statCol("E2E p50 (ms)", "e2e", 50),
	statCol("E2E p99 (ms)", "e2e", 99),
	ptrCol("req/s", false, "%.2f", func(s *summary.Summary) *float64 { return s.Requests.RequestThroughput }),
	ptrCol("output tok/s", false, "%.1f", func(s *summary.Summary) *float64 { return s.Requests.OutputTokenThroughput }),
	ptrCol("goodput (req/s)", false, "%.2f", func(s *summary.Summary) *float64 { return s.Requests.Goodput }),
	ptrCol("error rate (%)", true, "%.2f", func(s *summary.Summary) *float64 {
		if s.Requests.ErrorRate == nil {
			return nil
		}
		v := *s.Requests.ErrorRate * 100
		return &v
	}),
	ptrCol("GPU util avg (%)", false, "%.1f", meanGPUUtil),
	ptrCol("J/token", true, "%.4f", func(s *summary.Summary) *float64 { return s.EnergyPerOutputTokenJ }),
}

// ComparisonEntry is one configuration's row.
type ComparisonEntry struct {
	// ID is the configuration id.
	ID string
	// Params describes the request parameters (one line, e.g. "max_tokens=128 temperature=0").
	Params string
	// Summary is the configuration's final summary; nil when the configuration failed to run.
	Summary *summary.Summary
	// Err is why the configuration did not run, if it did not.
	Err string
}

// ComparisonMarkdown renders comparison_report_<timestamp>.md: a title, the run settings, a table of
// configurations × ComparisonColumns with the best value of each column in bold with a ★ (ties all marked;
// columns where fewer than two configurations have data mark nothing), per-configuration request counts and
// file locations, and any configuration that failed.
func ComparisonMarkdown(title string, at time.Time, settings []string, entries []ComparisonEntry) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\nGenerated %s.\n\n## Run settings\n\n", title, at.Format(time.RFC3339))
	for _, s := range settings {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n## Results\n\n★ marks the best value in each column.\n\n| configuration |")
	for _, c := range ComparisonColumns {
		b.WriteString(" " + c.Header + " |")
	}
	b.WriteString("\n|---|")
	for range ComparisonColumns {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	best := make([]float64, len(ComparisonColumns))
	haveN := make([]int, len(ComparisonColumns))
	for i, c := range ComparisonColumns {
		best[i] = math.NaN()
		for _, e := range entries {
			if e.Summary == nil {
				continue
			}
			if v, ok := c.Value(e.Summary); ok {
				haveN[i]++
				if math.IsNaN(best[i]) || (c.LowerIsBetter && v < best[i]) || (!c.LowerIsBetter && v > best[i]) {
					best[i] = v
				}
			}
		}
	}
	for _, e := range entries {
		fmt.Fprintf(&b, "| %s |", mdEscape(e.ID))
		for i, c := range ComparisonColumns {
			if e.Summary == nil {
				b.WriteString(" – |")
				continue
			}
			v, ok := c.Value(e.Summary)
			switch {
			case !ok:
				b.WriteString(" n/a |")
			case haveN[i] > 1 && v == best[i]:
				fmt.Fprintf(&b, " **"+c.Format+"** ★ |", v)
			default:
				fmt.Fprintf(&b, " "+c.Format+" |", v)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Configurations\n\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "- **%s**: %s", mdEscape(e.ID), mdEscape(e.Params))
		if e.Summary != nil {
			r := e.Summary.Requests
			fmt.Fprintf(&b, "; %d requests (%d ok, %d failed, %d incomplete, %d rejected); run %s; files: %s",
				r.Total, r.OK, r.Failed, r.Incomplete, r.Rejected, e.Summary.RunID, e.Summary.Files["summary_json"])
		}
		if e.Err != "" {
			fmt.Fprintf(&b, "; **did not run**: %s", mdEscape(e.Err))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
