package journal

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// Rebuilt is a run rebuilt from its journal, ready to be written: what Load returns and Rebuild writes.
type Rebuilt struct {
	// Run is what the journal held.
	Run *Run
	// Summary is the run's summary: Finished false, and a last event (source "journal") saying the run did
	// not finish. Its Files are set by Rebuild.
	Summary *summary.Summary
	// Snapshots is the snapshots file's document; Rows the requests CSV's rows.
	Snapshots report.SnapshotFile
	Rows      []recorder.Record
	// Files are the run's files beside the journal, under the names the run would have used (SummaryJSON ""
	// when summary_statistics.json is not to be written).
	Files report.Files
}

// Load reads the journal at p and rebuilds the run's summary and files' contents from it: the request rows
// are replayed through a recorder (recorder.Recorder.AddRecord), so the request statistics are computed as
// the run computed them; the snapshots, sources, events and server statistics are the journal's last. It
// returns Read's error.
func Load(p Paths) (*Rebuilt, error) {
	run, err := Read(p)
	if err != nil {
		return nil, err
	}
	h := run.Header
	reqs, rows, warnings := requestStats(run)
	end, dur := h.Start, 0.0
	snaps := make([]snapshot.Snapshot, len(run.Ticks))
	for i := range run.Ticks {
		snaps[i] = run.Ticks[i].Snapshot
	}
	if n := len(snaps); n > 0 {
		end, dur = snaps[n-1].Timestamp, snaps[n-1].ElapsedS
	}
	upTo := "its last interval"
	if last := lastRowEnd(rows); last > dur {
		upTo = fmt.Sprintf("the end of its last request, %.3f s, after its last snapshot at %.3f s", last, dur)
		if extra := len(rows) - run.Requests.Total; extra > 0 {
			warnings = append(warnings, fmt.Sprintf("journal: %d request rows come after the last snapshot line (it was cut by the kill, or the run was killed between writing the rows and the snapshot): they are counted, and the run's end is their last end (%.3f s), so the summary and the requests CSV hold the same requests; the snapshots' figures stop at %.3f s", extra, last, dur))
		}
		end, dur = h.Start.Add(time.Duration(math.Round(last*float64(time.Second)))), last
	}
	for _, d := range run.Damage {
		if !d.Cut {
			warnings = append(warnings, "journal: "+d.String())
		}
	}
	if run.ChecksErr != nil {
		warnings = append(warnings, fmt.Sprintf("journal: the checks file is not taken (%v): the run's SLO checks are not evaluated", run.ChecksErr))
	}
	if more := run.Cut + run.Unreadable - len(run.Damage); more > 0 {
		warnings = append(warnings, fmt.Sprintf("journal: %d more lines or rows could not be read (the first %d are described)", more, MaxDamage))
	}
	events := append(slices.Clone(run.Events), snapshot.Event{Time: end, Source: "journal", Message: fmt.Sprintf(
		"the run did not finish: rebuilt from its journal up to %s (%d snapshots, %d request rows of %d requests counted; %s)",
		upTo, len(snaps), len(rows), reqs.Total, run.SkippedText())})
	sum := summary.Compute(summary.Input{
		RunID: h.RunID, ConfigID: h.ConfigID, TestName: h.TestName, Start: h.Start, End: end, DurationS: dur,
		IntervalS: h.IntervalS, Snapshots: snaps, SnapshotsDropped: run.SnapshotsDropped, Requests: reqs,
		Server: run.Server, Sources: run.Sources, Events: events,
	})
	sum.Warnings = append(sum.Warnings, warnings...)
	return &Rebuilt{Run: run, Summary: sum, Rows: rows, Files: p.files(),
		Snapshots: report.SnapshotFile{RunID: h.RunID, ConfigID: h.ConfigID, Start: h.Start, IntervalS: h.IntervalS,
			GPUKeys: h.GPUKeys, Snapshots: snaps}}, nil
}

