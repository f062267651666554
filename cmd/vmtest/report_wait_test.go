package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/snapshot"
)

// writerJournal writes in dir the one-snapshot journal of run r1 (interval 1 s) written by writer, its files
// modified at mtime, and returns the run's file names and its journal's.
func writerJournal(t *testing.T, dir string, writer *journal.Owner, mtime time.Time) (report.Files, journal.Paths) {
	t.Helper()
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	files := report.Names(dir, "killed", start, "")
	jp := journal.PathsFor(files)
	w, err := journal.Create(jp, journal.Header{RunID: "r1", ConfigID: "killed", Start: start, IntervalS: 1, MaxSnapshots: 10, Writer: writer})
	require.NoError(t, err)
	require.NoError(t, w.Append(journal.Entry{Snapshot: snapshot.Snapshot{Timestamp: start, RunID: "r1", ConfigID: "killed"}}))
	require.NoError(t, w.Close())
	for _, f := range []string{jp.Snapshots, jp.Requests, jp.Checks} {
		require.NoError(t, os.Chtimes(f, mtime, mtime))
	}
	return files, jp
}

// endedWriter is a process of this host and boot that has ended (a child run to its end); the test skips
// where /proc gives no boot id (not Linux).
func endedWriter(t *testing.T) *journal.Owner {
	t.Helper()
	self := journal.Self()
	if self.BootID == "" {
		t.Skip("no /proc/sys/kernel/random/boot_id (not Linux): a writer is never known to have ended")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	require.NoError(t, cmd.Run())
	return &journal.Owner{PID: cmd.ProcessState.Pid(), Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}
}

// A go test killed a moment ago left a journal written within its last two intervals: its process has ended,
// so it is rebuilt at once, exit status 0.
func TestReportDirRebuildsAtOnceWhenItsWriterEnded(t *testing.T) {
	dir := t.TempDir()
	files, jp := writerJournal(t, dir, endedWriter(t), time.Now())
	code, out, errOut := runCmd(context.Background(), "report", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "vmtest: run r1 did not finish: rebuilt from its journal "+jp.Snapshots)
	assert.FileExists(t, files.RunSummaryJSON)
}

// fakeClock starts at a time and moves only when slept; onSleep, when set, runs after each sleep.
type fakeClock struct {
	now     time.Time
	onSleep func()
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(d time.Duration) {
	c.now = c.now.Add(d)
	if c.onSleep != nil {
		c.onSleep()
	}
}

// A journal whose writer runs on this host (a child process, its start time recorded) is never rebuilt,
// however quiet: without -wait an error saying it is running; -wait 3s waits one interval at a time up to 3 s
// and gives up; -wait 10s waits until the child has ended (killed after the second wait), then rebuilds it.
func TestReportDirWaitsForARunningWriter(t *testing.T) {
	self := journal.Self()
	if self.BootID == "" || self.StartTicks == 0 {
		t.Skip("no /proc/sys/kernel/random/boot_id or /proc/PID/stat (not Linux): a writer is never known to run")
	}
	for _, tc := range []struct {
		wait    time.Duration
		slept   time.Duration
		rebuilt bool
	}{{0, 0, false}, {3 * time.Second, 3 * time.Second, false}, {10 * time.Second, 2 * time.Second, true}} {
		cmd := exec.Command("sleep", "3600") // coreutils: lives until killed
		require.NoError(t, cmd.Start())
		writer := &journal.Owner{PID: cmd.Process.Pid, Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}
		writer.StartTicks = startTicks(t, writer.PID)
		require.Equal(t, journal.Running, writer.Liveness())

		dir := t.TempDir()
		long := time.Now().Add(-time.Hour) // quiet an hour: only the live writer keeps it
		files, jp := writerJournal(t, dir, writer, long)
		clk := &fakeClock{now: time.Now()}
		t0 := clk.now
		sleeps := 0
		clk.onSleep = func() {
			if sleeps++; sleeps == 2 && tc.rebuilt {
				require.NoError(t, cmd.Process.Kill())
				_ = cmd.Wait()
			}
		}
		var out bytes.Buffer
		err := rebuildDir(&out, dir, tc.wait, clk)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		assert.Equal(t, tc.slept, clk.now.Sub(t0), "wait %s", tc.wait)
		if tc.rebuilt {
			require.NoError(t, err)
			said := "vmtest: waiting up to 10s for the run of " + jp.Snapshots + " to end: it is running on this host (-wait)\n"
			assert.Contains(t, out.String(), said)
			assert.Equal(t, 1, strings.Count(out.String(), "vmtest: waiting"), "two waits, one thing waited for: said once")
			assert.FileExists(t, files.RunSummaryJSON)
			continue
		}
		require.Error(t, err, "wait %s", tc.wait)
		assert.Contains(t, err.Error(), "nothing rebuilt: its run is still running on this host")
		assert.Contains(t, out.String(), "which is running: a journal is not rebuilt while its writer is alive, however quiet")
		assert.NoFileExists(t, files.RunSummaryJSON)
	}
}

// A journal written 0.5 s ago by a live process whose start time is not recorded (this one: it may run) with
// a 1 s interval: without -wait nothing is rebuilt (an error); -wait 10s waits until it has been quiet two
// intervals (1.5 s more), then rebuilds it; -wait 1s gives up after 1 s.
func TestReportDirWaitsForAQuietJournal(t *testing.T) {
	unsure := *journal.Self()
	unsure.StartTicks = 0
	for _, tc := range []struct {
		wait    time.Duration
		slept   time.Duration
		rebuilt bool
	}{{0, 0, false}, {time.Second, time.Second, false}, {10 * time.Second, 1500 * time.Millisecond, true}} {
		dir := t.TempDir()
		now := time.Now().Truncate(time.Second)
		files, jp := writerJournal(t, dir, &unsure, now)
		clk := &fakeClock{now: now.Add(500 * time.Millisecond)}
		var out bytes.Buffer
		err := rebuildDir(&out, dir, tc.wait, clk)
		assert.Equal(t, tc.slept, clk.now.Sub(now.Add(500*time.Millisecond)), "wait %s", tc.wait)
		if tc.rebuilt {
			require.NoError(t, err)
			assert.Contains(t, out.String(), "vmtest: waiting up to 10s for the run of "+jp.Snapshots+" to end or leave its journal quiet (-wait)\n")
			assert.FileExists(t, files.RunSummaryJSON)
			continue
		}
		require.Error(t, err, "wait %s", tc.wait)
		assert.Contains(t, err.Error(), "nothing rebuilt: the run looks still running")
		assert.Contains(t, out.String(), "on this host, which is running: it looks still running")
		assert.NoFileExists(t, files.RunSummaryJSON)
	}
}

// A check whose verdict is not known (Func) is not a pass: exit status 1 and a closing count; a typed check
// not met says its verdict once; a kept threshold that cannot be read prints its expression and the caret
// under the fault, each on a line of its own; its reason is said whole, whatever the expression holds.
func TestReportDirVerdictLines(t *testing.T) {
	dir := t.TempDir()
	_, jp := oneTickJournal(t, dir, "killed")
	checks := `{"format":"vmtest-journal","kind":"checks","run_id":"r1","checks":[` +
		`{"check":"Func(\"custom\")"},` +
		`{"check":"P99Below(\"ttft\", 1ms)","threshold":"ttft.p99 < 1ms"},` +
		`{"check":"threshold \"ttft.p99 << 3ms\"","threshold":"ttft.p99 << 3ms","from":"from -slo \"ttft.p99 << 3ms\""},` +
		`{"check":"odd","threshold":"ttft.p99 < 1ms\" not met: x"}]}`
	require.NoError(t, os.WriteFile(jp.Checks, []byte(checks), 0o644))
	long := time.Now().Add(-time.Hour)
	for _, f := range []string{jp.Snapshots, jp.Requests, jp.Checks} {
		require.NoError(t, os.Chtimes(f, long, long))
	}
	code, out, errOut := runCmd(context.Background(), "report", dir)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "vmtest: SLO not known  Func(\"custom\"): a Baseline or Func check depends on a file or on Go code")
	assert.Contains(t, out, "vmtest: SLO NOT met (no data) P99Below(\"ttft\", 1ms): ttft.p99 < 1ms: no data (n=0 successful requests")
	assert.NotContains(t, out, "vmtest: threshold")
	assert.Contains(t, out, "vmtest: SLO NOT met    threshold \"ttft.p99 << 3ms\": at byte 10: expected a number after \"<\" (from -slo \"ttft.p99 << 3ms\")\n"+
		"vmtest:                  ttft.p99 << 3ms\n"+
		"vmtest:                            ^\n")
	assert.Contains(t, out, "vmtest: SLO NOT met    odd: at byte 12: unknown unit")
	assert.True(t, strings.HasSuffix(out, "vmtest: 3 of 4 checks not met, 1 not known\n"), out)
	assert.Contains(t, errOut, "run r1: 3 of 4 checks not met, 1 not known")

	// Only a check not known: still not a pass.
	dir = t.TempDir()
	_, jp = oneTickJournal(t, dir, "killed")
	require.NoError(t, os.WriteFile(jp.Checks, []byte(`{"format":"vmtest-journal","kind":"checks","run_id":"r1","checks":[{"check":"Baseline(\"b.json\")"}]}`), 0o644))
	for _, f := range []string{jp.Snapshots, jp.Requests, jp.Checks} {
		require.NoError(t, os.Chtimes(f, long, long))
	}
	code, out, errOut = runCmd(context.Background(), "report", dir)
	assert.Equal(t, exitFail, code)
	assert.True(t, strings.HasSuffix(out, "vmtest: 0 of 1 checks not met, 1 not known\n"), out)
	assert.Contains(t, errOut, "run r1: 0 of 1 checks not met, 1 not known")
}

// A directory without a journal whose runs finished exits 0, saying their files are complete; one whose run
// did not finish and was rebuilt already exits 1 saying so; one with no run at all exits 1; one with a run
// summary that cannot be read exits 1 naming it.
func TestReportDirWithoutAJournal(t *testing.T) {
	dir := t.TempDir()
	fin := dir + "/summary_done_20261204_100000.json"
	require.NoError(t, os.WriteFile(fin, []byte(`{"run_id":"r1","finished":true,"request_statistics":{}}`), 0o644))
	code, out, errOut := runCmd(context.Background(), "report", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "no journal: the runs here finished and their files are complete ("+fin+" says so)")

	require.NoError(t, os.WriteFile(dir+"/summary_killed_20261204_110000.json", []byte(`{"run_id":"r2","finished":false,"request_statistics":{}}`), 0o644))
	code, _, errOut = runCmd(context.Background(), "report", dir)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "run r2 ("+dir+"/summary_killed_20261204_110000.json) did not finish, and its journal was already rebuilt")

	code, _, errOut = runCmd(context.Background(), "report", t.TempDir())
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "no journal (journal_<config>_<timestamp>.jsonl) and no run summary")

	// One finished run and one summary that is not JSON: whether that run finished is not known.
	dir = t.TempDir()
	fin = dir + "/summary_done_20261204_100000.json"
	require.NoError(t, os.WriteFile(fin, []byte(`{"run_id":"r1","finished":true,"request_statistics":{}}`), 0o644))
	bad := dir + "/summary_cut_20261204_120000.json"
	require.NoError(t, os.WriteFile(bad, []byte(`{"run_id":"r3","fini`), 0o644))
	code, out, errOut = runCmd(context.Background(), "report", dir)
	assert.Equal(t, exitFail, code)
	assert.NotContains(t, out, "files are complete")
	assert.Contains(t, errOut, dir+": no journal, and 1 run summaries cannot be read (whether their runs finished is not known): "+bad+": not JSON")
}

