package journal

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/serverstats"
)

// killedRun writes the journal of a run that started at t0 and was killed after three ticks with one request
// each, its files last modified at mtime; it returns the journal's paths.
func killedRun(t *testing.T, dir string, mtime time.Time) Paths {
	t.Helper()
	p := PathsFor(report.Names(dir, "cfg", t0, ""))
	w, err := Create(p, header(100))
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		r, g := okRow(fmt.Sprint("q", i), float64(i), 50, []float64{10})
		require.NoError(t, w.Append(Entry{Snapshot: snap(i), Rows: []recorder.Record{r}, Gaps: [][]float64{g},
			Requests: recorder.Counts{Total: i + 1, OK: i + 1}}))
	}
	require.NoError(t, w.Close())
	for _, f := range []string{p.Snapshots, p.Requests} {
		require.NoError(t, os.Chtimes(f, mtime, mtime))
	}
	return p
}

// writeSummary writes a summary file of run id, started at start, finished or not.
func writeSummary(t *testing.T, path, id string, start time.Time, finished bool) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"run_id": id, "start": start, "finished": finished})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return b
}

func readRunID(t *testing.T, path string) string {
	t.Helper()
	h, ok := readSummary(path)
	require.True(t, ok, path)
	return h.RunID
}

// Run A killed, run B (started later) finished in the same directory: rebuilding A writes A's own files but
// leaves summary_statistics.json to B. An older run's summary_statistics.json is replaced.
func TestRebuildLeavesSummaryStatisticsToANewerRun(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name      string
		otherFrom time.Duration
		want      string
	}{{"newer finished run", 10 * time.Minute, "runB"}, {"older finished run", -10 * time.Minute, "run1"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := killedRun(t, dir, t0)
			other := report.Names(dir, "cfg", t0.Add(tc.otherFrom), "")
			writeSummary(t, other.RunSummaryJSON, "runB", t0.Add(tc.otherFrom), true)
			writeSummary(t, other.SummaryJSON, "runB", t0.Add(tc.otherFrom), true)

			res, err := Rebuild(p, now)
			require.NoError(t, err)
			require.Empty(t, res.Skipped)
			assert.Equal(t, tc.want, readRunID(t, other.SummaryJSON))
			assert.Equal(t, "run1", readRunID(t, p.files().RunSummaryJSON), "the killed run's own summary is written")
			if tc.want == "runB" {
				assert.NotEmpty(t, res.Newer)
				assert.NotContains(t, res.Summary.Files, "summary_json", "no message points at a file not written")
			} else {
				assert.Empty(t, res.Newer)
				assert.Equal(t, other.SummaryJSON, res.Summary.Files["summary_json"])
			}
		})
	}
}

// After a rebuild the journal is renamed: Find no longer finds it, so a second `vmtest report` does not
// rebuild (and overwrite) again.
func TestRebuildRenamesTheJournal(t *testing.T) {
	dir := t.TempDir()
	p := killedRun(t, dir, t0)
	res, err := Rebuild(p, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, p.Rebuilt(), res.Moved)
	assert.True(t, strings.HasSuffix(res.Moved.Snapshots, "journal_cfg_20261204_100000.rebuilt.jsonl"), res.Moved.Snapshots)
	assert.True(t, strings.HasSuffix(res.Moved.Requests, "journal_cfg_20261204_100000.requests.rebuilt.bin"), res.Moved.Requests)
	for _, f := range []string{res.Moved.Snapshots, res.Moved.Requests} {
		require.FileExists(t, f)
	}
	assert.NoFileExists(t, p.Snapshots)
	assert.NoFileExists(t, p.Requests)
	assert.True(t, strings.HasSuffix(p.Requests, "journal_cfg_20261204_100000.requests.bin"), "a run writes binary rows to .requests.bin: %s", p.Requests)
	found, err := Find(dir)
	require.NoError(t, err)
	assert.Empty(t, found)
	run, err := Read(res.Moved)
	require.NoError(t, err, "the renamed journal is still a journal")
	assert.Len(t, run.Rows, 3)
}