// requestStats replays run's rows through a recorder and returns its summary and rows, with the journal's
// last tallies when rows are missing and the ITL statistics from the journaled sketch once ITL was one. A
// statistic not over every value is marked Partial and a warning says why.
func requestStats(run *Run) (recorder.Summary, []recorder.Record, []string) {
	h := run.Header
	rec := recorder.New(h.Start, recorder.Config{MaxRecords: max(len(run.Rows), 1), Goodput: goodput(h.GoodputSLOsMS)})
	missing, journaled := 0, 0
	for i := range run.Rows {
		n := run.Rows[i].ITLGaps
		journaled += n
		missing += max(n-len(run.Gaps[i]), 0)
		rec.AddRecord(run.Rows[i], run.Gaps[i])
	}
	reqs, rows := rec.Cut()
	reqs.Warmup = run.Requests.Warmup // warm-up requests are tallied, never rows
	var warnings []string
	itl, sketched := reqs.ITLMS, false
	if run.ITLSketch != nil {
		st, err := run.ITLSketch.Stats()
		if err != nil {
			warnings = append(warnings, "journal: the ITL sketch is unreadable ("+err.Error()+"): ITL is over the rows' gaps")
		} else {
			itl, sketched = st, true
		}
	}
	if c := run.Requests; c.Total > reqs.Total {
		warnings = append(warnings, fmt.Sprintf("journal: %d requests are counted but have no row (%s): they are not in the TTFT, TPOT and E2E latency distributions or throughput, which are over the %d rows kept (partial)",
			c.Total-reqs.Total, noRowCause(run, c.Total-reqs.Total), reqs.Total))
		reqs.Counts = c
		reqs.ErrorRate = c.ErrorRate()
		for _, st := range []*recorder.Stats{&reqs.TTFTMS, &reqs.TTFOMS, &reqs.TPOTMS, &itl, &reqs.E2EMS, &reqs.TTFTFromIntendedMS, &reqs.E2EFromIntendedMS, &reqs.TimeToRejectMS} {
			st.Partial = true
		}
		itl.Partial = !sketched
	}
	switch {
	case sketched && journaled > itl.N:
		itl.Partial = true
		warnings = append(warnings, fmt.Sprintf("journal: ITL over the %d chunk gaps of the last sketch journaled; %d rows' gaps came after it (partial)", itl.N, journaled-itl.N))
	case !sketched && missing > 0:
		itl.Partial = true
		warnings = append(warnings, fmt.Sprintf("journal: ITL over the first %d chunk gaps; %d later ones were not journaled (partial)", itl.N, missing))
	}
	reqs.ITLMS = itl
	return reqs, rows, warnings
}

// noRowCause says why missing requests counted in the journal's tallies have no row: rows cut short at the
// end of the requests file, rows unreadable within it, rows past the row bound (recorder.Counts.Dropped),
// and any rest.
func noRowCause(run *Run, missing int) string {
	var why []string
	add := func(n int, text string) {
		if n = min(n, missing); n > 0 {
			why = append(why, fmt.Sprintf("%d %s", n, text))
			missing -= n
		}
	}
	add(run.RowsCut, "cut short at the end of the requests file by the kill")
	add(run.RowsUnreadable, "unreadable within the requests file, which is damaged")
	add(run.Requests.Dropped, fmt.Sprintf("past the row bound of %d", run.Header.Rows()))
	add(missing, "not in the journal")
	return strings.Join(why, ", ")
}

// maxRowEndS bounds the row ends lastRowEnd takes, s (about 31 years): a later one is a corrupt row.
const maxRowEndS = 1e9

// lastRowEnd returns the latest end of rows, s since the run's start (0 when there is none), leaving out
// ends past maxRowEndS.
func lastRowEnd(rows []recorder.Record) float64 {
	last := 0.0
	for i := range rows {
		if e := rows[i].EndS; e > last && e <= maxRowEndS {
			last = e
		}
	}
	return last
}

