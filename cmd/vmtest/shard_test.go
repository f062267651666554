package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/shard"
)

// numpyLinear is numpy.percentile's default ("linear") method over sorted xs, written out here apart from
// recorder.Percentile: h = (n−1)·q/100, interpolating between the order statistics at floor(h) and ceil(h).
func numpyLinear(xs []float64, q float64) float64 {
	h := float64(len(xs)-1) * q / 100
	lo, hi := int(math.Floor(h)), int(math.Ceil(h))
	return xs[lo] + (h-math.Floor(h))*(xs[hi]-xs[lo])
}

// csvColumns reads a requests CSV with encoding/csv and returns, for the rows whose outcome is "ok", the
// values of each named column, and the number of rows of any outcome.
func csvColumns(t *testing.T, path string, cols ...string) (map[string][]float64, int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	idx := map[string]int{}
	for i, h := range recs[0] {
		idx[h] = i
	}
	out := map[string][]float64{}
	for _, r := range recs[1:] {
		if r[idx["outcome"]] != "ok" {
			continue
		}
		for _, c := range cols {
			if cell := r[idx[c]]; cell != "" {
				v, err := strconv.ParseFloat(cell, 64)
				require.NoError(t, err)
				out[c] = append(out[c], v)
			}
		}
	}
	return out, len(recs) - 1
}

// Four shard processes of the command against one simulator, then vmtest merge: the merged counts are
// the sums, the merged percentiles numpy's over the union of the four requests CSVs; a shard of another load
// test is refused, naming what differs.
func TestShardsMergeToTheUnionOfTheirRequests(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command and runs five processes of it")
	}
	sim := fastSim(t)
	bin := vmtestBinary(t)
	base := t.TempDir()
	startAt := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	const n, requests = 4, 42
	closed := []string{"-concurrency", "6"}
	load := func(dir, maxTokens string, extra []string, env ...string) *exec.Cmd {
		args := append([]string{"load", "-url", sim.URL, "-requests", strconv.Itoa(requests), "-max-tokens", maxTokens,
			"-interval", "200ms", "-gpu", "none", "-no-png", "-config", "sharded", "-out", dir, "-start-at", startAt}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}
	dirs := make([]string, n)
	cmds := make([]*exec.Cmd, n+1)
	for i := range n {
		dirs[i] = filepath.Join(base, fmt.Sprintf("shard-%d", i))
		if i%2 == 0 { // flags, or what a Kubernetes Indexed Job sets
			cmds[i] = load(dirs[i], "8", append(closed, "-shard-index", strconv.Itoa(i), "-shard-count", strconv.Itoa(n)))
		} else {
			cmds[i] = load(dirs[i], "8", closed, shard.EnvIndex+"="+strconv.Itoa(i), shard.EnvCount+"="+strconv.Itoa(n))
		}
	}
	other := filepath.Join(base, "other")
	cmds[n] = load(other, "4", append(closed, "-shard-index", "1", "-shard-count", strconv.Itoa(n)))
	var wg sync.WaitGroup
	outs := make([][]byte, len(cmds))
	errs := make([]error, len(cmds))
	for i, c := range cmds {
		wg.Go(func() { outs[i], errs[i] = c.CombinedOutput() })
	}
	wg.Wait()
	for i := range cmds {
		require.NoError(t, errs[i], "process %d: %s", i, outs[i])
	}

	out := filepath.Join(base, "merged")
	code, stdout, stderr := runCmd(context.Background(), append([]string{"merge", "-out", out}, dirs...)...)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	merged := readSummaryT(t, filepath.Join(out, "summary_statistics.json"))

	cols := []string{"ttft_ms", "e2e_ms", "tpot_ms"}
	union := map[string][]float64{}
	rows := 0
	for i, d := range dirs {
		m, err := filepath.Glob(filepath.Join(d, "requests_sharded_*.csv"))
		require.NoError(t, err)
		require.Len(t, m, 1)
		vals, nrows := csvColumns(t, m[0], cols...)
		assert.Equal(t, []int{11, 11, 10, 10}[i], nrows, "shard %d's share of %d requests", i, requests)
		rows += nrows
		for _, c := range cols {
			union[c] = append(union[c], vals[c]...)
		}
	}
	r := merged.Requests
	assert.Equal(t, requests, rows)
	assert.Equal(t, requests, r.Total)
	assert.Equal(t, len(union["e2e_ms"]), r.OK)
	assert.Equal(t, 0, r.Dropped)
	for _, c := range cols {
		xs := union[c]
		slices.Sort(xs)
		st, err := merged.Latency(strings.TrimSuffix(c, "_ms"))
		require.NoError(t, err)
		require.Equal(t, len(xs), st.N, c)
		assert.False(t, st.Approximate, c)
		for _, q := range []int{50, 90, 95, 99} {
			got, ok := st.Quantile(q)
			require.True(t, ok)
			assert.Equal(t, numpyLinear(xs, float64(q)), got, "%s p%d", c, q)
		}
		assert.Equal(t, xs[0], *st.Min, c)
		assert.Equal(t, xs[len(xs)-1], *st.Max, c)
	}
	mergedRows, _ := csvColumns(t, merged.Files["requests_csv"], cols...)
	assert.Len(t, mergedRows["e2e_ms"], r.OK, "the merged requests CSV holds every shard's rows")

	code, _, stderr = runCmd(context.Background(), "merge", "-out", filepath.Join(base, "bad"), dirs[0], other)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr, "ran different load tests: max_tokens 8 against 4")

	// Open loop: 4 shards of -rate 200 each send 50 req/s on their own schedule; the merged latencies from
	// the intended start are those of the union.
	for i := range n {
		dirs[i] = filepath.Join(base, fmt.Sprintf("open-%d", i))
		cmds[i] = load(dirs[i], "8", []string{"-rate", "200"}, shard.EnvIndex+"="+strconv.Itoa(i), shard.EnvCount+"="+strconv.Itoa(n))
	}
	for i := range n {
		wg.Go(func() { outs[i], errs[i] = cmds[i].CombinedOutput() })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "open-loop process %d: %s", i, outs[i])
		assert.Contains(t, string(outs[i]), "open loop at 50 req/s", "shard %d's share of the rate", i)
	}
	out = filepath.Join(base, "open-merged")
	code, stdout, stderr = runCmd(context.Background(), append([]string{"merge", "-out", out}, dirs...)...)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	merged = readSummaryT(t, filepath.Join(out, "summary_statistics.json"))
	openCols := []string{"ttft_from_intended_ms", "send_lag_ms"}
	openUnion := map[string][]float64{}
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "requests_sharded_*.csv"))
		require.Len(t, m, 1)
		vals, _ := csvColumns(t, m[0], openCols...)
		for _, c := range openCols {
			openUnion[c] = append(openUnion[c], vals[c]...)
		}
	}
	assert.Equal(t, requests, merged.Requests.Total)
	for _, c := range openCols {
		xs := openUnion[c]
		slices.Sort(xs)
		st := merged.Requests.TTFTFromIntendedMS
		if c == "send_lag_ms" {
			st = merged.Requests.SendLagMS
		}
		require.Equal(t, len(xs), st.N, c)
		require.Positive(t, st.N, c)
		for _, q := range []int{50, 99} {
			got, _ := st.Quantile(q)
			assert.Equal(t, numpyLinear(xs, float64(q)), got, "%s p%d", c, q)
		}
	}
	assert.NotNil(t, merged.Requests.MeanInterArrivalMS, "the merged open-loop schedule")
	require.NotNil(t, merged.Client, "every shard's client cost")
	assert.Equal(t, n, merged.Client.Runs, "one load run per shard")
	var models int
	for _, g := range merged.Requests.ByModel {
		models += g.Total
	}
	assert.Equal(t, requests, models, "by_model holds every shard's requests")
}

