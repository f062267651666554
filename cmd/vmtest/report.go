package main

import (
	"cmp"
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
	fs := newFlagSet(cmd, "[-wait DURATION] DIR | metrics_<config>_<timestamp>.json ...",
		"For a directory: rebuilds the full file set and the summary of every run in it that did not finish (killed,\n"+
			"timed out) from its journal (journal_<config>_<timestamp>.jsonl), up to the end of the run's last request\n"+
			"(its last snapshot, when that came later), says so, evaluates the SLO checks the run registered and kept in\n"+
			"its journal (-slo, thresholds and typed checks such as P99Below: checked again; Baseline and Func: not known),\n"+
			"and renames the journal to .rebuilt.jsonl (.requests.rebuilt.bin, .checks.rebuilt.json). It keeps the run's\n"+
			"-no-png choice. A journal whose run's summary says it finished is skipped and said so: while its process is\n"+
			"alive on this host, the run is finishing (it removes its journal as it ends: -wait waits for that; exit\n"+
			"status 0 either way). A journal written\n"+
			"within its last two intervals by a process that may still run (on another host) is not rebuilt: exit\n"+
			"status 1, unless -wait gives it time to end or be quiet two intervals; one whose process is alive on this\n"+
			"host is never rebuilt, however quiet (exit status 1; -wait waits for it to end); one whose process has\n"+
			"ended on this host (killed, crashed) is rebuilt at once. summary_statistics.json is left to a newer\n"+
			"run's summary. A directory with no journal whose every run summary says finished exits 0 (its files are\n"+
			"complete); a run summary there that cannot be read exits 1 naming it. Exit status 1 when a check is not met or not known (an unknown verdict is not a pass; a closing\n"+
			"line counts them), when a checks file cannot be read, or when nothing could be rebuilt.\n"+
			"For a snapshots file: re-renders metrics_<config>_<timestamp>.csv and\n"+
			".png beside it (the client's TTFT per interval from requests_<config>_<timestamp>.csv), and, unless it is\n"+
			"there (it holds the SLO verdicts, which the files do not), report_<config>_<timestamp>.html from them and the\n"+
			"run's summary_<config>_<timestamp>.json, saying the verdicts are not known. Every file is written atomically\n"+
			"and its path printed.")
	wait := fs.Duration("wait", 0, "for a directory: wait up to this long for a run that looks still running to end or leave its journal quiet for two intervals, then rebuild it")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return usageErr(stderr, cmd, "want a directory or a metrics_<config>_<timestamp>.json file")
	}
	if *wait < 0 {
		return usageErr(stderr, cmd, "-wait %s: want a duration of 0 or more", *wait)
	}
	code := exitOK
	for _, path := range fs.Args() {
		st, err := os.Stat(path) // a missing path says so ("no such file or directory")
		switch {
		case err != nil:
		case st.IsDir():
			err = rebuildDir(stdout, path, *wait, wallClock{})
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

// clock is what rebuildDir waits with: the wall clock, or a test's.
type clock interface {
	Now() time.Time
	Sleep(time.Duration)
}

// wallClock is the real clock.
type wallClock struct{}

func (wallClock) Now() time.Time        { return time.Now() }
func (wallClock) Sleep(d time.Duration) { time.Sleep(d) }

// rebuildDir rebuilds the files of every run in dir that left a journal, printing what it did (journal.Rebuild:
// a run that finished is skipped and said so; one that looks still running is waited for up to wait, then
// left, which is an error).
func rebuildDir(stdout io.Writer, dir string, wait time.Duration, clk clock) error {
	found, err := journal.Find(dir)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return noJournal(stdout, dir)
	}
	deadline := clk.Now().Add(wait)
	var errs []error
	for _, p := range found {
		res, err := rebuildWaiting(stdout, p, deadline, clk)
		if res == nil {
			errs = append(errs, err)
			continue
		}
		if res.Gone {
			fmt.Fprintf(stdout, "vmtest: the run of %s finished: %s\n", p.Snapshots, res.Skipped)
			continue
		}
		if res.Skipped != "" {
			fmt.Fprintf(stdout, "vmtest: skipped the journal %s: %s\n", p.Snapshots, res.Skipped)
			switch {
			case res.Finishing: // its summary is written: exit status 0
			case res.Running:
				errs = append(errs, fmt.Errorf("%s: nothing rebuilt: its run is still running on this host (see above); once it has ended (stop a hung one), vmtest report %s rebuilds it, or vmtest report -wait DURATION %s waits up to DURATION for it to end",
					p.Snapshots, dir, dir))
			case !res.QuietAt.IsZero():
				errs = append(errs, fmt.Errorf("%s: nothing rebuilt: the run looks still running (see above); once it has ended, vmtest report %s rebuilds it, or vmtest report -wait DURATION %s waits up to DURATION for it to end or leave its journal quiet two intervals",
					p.Snapshots, dir, dir))
			}
			continue
		}
		if missed, unknown := printRebuilt(stdout, p, res); missed+unknown > 0 {
			errs = append(errs, fmt.Errorf("run %s: %d of %d checks not met, %d not known (the checks its journal kept, evaluated over the rebuilt run; a check not known is not a pass)",
				res.Summary.RunID, missed, len(res.Verdicts), unknown))
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

// rebuildWaiting rebuilds the journal at p (journal.Rebuild), and while it looks still running or is
// finishing and deadline has not passed, waits until it will have been quiet two intervals, or, its writer
// running here, one interval (journal.Result.QuietAt), or until deadline, and tries again. It says what it
// waits for once, and again only when that changes.
func rebuildWaiting(stdout io.Writer, p journal.Paths, deadline time.Time, clk clock) (*journal.Result, error) {
	said := ""
	for {
		res, err := journal.Rebuild(p, clk.Now())
		if res == nil || res.QuietAt.IsZero() {
			return res, err
		}
		now := clk.Now()
		if !now.Before(deadline) {
			return res, err
		}
		if what := waitingFor(res); what != said {
			fmt.Fprintf(stdout, "vmtest: waiting up to %s for the run of %s to %s (-wait)\n", deadline.Sub(now).Round(time.Millisecond), p.Snapshots, what)
			said = what
		}
		clk.Sleep(min(res.QuietAt.Sub(now), deadline.Sub(now)))
	}
}

// waitingFor says what rebuildWaiting waits for with the journal skipped as res says.
func waitingFor(res *journal.Result) string {
	switch {
	case res.Finishing:
		return "end: its summary says it finished and its writer, running on this host, removes its journal as it ends"
	case res.Running:
		return "end: it is running on this host"
	}
	return "end or leave its journal quiet"
}

// noJournal is what `vmtest report DIR` says of a directory without a journal: nil when it holds run
// summaries that all say their run finished (its files are complete), else an error saying what is there
// (a run that did not finish, a summary that cannot be read, or no run at all).
func noJournal(stdout io.Writer, dir string) error {
	names, _ := filepath.Glob(filepath.Join(dir, "summary_*.json"))
	var done, notDone, bad []string
	for _, n := range names {
		if filepath.Base(n) == "summary_statistics.json" {
			continue
		}
		switch s, err := readSummary(n); {
		case err != nil:
			bad = append(bad, err.Error())
		case s.Finished:
			done = append(done, n)
		default:
			notDone = append(notDone, fmt.Sprintf("run %s (%s)", s.RunID, n))
		}
	}
	var errs []error
	if len(notDone) > 0 {
		errs = append(errs, fmt.Errorf("%s: no journal to rebuild (journal_<config>_<timestamp>.jsonl): %s did not finish, and its journal was already rebuilt (.rebuilt.jsonl): its files are all its journal held", dir, strings.Join(notDone, ", ")))
	}
	if len(bad) > 0 {
		errs = append(errs, fmt.Errorf("%s: no journal, and %d run summaries cannot be read (whether their runs finished is not known): %s", dir, len(bad), strings.Join(bad, "; ")))
	}
	switch {
	case len(errs) > 0:
		return errors.Join(errs...)
	case len(done) > 0:
		fmt.Fprintf(stdout, "vmtest: %s: no journal: the runs here finished and their files are complete (%s says so); nothing to rebuild\n", dir, strings.Join(done, ", "))
		return nil
	}
	return fmt.Errorf("%s: no journal (journal_<config>_<timestamp>.jsonl) and no run summary (summary_<config>_<timestamp>.json): no run wrote here", dir)
}

// printRebuilt says what Rebuild did with the journal at p, and the verdict of each SLO check the journal
// kept; it returns how many were not met and how many are not known.
func printRebuilt(stdout io.Writer, p journal.Paths, res *journal.Result) (missed, unknown int) {
	sum := res.Summary
	fmt.Fprintf(stdout, "vmtest: run %s did not finish: rebuilt from its journal %s up to %.1f s (%s, %s; %s)\n",
		sum.RunID, p.Snapshots, sum.DurationS, plural(sum.Snapshots, "snapshot"), plural(sum.Requests.Total, "request"), res.Run.SkippedText())
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
	return printVerdicts(stdout, res.Verdicts)
}

// printVerdicts prints one line per SLO check's verdict (met, NOT met, NOT met (no data), not known, with why)
// and, when there are any, a closing "N of M checks not met, K not known"; it returns N and K.
func printVerdicts(stdout io.Writer, verdicts []report.Verdict) (missed, unknown int) {
	for _, v := range verdicts {
		switch {
		case v.Unknown != "":
			unknown++
			printVerdict(stdout, "SLO not known  ", v.Check, strings.TrimPrefix(v.Unknown, "not known: "))
		case v.Err != "" && v.NoData:
			missed++
			printVerdict(stdout, "SLO NOT met (no data) ", v.Check, cmp.Or(v.Reason, v.Err))
		case v.Err != "":
			missed++
			printVerdict(stdout, "SLO NOT met    ", v.Check, cmp.Or(v.Reason, v.Err))
		default:
			fmt.Fprintf(stdout, "vmtest: SLO met        %s\n", v.Check)
		}
	}
	if len(verdicts) > 0 {
		fmt.Fprintf(stdout, "vmtest: %d of %d checks not met, %d not known\n", missed, len(verdicts), unknown)
	}
	return missed, unknown
}

// printVerdict prints one check's verdict: the check, then why (Verdict.Reason, which does not name the
// check again); a why of several lines (a threshold that cannot be read, with its expression and a caret
// under the fault) keeps every line, each under the first with the same prefix.
func printVerdict(stdout io.Writer, label, check, why string) {
	lines := strings.Split(why, "\n")
	fmt.Fprintf(stdout, "vmtest: %s%s: %s\n", label, check, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(stdout, "vmtest: %s%s\n", strings.Repeat(" ", len(label)+2), strings.TrimPrefix(l, "\t"))
	}
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
