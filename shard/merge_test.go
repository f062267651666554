package shard

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// writeShard writes under dir the files of a shard run of n requests that started at start, as vmtest
// load -shard-count leaves them (requests of models "x" and "y" in turn; a client cost of 60 s of wall time,
// 6·(index+1) s of CPU on 2 cores), and returns dir.
func writeShard(t *testing.T, dir string, s Spec, wl Workload, start time.Time, n int) string {
	t.Helper()
	return writeShardWith(t, dir, s, wl, start, n, nil, nil)
}

// writeShardWith is writeShard for a run that scraped server (nil: none) and had the caller's warnings.
func writeShardWith(t *testing.T, dir string, s Spec, wl Workload, start time.Time, n int, server *serverstats.Stats, warnings []string) string {
	t.Helper()
	r := recorder.New(start, recorder.Config{})
	rng := rand.New(rand.NewPCG(uint64(s.Index), 7))
	for i := range n {
		rec, gaps := benchRecord(rng, i)
		rec.Model = []string{"x", "y"}[i%2]
		r.AddRecord(rec, gaps)
	}
	reqs, rows := r.Cut()
	snaps := []snapshot.Snapshot{{Timestamp: start.Add(time.Second), ElapsedS: 1, ConfigID: wl.ConfigID}}
	sum := summary.Compute(summary.Input{RunID: "run" + strconv.Itoa(s.Index), ConfigID: wl.ConfigID, Start: start,
		End: start.Add(time.Minute), DurationS: 60, IntervalS: 2, Snapshots: snaps, Requests: reqs,
		Events: []snapshot.Event{{Time: start, Source: "vmtest", Message: "hello"}}, Server: server, Warnings: warnings,
		Client: &recorder.ClientCost{Runs: 1, WallS: 60, CPUS: 6 * float64(s.Index+1), GOMAXPROCS: 2}})
	files := report.Names(dir, wl.ConfigID, start, "")
	require.NoError(t, report.WriteAll(files, report.SnapshotFile{ConfigID: wl.ConfigID, Start: start, Snapshots: snaps}, rows, sum, nil))
	require.NoError(t, WriteFile(PathFor(files.SnapshotsJSON), File{Shard: s, Workload: wl, Requests: r.State()}))
	return dir
}

