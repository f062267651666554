package journal

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/report"
)

// needProc skips where /proc gives no boot id (not Linux): a writer there is never known to have ended.
func needProc(t *testing.T) *Owner {
	t.Helper()
	self := Self()
	if self.BootID == "" || self.StartTicks == 0 {
		t.Skip("no /proc/sys/kernel/random/boot_id or /proc/PID/stat here (not Linux): writers are never known to have ended")
	}
	return self
}

// journalOf writes a journal of one snapshot, 10 s interval, whose writer is w, and returns its paths.
func journalOf(t *testing.T, w *Owner) Paths {
	t.Helper()
	p := PathsFor(report.Names(t.TempDir(), "cfg", t0, ""))
	h := header(10)
	h.Writer = w
	jw, err := Create(p, h)
	require.NoError(t, err)
	require.NoError(t, jw.Append(Entry{Snapshot: snap(0)}))
	require.NoError(t, jw.Close())
	return p
}

// A killed writer its parent has not reaped yet (a zombie) has ended.
func TestOwnerLivenessOfAZombie(t *testing.T) {
	self := needProc(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	require.NoError(t, cmd.Start())
	o := &Owner{PID: cmd.Process.Pid, Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}
	_, o.StartTicks, _ = procStat(o.PID)
	defer func() { _ = cmd.Wait() }()
	require.NoError(t, cmd.Process.Kill())
	// Killed and not reaped (no Wait yet): block until the kernel has made it a zombie, leaving it unreaped.
	require.NoError(t, waitExited(o.PID))
	state, _, ok := procStat(o.PID)
	require.True(t, ok && state == "Z", "state %q", state)
	assert.Equal(t, Ended, o.Liveness())
}

// endedPID runs a child process to its end and returns its id, now free, and its start time (clock ticks
// after boot), read while it was still there.
func endedPID(t *testing.T) (pid int, startTicks uint64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	require.NoError(t, cmd.Start())
	_, startTicks, ok := procStat(cmd.Process.Pid) // running or a zombie until Wait reaps it
	require.True(t, ok)
	require.NoError(t, cmd.Wait())
	return cmd.ProcessState.Pid(), startTicks
}

// A writer has ended only when it ran on this host and boot and its process is gone, or its id now names a
// process started at another time; it is running when its process is alive here and started at the time
// recorded; otherwise it may run.
func TestOwnerLiveness(t *testing.T) {
	self := needProc(t)
	assert.Equal(t, os.Getpid(), self.PID)
	dead, deadStart := endedPID(t)
	for _, tc := range []struct {
		name string
		o    *Owner
		want Liveness
	}{
		{"this process", self, Running},
		{"a live process whose start time is not recorded", &Owner{PID: self.PID, Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}, MayRun},
		{"a journal that names no writer", nil, MayRun},
		{"an ended process", &Owner{PID: dead, StartTicks: deadStart, Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}, Ended},
		{"an ended process, its namespace not recorded", &Owner{PID: dead, StartTicks: deadStart, Host: self.Host, BootID: self.BootID}, Ended},
		{"an id reused by a later process", &Owner{PID: self.PID, StartTicks: self.StartTicks + 1, Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}, Ended},
		{"an ended process in another PID namespace", &Owner{PID: dead, Host: self.Host, BootID: self.BootID, PIDNamespace: "pid:[1]"}, MayRun},
		{"an ended process on another host", &Owner{PID: dead, Host: self.Host + "-other", BootID: self.BootID}, MayRun},
		{"an ended process of another boot", &Owner{PID: dead, Host: self.Host, BootID: "another-boot"}, MayRun},
		{"no boot id recorded", &Owner{PID: dead, Host: self.Host}, MayRun},
	} {
		assert.Equal(t, tc.want, tc.o.Liveness(), tc.name)
	}
}

// A journal written a moment ago by a process that has ended is rebuilt at once (the run was killed); one
// written as recently by a live process whose start time is not recorded is left, with when it will have
// been quiet two intervals; one whose writer is running here (this process) is never rebuilt, even an hour
// later, and is tried again an interval on.
func TestRebuildDoesNotWaitForAnEndedWriter(t *testing.T) {
	self := needProc(t)
	now := time.Now()
	unsure := *self
	unsure.StartTicks = 0
	for _, tc := range []struct {
		name   string
		writer *Owner
		want   Liveness
	}{
		{"ended", &Owner{PID: first(endedPID(t)), Host: self.Host, BootID: self.BootID, PIDNamespace: self.PIDNamespace}, Ended},
		{"may run", &unsure, MayRun},
		{"running", self, Running},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PathsFor(report.Names(t.TempDir(), "cfg", t0, ""))
			h := header(10)
			h.Writer = tc.writer
			w, err := Create(p, h)
			require.NoError(t, err)
			require.NoError(t, w.Append(Entry{Snapshot: snap(0)}))
			require.NoError(t, w.Close())
			for _, f := range []string{p.Snapshots, p.Requests} {
				require.NoError(t, os.Chtimes(f, now, now))
			}
			run, err := Read(p)
			require.NoError(t, err)
			assert.Equal(t, tc.writer, run.Header.Writer, "the header keeps its writer")

			res, err := Rebuild(p, now.Add(time.Second)) // within two 2 s intervals
			require.NoError(t, err)
			switch tc.want {
			case Ended:
				assert.Empty(t, res.Skipped)
				assert.True(t, res.QuietAt.IsZero())
				assert.FileExists(t, p.files().RunSummaryJSON)
				return
			case MayRun:
				assert.Contains(t, res.Skipped, "by process "+itoa(self.PID)+" on this host, which is running: it looks still running")
				assert.False(t, res.Running)
				assert.True(t, res.QuietAt.Equal(now.Add(4*time.Second)), "quiet at %v", res.QuietAt)
			case Running:
				assert.Equal(t, "it is written by process "+itoa(self.PID)+" on this host, which is running: a journal is not rebuilt while its writer is alive, however quiet (a hung run: stop it first)", res.Skipped)
				assert.True(t, res.Running)
				assert.True(t, res.QuietAt.Equal(now.Add(3*time.Second)), "one interval on: %v", res.QuietAt)
				later, err := Rebuild(p, now.Add(time.Hour))
				require.NoError(t, err)
				assert.True(t, later.Running, "quiet an hour, still not rebuilt")
			}
			assert.NoFileExists(t, p.files().RunSummaryJSON)
			assert.FileExists(t, p.Snapshots)
		})
	}
}