// startTicks is the start time of process pid in clock ticks after boot: field 22 of /proc/PID/stat, counted
// after the command name (field 2), which may hold spaces.
func startTicks(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	require.Greater(t, len(f), 19)
	n, err := strconv.ParseUint(f[19], 10, 64)
	require.NoError(t, err)
	return n
}

// A run whose summary says it finished, its writer (a child process) still alive between writing its summary
// and removing its journal: without -wait it is said to be finishing (not "kept"), exit status 0; -wait 10s
// waits, saying so once, until the writer has removed its journal and ended (after the second wait), then says
// the run finished and its files are complete.
func TestReportDirWaitsForAFinishingRun(t *testing.T) {
	self := journal.Self()
	if self.BootID == "" || self.StartTicks == 0 {
		t.Skip("no /proc/sys/kernel/random/boot_id or /proc/PID/stat (not Linux): a writer is never known to run")
	}
	for _, wait := range []time.Duration{0, 10 * time.Second} {
		cmd := exec.Command("sleep", "3600") // coreutils: lives until killed
		require.NoError(t, cmd.Start())
		writer := &journal.Owner{PID: cmd.Process.Pid, Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}
		writer.StartTicks = startTicks(t, writer.PID)
		dir := t.TempDir()
		files, jp := writerJournal(t, dir, writer, time.Now().Add(-time.Hour))
		require.NoError(t, os.WriteFile(files.RunSummaryJSON, []byte(`{"run_id":"r1","finished":true}`), 0o644))
		clk := &fakeClock{now: time.Now()}
		t0 := clk.now
		sleeps := 0
		clk.onSleep = func() {
			if sleeps++; sleeps == 2 {
				for _, f := range []string{jp.Snapshots, jp.Requests, jp.Checks} {
					require.NoError(t, os.Remove(f))
				}
				require.NoError(t, cmd.Process.Kill())
				_ = cmd.Wait()
			}
		}
		var out bytes.Buffer
		err := rebuildDir(&out, dir, wait, clk)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		require.NoError(t, err, "wait %s", wait)
		assert.NotContains(t, out.String(), "kept", "wait %s: the writer is alive, then its journal is gone", wait)
		if wait == 0 {
			assert.Equal(t, time.Duration(0), clk.now.Sub(t0))
			assert.Contains(t, out.String(), "vmtest: skipped the journal "+jp.Snapshots+": its summary "+files.RunSummaryJSON+
				" says it finished, and its journal is written by process "+strconv.Itoa(writer.PID)+" on this host, which is running: the run is finishing")
			continue
		}
		assert.Equal(t, 2*time.Second, clk.now.Sub(t0), "one interval a wait, two waits")
		assert.Equal(t, 1, strings.Count(out.String(), "vmtest: waiting"), out.String())
		assert.Contains(t, out.String(), "vmtest: waiting up to 10s for the run of "+jp.Snapshots+
			" to end: its summary says it finished and its writer, running on this host, removes its journal as it ends (-wait)\n")
		assert.Contains(t, out.String(), "vmtest: the run of "+jp.Snapshots+" finished: its summary ")
		assert.Contains(t, out.String(), "the run's files are complete\n")
	}
}
