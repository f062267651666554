package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// built is the vmtest command built once for this test binary, for the tests that run it as processes of
// its own (in a terminal, as several shards): dir holds it and is removed when the tests end.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// TestMain runs the tests, then removes the command built for them, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// vmtestBinary returns the path of this command built (without cgo) into a temporary directory: built at
// the first call, the same file after.
func vmtestBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "vmtest-bin"); built.err != nil {
			return
		}
		bin := filepath.Join(built.dir, "vmtest")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w: %s", err, out)
			return
		}
		built.path = bin
	})
	require.NoError(t, built.err)
	return built.path
}
