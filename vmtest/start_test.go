package vmtest

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vassert "github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/snapshot"
)

// Start and Finish collect without a test: the log goes to Options.Log, the files to OutputDir, and Finish
// returns the summary of what was recorded and the checks not met.
func TestStartFinishOutsideATest(t *testing.T) {
	dir := t.TempDir()
	var log testio.SyncBuffer
	c, err := Start(context.Background(), Options{ConfigID: "bench a/b", Interval: time.Second, OutputDir: dir,
		GPUSource: "none", NoPNG: true, NoSystem: true, Log: &log})
	require.NoError(t, err)
	var placeholder report.SnapshotFile // the claimed file until Finish: names the run and its interval
	b, err := os.ReadFile(c.files.SnapshotsJSON)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &placeholder))
	assert.Equal(t, report.SnapshotFile{RunID: c.RunID(), ConfigID: "bench_a_b-008d173a", Start: placeholder.Start,
		IntervalS: 1, Snapshots: []snapshot.Snapshot{}}, placeholder)
	now := time.Now()
	for _, ttft := range []time.Duration{100, 200, 300} { // p50 TTFT 200 ms
		c.RecordRequest(okReq(now, ttft*time.Millisecond, 400*time.Millisecond, 3))
	}
	c.Assert(vassert.P50Below("ttft", 250*time.Millisecond), vassert.P50Below("ttft", 150*time.Millisecond),
		vassert.P99Below("ttfb", time.Second))
	sum, err := c.Finish()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `vmtest: P99Below("ttfb", 1s): unknown latency metric "ttfb" (did you mean ttft?)`)
	assert.Contains(t, err.Error(), "vmtest: p50 ttft = 200.000 ms, want < 150ms")
	assert.NotContains(t, err.Error(), "want < 250ms", "the check that was met is not in the error")
	assert.Equal(t, 3, sum.Requests.OK)
	assert.Equal(t, "bench a/b", sum.TestName, "the name as given, beside the sanitized one that names the files")
	assert.Equal(t, "bench_a_b-008d173a", sum.ConfigID)
	for _, p := range sum.Files {
		assert.FileExists(t, p)
		assert.True(t, strings.HasPrefix(p, dir), p)
	}
	out := log.String()
	assert.Contains(t, out, "vmtest: run "+c.RunID())
	assert.Contains(t, out, `vmtest: P99Below("ttfb", 1s): unknown latency metric`, "an invalid check is logged when registered")
	assert.Contains(t, out, "vmtest: wrote "+sum.Files["summary_json"])
	sum2, err2 := c.Finish()
	assert.Same(t, sum, sum2)
	assert.Equal(t, err.Error(), err2.Error())

	_, err = Start(context.Background(), Options{Interval: time.Millisecond})
	assert.EqualError(t, err, "vmtest: Options.Interval = 1ms: must be at least 10ms")
}

// Without ConfigID, Start names the run "vmtest" and puts its files under $VMTEST_OUTPUT_DIR/vmtest.
func TestStartDefaults(t *testing.T) {
	t.Setenv(EnvOutputDir, t.TempDir())
	c, err := Start(context.Background(), Options{GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NoError(t, err)
	sum, err := c.Finish()
	require.NoError(t, err)
	assert.Equal(t, "vmtest", sum.ConfigID)
	assert.Equal(t, os.Getenv(EnvOutputDir)+"/vmtest", c.Dir())
}

// A context that ends first finishes the collector by itself, saying why; Finish then returns that summary.
func TestStartStopsWhenTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		var log testio.SyncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := Start(ctx, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true, Log: &log})
		require.NoError(t, err)
		time.Sleep(15 * time.Second)
		synctest.Wait()
		assert.Contains(t, log.String(), "vmtest: stopped early: context deadline exceeded")
		sum, err := c.Finish()
		require.NoError(t, err)
		assert.InDelta(t, 10, sum.DurationS, 1e-9, "it stopped when the context ended, not when Finish was called")
		assert.Len(t, regexp.MustCompile(`(?m)^vmtest: stopped early`).FindAllString(log.String(), -1), 1, "logged once")
		require.NotEmpty(t, sum.Events, "the summary says the run stopped early, not only the log")
		last := sum.Events[len(sum.Events)-1]
		assert.Equal(t, "vmtest", last.Source)
		assert.Equal(t, "stopped early: context deadline exceeded", last.Message)
	})
}

// deadlineTB is a fakeTB with a test deadline, as *testing.T has under go test -timeout.
type deadlineTB struct {
	fakeTB
	deadline time.Time
}

func (d *deadlineTB) Deadline() (time.Time, bool) { return d.deadline, true }