// A journal kept beside a run whose summary says it finished (a file failed to write, or a death between
// writing and removing the journal) is not rebuilt: the finished summary stays.
func TestRebuildSkipsAFinishedRun(t *testing.T) {
	dir := t.TempDir()
	p := killedRun(t, dir, t0)
	files := p.files()
	want := writeSummary(t, files.RunSummaryJSON, "run1", t0, true)
	res, err := Rebuild(p, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Contains(t, res.Skipped, "says it finished (the journal was kept: a file failed to write")
	assert.False(t, res.Finishing, "its writer is on another host")
	assert.False(t, res.Gone)
	assert.True(t, res.QuietAt.IsZero())
	assert.Nil(t, res.Summary)
	got, err := os.ReadFile(files.RunSummaryJSON)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.NoFileExists(t, files.SnapshotsJSON)
	assert.FileExists(t, p.Snapshots, "the journal is left as it was")

	// A summary that says the run did not finish (an earlier rebuild) does not stop a rebuild.
	writeSummary(t, files.RunSummaryJSON, "run1", t0, false)
	res, err = Rebuild(p, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, res.Skipped)
}

// A journal written within its last two intervals (2 s each) is a run still going: skipped, nothing written.
func TestRebuildSkipsARunStillGoing(t *testing.T) {
	dir := t.TempDir()
	last := t0.Add(4 * time.Second)
	p := killedRun(t, dir, last)
	res, err := Rebuild(p, last.Add(3999*time.Millisecond))
	require.NoError(t, err)
	assert.Contains(t, res.Skipped, "looks still running")
	assert.Contains(t, res.Skipped, "3.999s ago")
	assert.NoFileExists(t, p.files().RunSummaryJSON)
	assert.FileExists(t, p.Snapshots)

	res, err = Rebuild(p, last.Add(4*time.Second))
	require.NoError(t, err)
	assert.Empty(t, res.Skipped, "two intervals without a write: the run is gone")
	assert.FileExists(t, p.files().RunSummaryJSON)
}

// Rows past the row bound, and ITL gaps missing from the journal, make the statistics they feed partial.
func TestRebuildMarksPartialStatistics(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	r1, g1 := okRow("a", 0, 50, []float64{10, 20})
	r2, _ := okRow("b", 1, 70, []float64{30, 40}) // journaled without its gaps, as after the ITL sketch began
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: []recorder.Record{r1, r2}, Gaps: [][]float64{g1, nil},
		Requests: recorder.Counts{Total: 2, OK: 2}}))
	require.NoError(t, w.Close())
	b, err := Load(p)
	require.NoError(t, err)
	rq := b.Summary.Requests
	assert.True(t, rq.ITLMS.Partial)
	assert.Equal(t, 2, rq.ITLMS.N, "the first row's two gaps")
	assert.False(t, rq.TTFTMS.Partial, "every row is here")
	assert.InDelta(t, 60, *rq.TTFTMS.Mean, 1e-9)

	p = testPaths(t)
	w, err = Create(p, header(10))
	require.NoError(t, err)
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: []recorder.Record{r1}, Gaps: [][]float64{g1},
		Requests: recorder.Counts{Total: 5, OK: 5, Dropped: 4}}))
	require.NoError(t, w.Close())
	b, err = Load(p)
	require.NoError(t, err)
	rq = b.Summary.Requests
	for name, st := range map[string]recorder.Stats{"ttft": rq.TTFTMS, "tpot": rq.TPOTMS, "itl": rq.ITLMS, "e2e": rq.E2EMS} {
		assert.True(t, st.Partial, name)
	}
	assert.Equal(t, 5, rq.Total)
	assert.Equal(t, 1, rq.TTFTMS.N)
	sj, err := json.Marshal(rq)
	require.NoError(t, err)
	assert.Contains(t, string(sj), `"partial":true`)
}

// rawJournal writes a version-1 snapshots or requests journal file (JSON lines) with header h and the given
// lines.
func rawJournal(t *testing.T, path string, h map[string]any, lines ...string) {
	t.Helper()
	head := map[string]any{"format": Format, "version": 1, "run_id": "run1", "interval_s": 2.0, "max_snapshots": 3}
	for k, v := range h {
		head[k] = v
	}
	b, err := json.Marshal(head)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(string(b)+"\n"+strings.Join(lines, "\n")+"\n"), 0o644))
}

