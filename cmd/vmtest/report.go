package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/report"
)

func reportMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "report"
	fs := newFlagSet(cmd, "DIR | metrics_<config>_<timestamp>.json ...",
		"For a directory: rebuilds the full file set and the summary of every run in it that did not finish (killed,\n"+
			"timed out) from its journal (journal_<config>_<timestamp>.jsonl), up to the end of the run's last request\n"+
			"(its last snapshot, when that came later), says so, evaluates the threshold checks the run registered (-slo,\n"+
			"Collector.Assert with assert.Expr) and kept in its journal (exit status 1 when one is not met, or when its\n"+
			"checks file cannot be read), and renames the journal to .rebuilt.jsonl (.requests.rebuilt.bin,\n"+
			".checks.rebuilt.json). A journal whose run's summary says it finished, or that was\n"+
			"written within its last two intervals (a run still going), is skipped and said so; summary_statistics.json\n"+
			"is left to a newer run's summary. For a snapshots file: re-renders metrics_<config>_<timestamp>.csv and\n"+
			".png beside it (the client's TTFT per interval from requests_<config>_<timestamp>.csv), and, unless it is\n"+
			"there (it holds the SLO verdicts, which the files do not), report_<config>_<timestamp>.html from them and the\n"+
			"run's summary_<config>_<timestamp>.json, saying the verdicts are not known. Every file is written atomically\n"+
			"and its path printed.")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return usageErr(stderr, cmd, "want a directory or a metrics_<config>_<timestamp>.json file")
	}
	code := exitOK
	for _, path := range fs.Args() {
		st, err := os.Stat(path) // a missing path says so ("no such file or directory")
		switch {
		case err != nil:
		case st.IsDir():
			err = rebuildDir(stdout, path, time.Now())
		default:
			err = rerender(stdout, path)
		}
		if err != nil {
			fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
			code = exitFail
		}
	}
	return code
}

