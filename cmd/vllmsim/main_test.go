package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/vllmsim"
)

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs testio.SyncBuffer
	ready := make(chan *vllmsim.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-port", "0", "-model", "m-cli", "-tpot", "1ms", "-fault-429", "every=1000"}, &logs,
			func(s *vllmsim.Server) { ready <- s })
	}()
	var s *vllmsim.Server
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatalf("run returned early: %v\n%s", err, logs.String())
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	assert.True(t, strings.HasPrefix(s.URL, "http://127.0.0.1:"), s.URL)
	assert.Contains(t, logs.String(), s.URL)
	c := s.Config()
	assert.Equal(t, "m-cli", c.Model)
	assert.Equal(t, time.Millisecond, c.TimePerOutputToken)
	assert.Equal(t, vllmsim.Fault{Every: 1000}, c.Reject429)

	resp, err := http.Get(s.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(s.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"m-cli","prompt":"hi","max_tokens":3}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	assert.Contains(t, logs.String(), "shutting down")
	_, err = http.Get(s.URL + "/health")
	assert.Error(t, err, "the listener is closed")
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-port", "-1"}, {"-fault-500", "p=2"}, {"-nosuch"}, {"extra"}} {
		var logs testio.SyncBuffer
		err := run(context.Background(), args, &logs, nil)
		assert.ErrorIs(t, err, errUsage, "%v", args)
	}
	var logs testio.SyncBuffer
	err := run(context.Background(), []string{"-jitter", "2", "-port", "0"}, &logs, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.Jitter")
	err = run(context.Background(), []string{"-h"}, &logs, nil)
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, logs.String(), "-tpot")
}

// TestSIGTERM builds nothing: it re-runs this test binary as the command.
func TestSIGTERM(t *testing.T) {
	if os.Getenv("VLLMSIM_AS_MAIN") == "1" {
		os.Args = []string{"vllmsim", "-port", "0"}
		main()
		return
	}
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGTERM$")
	cmd.Env = append(os.Environ(), "VLLMSIM_AS_MAIN=1")
	var logs testio.SyncBuffer
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	var url string
	require.Eventually(t, func() bool {
		for _, f := range strings.Fields(logs.String()) {
			if strings.HasPrefix(f, "http://") {
				url = f
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	resp, err := http.Get(url + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), logs.String())
	assert.Contains(t, logs.String(), "shutting down")
}