// Read holds at most max_snapshots ticks while reading, the last ones, in order.
func TestReadKeepsTicksInARing(t *testing.T) {
	p := testPaths(t)
	var lines []string
	for i := 0; i < 10; i++ {
		lines = append(lines, fmt.Sprintf(`{"seq":%d,"snapshot":{"elapsed_s":%d}}`, i, 2*i))
	}
	rawJournal(t, p.Snapshots, map[string]any{"kind": KindSnapshots}, lines...)
	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Ticks, 3)
	assert.Equal(t, []float64{14, 16, 18}, []float64{run.Ticks[0].Snapshot.ElapsedS, run.Ticks[1].Snapshot.ElapsedS, run.Ticks[2].Snapshot.ElapsedS})
	assert.Equal(t, 7, run.SnapshotsDropped)
	assert.LessOrEqual(t, cap(run.Ticks), 4, "never more than the bound held (append's growth aside)")
}

func TestReadRefusesHeadersOutOfRange(t *testing.T) {
	for field, v := range map[string]any{"max_snapshots": 0, "interval_s": -1, "max_requests": MaxBound + 1} {
		t.Run(field, func(t *testing.T) {
			p := testPaths(t)
			rawJournal(t, p.Snapshots, map[string]any{"kind": KindSnapshots, field: v}, `{"seq":0}`)
			_, err := Read(p)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrHeader)
			assert.Contains(t, err.Error(), field)
		})
	}
	p := testPaths(t)
	rawJournal(t, p.Snapshots, map[string]any{"kind": KindSnapshots, "max_snapshots": 1e12})
	_, err := Read(p)
	assert.ErrorContains(t, err, "max_snapshots = 1000000000000: want 1 to 16777216")
}

// Rows stop at the header's row bound (the rest counted as skipped); a row's gaps at its itl_gaps.
func TestReadBoundsRowsAndGaps(t *testing.T) {
	p := testPaths(t)
	rawJournal(t, p.Requests, map[string]any{"kind": KindRequests, "max_requests": 2},
		`{"outcome":"ok","itl_gaps":2,"itl_ns":[1000000,2000000,3000000,4000000]}`, `{"outcome":"ok","itl_gaps":-3,"itl_ns":[5]}`,
		`{"outcome":"ok"}`, `{"outcome":"ok"}`, `{"outcome":"ok"}`)
	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Rows, 2)
	assert.Equal(t, 3, run.Skipped, "three rows past the bound of 2")
	assert.Equal(t, []float64{1, 2}, run.Gaps[0], "two gaps, as itl_gaps says")
	assert.Nil(t, run.Gaps[1])
	assert.Equal(t, 0, run.Rows[1].ITLGaps)

	assert.Equal(t, recorder.DefaultMaxRecords, Header{}.Rows(), "a journal from before max_requests")
	assert.Equal(t, 0, Header{MaxRequests: -1}.Rows(), "no rows kept")
}

// Past recorder.ExactCap gaps over the rows, later rows keep none, as the recorder journals them.
func TestReadBoundsAllGapsAtExactCap(t *testing.T) {
	p := testPaths(t)
	var big strings.Builder
	big.WriteString(fmt.Sprintf(`{"outcome":"ok","itl_gaps":%d,"itl_ns":[`, recorder.ExactCap))
	for i := 0; i < recorder.ExactCap; i++ {
		if i > 0 {
			big.WriteByte(',')
		}
		big.WriteByte('7')
	}
	big.WriteString("]}")
	rawJournal(t, p.Requests, map[string]any{"kind": KindRequests}, big.String(),
		`{"outcome":"ok","itl_gaps":1,"itl_ns":[9]}`)
	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Rows, 2)
	assert.Len(t, run.Gaps[0], recorder.ExactCap)
	assert.Nil(t, run.Gaps[1], "one gap past ExactCap")
	assert.Equal(t, 1, run.Rows[1].ITLGaps, "its count stays: Load marks ITL partial")
}

