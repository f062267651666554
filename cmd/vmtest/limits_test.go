package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/loadgen"
)

// -max-event-size bounds each server-sent event: the simulator's chunks (over 100 bytes each) are too large
// for 50, and the requests' error names the flag that raises it.
func TestLoadMaxEventSizeFlag(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "2", "-max-event-size", "50",
		"-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Equal(t, 2, s.Requests.Failed)
	assert.Equal(t, fmt.Sprintf("%v (50 bytes): raise vmtest load -max-event-size", loadgen.ErrEventTooLarge), s.Requests.LastError)

	code, _, errOut = runCmd(context.Background(), "load", "-url", sim.URL, "-max-event-size", "-1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-max-event-size: must not be negative")
}

// -header-timeout ends a streaming request whose response headers never come, with that reason.
func TestLoadHeaderTimeoutFlag(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"m","object":"model"}]}`))
			return
		}
		select { // no headers until the test ends
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // first: Close waits for the handlers
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", srv.URL, "-model", "m", "-requests", "1",
		"-header-timeout", "300ms", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Equal(t, 1, s.Requests.Failed)
	assert.Equal(t, fmt.Sprintf("%v (%v)", loadgen.ErrHeaderTimeout, 300*time.Millisecond), s.Requests.LastError)
}