// Whether a journal's run is still going is decided from its header and file times alone: a requests file
// that Load would refuse is not read for a journal whose writer runs here.
func TestRebuildDecidesBeforeLoading(t *testing.T) {
	p := journalOf(t, needProc(t))
	require.NoError(t, os.WriteFile(p.Requests, []byte("not a journal\n"), 0o644))
	_, err := Load(p)
	require.ErrorIs(t, err, ErrNotJournal, "Load reads the requests file")

	res, err := Rebuild(p, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, res.Running)
	assert.Nil(t, res.Run, "skipped before being read")
}

// A run that chose no PNG gets none when rebuilt; the other files are written.
func TestRebuildKeepsNoPNG(t *testing.T) {
	for _, noPNG := range []bool{false, true} {
		dir := t.TempDir()
		p := PathsFor(report.Names(dir, "cfg", t0, ""))
		h := header(10)
		h.NoPNG = noPNG
		h.Writer = &Owner{PID: 1, Host: "elsewhere", BootID: "b"} // may run: the old mtimes decide
		w, err := Create(p, h)
		require.NoError(t, err)
		require.NoError(t, w.Append(Entry{Snapshot: snap(0)}))
		require.NoError(t, w.Close())
		res, err := Rebuild(p, time.Now().Add(time.Hour))
		require.NoError(t, err)
		require.Empty(t, res.Skipped)
		files := p.files()
		assert.Equal(t, !noPNG, fileExists(files.PlotPNG), "no_png %v", noPNG)
		assert.FileExists(t, files.ReportHTML)
		_, listed := res.Summary.Files["plot_png"]
		assert.Equal(t, !noPNG, listed, "the summary lists the PNG only when written")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func first[A, B any](a A, _ B) A { return a }

func itoa(n int) string { return strconv.Itoa(n) }