// Past recorder.ExactCap chunk gaps rows are journaled without them, but each tick carries the ITL sketch:
// the rebuilt ITL statistics equal the live recorder's, not partial.
func TestRebuildTakesITLFromTheSketch(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	live := recorder.New(time.Now(), recorder.Config{})
	for i, n := range []int{300_000, 300_000, 1_000} {
		gaps := make([]float64, n)
		for k := range gaps {
			gaps[k] = 1 + float64((k*7919+i*104729)%99000)/1000
		}
		r, g := okRow(fmt.Sprint("q", i), float64(i), 50, gaps)
		live.AddRecord(r, g)
		rows, jg, counts := live.TakeJournal()
		e := Entry{Snapshot: snap(i), Rows: rows, Gaps: jg, Requests: counts}
		if st, ok := live.ITLSketch(); ok {
			e.ITLSketch = &st
		}
		assert.Equal(t, i > 0, e.ITLSketch != nil, "a sketch from the tick that passed ExactCap")
		require.NoError(t, w.Append(e))
	}
	require.NoError(t, w.Close())
	b, err := Load(p)
	require.NoError(t, err)
	want := live.Summarize().ITLMS
	require.True(t, want.Approximate)
	assert.Equal(t, want, b.Summary.Requests.ITLMS)
	assert.Equal(t, 601_000, b.Summary.Requests.ITLMS.N)
	assert.False(t, b.Summary.Requests.ITLMS.Partial)
	assert.Equal(t, live.Summarize().TTFTMS, b.Summary.Requests.TTFTMS)
}

// The GPUs a run asked for by index are in its journal's header, so the rebuilt metrics CSV has their columns
// as the finished run's would.
func TestRebuildKeepsTheGPUsAskedFor(t *testing.T) {
	dir := t.TempDir()
	p := PathsFor(report.Names(dir, "cfg", t0, ""))
	h := header(100)
	h.GPUKeys = []string{"gpu_3"}
	w, err := Create(p, h)
	require.NoError(t, err)
	require.NoError(t, w.Append(Entry{Snapshot: snap(0)}))
	require.NoError(t, w.Close())
	for _, f := range []string{p.Snapshots, p.Requests} {
		require.NoError(t, os.Chtimes(f, t0, t0))
	}
	res, err := Rebuild(p, t0.Add(time.Hour))
	require.NoError(t, err)
	require.NotNil(t, res.Summary, res.Skipped)
	b, err := os.ReadFile(res.Summary.Files["snapshots_csv"])
	require.NoError(t, err)
	header, _, _ := strings.Cut(string(b), "\n")
	assert.Contains(t, header, ",gpu_3_utilization,")
	assert.NotContains(t, header, "gpu_0_utilization")
}

// The warm-up tally journaled with each tick's counts comes back in the rebuilt summary, apart from the
// rows' counts: 2 measured rows, and 4 warm-up requests (3 OK, 96 tokens).
func TestRebuildKeepsTheWarmupTally(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	r1, g1 := okRow("a", 0, 50, []float64{10, 20})
	r2, g2 := okRow("b", 1, 70, []float64{30, 40})
	warm := recorder.WarmupCounts{Total: 4, OK: 3, OutputTokens: 96}
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: []recorder.Record{r1, r2}, Gaps: [][]float64{g1, g2},
		Requests: recorder.Counts{Total: 2, OK: 2, Warmup: warm}}))
	require.NoError(t, w.Close())
	b, err := Load(p)
	require.NoError(t, err)
	assert.Equal(t, warm, b.Summary.Requests.Warmup)
	assert.Equal(t, 2, b.Summary.Requests.Total)
	assert.Equal(t, 2, b.Summary.Requests.OK)
}

// A journal written before the requests file was renamed .requests.bin (testdata/legacy-name: `vmtest load
// -concurrency 1 -max-tokens 8` against the simulator, killed with SIGKILL after 5 s by the build before the
// rename) is found under its old name and rebuilt: its rows are the 30 requests, 240 output tokens, the last
// tick's tally says it had; after the rebuild its files carry the .rebuilt names and Find passes over them.
func TestRebuildLegacyRequestsName(t *testing.T) {
	dir := t.TempDir()
	names, err := filepath.Glob(filepath.Join("testdata", "legacy-name", "journal_*"))
	require.NoError(t, err)
	require.Len(t, names, 2)
	for _, n := range names {
		b, err := os.ReadFile(n)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(n)), b, 0o644))
	}
	found, err := Find(dir)
	require.NoError(t, err)
	require.Len(t, found, 1)
	p := found[0]
	assert.Equal(t, filepath.Join(dir, "journal_oldname_20261205_020743.requests.jsonl"), p.Requests)

	res, err := Rebuild(p, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, res.Skipped)
	assert.Len(t, res.Run.Rows, 30)
	assert.Equal(t, 30, res.Summary.Requests.Total)
	assert.Equal(t, 30, res.Summary.Requests.OK)
	csv, err := os.ReadFile(p.files().RequestsCSV)
	require.NoError(t, err)
	assert.Equal(t, 31, strings.Count(string(csv), "\n"), "a header and 30 rows")
	assert.Equal(t, filepath.Join(dir, "journal_oldname_20261205_020743.requests.rebuilt.jsonl"), res.Moved.Requests)
	require.FileExists(t, res.Moved.Requests)
	found, err = Find(dir)
	require.NoError(t, err)
	assert.Empty(t, found)
}

