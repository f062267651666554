package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vmtest"
)

// defaultCompareMetrics are the rows compare prints without -metrics: the registry's key metrics.
var defaultCompareMetrics = summary.KeyMetrics

func compareMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "compare"
	fs := newFlagSet(cmd, "[-metrics ttft.p99,e2e.p99,request_throughput,...] [-out DIR] A.json B.json [C.json ...]",
		"Reads summary JSON files (summary_statistics.json or summary_<config>_<ts>.json) and prints one row per metric,\n"+
			"one column per file, and the change of each later file from the first (A) in %, marked better or worse\n"+
			"by the metric's direction (the metric registry's); counts of requests and tokens are whole numbers. A value\n"+
			"a summary does not have is n/a. Before the table it says of each run that did not run to its end why: it\n"+
			"did not finish (rebuilt from its journal by `vmtest report DIR`) or stopped early (a signal, the test's\n"+
			"deadline), and warns that the runs' figures then cover different windows and requests. Metric names:\n"+
			"`vmtest help metrics` (README.md's table). It also writes the comparison\n"+
			"report, comparison_report_<timestamp>.md and its self-contained HTML twin .html (the key metrics of each\n"+
			"file, and its TTFT and E2E latency CDFs from the requests CSV the summary names), under -out.")
	metrics := fs.String("metrics", strings.Join(defaultCompareMetrics, ","), "comma-separated summary.Lookup names, one row each")
	out := fs.String("out", "", "output directory of the comparison report (default $"+vmtest.EnvOutputDir+"/compare, else metrics_output/compare)")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() < 2 {
		return usageErr(stderr, cmd, "want at least two summary files, got %d", fs.NArg())
	}
	var names []string
	for _, m := range strings.Split(*metrics, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		// A nil summary knows no figure but still tells a bad name from a good one.
		if _, err := (*summary.Summary)(nil).Lookup(m); err != nil {
			return usageErr(stderr, cmd, "-metrics: %v", err)
		}
		names = append(names, m)
	}
	if len(names) == 0 {
		return usageErr(stderr, cmd, "-metrics: no metric named")
	}
	sums := make([]*summary.Summary, fs.NArg())
	for i, path := range fs.Args() {
		s, err := readSummary(path)
		if err != nil {
			fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
			return exitFail
		}
		sums[i] = s
	}
	writeComparison(stdout, fs.Args(), sums, names)
	if err := writeComparisonReport(stdout, vmtest.OutputDir(configName(cmd), *out), time.Now(), fs.Args(), sums); err != nil {
		fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
		return exitFail
	}
	return exitOK
}

// writeComparisonReport writes comparison_report_<at>.md and .html in dir, as compare.Run does: one row per
// summary (its label and configuration id), and the latency CDFs of the successful requests in the
// requests CSV each summary names (none for a summary without a readable one, said on stdout). It prints the
// paths written.
func writeComparisonReport(stdout io.Writer, dir string, at time.Time, paths []string, sums []*summary.Summary) error {
	entries := make([]report.ComparisonEntry, len(sums))
	series := make([]report.CDFSeries, len(sums))
	settings := []string{"compared by vmtest compare; A is the reference"} // plain text: the HTML shows it as is
	for i, s := range sums {
		id := columnLabel(i) + ": " + s.ConfigID
		entries[i] = report.ComparisonEntry{ID: id, Params: "run " + s.RunID + " from " + paths[i], Summary: s}
		settings = append(settings, fmt.Sprintf("%s: %s (config %s, run %s, %s)", columnLabel(i), paths[i], s.ConfigID, s.RunID, s.Start.Format(time.RFC3339)))
		series[i] = report.CDFSeries{ID: id}
		csv := s.Files["requests_csv"]
		if csv == "" {
			fmt.Fprintf(stdout, "vmtest: %s: no latency CDF: the summary names no requests CSV\n", columnLabel(i))
			continue
		}
		rows, err := report.ReadRequestsCSV(csv)
		if err != nil {
			fmt.Fprintf(stdout, "vmtest: %s: no latency CDF: %v\n", columnLabel(i), err)
			continue
		}
		series[i] = report.LatenciesOf(id, rows)
	}
	const title = "Run comparison"
	page, err := report.ComparisonHTML(title, at, settings, entries, series)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %q: %w", dir, err)
	}
	base := filepath.Join(dir, "comparison_report_"+at.Format(report.TimestampLayout))
	for _, f := range []struct {
		path string
		data []byte
	}{{base + ".md", report.ComparisonMarkdown(title, at, settings, entries)}, {base + ".html", page}} {
		if err := report.WriteFileAtomic(f.path, f.data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "vmtest: wrote %s\n", f.path)
	}
	return nil
}