// Result is what Rebuild did with one journal.
type Result struct {
	// Summary is the rebuilt run's summary, Files set to what was written; nil when the journal was skipped.
	Summary *summary.Summary
	// Run is what the journal held; nil when it was skipped before being read.
	Run *Run
	// Skipped says why the journal was left as it was (the run finished, or looks still running); "" when
	// it was rebuilt.
	Skipped string
	// Newer is the summary file of a run that started no earlier, when summary_statistics.json was left to
	// it; "" when the rebuild wrote summary_statistics.json.
	Newer string
	// Moved are the journal's files once renamed after the rebuild (Paths.Rebuilt); zero when not renamed.
	Moved Paths
	// Verdicts are those of the SLO checks the journal kept (Run.Checks), evaluated over Summary: a threshold
	// is built again and evaluated, another check's verdict is unknown (report.Verdict.Unknown). nil when the
	// journal kept none (written before checks files were), empty when the run registered none.
	Verdicts []report.Verdict
}

// Rebuild rebuilds the run of the journal at p (Load) and writes its files beside it (report.WriteAll), its
// HTML report with the verdicts of the SLO checks the journal kept (Result.Verdicts),
// unless the run's own summary_<config>_<stamp>.json says it finished, or a journal file was modified less
// than two intervals before now (the run looks still running): then Result.Skipped says why and nothing is
// written. summary_statistics.json is written only when no other run's summary in the directory started at
// or after this run (Result.Newer). Once every file is written, the journal's files are renamed
// (Paths.Rebuilt) so that Find no longer finds them. The error is Load's, writing's or renaming's; Result
// is nil only with Load's.
func Rebuild(p Paths, now time.Time) (*Result, error) {
	files := p.files()
	if finished(files.RunSummaryJSON) {
		return &Result{Skipped: fmt.Sprintf("its summary %s says it finished (the journal was kept: a file failed to write, or the process ended before removing it)", files.RunSummaryJSON)}, nil
	}
	b, err := Load(p)
	if err != nil {
		return nil, err
	}
	res := &Result{Run: b.Run}
	if mt, ok := p.modified(); ok {
		if ago, within := now.Sub(mt), 2*time.Duration(b.Run.Header.IntervalS*float64(time.Second)); ago < within {
			res.Skipped = fmt.Sprintf("its journal was written %s ago, within two intervals (%s): it looks still running", ago.Round(time.Millisecond), within)
			return res, nil
		}
	}
	if res.Newer = newerSummary(filepath.Dir(files.SummaryJSON), b.Run.Header); res.Newer != "" {
		b.Files.SummaryJSON = ""
	}
	res.Summary = b.Summary
	checks := func(s *summary.Summary) []report.Verdict {
		res.Verdicts = verdicts(b.Run.Checks, s)
		return res.Verdicts
	}
	if err := report.WriteAll(b.Files, b.Snapshots, b.Rows, b.Summary, checks); err != nil {
		return res, fmt.Errorf("journal %s: %w", filepath.Base(p.Snapshots), err)
	}
	moved, err := p.rename(p.Rebuilt())
	if err != nil {
		return res, err
	}
	res.Moved = moved
	return res, nil
}

// goodput turns the header's limits (ms) back into a recorder.SLO.
func goodput(ms map[string]float64) recorder.SLO {
	d := func(k string) time.Duration { return time.Duration(ms[k] * float64(time.Millisecond)) }
	return recorder.SLO{TTFT: d("ttft"), TPOT: d("tpot"), E2E: d("e2e")}
}

// GoodputMS returns the limits of slo in ms keyed as Header.GoodputSLOsMS (nil when none is set).
func GoodputMS(slo recorder.SLO) map[string]float64 {
	var out map[string]float64
	for k, v := range map[string]time.Duration{"ttft": slo.TTFT, "tpot": slo.TPOT, "e2e": slo.E2E} {
		if v > 0 {
			if out == nil {
				out = map[string]float64{}
			}
			out[k] = float64(v) / float64(time.Millisecond)
		}
	}
	return out
}
