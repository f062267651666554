package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

// vmtest load says when its run cannot be trusted: a model that ends every request after 2 tokens while 8 are
// asked for without ignore_eos produces 6 × 2 = 12 of 6 × 8 = 48 tokens (25 %), and the output says so, with
// the client's own CPU and scheduler latency beside it; with -ignore-eos the simulator honours the length
// and nothing is said.
func TestLoadWarnsOfOutputLengthsNotHonoured(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{Model: "sim-model", TTFTBase: 5 * time.Millisecond, TimePerOutputToken: time.Millisecond, EOSAfterTokens: 2})
	args := []string{"load", "-url", sim.URL, "-requests", "6", "-concurrency", "2", "-max-tokens", "8", "-interval", "1s", "-gpu", "none", "-no-png"}
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), append(args, "-out", dir)...)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest: warning: requested output lengths not honoured: 6 successful requests without ignore_eos produced 12 of the 48 tokens their max_tokens asked for (25.0 %")
	assert.Contains(t, out, "send ignore_eos (-ignore-eos")
	assert.Contains(t, out, "vmtest: client process: CPU ")
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Equal(t, recorder.LengthTally{Requests: 6, RequestedTokens: 48, OutputTokens: 12, Short: 6, Off: 6}, s.Requests.OutputLength.Free)
	require.NotNil(t, s.Client, "the load's cost is in the summary")
	assert.Equal(t, 1, s.Client.Runs)
	assert.Greater(t, s.Client.CPUS, 0.0)

	dir = t.TempDir()
	code, out, errOut = runCmd(context.Background(), append(args, "-out", dir, "-ignore-eos")...)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.NotContains(t, out, "output lengths not honoured")
	s = readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Equal(t, recorder.LengthTally{Requests: 6, RequestedTokens: 48, OutputTokens: 48}, s.Requests.OutputLength.IgnoreEOS)
}
