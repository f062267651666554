package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

// The command's plumbing: flags become sweep.Options, every step writes its own files under -out, the report
// and the verdict come out, and the exit status says whether any step met the SLO. (The answer itself,
// worked out by hand from the simulator's timing model, is package sweep's test, on a virtual clock.)
func TestSweepCommand(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	for _, tc := range []struct {
		name, slo, want string
		code            int
	}{
		{"met", "p(99) ttft < 10s", "sweep: highest concurrency that met the SLO: 2", exitOK},
		// 1 µs: every request is over it; with 6 planned, 6 − ⌊5·0.99⌋ = 2 of them decide the p99.
		{"not met", "p(99) ttft < 1us", "sweep: no step met the SLO", exitFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errOut := runCmd(context.Background(), "sweep", "-url", sim.URL, "-concurrency", "1,2", "-requests", "6",
				"-max-tokens", "4", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png", "-slo", tc.slo, "-slo", "error_rate < 1%")
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, tc.want)
			assert.Contains(t, out, "sweep: concurrency_1: closed loop, 1 concurrent clients, 6 requests, 1 warm-up")
			for _, step := range []string{"concurrency_1", "concurrency_2"} {
				runFilesNoPNG(t, filepath.Join(dir, step), step)
			}
			for _, pattern := range []string{"comparison_report_*.md", "comparison_report_*.html", "sweep_*.json"} {
				m, err := filepath.Glob(filepath.Join(dir, pattern))
				require.NoError(t, err)
				require.Len(t, m, 1, pattern)
			}
			if tc.code == exitFail {
				assert.Contains(t, out, `sweep: concurrency_1: SLO not met; stopped early: threshold "p(99) ttft < 1us" can no longer be met: 2 successful requests`)
				page, err := os.ReadFile(runFilesNoPNG(t, filepath.Join(dir, "concurrency_1"), "concurrency_1")["report_html"])
				require.NoError(t, err)
				assert.Contains(t, string(page), "(judged at every step of the sweep)", "the step's verdict says where its check came from")
				assert.NotContains(t, string(page), "check registered at", "not a line inside the sweep")
			}
		})
	}
}

// A search whose upper bound meets every -slo says which flag to raise, not a library field, and its report
// states the resolution used.
func TestSweepSearchAtItsUpperBound(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "sweep", "-url", sim.URL, "-concurrency", "1:2", "-requests", "4",
		"-max-tokens", "4", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png", "-slo", "error_rate < 1%")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest sweep: the upper bound 2 met every -slo: give a higher HI in -concurrency LO:HI to search higher")
	assert.NotContains(t, out, "Search.Hi")
	md, err := filepath.Glob(filepath.Join(dir, "comparison_report_*.md"))
	require.NoError(t, err)
	require.Len(t, md, 1)
	b, err := os.ReadFile(md[0])
	require.NoError(t, err)
	assert.Contains(t, string(b), "bisection between concurrency 1 and 2 (resolution 1, the default)")
	assert.NotContains(t, string(b), "0 is the default")
}

func TestSweepUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-slo", "p(99) ttft < 1s", "-concurrency", "1,2"}, "-url (or -servers) is required"},
		{[]string{"-url", "http://x", "-concurrency", "1,2"}, "-slo is required"},
		{[]string{"-url", "http://x", "-slo", "p(99) ttft < 1s"}, "give exactly one of -concurrency and -rate"},
		{[]string{"-url", "http://x", "-slo", "p(99) ttft < 1s", "-rate", "1,x"}, `-rate "1,x": want a comma-separated list of numbers, or LO:HI`},
		{[]string{"-url", "http://x", "-slo", "p(99) ttft < 1s", "-concurrency", "1,2", "-resolution", "2"}, "-resolution applies to a search"},
	} {
		code, _, errOut := runCmd(context.Background(), append([]string{"sweep"}, tc.args...)...)
		assert.Equal(t, exitUsage, code, "%q", tc.args)
		assert.Contains(t, errOut, tc.want, "%q", tc.args)
	}
}

// A sweep over a ShareGPT dataset with a 3:1 mix of a base model and a LoRA adapter takes the same flags as
// `vmtest load`: the dataset line counts the entries by hand (7 entries: "short" is under 4 tokens,
// "noreply" has no reply, the other 5 pass), and every step's per-model counts add up to its requests, each
// model named by the mix and no other.
func TestSweepDatasetMix(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{Model: "base", LoRAModules: []string{"sql-lora"},
		TTFTBase: 2 * time.Millisecond, TimePerOutputToken: 100 * time.Microsecond})
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "sweep", "-url", sim.URL, "-concurrency", "1,2", "-requests", "8",
		"-dataset", "../../loadgen/testdata/sharegpt.json", "-model", "base=3,sql-lora=1", "-seed", "5",
		"-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png", "-slo", "error_rate < 1%")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest: load: dataset: 5 prompts from 7 entries examined (skipped: 1 too short, 0 too long, 1 without a reply)")
	assert.Contains(t, out, "sweep: highest concurrency that met the SLO: 2")
	for _, step := range []string{"concurrency_1", "concurrency_2"} {
		s := readSummaryT(t, runFilesNoPNG(t, filepath.Join(dir, step), step)["summary_json"])
		r := s.Requests
		assert.Equal(t, 8, r.Total, step)
		n := 0
		for m, g := range r.ByModel {
			assert.Contains(t, []string{"base", "sql-lora"}, m, step)
			n += g.Total
		}
		assert.Equal(t, r.Total, n, step)
		assert.Len(t, r.ByModel, 2, "%s: seed 5 draws both models over 8 requests", step)
	}
}

// The dataset flags' own errors are the same as `vmtest load`'s: one check for both commands.
func TestSweepDatasetFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-dataset", "x.json", "-prompt", "hi"},
		{"-multi-turn"},
		{"-model", "a=0,b=1"},
		{"-input-tokens", "8", "-prompts", "x.jsonl"},
	} {
		code, _, errOut := runCmd(context.Background(), append([]string{"sweep", "-url", "http://127.0.0.1:1", "-concurrency", "1", "-slo", "error_rate < 1%"}, args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}
