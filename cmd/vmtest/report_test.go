package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// `vmtest report DIR` rebuilds a run that left a journal: every file, a summary that says the run did not
// finish, and a line that says so.
func TestReportDirRebuildsFromTheJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	files := report.Names(dir, "killed", start, "")
	w, err := journal.Create(journal.PathsFor(files), journal.Header{RunID: "r1", ConfigID: "killed", Start: start,
		IntervalS: 1, MaxSnapshots: 10, Writer: elsewhere})
	require.NoError(t, err)
	rec := recorder.New(time.Now(), recorder.Config{})
	for i := 0; i < 3; i++ {
		s := rec.Start().Add(time.Duration(i) * time.Second)
		rec.RecordRequest(recorder.Request{Start: s, FirstToken: s.Add(40 * time.Millisecond), End: s.Add(90 * time.Millisecond),
			OutputTokens: 6, HTTPStatus: 200})
		rows, gaps, counts := rec.TakeJournal()
		require.NoError(t, w.Append(journal.Entry{Rows: rows, Gaps: gaps, Requests: counts,
			Snapshot: snapshot.Snapshot{Timestamp: start.Add(time.Duration(i) * time.Second), ElapsedS: float64(i), RunID: "r1", ConfigID: "killed"}}))
	}
	require.NoError(t, w.Close()) // as a SIGKILL leaves it: no end, no files
	jp := journal.PathsFor(files)

	// Written a moment ago, within two intervals, by this process (running): a run still going, left alone,
	// and the exit status says nothing was rebuilt.
	code, out, errOut := runCmd(context.Background(), "report", dir)
	require.Equal(t, exitFail, code, errOut)
	assert.Contains(t, out, "vmtest: skipped the journal "+jp.Snapshots+": its journal was written ")
	assert.Contains(t, out, "it looks still running")
	assert.Contains(t, errOut, jp.Snapshots+": nothing rebuilt: the run looks still running")
	assert.Contains(t, errOut, "vmtest report -wait DURATION "+dir)
	assert.NoFileExists(t, files.RunSummaryJSON)

	long := time.Now().Add(-time.Hour)
	for _, f := range []string{jp.Snapshots, jp.Requests} {
		require.NoError(t, os.Chtimes(f, long, long))
	}
	code, out, errOut = runCmd(context.Background(), "report", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "vmtest: run r1 did not finish: rebuilt from its journal "+journal.PathsFor(files).Snapshots+
		" up to 2.1 s (4 snapshots, 3 requests; no line skipped)") // the last request ends at 2.09 s, after the last snapshot (2 s): a 4th is rebuilt there
	for _, p := range files.Map() {
		assert.Contains(t, out, "vmtest: wrote "+p)
		require.FileExists(t, p)
	}
	b, err := os.ReadFile(files.SummaryJSON)
	require.NoError(t, err)
	var sum summary.Summary
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.False(t, sum.Finished)
	assert.Equal(t, 3, sum.Requests.OK)
	assert.InDelta(t, 40, *sum.Requests.TTFTMS.P50, 1e-6)
	assert.Equal(t, 4, sum.Snapshots, "3 journaled and 1 rebuilt at 2.09 s")
	assert.Contains(t, out, "vmtest: renamed the journal to "+jp.Rebuilt().Snapshots)

	// Rebuilt once: a second report finds no journal, and overwrites nothing.
	code, _, errOut = runCmd(context.Background(), "report", dir)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "already rebuilt")

	// A directory without a journal, and a journal of another tool: status 1, saying what was wrong.
	code, _, errOut = runCmd(context.Background(), "report", t.TempDir())
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "no journal")
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "journal_x_20260101_000000.jsonl"), []byte(`{"format":"other","version":1}`+"\n"), 0o644))
	code, _, errOut = runCmd(context.Background(), "report", other)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, `not a vmtest journal: format "other"`)
}