// A requests file cut mid-row (its last row) while the tick line that counted it is whole: the request is
// counted, as the tick says, but has no row; the warning and the event name the cut row, not the row bound.
func TestRebuildNamesACutRow(t *testing.T) {
	p := killedRun(t, t.TempDir(), t0)
	st, err := os.Stat(p.Requests)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(p.Requests, st.Size()-7))
	b, err := Load(p)
	require.NoError(t, err)
	run, rq := b.Run, b.Summary.Requests
	require.Len(t, run.Damage, 1)
	assert.Equal(t, Damage{File: filepath.Base(p.Requests), Row: 3, Last: true, Cut: true, Reason: "cut short by the end of the file"}, run.Damage[0])
	assert.Equal(t, []int{1, 1, 1, 0, 0}, []int{run.Skipped, run.Cut, run.RowsCut, run.Unreadable, run.PastBound})
	assert.Equal(t, 3, rq.Total, "the last tick counted three requests")
	assert.Equal(t, 3, rq.OK)
	assert.Equal(t, 2, rq.TTFTMS.N, "two rows")
	assert.Len(t, b.Rows, 2)
	assert.True(t, rq.TTFTMS.Partial)
	require.Len(t, b.Summary.Warnings, 1)
	assert.Contains(t, b.Summary.Warnings[0], "journal: 1 request is counted but has no row (1 cut short at the end of the requests file by the kill)")
	assert.NotContains(t, b.Summary.Warnings[0], "row bound")
	ev := b.Summary.Events[len(b.Summary.Events)-1].Message
	assert.Contains(t, ev, "(3 snapshots, 2 request rows of 3 requests counted; 1 line or row skipped: 1 cut short at the end of its file by the kill)")
}

// The snapshots file cut after the rows of its last interval were written: the rows are counted, and the
// run's end is the last request's, so the throughput window lies within the summary's and the requests CSV
// and the summary hold the same requests.
func TestRebuildExtendsTheEndToTheLastRequest(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	finished := []int{0, 2, 1, 1} // rows end at 0.06, 1.86, 3.86, 5.86 s: after tick 0, by ticks 1, 1, 2, 3
	for i := 0; i < 4; i++ {      // row i from max(0, 2i − 0.2) s, 60 ms long; tick i at 2i s
		r, g := okRow(fmt.Sprint("q", i), max(0, 2*float64(i)-0.2), 50, []float64{10})
		sn := snap(i)
		sn.VLLMMetrics.RequestsFinished = finished[i]
		require.NoError(t, w.Append(Entry{Snapshot: sn, Rows: []recorder.Record{r}, Gaps: [][]float64{g},
			Requests: recorder.Counts{Total: i + 1, OK: i + 1}}))
	}
	require.NoError(t, w.Close())
	st, err := os.Stat(p.Snapshots)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(p.Snapshots, st.Size()-7)) // tick 3's line cut; its row is whole
	b, err := Load(p)
	require.NoError(t, err)
	s := b.Summary
	assert.Equal(t, 4, s.Snapshots, "3 journaled and 1 rebuilt at the last request's end")
	assert.Equal(t, 4, s.Requests.Total)
	// The snapshots add up as a finished run's: 0 + 2 + 1 journaled, and row 3 (TTFT 50 ms, E2E 60 ms) in the
	// rebuilt last one at 5.86 s, marked as rebuilt and with no sampler reading.
	sum := 0
	for _, sn := range b.Snapshots.Snapshots {
		sum += sn.VLLMMetrics.RequestsFinished
	}
	assert.Equal(t, s.Requests.OK, sum)
	tail := b.Snapshots.Snapshots[3]
	assert.Equal(t, 1, tail.VLLMMetrics.RequestsFinished)
	assert.InDelta(t, 5.86, tail.ElapsedS, 1e-9)
	assert.Equal(t, t0.Add(5860*time.Millisecond), tail.Timestamp)
	assert.Equal(t, []float64{50, 60, 60}, []float64{*tail.VLLMMetrics.FirstTokenLatencyMS, *tail.VLLMMetrics.P50LatencyMS, *tail.VLLMMetrics.P99LatencyMS})
	assert.Nil(t, tail.VLLMMetrics.RequestQueueSize)
	assert.Equal(t, "cfg", tail.ConfigID)
	assert.Contains(t, tail.Errors["journal"], "rebuilt at the end of the run's last request, 5.860 s: no sampler was read; requests_finished and the client latencies are the 1 successful request that ended after the last journaled snapshot at 4.000 s")
	assert.Len(t, b.Rows, 4)
	assert.InDelta(t, 5.86, s.DurationS, 1e-9, "row 3 ends at 5.8 + 0.06 s")
	assert.Equal(t, t0.Add(5860*time.Millisecond), s.End)
	require.NotNil(t, s.Requests.WindowS)
	assert.InDelta(t, 5.86, *s.Requests.WindowS, 1e-9, "first start 0 s to last end 5.86 s")
	assert.LessOrEqual(t, *s.Requests.WindowS, s.DurationS)
	require.Len(t, s.Warnings, 1)
	assert.Contains(t, s.Warnings[0], "journal: 1 request row comes after the last snapshot line")
	assert.Contains(t, s.Warnings[0], "the run's end is their last end (5.860 s)")
	ev := s.Events[len(s.Events)-1]
	assert.Equal(t, s.End, ev.Time)
	assert.Contains(t, ev.Message, "up to the end of its last request, 5.860 s, after its last snapshot at 4.000 s (3 snapshots and 1 rebuilt at that end for the requests after the last, 4 request rows of 4 requests counted; 1 line or row skipped: 1 cut short at the end of its file by the kill)")
}

