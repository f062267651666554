package journal

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
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
	// when summary_statistics.json is not to be written, PlotPNG "" when the run chose Header.NoPNG).
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
	upTo, tail := "its last interval", ""
	if last := lastRowEnd(rows); last > dur {
		upTo = fmt.Sprintf("the end of its last request, %.3f s, after its last snapshot at %.3f s", last, dur)
		if extra := len(rows) - run.Requests.Total; extra > 0 {
			warnings = append(warnings, fmt.Sprintf("journal: %s after the last snapshot line (it was cut by the kill, or the run was killed between writing the rows and the snapshot): they are counted, and the run's end is their last end (%.3f s), so the summary and the requests CSV hold the same requests; the snapshots' figures stop at %.3f s", nouns(extra, "request row comes", "request rows come"), last, dur))
		}
		end, dur = h.Start.Add(time.Duration(math.Round(last*float64(time.Second)))), last
		if len(snaps) > 0 {
			snaps = append(snaps, tailSnapshot(run, rows, snaps[len(snaps)-1].ElapsedS, last, end))
			tail = " and 1 rebuilt at that end for the requests after the last"
		}
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
		warnings = append(warnings, fmt.Sprintf("journal: %s could not be read (the first %d are described)", nouns(more, "more line or row", "more lines or rows"), MaxDamage))
	}
	events := append(slices.Clone(run.Events), snapshot.Event{Time: end, Source: snapshot.EventSourceJournal, Message: fmt.Sprintf(
		snapshot.DidNotFinishPrefix+"rebuilt from its journal up to %s (%s%s, %s of %s counted; %s)",
		upTo, nouns(len(run.Ticks), "snapshot", "snapshots"), tail, nouns(len(rows), "request row", "request rows"),
		nouns(reqs.Total, "request", "requests"), run.SkippedText())})
	sum := summary.Compute(summary.Input{
		RunID: h.RunID, ConfigID: h.ConfigID, TestName: h.TestName, Start: h.Start, End: end, DurationS: dur,
		IntervalS: h.IntervalS, Snapshots: snaps, SnapshotsDropped: run.SnapshotsDropped, Requests: reqs,
		Server: run.Server, Sources: run.Sources, Events: events, ServerCut: serverCut(run, rows),
	})
	sum.Warnings = append(sum.Warnings, warnings...)
	files := p.files()
	if h.NoPNG {
		files.PlotPNG = ""
	}
	return &Rebuilt{Run: run, Summary: sum, Rows: rows, Files: files,
		Snapshots: report.SnapshotFile{RunID: h.RunID, ConfigID: h.ConfigID, Start: h.Start, IntervalS: h.IntervalS,
			GPUKeys: h.GPUKeys, Snapshots: snaps}}, nil
}

// tailSnapshot is the rebuilt run's last snapshot, at its rebuilt end (lastS, s; at end), so that its
// snapshots' requests_finished add up to the run's as a finished run's do: the client's figures of the
// successful rows that ended after the last journaled snapshot (at fromS, s), no sampler reading, and
// Errors["journal"] marking it as rebuilt.
func tailSnapshot(run *Run, rows []recorder.Record, fromS, lastS float64, end time.Time) snapshot.Snapshot {
	var w recorder.Window
	for i := range rows {
		if r := &rows[i]; r.EndS > fromS && r.EndS <= maxRowEndS {
			w.AddRecord(r)
		}
	}
	sn := snapshot.Snapshot{Timestamp: end, ConfigID: run.Header.ConfigID, RunID: run.Header.RunID, ElapsedS: lastS,
		GPUMetrics: map[string]snapshot.GPU{}, Errors: map[string]string{"journal": fmt.Sprintf(
			"rebuilt at the end of the run's last request, %.3f s: no sampler was read; requests_finished and the client latencies are the %s that ended after the last journaled snapshot at %.3f s", lastS, nouns(w.OK, "successful request", "successful requests"), fromS)}}
	w.FillSnapshot(&sn.VLLMMetrics)
	return sn
}

