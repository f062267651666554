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

// A real SIGINT, through the signal context main uses, ends `collect` early with its files written.
func TestCollectEndsOnSIGINT(t *testing.T) {
	sim := fastSim(t)
	dir := t.TempDir()
	ctx, stop := signalContext()
	defer stop()
	time.AfterFunc(600*time.Millisecond, func() { _ = syscall.Kill(os.Getpid(), syscall.SIGINT) })
	start := time.Now()
	code, out, errOut := runCmd(ctx, "collect", "-url", sim.URL, "-duration", "1m", "-interval", "200ms", "-out", dir,
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