// Merge sums the shards' counts, re-bases and prefixes their rows up to its bound, keeps every shard's
// events, says when shards are missing, and refuses shards that do not belong together, naming them.
func TestMergeDirectories(t *testing.T) {
	base := t.TempDir()
	wl := Workload{ConfigID: "cfg", Model: "m", Concurrency: 4, Requests: 30}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d0 := writeShard(t, filepath.Join(base, "a"), Spec{0, 3}, wl, t0.Add(2*time.Second), 10)
	d1 := writeShard(t, filepath.Join(base, "b"), Spec{1, 3}, wl, t0, 10)

	m, err := Merge([]string{d1, d0}, Options{MaxRows: 15})
	require.NoError(t, err)
	r := m.Summary.Requests
	assert.Equal(t, 20, r.Total)
	assert.Equal(t, 5, r.Dropped, "15 rows of 20 kept")
	require.Len(t, m.Rows, 15)
	assert.True(t, strings.HasPrefix(m.Rows[0].ID, "0/"), "shard 0's rows first: %s", m.Rows[0].ID)
	assert.Equal(t, "1/0", m.Rows[10].ID)
	assert.InDelta(t, 2.0, m.Rows[0].StartS, 1e-9, "shard 0 started 2 s after shard 1, the merged start")
	assert.Equal(t, t0, m.Summary.Start)
	require.Len(t, m.Snapshots.Snapshots, 1, "shard 0's snapshots")
	assert.InDelta(t, 3.0, m.Snapshots.Snapshots[0].ElapsedS, 1e-9, "1 s into shard 0, 3 s after the merged start")
	assert.Contains(t, m.Summary.Warnings[0], "only 2 of the 3 shards merged")
	var msgs []string
	for _, e := range m.Summary.Events {
		msgs = append(msgs, e.Message)
	}
	assert.Contains(t, msgs, "shard 0: hello")
	assert.Contains(t, msgs, "shard 1: hello")
	require.Contains(t, r.ByModel, "x")
	assert.Equal(t, 10, r.ByModel["x"].Total, "5 of each shard's 10 requests")
	assert.Equal(t, 10, r.ByModel["y"].Total)
	c := m.Summary.Client
	require.NotNil(t, c, "every shard's client cost")
	assert.Equal(t, 2, c.Runs)
	assert.InDelta(t, 18.0, c.CPUS, 1e-12, "6 s + 12 s")
	assert.InDelta(t, 18.0/(120*2), *c.CPUUtilization, 1e-12, "18 s of CPU over 2 × 60 s on 2 cores")

	out := filepath.Join(base, "out")
	require.NoError(t, Write(out, m))
	again, err := Merge([]string{out}, Options{})
	require.NoError(t, err, "a merged directory merges again")
	assert.Equal(t, 20, again.Summary.Requests.Total)

	dup := writeShard(t, filepath.Join(base, "dup"), Spec{1, 3}, wl, t0, 3)
	other := writeShard(t, filepath.Join(base, "four"), Spec{2, 4}, wl, t0, 3)
	notShard := filepath.Join(base, "plain")
	require.NoError(t, os.MkdirAll(notShard, 0o755))
	writeShard(t, notShard, Spec{2, 3}, wl, t0, 3)
	shardFiles, _ := filepath.Glob(filepath.Join(notShard, "shard_*.json"))
	require.Len(t, shardFiles, 1)
	require.NoError(t, os.Remove(shardFiles[0]))
	for _, c := range []struct {
		dirs []string
		want string
	}{
		{[]string{d1, dup}, "are both shard 1"},
		{[]string{d0, other}, "is shard 2 of 4"},
		{[]string{d0, notShard}, "was the run a shard"},
		{[]string{filepath.Join(base, "none")}, "holds no run"},
		{[]string{d0, oldShard(t, filepath.Join(base, "old"), wl, t0)}, fmt.Sprintf("request state version 1, want %d", recorder.StateVersion)},
	} {
		_, err := Merge(c.dirs, Options{})
		require.Error(t, err, c.want)
		assert.Contains(t, err.Error(), c.want)
	}
}

// oldShard writes under dir a shard run whose shard file carries a request state of version 1, as a vmtest
// before the state had groups wrote it, and returns dir.
func oldShard(t *testing.T, dir string, wl Workload, start time.Time) string {
	t.Helper()
	writeShard(t, dir, Spec{2, 3}, wl, start, 3)
	paths, _ := filepath.Glob(filepath.Join(dir, "shard_*.json"))
	require.Len(t, paths, 1)
	f, err := ReadFile(paths[0])
	require.NoError(t, err)
	f.Requests.Version = 1
	require.NoError(t, WriteFile(paths[0], f))
	return dir
}

// shardTokens is the output tokens of the n requests writeShard records for shard index.
func shardTokens(index, n int) float64 {
	rng := rand.New(rand.NewPCG(uint64(index), 7))
	sum := 0
	for i := range n {
		rec, _ := benchRecord(rng, i)
		sum += rec.OutputTokens
	}
	return float64(sum)
}

