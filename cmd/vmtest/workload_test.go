package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testio"
)

// Synthetic shared-prefix prompts against the simulator: every request's prompt_tokens is exactly
// prefix + suffix = 82, every request generates its max_tokens (4..8), and the server's prefix-cache hit
// rate is in the summary and in a threshold. By hand: a chat prompt is <|im_start|> user, the 32-token
// prefix, then the suffix, so its first 2 blocks of 16 are shared; sent one at a time, the 8 requests that
// are not the first of their prefix hit 32 tokens each: 8·32 / (10·82) = 256/820. The interval is long so
// that a slow scrape (race detector, busy machine) still reads: the rate needs the first and the last.
func TestLoadSyntheticSharedPrefix(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "10", "-concurrency", "1",
		"-input-tokens", "50", "-output-tokens", "uniform:4-8", "-prefixes", "2", "-prefix-tokens", "32", "-suffixes-per-prefix", "5",
		"-seed", "9", "-interval", "1s", "-out", dir, "-gpu", "none", "-no-png", "-slo", "server.prefix_cache_hit_rate > 25%")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest: load: 10 synthetic chat prompts, input 50 tokens (exact (the server's /tokenize)), output uniform:4-8 tokens")
	files := runFilesNoPNG(t, dir, "load")
	s := readSummaryT(t, files["summary_json"])
	require.NotNil(t, s.Server)
	require.NotNil(t, s.Server.PrefixCacheHitRate)
	assert.InDelta(t, 256.0/820, *s.Server.PrefixCacheHitRate, 1e-12)
	for _, w := range s.Warnings {
		assert.NotContains(t, w, "approximate")
	}

	col, rows := testio.CSVFile(t, files["requests_csv"])
	require.Len(t, rows, 11)
	for _, r := range rows[1:] {
		assert.Equal(t, "82", r[col["prompt_tokens"]])
		req, _ := strconv.Atoi(r[col["requested_output_tokens"]])
		assert.GreaterOrEqual(t, req, 4)
		assert.LessOrEqual(t, req, 8)
		assert.Equal(t, r[col["requested_output_tokens"]], r[col["output_tokens"]])
	}
}

// Behind a proxy that hides /tokenize, the lengths are approximate: vmtest load says so on stderr and in the
// summary's warnings.
func TestLoadSyntheticWithoutTokenizerWarns(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	u, err := url.Parse(sim.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tokenize" {
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", front.URL, "-requests", "3", "-input-tokens", "20",
		"-interval", "100ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, errOut, "warning: input lengths are approximate")
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	require.NotEmpty(t, s.Warnings)
	assert.Contains(t, s.Warnings[0], "input lengths are approximate")
}

func TestLoadWorkloadFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-input-tokens", "uniform:9-3"}, "1 <= min <= max"},
		{[]string{"-output-tokens", "10"}, "need -input-tokens"},
		{[]string{"-input-tokens", "10", "-prompt", "hi"}, "excludes -prompts and -prompt"},
		{[]string{"-input-tokens", "10", "-min-tokens", "-1"}, "must not be negative"},
	} {
		code, _, errOut := runCmd(context.Background(), append([]string{"load", "-url", "http://127.0.0.1:1"}, c.args...)...)
		assert.Equal(t, exitUsage, code, c.args)
		assert.Contains(t, errOut, c.want, c.args)
	}
}

// Synthetic prompts need an output length: -max-tokens 0 without -output-tokens is refused before any load.
func TestLoadSyntheticNeedsAnOutputLength(t *testing.T) {
	sim := fastSim(t)
	code, _, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-input-tokens", "10", "-max-tokens", "0",
		"-requests", "1", "-out", t.TempDir(), "-gpu", "none", "-no-png")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "give -output-tokens")
}