// A bad line inside a file is told apart from a cut last line: its number, that it was not the last, and a
// warning in the rebuilt summary; the cut last line is only counted.
func TestRebuildTellsABadLineFromACutOne(t *testing.T) {
	p := testPaths(t)
	rawJournal(t, p.Snapshots, map[string]any{"kind": KindSnapshots, "config_id": "cfg", "start": t0},
		`{"seq":0,"snapshot":{"elapsed_s":0}}`, `{"seq":1,"snap`, `{"seq":2,"snapshot":{"elapsed_s":4}}`)
	f, err := os.OpenFile(p.Snapshots, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"seq":3,"snapshot":{"ela`) // the last line, cut
	require.NoError(t, err)
	require.NoError(t, f.Close())
	b, err := Load(p)
	require.NoError(t, err)
	name := filepath.Base(p.Snapshots)
	require.Len(t, b.Run.Damage, 2)
	assert.Equal(t, 3, b.Run.Damage[0].Line, "the header is line 1")
	assert.False(t, b.Run.Damage[0].Last)
	assert.False(t, b.Run.Damage[0].Cut)
	assert.Equal(t, Damage{File: name, Line: 5, Last: true, Cut: true, Reason: "cut short by the end of the file"}, b.Run.Damage[1])
	assert.Equal(t, []int{2, 1, 1}, []int{b.Run.Skipped, b.Run.Cut, b.Run.Unreadable})
	require.Len(t, b.Summary.Warnings, 1, "the cut line is what a kill leaves: no warning")
	assert.Contains(t, b.Summary.Warnings[0], "journal: "+name+" line 3, not its last: unreadable (unexpected end of JSON input): the file is damaged there")
	assert.Contains(t, b.Summary.Events[len(b.Summary.Events)-1].Message,
		"2 lines or rows skipped: 1 cut short at the end of its file by the kill, 1 unreadable within a file (damaged; the warnings say where)")
}

// crossCutJournal writes 4 ticks (0, 2, 4, 6 s) of rows of 100 output tokens each, TTFT 50 ms and 60 ms long,
// ending at 0.26, 1.06, 2.56, 3.56 s (by the server's last scrape, journaled with tick 2 at 4 s) and 4.26,
// 4.66, 5.06 s (with tick 3, whose line is then cut), with server statistics of gen generation tokens and 4
// TTFT observations of mean 50 ms, and loads it.
func crossCutJournal(t *testing.T, gen float64) *Rebuilt { return crossCutJournalNoRow(t, gen, 0) }

// crossCutJournalNoRow is crossCutJournal whose tallies count noRow more requests, dropped past the row bound;
// with noRow > 0 tick 3's line is left whole, so that its tallies (7 rows + noRow) are the ones read.
func crossCutJournalNoRow(t *testing.T, gen float64, noRow int) *Rebuilt {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	end := t0.Add(4 * time.Second)
	dur, mean := 4.0, 50.0
	srv := &serverstats.Stats{Start: &t0, End: &end, DurationS: &dur, Scrapes: 3, Figures: serverstats.Figures{
		GenerationTokens: &gen,
		TTFT:             &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 4, SumMS: 200, MeanMS: &mean}},
		NamesUsed: map[string]string{serverstats.FieldGenerationTokensTotal: "vllm:generation_tokens_total"}}
	starts := [][]float64{{0.2}, {1.0}, {2.5, 3.5}, {4.2, 4.6, 5.0}}
	total := 0
	for i, ss := range starts {
		e := Entry{Snapshot: snap(i)}
		for _, s := range ss {
			r, g := okRow(fmt.Sprint("q", total), s, 50, []float64{10})
			r.OutputTokens = 100
			e.Rows, e.Gaps = append(e.Rows, r), append(e.Gaps, g)
			total++
		}
		e.Requests = recorder.Counts{Total: total + noRow, OK: total + noRow, OutputTokens: int64(100 * total), Dropped: noRow}
		if i == 2 {
			e.Server = srv
		}
		require.NoError(t, w.Append(e))
	}
	require.NoError(t, w.Close())
	if noRow == 0 {
		st, err := os.Stat(p.Snapshots)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(p.Snapshots, st.Size()-7)) // tick 3's line cut; its rows are whole
	}
	b, err := Load(p)
	require.NoError(t, err)
	require.Equal(t, 7+noRow, b.Summary.Requests.OK)
	return b
}