// readSummary reads a summary JSON file as vmtest writes it. A summary without the "finished" field was
// written before summaries had it, when every summary file was written by a run that stopped and wrote its
// files: it is read as Finished.
func readSummary(path string) (*summary.Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s: not JSON: %v", path, err)
	}
	if _, ok := probe["request_statistics"]; !ok {
		return nil, fmt.Errorf("%s: not a vmtest summary (no request_statistics; want summary_statistics.json or summary_<config>_<timestamp>.json)", path)
	}
	var s summary.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: not a vmtest summary: %v", path, err)
	}
	if _, ok := probe["finished"]; !ok {
		s.Finished = true
	}
	return &s, nil
}

// columnLabel is "A", "B", ..., "Z", "AA", ...
func columnLabel(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// writeComparison prints the legend (one line per file, then, indented, why its run did not run to its end
// when it did not: report.RunNotes), the warning that such runs' figures may not compare
// (report.ComparisonCaveat), and the table.
func writeComparison(w io.Writer, paths []string, sums []*summary.Summary, names []string) {
	entries := make([]report.ComparisonEntry, len(sums))
	for i, s := range sums {
		fmt.Fprintf(w, "%s: %s (config %s, run %s, %s)\n", columnLabel(i), paths[i], s.ConfigID, s.RunID, s.Start.Format("2006-01-02 15:04:05"))
		for _, n := range report.RunNotes(s) {
			fmt.Fprintf(w, "   %s\n", n)
		}
		entries[i] = report.ComparisonEntry{ID: columnLabel(i), Summary: s}
	}
	if c := report.ComparisonCaveat(entries); c != "" {
		fmt.Fprintf(w, "\nwarning: %s\n", c)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"metric", "unit"}
	for i := range sums {
		header = append(header, columnLabel(i))
		if i > 0 {
			header = append(header, columnLabel(i)+" vs A")
		}
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, name := range names {
		vals := make([]summary.Value, len(sums))
		for i, s := range sums {
			vals[i], _ = s.Lookup(name) // the name was checked
		}
		canon, unit := vals[0].Name, vals[0].Unit
		dir := summary.DirectionOf(canon)
		row := []string{canon, unit}
		for i, v := range vals {
			row = append(row, formatValue(v))
			if i > 0 {
				row = append(row, change(vals[0], v, dir))
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
}

// formatValue formats a known figure with four significant digits (whole numbers from 1000 up), a whole count
// of requests or tokens (summary.UnitRequests, summary.UnitTokens) as an integer, or "n/a"; a server
// percentile whose interpolation lay above what its histogram proves is that bound, marked "≤".
func formatValue(v summary.Value) string {
	switch {
	case !v.Known || math.IsNaN(v.Value) || math.IsInf(v.Value, 0):
		return "n/a"
	case v.Interpolated != nil:
		return "≤" + formatFigure(v.Value)
	case (v.Unit == summary.UnitRequests || v.Unit == summary.UnitTokens) && v.Value == math.Trunc(v.Value):
		return strconv.FormatFloat(v.Value, 'f', 0, 64)
	}
	return formatFigure(v.Value)
}

// formatFigure formats x with four significant digits (whole numbers from 1000 up).
func formatFigure(x float64) string {
	a := math.Abs(x)
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 3-int(math.Floor(math.Log10(a))), 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// change is b's change from a in % of |a| to one decimal, with "better" or "worse" by dir (none for
// summary.Neutral); "n/a" when either
// is unknown, "0%" when they are equal, and "0.0%" without a verdict when the change is under 0.05 %.
func change(a, b summary.Value, dir summary.Direction) string {
	if !a.Known || !b.Known {
		return "n/a"
	}
	d := b.Value - a.Value
	verdict := ""
	switch {
	case d == 0:
		return "0%"
	case a.Value != 0 && math.Abs(d/a.Value) < 0.0005:
		return "0.0%"
	case dir == summary.Neutral:
	case (d < 0) == (dir == summary.LowerIsBetter):
		verdict = " better"
	default:
		verdict = " worse"
	}
	if a.Value == 0 {
		return "from 0" + verdict
	}
	return fmt.Sprintf("%+.1f%%%s", d/math.Abs(a.Value)*100, verdict)
}
