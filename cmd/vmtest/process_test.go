package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// envRunMain, set to 1, makes this package's test binary run the vmtest command (main) instead of its tests:
// the tests that need the command as processes of its own (in a terminal, as several shards) run this binary,
// which holds the same main, rather than building and linking the command for each of them.
const envRunMain = "VMTEST_TEST_RUN_MAIN"

// TestMain runs main when envRunMain is 1, the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// vmtestCommand returns the command `vmtest args...` as a process of this test binary, its environment this
// process's with env (NAME=value entries) added.
func vmtestCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), envRunMain+"=1"), env...)
	return cmd
}

// vmtestShell returns the start of a shell command line that runs vmtest: this test binary, envRunMain set.
func vmtestShell(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	require.NoError(t, err)
	return envRunMain + "=1 " + bin
}
