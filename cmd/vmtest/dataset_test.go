package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/vllmsim"
)

// A ShareGPT dataset sent as multi-turn sessions to a simulator serving a base model and a LoRA adapter,
// mixed 3:1: the dataset line counts the entries by hand (7 entries: "short" is under 4 tokens, "noreply"
// has no reply, the other 5 pass), every session's first turn is in by_turn[0], and the per-model counts
// add up to every request sent.
func TestLoadDatasetMultiTurnMix(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{Model: "base", LoRAModules: []string{"sql-lora"},
		TTFTBase: 2 * time.Millisecond, TimePerOutputToken: 100 * time.Microsecond})
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "5", "-concurrency", "2",
		"-dataset", "../../loadgen/testdata/sharegpt.json", "-multi-turn", "-think-time", "1ms", "-model", "base=3,sql-lora=1",
		"-seed", "5", "-interval", "1s", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest: load: dataset: 5 prompts from 7 entries examined (skipped: 1 too short, 0 too long, 1 without a reply)")
	assert.Contains(t, out, ", 5 sessions, 5 prompts (5 multi-turn sessions), prompts naming models ", "-requests counts sessions")
	assert.Contains(t, out, "turn 1: 5 requests, 5 ok")
	assert.Contains(t, out, "turn 2: 1 requests, 1 ok", `"sys", the one entry with two exchanges`)
	files := runFilesNoPNG(t, dir, "load")
	s := readSummaryT(t, files["summary_json"])
	r := s.Requests
	require.Len(t, r.ByTurn, 2)
	assert.Equal(t, 6, r.Total)
	n := 0
	for m, g := range r.ByModel {
		assert.Contains(t, []string{"base", "sql-lora"}, m)
		n += g.Total
	}
	assert.Equal(t, 6, n)
	assert.Equal(t, 6, r.OK)

	// The requests CSV names each request's model and turn; its counts agree with the summary's groups.
	col, rows := testio.CSVFile(t, files["requests_csv"])
	models, turns := map[string]int{}, map[string]int{}
	for _, row := range rows[1:] {
		models[row[col["model"]]]++
		turns[row[col["turn"]]]++
	}
	for m, g := range r.ByModel {
		assert.Equal(t, g.Total, models[m], m)
	}
	assert.Equal(t, map[string]int{"1": 5, "2": 1}, turns)
}

func TestLoadDatasetFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-dataset", "x.json", "-prompt", "hi"},
		{"-multi-turn"},
		{"-dataset", "x.json", "-think-time", "1s"},
		{"-dataset", "x.json", "-dataset-format", "csv"},
		{"-model", "a=0,b=1"},
	} {
		code, _, errOut := runCmd(context.Background(), append([]string{"load", "-url", "http://127.0.0.1:1"}, args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}

// A -prompts line with "turns" is a session, sent turn by turn: two sessions of 2 and 1 turns, one
// request each, give 3 requests, 2 of them first turns.
func TestLoadPromptsFileSessions(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "p.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(`{"turns": ["hello there", "and more"]}`+"\n"+`{"turns": ["hi"]}`+"\n"), 0o644))
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "2", "-concurrency", "1",
		"-prompts", file, "-think-time", "1ms", "-max-tokens", "2", "-interval", "1s", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Equal(t, 3, s.Requests.Total)
	require.Len(t, s.Requests.ByTurn, 2)
	assert.Equal(t, 2, s.Requests.ByTurn[0].Total)
	assert.Equal(t, 1, s.Requests.ByTurn[1].Total)

	plain := filepath.Join(dir, "plain.jsonl")
	require.NoError(t, os.WriteFile(plain, []byte(`{"prompt": "hi"}`+"\n"), 0o644))
	code, _, errOut = runCmd(context.Background(), "load", "-url", sim.URL, "-prompts", plain, "-think-time", "1ms")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `-think-time: no line of -prompts `+plain+` has "turns"`)
}
