package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// built is the vmtest command built once for this test binary, for the tests that run it as processes of
// its own (in a terminal, as several shards, with an environment of their own): dir holds it and is removed
// when the tests end.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// TestMain runs the tests, then removes the command built for them, if any. When every test of the package
// runs (no -run), the build starts at once, beside the sequential tests, which mostly wait. Without -parallel
// and -race, twice GOMAXPROCS tests run in parallel: most of this package's tests wait on servers and timeouts.
func TestMain(m *testing.M) {
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["test.parallel"] && !raceEnabled {
		_ = flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
	if !given["test.run"] {
		go built.once.Do(buildCommand)
	}
	code := m.Run()
	built.once.Do(func() {}) // waits for a build under way
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildCommand builds this command (without cgo) into a temporary directory, setting built.
func buildCommand() {
	if built.dir, built.err = os.MkdirTemp("", "vmtest-bin"); built.err != nil {
		return
	}
	bin := filepath.Join(built.dir, "vmtest")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildvcs=false", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		built.err = fmt.Errorf("go build: %w: %s", err, out)
		return
	}
	built.path = bin
}

// vmtestBinary returns the path of this command built (without cgo) into a temporary directory: built at
// the first call (or by TestMain), the same file after.
func vmtestBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(buildCommand)
	require.NoError(t, built.err)
	return built.path
}

// runProcess runs the vmtest command at bin with args as a process of its own, with env added to this
// process's environment, and returns its exit status, stdout and stderr. A crash fails the test: Go exits
// with status 2 after a panic, as the command does after a usage error.
func runProcess(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err, "%v", args)
	}
	require.NotContains(t, errOut.String(), "\ngoroutine ", "%v crashed", args)
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}