// The shards' shares of workers and requests sum to the totals, the remainders going to the lowest indexes;
// each shard starts at its own place in the prompts; a total too small for a shard is refused, naming it.
func TestSplitLoad(t *testing.T) {
	prompts := loadgen.ChatPrompts("a", "b", "c", "d", "e", "f", "g", "h")
	var workers, reqs []int
	var firsts []string
	for i := range 3 {
		lc := loadgen.LoadConfig{Concurrency: 8, Requests: 100, Prompts: prompts, Seed: 7}
		require.NoError(t, splitLoad(&lc, shard.Spec{Index: i, Count: 3}))
		workers, reqs = append(workers, lc.Concurrency), append(reqs, lc.Requests)
		firsts = append(firsts, fmt.Sprint(lc.Prompts[0].Messages[0].Content))
		assert.Len(t, lc.Prompts, len(prompts))
	}
	assert.Equal(t, []int{3, 3, 2}, workers)
	assert.Equal(t, []int{34, 33, 33}, reqs)
	assert.Equal(t, []string{"a", "c", "f"}, firsts, "offsets 0, 8/3, 16/3")

	lc := loadgen.LoadConfig{Rate: 10, Prompts: prompts, Seed: 7}
	require.NoError(t, splitLoad(&lc, shard.Spec{Index: 1, Count: 4}))
	assert.Equal(t, 2.5, lc.Rate)
	assert.NotEqual(t, uint64(7), lc.Seed)

	lc = loadgen.LoadConfig{Concurrency: 2, Prompts: prompts}
	err := splitLoad(&lc, shard.Spec{Index: 2, Count: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-concurrency 2 leaves shard 2 of 3 nothing")
}

// A shard waits for -start-at, and no longer; a start time already past does not wait.
func TestWaitUntilStartAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Now().Add(90 * time.Second)
		require.True(t, waitUntil(context.Background(), at))
		assert.Equal(t, at, time.Now())
		before := time.Now()
		require.True(t, waitUntil(context.Background(), before.Add(-time.Hour)))
		assert.Equal(t, before, time.Now())
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		assert.False(t, waitUntil(ctx, time.Now().Add(time.Hour)))
		assert.Equal(t, before.Add(time.Second), time.Now())
	})
}