// serverCut is the client's side of the cross-check when a row ended after the server's last scrape (the
// journal's server statistics stop there): the rows that ended by then, replayed through a recorder, with the
// run's warm-up tallies, marked partial when requests counted have no row. Nil when no row ended after it, or
// the server's window is unknown.
func serverCut(run *Run, rows []recorder.Record) *summary.ServerCut {
	if run.Server == nil || run.Server.End == nil {
		return nil
	}
	h := run.Header
	at, last := run.Server.End.Sub(h.Start).Seconds(), lastRowEnd(rows)
	if !(last > at) {
		return nil
	}
	rec := replayRecorder(h, len(rows))
	for i := range rows {
		if rows[i].EndS <= at {
			rec.AddRecord(rows[i], nil)
		}
	}
	reqs, _ := rec.Cut()
	reqs.Warmup = run.Requests.Warmup
	cut := &summary.ServerCut{Requests: reqs, AtS: at, EndS: last}
	if n := max(run.Requests.Total-len(rows), run.RowsCut+run.RowsUnreadable); n > 0 {
		cut.NoRow, cut.NoRowCause = n, noRowCause(run, n)
	}
	return cut
}

// requestStats replays run's rows through a recorder and returns its summary and rows, with the journal's
// last tallies when rows are missing and the ITL statistics from the journaled sketch once ITL was one. A
// statistic not over every value is marked Partial and a warning says why.
func requestStats(run *Run) (recorder.Summary, []recorder.Record, []string) {
	h := run.Header
	rec := replayRecorder(h, len(run.Rows))
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
		warnings = append(warnings, fmt.Sprintf("journal: %s (%s): they are not in the TTFT, TPOT and E2E latency distributions or throughput, which are over the %s kept (partial)",
			nouns(c.Total-reqs.Total, "request is counted but has no row", "requests are counted but have no row"), noRowCause(run, c.Total-reqs.Total), nouns(reqs.Total, "row", "rows")))
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
// and any rest: rows not read after a damaged frame or from a damaged file, else not in the journal (a kill
// leaves no tally above the rows written before it, which come first).
func noRowCause(run *Run, missing int) string {
	var why []string
	add := func(n int, text string) {
		if n = min(n, missing); n > 0 {
			why = append(why, fmt.Sprintf("%d %s", n, text))
			missing -= n
		}
	}
	cutBy := "by the kill"
	if run.RowsUnreadable > 0 {
		cutBy = "by the kill, or by a damaged length running past it"
	}
	add(run.RowsCut, "cut short at the end of the requests file "+cutBy)
	add(run.RowsUnreadable, "unreadable within the requests file, which is damaged")
	add(run.Requests.Dropped, fmt.Sprintf("past the row bound of %d", run.Header.Rows()))
	switch {
	case run.RowsStoppedAt > 0:
		add(missing, fmt.Sprintf("in the requests file after its row %d, whose frame is damaged: not read", run.RowsStoppedAt))
	case run.RowsUnreadable > 0:
		add(missing, "not read from the requests file, which is damaged (a damaged length hides the rows it spans)")
	}
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
	// Run is what the journal held; nil when it was skipped (Rebuild reads only its header and file times
	// before deciding).
	Run *Run
	// Skipped says why the journal was left as it was (the run finished, its writer runs here, or it looks
	// still running); "" when it was rebuilt.
	Skipped string
	// Running is true when the journal was skipped because its writer is alive on this host
	// (Owner.Liveness says Running): Rebuild never rebuilds it, however quiet it is.
	Running bool
	// Finishing is true when the run's summary says it finished and the journal's writer is alive on this
	// host: it is between writing its summary and removing its journal (QuietAt: one interval on).
	Finishing bool
	// Gone is true when the run's summary says it finished and its journal is no longer there: its writer
	// removed it as it ended, and the run's files are complete.
	Gone bool
	// QuietAt is when to try again a journal skipped as still running: when it will have been quiet two
	// intervals (Rebuild then rebuilds it if nothing was written since), or, its writer Running, one
	// interval on (to see whether it has ended); zero otherwise.
	QuietAt time.Time
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
// HTML report with the verdicts of the SLO checks the journal kept (Result.Verdicts), unless the run's own
// summary_<config>_<timestamp>.json says it finished, or its writer is alive on this host (Owner.Liveness
// says Running), or a journal file was modified less than two intervals before now by a writer that may
// still run (a writer on this host and boot that has ended is not waited for): then Result.Skipped says why
// and nothing is written; that is decided from the journal's header and file times alone, before Load.
// summary_statistics.json is written only when no other run's summary in the directory started at or after
// this run (Result.Newer). Once every file is written, the journal's files are renamed (Paths.Rebuilt) so
// that Find no longer finds them. The error is Load's, writing's or renaming's; Result is nil only with
// Load's.
func Rebuild(p Paths, now time.Time) (*Result, error) {
	files := p.files()
	if finished(files.RunSummaryJSON) {
		return finishedRun(p, files.RunSummaryJSON, now), nil
	}
	if res := stillRunning(p, now); res != nil {
		return res, nil
	}
	b, err := Load(p)
	if err != nil {
		return nil, err
	}
	res := &Result{Run: b.Run}
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

// finishedRun is Rebuild's result for the journal at p of a run whose summary at summaryPath says it
// finished: Gone when the journal is no longer there, Finishing while its writer is alive on this host, else
// kept (a file failed to write, or the writer ended before removing it).
func finishedRun(p Paths, summaryPath string, now time.Time) *Result {
	if _, ok := p.modified(); !ok {
		return &Result{Gone: true, Skipped: fmt.Sprintf("its summary %s says it finished, and its writer removed its journal as it ended: the run's files are complete", summaryPath)}
	}
	if h, ok := readHeader(p); ok && h.Writer.Liveness() == Running {
		return &Result{Finishing: true, QuietAt: now.Add(time.Duration(h.IntervalS * float64(time.Second))),
			Skipped: fmt.Sprintf("its summary %s says it finished, and its journal is written %s: the run is finishing (it removes its journal as it ends)", summaryPath, h.Writer.mayRunText())}
	}
	return &Result{Skipped: fmt.Sprintf("its summary %s says it finished (the journal was kept: a file failed to write, or the process ended before removing it)", summaryPath)}
}

// stillRunning is Rebuild's result for the journal at p when its run is still going, decided from its
// header and its files' modification times only: its writer is alive here (Running), or may run and wrote
// less than two intervals before now. nil when it is to be rebuilt, or its header cannot be read (Load says
// why).
func stillRunning(p Paths, now time.Time) *Result {
	h, ok := readHeader(p)
	if !ok {
		return nil
	}
	w, interval := h.Writer, time.Duration(h.IntervalS*float64(time.Second))
	switch w.Liveness() {
	case Ended:
		return nil
	case Running:
		return &Result{Running: true, QuietAt: now.Add(interval),
			Skipped: fmt.Sprintf("it is written %s: a journal is not rebuilt while its writer is alive, however quiet (a hung run: stop it first)", w.mayRunText())}
	}
	mt, ok := p.modified()
	if ago, within := now.Sub(mt), 2*interval; ok && ago < within {
		return &Result{QuietAt: mt.Add(within),
			Skipped: fmt.Sprintf("its journal was written %s ago, within two intervals (%s), %s: it looks still running", ago.Round(time.Millisecond), within, w.mayRunText())}
	}
	return nil
}

// replayRecorder is the recorder a rebuild replays n of the run's rows through: from the run's start, keeping
// every row, with the header's goodput SLOs.
func replayRecorder(h Header, n int) *recorder.Recorder {
	return recorder.New(h.Start, recorder.Config{MaxRecords: max(n, 1), Goodput: goodput(h.GoodputSLOsMS)})
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

// nouns is n and the noun phrase one when n is 1, else n and many: "1 snapshot", "3 snapshots".
func nouns(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
