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
	// Bound reads whether the value is a bound rather than a figure: a server percentile whose
	// histogram_quantile interpolation lay above what its histogram proves (summary.Value.Interpolated), shown
	// as "≤" and that bound; nil for none.
	Bound func(*summary.Summary) bool
}

// ComparisonColumns are the key metrics of the comparison report, in order: summary.KeyMetrics, each titled,
// judged and read as the metric registry says (summary.Describe, summary.Summary.Lookup). A fraction is shown
// in %.
var ComparisonColumns = comparisonColumns(summary.KeyMetrics)

// comparisonColumns builds the column of each name; it panics on a name outside the registry (a bug
// TestComparisonColumnsFromTheRegistry shows).
func comparisonColumns(names []string) []ComparisonColumn {
	out := make([]ComparisonColumn, len(names))
	for i, name := range names {
		d, err := summary.Describe(name)
		if err != nil {
			panic(err)
		}
		unit, scale := d.Metric.Unit, 1.0
		if unit == summary.UnitFraction {
			unit, scale = summary.UnitPercent, 100
		}
		out[i] = ComparisonColumn{Header: d.Label + " (" + unit + ")", LowerIsBetter: d.Metric.Direction == summary.LowerIsBetter,
			Format: columnFormat(d.Metric.Unit), Value: func(s *summary.Summary) (float64, bool) {
				v, err := s.Lookup(d.Name)
				return v.Value * scale, err == nil && v.Known
			}, Bound: func(s *summary.Summary) bool {
				v, err := s.Lookup(d.Name)
				return err == nil && v.Interpolated != nil
			}}
	}
	return out
}

// columnFormat is the fmt verb for a figure in unit: 2 decimals for req/s and fractions (shown in %), 4 for
// J/token, 1 otherwise (ms, %, tok/s, W, MiB).
func columnFormat(unit string) string {
	switch unit {
	case summary.UnitReqPerS, summary.UnitFraction:
		return "%.2f"
	case summary.UnitJPerToken:
		return "%.4f"
	}
	return "%.1f"
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

// ComparisonMarkdown renders comparison_report_<timestamp>.md: a title, the run settings, the runs that did
// not run to their end (RunNotes) with the warning that their figures may not compare (ComparisonCaveat), a table of
// configurations × ComparisonColumns with the best value of each column in bold with a ★ (ties all marked;
// columns where fewer than two configurations have data mark nothing), per-configuration request counts and
// file locations, and any configuration that failed.
func ComparisonMarkdown(title string, at time.Time, settings []string, entries []ComparisonEntry) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\nGenerated %s.\n\n## Run settings\n\n", title, at.Format(time.RFC3339))
	for _, s := range settings {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	writeShortRuns(&b, entries)
	b.WriteString("\n## Results\n\n★ marks the best value in each column. " + boundLegend + "\n\n| configuration |")
	for _, c := range ComparisonColumns {
		b.WriteString(" " + c.Header + " |")
	}
	b.WriteString("\n|---|")
	for range ComparisonColumns {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	cells := comparisonCells(entries)
	for i, e := range entries {
		fmt.Fprintf(&b, "| %s |", mdEscape(e.ID))
		for _, c := range cells[i] {
			if c.Best {
				fmt.Fprintf(&b, " **%s** ★ |", c.Text)
			} else {
				fmt.Fprintf(&b, " %s |", c.Text)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Configurations\n\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "- **%s**: %s", mdEscape(e.ID), mdEscape(configText(e)))
		if e.Err != "" {
			fmt.Fprintf(&b, "; **did not run**: %s", mdEscape(e.Err))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// writeShortRuns writes the section of the entries that did not run to their end, one line per note, and the
// warning; nothing when every entry ran to its end.
func writeShortRuns(b *bytes.Buffer, entries []ComparisonEntry) {
	caveat := ComparisonCaveat(entries)
	if caveat == "" {
		return
	}
	b.WriteString("\n## Runs that did not run to their end\n\n")
	for _, e := range entries {
		for _, n := range RunNotes(e.Summary) {
			fmt.Fprintf(b, "- **%s**: %s\n", mdEscape(e.ID), mdEscape(n))
		}
	}
	fmt.Fprintf(b, "\n**Warning:** %s\n", mdEscape(caveat))
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// boundLegend explains a figure marked "≤" in the comparison table.
const boundLegend = "≤ marks a server percentile that its histogram proves at most that figure, where histogram_quantile's interpolation lies above it."

// comparisonCell is one figure of the comparison table, formatted: "n/a" without data, "–" for a
// configuration that did not run; Best marks the best value of its column (ties all marked; nothing is marked
// in a column where fewer than two configurations have data).
type comparisonCell struct {
	Text string
	Best bool
}

// comparisonCells computes the comparison table once for the Markdown and HTML reports: one row per entry,
// one cell per ComparisonColumns.
func comparisonCells(entries []ComparisonEntry) [][]comparisonCell {
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
	rows := make([][]comparisonCell, len(entries))
	for r, e := range entries {
		rows[r] = make([]comparisonCell, len(ComparisonColumns))
		for i, c := range ComparisonColumns {
			if e.Summary == nil {
				rows[r][i] = comparisonCell{Text: "–"}
				continue
			}
			v, ok := c.Value(e.Summary)
			if !ok {
				rows[r][i] = comparisonCell{Text: "n/a"}
				continue
			}
			text := fmt.Sprintf(c.Format, v)
			if c.Bound != nil && c.Bound(e.Summary) {
				text = "≤" + text
			}
			rows[r][i] = comparisonCell{Text: text, Best: haveN[i] > 1 && v == best[i]}
		}
	}
	return rows
}

// configText describes one configuration: its parameters and, when it ran, its request counts, run and
// summary file.
func configText(e ComparisonEntry) string {
	t := e.Params
	if e.Summary != nil {
		r := e.Summary.Requests
		t += fmt.Sprintf("; %d requests (%d ok, %d failed, %d incomplete, %d rejected, %d canceled); run %s; files: %s",
			r.Total, r.OK, r.Failed, r.Incomplete, r.Rejected, r.Canceled, e.Summary.RunID, e.Summary.Files["summary_json"])
	}
	return t
}