// A -start-at already past says so, with how long ago, and the load starts at once; one ahead gives no warning.
func TestLateStartAt(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	assert.Equal(t, "-start-at 2026-01-02T15:04:05Z passed 1m30.25s ago: the load starts now, that late against shards that started on time",
		lateStart(at, at.Add(90250*time.Millisecond)))
	assert.Empty(t, lateStart(at, at))
	assert.Empty(t, lateStart(at, at.Add(-time.Second)))
	assert.Empty(t, lateStart(time.Time{}, at))

	sim := fastSim(t)
	dir := t.TempDir()
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-model", "sim-model", "-requests", "2", "-max-tokens", "2",
		"-interval", "1m", "-gpu", "none", "-no-png", "-out", dir, "-config", "late", "-start-at", past)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.NotContains(t, out, "waiting until")
	want := regexp.MustCompile(`-start-at ` + regexp.QuoteMeta(past) + ` passed 1h0m\d+(\.\d+)?s ago: the load starts now`)
	assert.Regexp(t, want, errOut)
	s := readSummaryT(t, runFilesNoPNG(t, dir, "late")["summary_json"])
	assert.True(t, slices.ContainsFunc(s.Warnings, want.MatchString), "%q", s.Warnings)
}

// The shard flags are checked before anything is sent, each error naming the flag.
func TestShardFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-shard-index", "4", "-shard-count", "4"}, "-shard-index 4: must be below the shard count 4"},
		{[]string{"-shard-index", "1"}, "-shard-index 1 without a shard count"},
		{[]string{"-shard-count", "2", "-shard-index", "0", "-start-at", "tomorrow"}, `-start-at "tomorrow": not an RFC 3339 time`},
	} {
		code, _, stderr := runCmd(context.Background(), append([]string{"load", "-url", "http://127.0.0.1:1"}, c.args...)...)
		assert.Equal(t, exitUsage, code, c.args)
		assert.Contains(t, stderr, c.want, c.args)
	}
	code, _, stderr := runCmd(context.Background(), "merge", "-out", t.TempDir(), t.TempDir())
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr, "holds no run")
}

// vmtest merge refuses fewer shards than their count (nothing written, exit 1) unless -partial, which merges
// them with a warning on stderr; -slo is checked over the merged summary, exit 1 when one is not met.
func TestMergePartialAndSLOs(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	base := t.TempDir()
	dirs := make([]string, 2)
	for i := range dirs {
		dirs[i] = filepath.Join(base, fmt.Sprintf("s%d", i))
		code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-model", "sim-model", "-concurrency", "2",
			"-requests", "6", "-max-tokens", "2", "-interval", "1m", "-gpu", "none", "-no-png", "-config", "m", "-out", dirs[i],
			"-shard-index", strconv.Itoa(i), "-shard-count", "2")
		require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	}

	refused := filepath.Join(base, "refused")
	code, _, errOut := runCmd(context.Background(), "merge", "-out", refused, dirs[1])
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "vmtest merge: 1 of the 2 shards given (missing: shard 0); nothing written (give every shard's directory, or -partial to merge these)")
	_, err := os.Stat(refused)
	assert.True(t, os.IsNotExist(err), "nothing written: %v", err)

	code, out, errOut := runCmd(context.Background(), "merge", "-partial", "-out", filepath.Join(base, "partial"), dirs[1])
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, errOut, "vmtest merge: warning: 1 of the 2 shards given (missing: shard 0): the requests of the missing shards are in no figure")
	assert.Contains(t, out, "merged 1 shard: 3 requests, 3 ok")

	code, out, errOut = runCmd(context.Background(), append([]string{"merge", "-out", filepath.Join(base, "all"),
		"-slo", "error_rate < 1%", "-slo", "request_throughput > 1000000"}, dirs...)...)
	assert.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "merged 2 shards: 6 requests, 6 ok")
	assert.Contains(t, out, "vmtest: SLO met        threshold \"error_rate < 1%\"\nvmtest: SLO NOT met (no data) threshold \"request_throughput > 1000000\": request_throughput > 1000000 req/s: no data (n=6 successful requests over ")
	assert.True(t, strings.HasSuffix(out, "vmtest: 1 of 2 checks not met, 0 not known\n"), out)
	assert.Contains(t, errOut, `vmtest merge: threshold "request_throughput > 1000000"`)
	assert.True(t, strings.HasSuffix(errOut, `) (from -slo "request_throughput > 1000000")`+"\n"), "named as load names it: %s", errOut)
	assert.NotContains(t, errOut, "vmtest: threshold", "one prefix: %s", errOut)
	assert.LessOrEqual(t, strings.Count(errOut, "not met"), 1, "said once: %s", errOut)

	code, _, _ = runCmd(context.Background(), append([]string{"merge", "-out", filepath.Join(base, "met"), "-slo", "error_rate < 1%"}, dirs...)...)
	assert.Equal(t, exitOK, code)
	code, _, errOut = runCmd(context.Background(), "merge", "-slo", "p(99) ttft <", dirs[0])
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-slo #1: ")
}
