//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real SIGINT, through the signal context main uses, ends `collect` early with its files written. It is
// sent when the first tick after the first snapshot scrapes the server.
func TestCollectEndsOnSIGINT(t *testing.T) {
	ctx, stop := signalContext()
	defer stop()
	url := onNthRequest(t, fastSim(t), "/metrics", 2, func() { _ = syscall.Kill(os.Getpid(), syscall.SIGINT) })
	dir := t.TempDir()
	start := time.Now()
	code, out, errOut := runCmd(ctx, "collect", "-url", url, "-duration", "1m", "-interval", "100ms", "-out", dir,
		"-config", "sig", "-gpu", "none")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Less(t, time.Since(start), 30*time.Second, "the signal, not the 1-minute -duration, ended the collection")
	assert.Contains(t, out, "vmtest: interrupted after")
	files := runFiles(t, dir, "sig")
	for _, p := range files {
		assert.FileExists(t, p)
		assert.Equal(t, dir, filepath.Dir(p))
	}
}