// With requests counted that have no row (2 dropped past the row bound), the client's side of the cut
// cross-check misses those that ended by the server's last scrape: the warning says it is partial and why,
// rather than only blaming a mismatch (500 server tokens against the 400 of the 4 rows that ended by 4 s).
func TestRebuildCutCrossCheckPartialWithoutRows(t *testing.T) {
	b := crossCutJournalNoRow(t, 500, 2)
	var got []string
	for _, w := range b.Summary.Warnings {
		if strings.Contains(w, "server generation tokens") {
			got = append(got, w)
		}
	}
	require.Len(t, got, 1, b.Summary.Warnings)
	assert.True(t, strings.HasSuffix(got[0], "compared with the 4 successful requests that ended by then, of 9; partial: 2 requests counted have no row (2 past the row bound of "+fmt.Sprint(b.Run.Header.Rows())+"), and those that ended by then are not on the client's side, so a difference may be theirs)"), got[0])
}

// A rebuild whose server figures stop at 4 s while its requests run to 5.06 s cross-checks like with like:
// the server's 4 TTFT observations and 400 tokens against the 4 requests (400 tokens) that ended by then, not
// all 7 (700 tokens), which would blame other clients for a gap of −3 requests and −300 tokens.
func TestRebuildCrossChecksUpToTheServersLastScrape(t *testing.T) {
	b := crossCutJournal(t, 400)
	for _, w := range b.Summary.Warnings {
		assert.NotContains(t, w, "differ", "like with like agrees")
	}
	b = crossCutJournal(t, 300) // a true disagreement is still told, with what was compared
	var got []string
	for _, w := range b.Summary.Warnings {
		if strings.Contains(w, "server generation tokens") {
			got = append(got, w)
		}
	}
	require.Len(t, got, 1, b.Summary.Warnings)
	assert.Contains(t, got[0], "(300 from vllm:generation_tokens_total) and the client's output tokens (400) differ by -100 (-25.0% of the client's)")
	assert.True(t, strings.HasSuffix(got[0], "(the server's figures stop at its last scrape, 4.000 s, while the requests run to 5.060 s: compared with the 4 successful requests that ended by then, of 7)"), got[0])
}