// Under a test deadline, Collect stops DeadlineMargin before it, writes the files, says why, and reports the
// checks then, while the test can still report; the cleanup does not report them again.
func TestCollectStopsBeforeTheTestDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		start := time.Now()
		ft := &deadlineTB{fakeTB: fakeTB{name: "TestLong"}, deadline: start.Add(200 * time.Second)}
		var stderr testio.SyncBuffer
		c := collect(ft, Options{Interval: 2 * time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true}, &stderr)
		require.NotNil(t, c)
		c.RecordRequest(okReq(start, 300*time.Millisecond, time.Second, 3))
		c.Assert(vassert.P99Below("ttft", 100*time.Millisecond))
		// margin = max(2 × 2 s, 5% of 200 s, 5 s) = 10 s: the run stops at 190 s.
		require.Equal(t, 10*time.Second, DeadlineMargin(2*time.Second, 200*time.Second))
		time.Sleep(189 * time.Second)
		synctest.Wait()
		ft.mu.Lock()
		assert.Empty(t, ft.errs, "still collecting at 189 s")
		ft.mu.Unlock()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		sum := c.Summary()
		assert.InDelta(t, 190, sum.DurationS, 1e-9)
		assert.Equal(t, 1, sum.Requests.OK)
		for _, p := range sum.Files {
			assert.FileExists(t, p)
		}
		ft.mu.Lock()
		logs := strings.Join(ft.logs, "\n")
		require.Len(t, ft.errs, 1, "the check ran at the early stop")
		assert.Contains(t, ft.errs[0], "p99 ttft = 300.000 ms, want < 100ms")
		ft.mu.Unlock()
		assert.Contains(t, logs, "vmtest: stopped early: the test's deadline (go test -timeout) is at "+ft.deadline.Format("15:04:05")+"; stopping 10s before it")
		assert.Contains(t, logs, "vmtest: wrote ")
		// The same where go test shows it when the binary is then killed: the test's log is lost with it.
		first, _, _ := strings.Cut(ft.errs[0], "\n")
		assert.Equal(t, "vmtest: TestLong stopped early for the test's deadline (go test -timeout) at 190.0 s (requests recorded: 1); its files are in "+
			dir+"; 1 of 1 checks not met\nvmtest:   "+first+"\n", stderr.String())
		again := false
		assert.False(t, c.finish("", func(*Collector) { again = true }), "finished once")
		assert.False(t, again, "a watch that lost the race to Finish calls no early (no notice)")
		ft.runCleanups()
		assert.Len(t, ft.errs, 1, "the cleanup does not report the checks twice")
		assert.Equal(t, 2, strings.Count(stderr.String(), "\n"), "nor the notice")
	})
}

func TestDeadlineMargin(t *testing.T) {
	assert.Equal(t, 5*time.Second, DeadlineMargin(time.Second, 10*time.Second), "at least MinDeadlineMargin")
	assert.Equal(t, 30*time.Second, DeadlineMargin(15*time.Second, time.Minute), "two intervals")
	assert.Equal(t, 30*time.Second, DeadlineMargin(2*time.Second, 10*time.Minute), "5% of go test's default 10 min")
}

// A second Collect in one test is refused with a Fatalf naming the test and the run already collecting; once
// the first test's cleanup ran, the same TB may collect again (go test reuses nothing, a fake may).
func TestSecondCollectInOneTestIsRefused(t *testing.T) {
	t.Parallel()
	ft := &fakeTB{name: "TestTwice"}
	opts := Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true}
	c := Collect(ft, opts)
	require.NotNil(t, c)
	assert.Nil(t, Collect(ft, opts))
	require.Len(t, ft.fatal, 1)
	assert.Equal(t, "vmtest: Collect called a second time in test TestTwice (run "+c.RunID()+
		" is collecting for it): one Collect per test, so that its files and checks are one run's; use a subtest (t.Run) for each run", ft.fatal[0])
	other := &fakeTB{name: "TestTwice"}
	c2 := Collect(other, opts)
	require.NotNil(t, c2, "another test may collect")
	other.runCleanups()
	ft.runCleanups()
	ft.cleanups, ft.fatal = nil, nil
	c3 := Collect(ft, opts)
	require.NotNil(t, c3)
	assert.Empty(t, ft.fatal)
	ft.runCleanups()
}

