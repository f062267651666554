package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/loadgen"
)

// hangServer serves model "m" and answers each completion request by sending what says (nothing; the
// headers; the headers and a role-only chunk) and then nothing until the request ends or the test does.
func hangServer(t *testing.T, send string) string {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"m","object":"model"}]}`))
			return
		}
		switch send {
		case "headers":
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		case "role":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant"}}]}`+"\n\n")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // first: Close waits for the handlers
	return srv.URL
}

// The trial's hang.py: a server that sends headers and then nothing. -duration 300ms with -drain-timeout 300ms
// ends the run then, not at the 5-minute first-token timeout: the two requests in flight are cut, counted
// incomplete with the reason, and error_rate stays known (2 of 2 not ok: 1). The start line says the drain.
func TestLoadDrainTimeoutCutsHungRequests(t *testing.T) {
	t.Parallel()
	url := hangServer(t, "headers")
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", url, "-model", "m", "-concurrency", "2",
		"-duration", "300ms", "-drain-timeout", "300ms", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitFail, code, "no request succeeded; stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, fmt.Sprintf("closed loop, 2 in flight, for at most 300ms, %d prompts; then at most 300ms for requests in flight (-drain-timeout; requests still in flight then are cut and count in error_rate)", len(defaultPrompts)))
	assert.Contains(t, out, "; 2 cut at the run's end")
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Equal(t, 2, s.Requests.Total)
	assert.Equal(t, 2, s.Requests.Incomplete)
	assert.Zero(t, s.Requests.Canceled)
	require.NotNil(t, s.Requests.ErrorRate)
	assert.Equal(t, 1.0, *s.Requests.ErrorRate)
	assert.Contains(t, s.Requests.LastError, "cut at the run's end: still in flight DrainTimeout 300ms after sending stopped")
}

// -first-token-timeout and -stall-timeout reach the client: headers and then nothing end at the first-token
// limit; a role-only chunk and then nothing at the stall limit; each with its own reason.
func TestLoadFirstTokenAndStallTimeoutFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ send, flag, want string }{
		{"headers", "-first-token-timeout", fmt.Sprintf("%v (%v)", loadgen.ErrFirstTokenTimeout, 300*time.Millisecond)},
		{"role", "-stall-timeout", fmt.Sprintf("%v (%v without data)", loadgen.ErrStallTimeout, 300*time.Millisecond)},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			url := hangServer(t, tc.send)
			dir := t.TempDir()
			code, out, errOut := runCmd(context.Background(), "load", "-url", url, "-model", "m", "-requests", "1",
				tc.flag, "300ms", "-drain-timeout", "0", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png")
			require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, "; then waits for every request in flight")
			s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
			assert.Equal(t, 1, s.Requests.Failed)
			assert.Equal(t, tc.want, s.Requests.LastError)
		})
	}
}

// A negative -drain-timeout is refused before anything is sent.
func TestDrainTimeoutFlagNegative(t *testing.T) {
	for _, cmd := range []string{"load", "sweep"} {
		code, _, errOut := runCmd(context.Background(), cmd, "-url", "http://127.0.0.1:1", "-concurrency", "1", "-slo", "error_rate < 1%", "-drain-timeout", "-1s")
		assert.Equal(t, exitUsage, code, cmd)
		assert.Contains(t, errOut, "-drain-timeout -1s: must not be negative", cmd)
	}
}

// vmtest sweep has the same bound: a step against a hung server ends at its -duration plus -drain-timeout,
// its request cut and counted incomplete, so error_rate is known and the step does not meet the SLO.
func TestSweepDrainTimeoutCutsHungRequests(t *testing.T) {
	t.Parallel()
	url := hangServer(t, "headers")
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "sweep", "-url", url, "-model", "m", "-concurrency", "1",
		"-requests", "0", "-duration", "300ms", "-warmup", "-1", "-drain-timeout", "300ms", "-interval", "200ms",
		"-out", dir, "-gpu", "none", "-no-png", "-slo", "error_rate < 1%")
	require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "for 300ms, 0 warm-up; then at most 300ms for requests in flight")
	s := readSummaryT(t, runFilesNoPNG(t, filepath.Join(dir, "concurrency_1"), "concurrency_1")["summary_json"])
	assert.Equal(t, 1, s.Requests.Incomplete)
	require.NotNil(t, s.Requests.ErrorRate)
	assert.Equal(t, 1.0, *s.Requests.ErrorRate)
}

// Without -drain-timeout the drain is 10 s or twice the slowest OK request, and the start line says so; with
// it, the value given is the bound. Either way the line says that requests cut then count in error_rate.
func TestDrainDefaultFollowsTheSlowestRequest(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
		text string
	}{
		{nil, true, "then at most 10s for requests in flight, or twice the slowest OK request's E2E latency when longer (-drain-timeout; requests still in flight then are cut and count in error_rate)"},
		{[]string{"-drain-timeout", "10s"}, false, "then at most 10s for requests in flight (-drain-timeout; requests still in flight then are cut and count in error_rate)"},
		{[]string{"-drain-timeout", "0"}, false, "then waits for every request in flight"},
	} {
		fs := flag.NewFlagSet("load", flag.ContinueOnError)
		var lc loadgen.LoadConfig
		registerTimeouts(fs, &lc)
		require.NoError(t, fs.Parse(tc.args))
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		require.NoError(t, checkTimeouts(set, &lc))
		assert.Equal(t, tc.want, lc.DrainAfterSlowest, "%v", tc.args)
		assert.Equal(t, tc.text, drainText(lc), "%v", tc.args)
	}
}