// Rows after a frame that cannot be read (a length past the bound) are in the file but not read: the warning
// says so, rather than "not in the journal". Five rows a, b, c, d, e; row 3's frame damaged: rows 1 and 2
// read, row 3 unreadable, rows 4 and 5 not read.
func TestRebuildNamesRowsAfterADamagedFrame(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	var rows []recorder.Record
	var gaps [][]float64
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		r, g := okRow(id, float64(i)*0.1, 50, []float64{10})
		rows, gaps = append(rows, r), append(gaps, g)
	}
	require.NoError(t, w.Append(Entry{Snapshot: snap(1), Rows: rows, Gaps: gaps, Requests: recorder.Counts{Total: 5, OK: 5}}))
	require.NoError(t, w.Close())
	whole, err := os.ReadFile(p.Requests)
	require.NoError(t, err)
	rowLen := len(appendRow(nil, &rows[0], gaps[0])) // every row has the same length
	third := len(whole) - 3*rowLen
	binary.LittleEndian.PutUint32(whole[third:], maxRow+1)
	require.NoError(t, os.WriteFile(p.Requests, whole, 0o644))
	b, err := Load(p)
	require.NoError(t, err)
	assert.Equal(t, 3, b.Run.RowsStoppedAt)
	assert.Len(t, b.Rows, 2)
	var got string
	for _, w := range b.Summary.Warnings {
		if strings.Contains(w, "have no row") {
			got = w
		}
	}
	assert.Contains(t, got, "journal: 3 requests are counted but have no row (1 unreadable within the requests file, which is damaged, 2 in the requests file after its row 3, whose frame is damaged: not read)")

	// Row 2's length made to run past the end (within the bound): rows 2 to 5 read as one row cut short, and
	// row 1's CRC broken: no row read, 1 unreadable, 1 cut, and 3 hidden in the damaged file.
	binary.LittleEndian.PutUint32(whole[third:], uint32(rowLen-rowFrame)) // row 3 whole again
	binary.LittleEndian.PutUint32(whole[third-rowLen:], 4*uint32(rowLen))
	whole[third-2*rowLen+rowFrame+3] ^= 0x40
	require.NoError(t, os.WriteFile(p.Requests, whole, 0o644))
	b, err = Load(p)
	require.NoError(t, err)
	assert.Empty(t, b.Rows)
	assert.Contains(t, b.Summary.Warnings[0], "journal: 5 requests are counted but have no row (1 cut short at the end of the requests file by the kill, or by a damaged length running past it, 1 unreadable within the requests file, which is damaged, 3 not read from the requests file, which is damaged (a damaged length hides the rows it spans))")
}

// A run whose summary says it finished while its writer (this process) is alive is finishing: it removes its
// journal as it ends, so the journal is not said to be kept; QuietAt is one interval (2 s) on. Once the
// journal is gone, the run's files are complete (Gone).
func TestRebuildOfAFinishingRun(t *testing.T) {
	p := journalOf(t, needProc(t))
	files := p.files()
	writeSummary(t, files.RunSummaryJSON, "run1", t0, true)
	now := t0.Add(time.Hour)
	res, err := Rebuild(p, now)
	require.NoError(t, err)
	assert.True(t, res.Finishing)
	assert.False(t, res.Gone)
	assert.Equal(t, now.Add(2*time.Second), res.QuietAt)
	assert.Contains(t, res.Skipped, "the run is finishing (it removes its journal as it ends)")
	assert.NotContains(t, res.Skipped, "kept")
	assert.Nil(t, res.Summary)

	for _, f := range []string{p.Snapshots, p.Requests, p.Checks} {
		require.NoError(t, os.Remove(f))
	}
	res, err = Rebuild(p, now)
	require.NoError(t, err)
	assert.True(t, res.Gone)
	assert.False(t, res.Finishing)
	assert.True(t, res.QuietAt.IsZero())
	assert.Contains(t, res.Skipped, "its writer removed its journal as it ended: the run's files are complete")
}

// A run killed after one interval with one request: the rebuilt event counts in the singular ("1 snapshot",
// "1 request row of 1 request"), not "1 snapshots".
func TestRebuildCountsOneInTheSingular(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	r, g := okRow("q0", 0, 50, []float64{10})
	require.NoError(t, w.Append(Entry{Snapshot: snap(1), Rows: []recorder.Record{r}, Gaps: [][]float64{g},
		Requests: recorder.Counts{Total: 1, OK: 1}}))
	require.NoError(t, w.Close())
	b, err := Load(p)
	require.NoError(t, err)
	ev := b.Summary.Events[len(b.Summary.Events)-1].Message
	assert.Contains(t, ev, "up to its last interval (1 snapshot, 1 request row of 1 request counted; ")
	assert.NotContains(t, ev, "1 snapshots")
}