// Outside a test, a check registered after the context ended the run is evaluated over the final summary at
// once, and Finish returns it when it is not met: a command must not exit 0 with an SLO broken.
func TestLateCheckOutsideATestIsReturnedByFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log testio.SyncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		c, err := Start(ctx, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true, Log: &log})
		require.NoError(t, err)
		c.RecordRequest(okReq(time.Now(), 100*time.Millisecond, 400*time.Millisecond, 3))
		cancel()
		synctest.Wait()
		c.Assert(vassert.Expr("requests.ok > 5"), vassert.Expr("requests.ok >= 1"))
		_, err = c.Finish()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "requests.ok")
		assert.Contains(t, err.Error(), "> 5")
		assert.NotContains(t, err.Error(), ">= 1", "the check that was met is not returned")
		assert.Contains(t, log.String(), "registered after the collector finished")
	})
}

// A 300-character ConfigID: two runs claiming names in the same second (the second with its run id as
// suffix) and their journals, rebuilt names and temporary files all stay within 255 bytes a name.
func TestLongConfigIDFileNamesFit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	id := strings.Repeat("config-", 43) // 301 bytes
	for range 2 {
		c, err := Start(context.Background(), Options{ConfigID: id, Interval: time.Second, OutputDir: dir,
			GPUSource: "none", NoSystem: true})
		require.NoError(t, err)
		_, err = c.Finish()
		require.NoError(t, err, "every file of the run is written")
	}
	config := Sanitize(id)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	runID := "20260102T030405Z-abcdef" // the collector's run id format
	for _, run := range []string{"20260102T030405Z-000001", runID} {
		f, err := report.Reserve(dir, config, start, 2, run)
		require.NoError(t, err)
		p := journal.PathsFor(f)
		names := append(slices.Collect(maps.Values(f.Map())), p.Snapshots, p.Prev, p.Requests,
			p.Rebuilt().Snapshots, p.Rebuilt().Prev, p.Rebuilt().Requests)
		for _, n := range names {
			base := filepath.Base(n)
			assert.LessOrEqual(t, len(base), 255-len(".tmp")-20-1, "%s and its temporary file fit", base)
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2*6+1+2, "two runs' six files (JSON, CSV, PNG, requests, summary, HTML), summary_statistics.json and the two claimed names")
}

// NoPNG writes every file but the PNG, lists none in the summary or Files, and keeps the HTML report.
func TestNoPNGLeavesOutThePlotOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := Start(context.Background(), Options{ConfigID: "nopng", Interval: time.Second, OutputDir: dir,
		GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NoError(t, err)
	assert.NotContains(t, c.Files(), "plot_png")
	sum, err := c.Finish()
	require.NoError(t, err)
	assert.NotContains(t, sum.Files, "plot_png")
	png, err := filepath.Glob(filepath.Join(dir, "*.png"))
	require.NoError(t, err)
	assert.Empty(t, png)
	want := []string{"snapshots_json", "snapshots_csv", "requests_csv", "run_summary_json", "summary_json", "report_html"}
	for _, kind := range want {
		require.Contains(t, sum.Files, kind)
		assert.FileExists(t, sum.Files[kind])
	}
	assert.Len(t, sum.Files, len(want))
}

// Started is the run's time 0: the snapshots' elapsed_s count from it and the ticks fall on its schedule,
// however long Start took.
func TestStartedIsTheRunsOrigin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		c, err := Start(context.Background(), Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none",
			NoPNG: true, NoSystem: true})
		require.NoError(t, err)
		assert.Equal(t, t0, c.Started(), "the fake clock does not move during Start")
		time.Sleep(2500 * time.Millisecond)
		_, err = c.Finish()
		require.NoError(t, err)
		snaps := c.Snapshots()
		require.GreaterOrEqual(t, len(snaps), 3)
		for i, s := range snaps[:3] {
			assert.Equal(t, c.Started().Add(time.Duration(i)*time.Second), s.Timestamp, "tick %d", i)
			assert.Equal(t, float64(i), s.ElapsedS)
		}
	})
}

// The early finish's callback (the deadline's notice) runs at the end of the finish, before Finish's channel
// closes and while the finish still holds its lock, so a Finish called meanwhile returns only after it: a test
// that waits on either and then ends, its binary exiting, has the notice written already (CI caught the notice
// missing from a child test that returned as soon as the collector had stopped).
func TestEarlyCallbackRunsBeforeFinishReturns(t *testing.T) {
	c, err := Start(t.Context(), Options{Interval: time.Second, NoSystem: true, OutputDir: t.TempDir(),
		GPUSource: "none", NoPNG: true})
	require.NoError(t, err)
	ran := false
	did := c.finish("stopped early: a test's reason", func(c *Collector) {
		ran = true
		select {
		case <-c.stopped:
			t.Error("Finish's channel closed before the callback ran")
		default:
		}
		if c.finMu.TryLock() {
			c.finMu.Unlock()
			t.Error("the finish's lock is free during the callback: a Finish called meanwhile would return first")
		}
	})
	assert.True(t, did)
	assert.True(t, ran)
	<-c.stopped
}