// A journal kept beside a run whose summary says it finished is skipped, and the report says why.
func TestReportDirSkipsAFinishedRun(t *testing.T) {
	dir := t.TempDir()
	files, jp := oneTickJournal(t, dir, "done")
	long := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(jp.Snapshots, long, long))
	require.NoError(t, os.Chtimes(jp.Requests, long, long))
	fin := []byte(`{"run_id":"r1","start":"2026-12-04T10:00:00Z","finished":true}`)
	require.NoError(t, os.WriteFile(files.RunSummaryJSON, fin, 0o644))

	code, out, errOut := runCmd(context.Background(), "report", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "vmtest: skipped the journal "+jp.Snapshots+": its summary "+files.RunSummaryJSON+" says it finished")
	b, err := os.ReadFile(files.RunSummaryJSON)
	require.NoError(t, err)
	assert.Equal(t, fin, b, "the finished summary is not overwritten")
	assert.NoFileExists(t, files.SummaryJSON)
}

// vmtest compare shows a server percentile whose interpolation lay above what its histogram proves as that
// bound, marked "≤" (the trial saw histogram_quantile's figure); one inside its range as it is.
func TestCompareFormatsAServerPercentileBound(t *testing.T) {
	interp := 650.0
	assert.Equal(t, "≤588.6", formatValue(summary.Value{Known: true, Value: 588.6, AtMost: &[]float64{588.6}[0], Interpolated: &interp}))
	assert.Equal(t, "541.7", formatValue(summary.Value{Known: true, Value: 541.7, AtMost: &[]float64{588.6}[0]}))
	assert.Equal(t, "≤0.001031", formatValue(summary.Value{Known: true, Value: 0.001031, Interpolated: &[]float64{297}[0]}))
}

// The -slo thresholds a killed run kept in its journal are checked when it is rebuilt: one line each, and
// exit status 1 when one is not met (its two requests have TTFT 40 ms).
func TestReportDirChecksTheKeptThresholds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	files := report.Names(dir, "killed", start, "")
	jp := journal.PathsFor(files)
	w, err := journal.Create(jp, journal.Header{RunID: "r1", ConfigID: "killed", Start: start, IntervalS: 1, MaxSnapshots: 10, Writer: elsewhere})
	require.NoError(t, err)
	require.NoError(t, w.SetChecks([]journal.Check{
		{Check: `threshold "ttft.p99 < 30ms"`, Threshold: "ttft.p99 < 30ms", From: `from -slo "ttft.p99 < 30ms"`},
		{Check: `threshold "error_rate < 1%"`, Threshold: "error_rate < 1%", From: `from -slo "error_rate < 1%"`},
		{Check: `threshold "cgroup_cpu_percent.max < 50"`, Threshold: "cgroup_cpu_percent.max < 50", From: `from -slo "cgroup_cpu_percent.max < 50"`},
	}))
	rec := recorder.New(start, recorder.Config{})
	for i := 0; i < 2; i++ {
		s := start.Add(time.Duration(i) * time.Second)
		rec.RecordRequest(recorder.Request{Start: s, FirstToken: s.Add(40 * time.Millisecond), End: s.Add(90 * time.Millisecond),
			OutputTokens: 6, HTTPStatus: 200})
	}
	rows, gaps, counts := rec.TakeJournal()
	require.NoError(t, w.Append(journal.Entry{Rows: rows, Gaps: gaps, Requests: counts,
		Snapshot: snapshot.Snapshot{Timestamp: start.Add(time.Second), ElapsedS: 1, RunID: "r1", ConfigID: "killed"}}))
	require.NoError(t, w.Close())
	long := time.Now().Add(-time.Hour)
	for _, f := range []string{jp.Snapshots, jp.Requests, jp.Checks} {
		require.NoError(t, os.Chtimes(f, long, long))
	}
	code, out, errOut := runCmd(context.Background(), "report", dir)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, `vmtest: SLO NOT met    threshold "ttft.p99 < 30ms": ttft.p99 = 40.000 ms, want < 30ms (n=2, window 1.1 s, run r1; data: `+files.RequestsCSV+`) (from -slo "ttft.p99 < 30ms")`+"\n")
	assert.Contains(t, out, `vmtest: SLO met        threshold "error_rate < 1%"`)
	// A figure with no data (no host reading: its data would be in the snapshots CSV) is not met, never "not known".
	assert.Contains(t, out, `vmtest: SLO NOT met (no data) threshold "cgroup_cpu_percent.max < 50": cgroup_cpu_percent.max < 50%: no data (n=2, no host reading; run r1; data: `+files.SnapshotsCSV+`) (from -slo "cgroup_cpu_percent.max < 50")`+"\n")
	assert.Contains(t, out, "vmtest: 2 of 3 checks not met, 0 not known\n")
	assert.Contains(t, errOut, "run r1: 2 of 3 checks not met, 0 not known (the checks its journal kept, evaluated over the rebuilt run")
	assert.FileExists(t, files.ReportHTML)
}