// rebuildDir rebuilds the files of every run in dir that left a journal, printing what it did (journal.Rebuild:
// a run that finished, or looks still running at now, is skipped and said so).
func rebuildDir(stdout io.Writer, dir string, now time.Time) error {
	found, err := journal.Find(dir)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return fmt.Errorf("%s: no journal (journal_<config>_<timestamp>.jsonl): every run here finished and wrote its files, or none ran here, or its journal was already rebuilt (.rebuilt.jsonl)", dir)
	}
	var errs []error
	for _, p := range found {
		res, err := journal.Rebuild(p, now)
		if res == nil {
			errs = append(errs, err)
			continue
		}
		if res.Skipped != "" {
			fmt.Fprintf(stdout, "vmtest: skipped the journal %s: %s\n", p.Snapshots, res.Skipped)
			continue
		}
		if missed := printRebuilt(stdout, p, res); missed > 0 {
			errs = append(errs, fmt.Errorf("run %s: %d of %d SLOs not met (the checks its journal kept, evaluated over the rebuilt run)", res.Summary.RunID, missed, len(res.Verdicts)))
		}
		if res.Run.ChecksErr != nil {
			errs = append(errs, fmt.Errorf("run %s: SLO verdicts not known: its checks file is not taken: %w", res.Summary.RunID, res.Run.ChecksErr))
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// printRebuilt says what Rebuild did with the journal at p, and the verdict of each SLO check the journal
// kept; it returns how many were not met.
func printRebuilt(stdout io.Writer, p journal.Paths, res *journal.Result) (missed int) {
	sum := res.Summary
	fmt.Fprintf(stdout, "vmtest: run %s did not finish: rebuilt from its journal %s up to %.1f s (%d snapshots, %d requests; %s)\n",
		sum.RunID, p.Snapshots, sum.DurationS, sum.Snapshots, sum.Requests.Total, res.Run.SkippedText())
	for _, line := range report.TextSummary(sum) {
		fmt.Fprintln(stdout, "vmtest: "+line)
	}
	for _, k := range slices.Sorted(maps.Keys(sum.Files)) {
		fmt.Fprintf(stdout, "vmtest: wrote %s\n", sum.Files[k])
	}
	if res.Newer != "" {
		fmt.Fprintf(stdout, "vmtest: left summary_statistics.json to a newer run (%s)\n", res.Newer)
	}
	if res.Moved.Snapshots != "" {
		fmt.Fprintf(stdout, "vmtest: renamed the journal to %s (and its other files likewise): `vmtest report` no longer rebuilds it\n", res.Moved.Snapshots)
	}
	switch {
	case res.Run.ChecksErr != nil:
		fmt.Fprintf(stdout, "vmtest: SLO verdicts not known: the run did not finish, and its checks file is not taken (%v)\n", res.Run.ChecksErr)
	case res.Verdicts == nil:
		fmt.Fprintln(stdout, "vmtest: SLO verdicts not known: the run did not finish, and its journal keeps no checks (written before vmtest kept them)")
	}
	for _, v := range res.Verdicts {
		switch {
		case v.Unknown != "":
			fmt.Fprintf(stdout, "vmtest: SLO not known  %s: %s\n", v.Check, v.Unknown)
		case v.Err != "":
			missed++
			fmt.Fprintf(stdout, "vmtest: SLO NOT met    %s: %s\n", v.Check, v.Err)
		default:
			fmt.Fprintf(stdout, "vmtest: SLO met        %s\n", v.Check)
		}
	}
	return missed
}

// rerender writes the CSV and the PNG of the snapshots file at path beside it, as the collector wrote them, and
// the HTML report from them and the run's summary beside it (runSummaryPath) unless one is there (it holds the
// verdicts, which no file does); a run without that summary gets no HTML report, and a line saying why. The
// requests CSV beside it gives the pictures the client's per-interval TTFT percentiles, as the collector drew them. It returns nil for a directory, which rebuildDir takes.
func rerender(stdout io.Writer, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil
	}
	if !strings.HasSuffix(path, ".json") {
		return fmt.Errorf("%s: want a metrics_<config>_<timestamp>.json file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return fmt.Errorf("%s: not JSON: %v", path, err)
	}
	if _, ok := probe["snapshots"]; !ok {
		return fmt.Errorf("%s: not a snapshots file (metrics_<config>_<timestamp>.json): no \"snapshots\"", path)
	}
	var sf report.SnapshotFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return fmt.Errorf("%s: not a snapshots file (metrics_<config>_<timestamp>.json): %v", path, err)
	}
	if len(sf.Snapshots) == 0 {
		return fmt.Errorf("%s: no snapshots (the placeholder of a run that is still going, or that never finished: vmtest report %s rebuilds it from its journal)", path, filepath.Dir(path))
	}
	base := strings.TrimSuffix(path, ".json")
	csv, err := report.SnapshotsCSV(sf.Snapshots, sf.GPUKeys...)
	if err != nil {
		return fmt.Errorf("%s: CSV: %v", path, err)
	}
	run := report.Run{Title: sf.ConfigID, IntervalS: sf.IntervalS, Snapshots: sf.Snapshots}
	if rows, err := report.ReadRequestsCSV(besidePath(path, "requests_", ".csv")); err == nil {
		run.Records = report.RecordsOf(rows)
	} else {
		fmt.Fprintf(stdout, "vmtest: no request records (the client's TTFT per interval is drawn as its mean): %v\n", err)
	}
	png, err := report.PlotPNG(run)
	if err != nil {
		return fmt.Errorf("%s: plot: %v", path, err)
	}
	files := []struct {
		path string
		data []byte
	}{{base + ".csv", csv}, {base + ".png", png}}
	sumPath, htmlPath := runSummaryPath(path), reportHTMLPath(path)
	if _, err := os.Stat(htmlPath); err == nil {
		fmt.Fprintf(stdout, "vmtest: kept %s: it holds the run's SLO verdicts, which its files do not (remove it to re-render it without them)\n", htmlPath)
	} else if sum, err := readSummary(sumPath); err != nil {
		fmt.Fprintf(stdout, "vmtest: no HTML report: it needs the run's summary: %v\n", err)
	} else if page, err := report.RunHTML(run, sum, nil); err != nil {
		return fmt.Errorf("%s: HTML report: %v", path, err)
	} else {
		files = append(files, struct {
			path string
			data []byte
		}{htmlPath, page})
	}
	for _, f := range files {
		if err := report.WriteFileAtomic(f.path, f.data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "vmtest: wrote %s\n", f.path)
	}
	return nil
}

// runSummaryPath is the run summary beside the snapshots file metrics_<config>_<ts>.json: summary_<config>_<ts>.json.
func runSummaryPath(snapshots string) string { return besidePath(snapshots, "summary_", ".json") }

// besidePath is the file of the same run beside the snapshots file metrics_<config>_<ts>.json:
// <prefix><config>_<ts><ext>.
func besidePath(snapshots, prefix, ext string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(snapshots), "metrics_"), ".json")
	return filepath.Join(filepath.Dir(snapshots), prefix+name+ext)
}

// reportHTMLPath is the HTML report beside the snapshots file metrics_<config>_<ts>.json: report_<config>_<ts>.html.
func reportHTMLPath(snapshots string) string { return besidePath(snapshots, "report_", ".html") }