// Each shard's client/server cross-check compares its share of the requests with the whole server's counts
// and warns; the merge drops those and cross-checks the merged requests with the server once (here they
// agree: no warning), keeping the shards' other warnings prefixed. Merging one shard of two, the cross-check
// over what was merged warns once, unprefixed.
func TestMergeCrossChecksOnceOverTheMergedRequests(t *testing.T) {
	base := t.TempDir()
	wl := Workload{ConfigID: "cfg", Model: "m", Concurrency: 4, Requests: 20}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tokens := shardTokens(0, 10) + shardTokens(1, 10)
	server := &serverstats.Stats{Scrapes: 5, Figures: serverstats.Figures{TTFT: &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 20},
		GenerationTokens: &tokens}, NamesUsed: map[string]string{serverstats.FieldGenerationTokensTotal: "vllm:generation_tokens_total"}}
	d0 := writeShardWith(t, filepath.Join(base, "a"), Spec{0, 2}, wl, t0, 10, server, []string{"own warning"})
	d1 := writeShardWith(t, filepath.Join(base, "b"), Spec{1, 2}, wl, t0, 10, server, nil)

	shard0, err := Merge([]string{d0}, Options{})
	require.NoError(t, err)
	var cross []string
	for _, w := range shard0.Summary.Warnings {
		if strings.Contains(w, "server TTFT observations") {
			cross = append(cross, w)
		}
	}
	require.Len(t, cross, 1, "one shard of two: the server counted 20, the client 10: %q", shard0.Summary.Warnings)
	assert.True(t, strings.HasPrefix(cross[0], "server TTFT observations over the window (20 from vllm:time_to_first_token_seconds) and requests the client completed (10) differ by 10"), cross[0])
	assert.Equal(t, []int{1}, shard0.Missing)
	for _, w := range shard0.Summary.Warnings {
		if strings.HasPrefix(w, "server ") {
			assert.True(t, strings.HasSuffix(w, "; here most likely the missing shards (shard 1): the server counted their requests, which no merged figure has"), w)
		}
	}
	assert.Contains(t, shard0.Summary.Warnings[0], "only 1 of the 2 shards merged")
	assert.Contains(t, shard0.Summary.Warnings[0], "request statistics over the merged shards' requests")
	assert.NotContains(t, shard0.Summary.Warnings[0], "every shard's")
	assert.Equal(t, "shards 0, 2", shardList([]int{0, 2}))

	m, err := Merge([]string{d0, d1}, Options{})
	require.NoError(t, err)
	assert.Empty(t, m.Missing)
	assert.Equal(t, 20, m.Summary.Requests.OK)
	assert.Equal(t, int64(tokens), m.Summary.Requests.OutputTokens)
	for _, w := range m.Summary.Warnings {
		assert.NotContains(t, w, "server TTFT observations", "each shard's cross-check is dropped; the merged one agrees")
		assert.NotContains(t, w, "server generation tokens")
	}
	assert.Contains(t, m.Summary.Warnings, "shard 0: own warning")
	assert.Contains(t, m.Summary.Warnings[0], "the client/server cross-checks are over the merged requests")
}

// A shard's cross-check warning that names a restart of the server is its own too: the merge drops it and
// cross-checks the merged requests once; merging one shard of two, that warning names the restart and then
// the missing shard.
func TestMergeDropsShardCrossChecksThatNameARestart(t *testing.T) {
	base := t.TempDir()
	wl := Workload{ConfigID: "cfg", Model: "m", Concurrency: 4, Requests: 20}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tokens := shardTokens(0, 10) + shardTokens(1, 10)
	server := &serverstats.Stats{Scrapes: 5, Restarts: 1, RestartTimes: []time.Time{t0.Add(3 * time.Second)},
		Figures:   serverstats.Figures{TTFT: &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 20}, GenerationTokens: &tokens},
		NamesUsed: map[string]string{serverstats.FieldGenerationTokensTotal: "vllm:generation_tokens_total"}}
	d0 := writeShardWith(t, filepath.Join(base, "a"), Spec{0, 2}, wl, t0, 10, server, nil)
	d1 := writeShardWith(t, filepath.Join(base, "b"), Spec{1, 2}, wl, t0, 10, server, nil)
	const restart = "; and the server restarted once in the window (seen at 3.0 s): what it generated between its last scrape and each restart is in none of its counters"

	m, err := Merge([]string{d0, d1}, Options{})
	require.NoError(t, err)
	for _, w := range m.Summary.Warnings {
		assert.NotContains(t, w, "server TTFT observations", "each shard's cross-check is dropped; the merged one agrees")
		assert.NotContains(t, w, "server generation tokens")
	}

	one, err := Merge([]string{d0}, Options{})
	require.NoError(t, err)
	var cross []string
	for _, w := range one.Summary.Warnings {
		if strings.HasPrefix(w, "server ") || strings.HasPrefix(w, "shard 0: server ") {
			cross = append(cross, w)
		}
	}
	require.Len(t, cross, 2, "%q", one.Summary.Warnings)
	for _, w := range cross {
		assert.True(t, strings.HasPrefix(w, "server "), "not a shard's own: %s", w)
		assert.True(t, strings.HasSuffix(w, restart+"; here most likely the missing shards (shard 1): the server counted their requests, which no merged figure has"), w)
	}
}