// A killed run whose checks file is damaged is rebuilt, but the command says its verdicts are not known,
// naming why, and exits 1: a damaged file is not taken for one written before vmtest kept checks.
func TestReportDirSaysTheChecksFileIsDamaged(t *testing.T) {
	dir := t.TempDir()
	files, jp := oneTickJournal(t, dir, "killed")
	require.NoError(t, os.WriteFile(jp.Checks, []byte(`{"format":"vmtest-journal","kind":"checks","run_id":"r1","checks":[`), 0o644))
	long := time.Now().Add(-time.Hour)
	for _, f := range []string{jp.Snapshots, jp.Requests, jp.Checks} {
		require.NoError(t, os.Chtimes(f, long, long))
	}
	code, out, errOut := runCmd(context.Background(), "report", dir)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "vmtest: SLO verdicts not known: the run did not finish, and its checks file is not taken ("+jp.Checks+": unexpected end of JSON input)")
	assert.NotContains(t, out, "written before vmtest kept them")
	assert.Contains(t, errOut, "run r1: SLO verdicts not known: its checks file is not taken: "+jp.Checks+": unexpected end of JSON input")
	assert.FileExists(t, files.ReportHTML)
}

// oneTickJournal writes, in dir, the journal of run r1 of config that holds one snapshot (at 2026-12-04
// 10:00 UTC) and no request, and returns the run's file names and its journal's.
// elsewhere is a writer on another host: it may run, so its journal's file times decide (this process, the
// default writer, runs here, and its journals are never rebuilt).
var elsewhere = &journal.Owner{PID: 1, Host: "elsewhere", BootID: "b"}

func oneTickJournal(t *testing.T, dir, config string) (report.Files, journal.Paths) {
	t.Helper()
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	files := report.Names(dir, config, start, "")
	jp := journal.PathsFor(files)
	w, err := journal.Create(jp, journal.Header{RunID: "r1", ConfigID: config, Start: start, IntervalS: 1, MaxSnapshots: 10, Writer: elsewhere})
	require.NoError(t, err)
	require.NoError(t, w.Append(journal.Entry{Snapshot: snapshot.Snapshot{Timestamp: start, RunID: "r1", ConfigID: config}}))
	require.NoError(t, w.Close())
	return files, jp
}

// A rebuilt run of one snapshot and one request is told in the singular, not "1 snapshots, 1 requests".
func TestPrintRebuiltCountsOneInTheSingular(t *testing.T) {
	sum := &summary.Summary{RunID: "r1", DurationS: 1, Snapshots: 1}
	sum.Requests.Total = 1
	var out strings.Builder
	printRebuilt(&out, journal.Paths{Snapshots: "j.jsonl"}, &journal.Result{Summary: sum, Run: &journal.Run{}})
	assert.Contains(t, out.String(), "vmtest: run r1 did not finish: rebuilt from its journal j.jsonl up to 1.0 s (1 snapshot, 1 request; ")
}
