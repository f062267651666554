package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

// tmuxInstall is how to get tmux on Debian, for the tests that run the command in a real terminal.
const tmuxInstall = "sudo apt-get install -y tmux"

// tmuxPath returns tmux's path; without it the test is skipped, printing the install command (failed under
// CI, whose .ci/run installs it).
func tmuxPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("tmux")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("tmux is not installed; .ci/run installs it: %s", tmuxInstall)
	}
	t.Skipf("tmux is not installed: %s to run this test", tmuxInstall)
	return ""
}

// inTerminal runs the shell command line in a detached tmux session of 120 × 50 cells, waits for it to end
// (tmux wait-for: no clock involved) and returns what the terminal shows, scrollback included, without
// trailing blank lines. stderr is the terminal; the command line chooses where stdout goes.
func inTerminal(t *testing.T, line string) string {
	t.Helper()
	tmux := tmuxPath(t)
	dir, err := os.MkdirTemp("", "tm") // a socket path must stay short
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	run := func(args ...string) string {
		cmd := exec.Command(tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...)
		cmd.Env = append(os.Environ(), "SHELL=/bin/sh")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "tmux %v: %s", args, out)
		return string(out)
	}
	script := line + `; echo "exit status $?"; ` + tmux + ` -S ` + sock + ` wait-for -S done; sleep 600`
	run("new-session", "-d", "-x", "120", "-y", "50", "-s", "vmtest", script)
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", sock, "kill-server").Run() })
	run("wait-for", "done")
	return strings.TrimRight(run("capture-pane", "-p", "-J", "-S", "-", "-t", "vmtest"), "\n ")
}

// terminalRun starts a simulator (fixed seed) and a dcgm-exporter serving the 8-GPU capture, and runs
// `vmtest load` against them in a terminal with args (which may redirect stdout); -gpu dcgm unless args
// gives its own -gpu (a flag given twice is refused). No PNG: what is on screen does not show it. The load
// takes over 1 s (20 rounds of 60 ms), a few intervals of 500 ms: each reading has 400 ms, so on a loaded
// machine too the final frame shows no reading past its deadline (at 100 ms one could be).
func terminalRun(t *testing.T, args string) string {
	t.Helper()
	sim := vllmsim.New(t, vllmsim.Config{Model: "sim-model", Seed: 7, TTFTBase: 10 * time.Millisecond, TimePerOutputToken: 10 * time.Millisecond})
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "dcgm", "a800-mig-excerpt.prom"))
	require.NoError(t, err)
	dcgm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(dcgm.Close)
	gpu := " -gpu dcgm"
	if strings.Contains(args, "-gpu ") {
		gpu = ""
	}
	line := vmtestBinary(t) + " load -url " + sim.URL + " -model sim-model -requests 40 -concurrency 2 -max-tokens 5 -interval 500ms" +
		gpu + " -dcgm-url " + dcgm.URL + "/metrics -config tty -no-png -out " + t.TempDir() + " " + args
	return inTerminal(t, line)
}

var (
	runIDPattern = regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]{6}`)
	clockPattern = regexp.MustCompile(`\b\d\d:\d\d:\d\d\b`)
	figure       = regexp.MustCompile(`(^|[ /:(+])(-|>?\d+(\.\d+)?%?)`)
	spaces       = regexp.MustCompile(` {2,}`)
)

// normalise keeps what a run in a terminal shows the same from run to run: the GPU rows as they are (they
// come from the capture) and the exit status, elsewhere the run id, the clock and every figure, its % sign
// included (or "-", unknown over a short last interval, which has none), replaced, runs of spaces (the
// figures' padding) made one and trailing ones dropped.
func normalise(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  gpu_") || strings.HasPrefix(l, "exit status ") {
			lines[i] = strings.TrimRight(l, " ")
			continue
		}
		l = runIDPattern.ReplaceAllString(l, "RUN")
		l = clockPattern.ReplaceAllString(l, "HH:MM:SS")
		l = figure.ReplaceAllString(l, "${1}N")
		lines[i] = strings.TrimRight(spaces.ReplaceAllString(l, " "), " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// golden compares got with testdata/name; VMTEST_UPDATE_GOLDEN=1 rewrites the file instead.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("VMTEST_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "VMTEST_UPDATE_GOLDEN=1 go test -run %s writes it", t.Name())
	assert.Equal(t, string(want), got, "the terminal as captured:\n%s", got)
}

// `vmtest load -display` in a real terminal: the dashboard redraws in place (the screen holds one frame, the
// last, however many intervals went by), with a row for each of the capture's 8 GPUs, the server, the
// client, the host and the progress, every row within the terminal's 120 columns.
func TestDashboardInATerminal(t *testing.T) {
	t.Parallel()
	screen := terminalRun(t, "-display >/dev/null")
	lines := strings.Split(screen, "\n")
	assert.Equal(t, 1, strings.Count(screen, "── vmtest tty"), "one frame on screen: each redrew the previous in place")
	assert.Contains(t, screen, "(final)")
	assert.Contains(t, screen, "100% |"+strings.Repeat("█", 30)+"|  40/40 requests")
	assert.Contains(t, screen, "so far 40 requests: 40 ok, 0 not ok")
	for _, l := range lines {
		assert.LessOrEqual(t, utf8.RuneCountInString(l), 120, "%q", l)
	}
	golden(t, "dashboard_tty.golden", normalise(screen))
}

// Without -display, a terminal gets a progress bar on stderr: it ends full, at 40 of 40 requests.
func TestProgressBarInATerminal(t *testing.T) {
	t.Parallel()
	screen := terminalRun(t, ">/dev/null")
	assert.Contains(t, screen, "100% |"+strings.Repeat("█", 30)+"|  load: 40/40 requests · elapsed")
	golden(t, "progress_tty.golden", normalise(screen))
}

// With stdout on the same terminal, what the command prints while the dashboard is up (the model line, the
// library's log, the load's result) goes between frames, never through one: each is printed where the frame
// was and the frame is drawn again below it, so the screen holds one frame, the final one, below every line
// printed during the run, and every line on screen is either a frame's or a whole printed line. With -gpu
// none the GPU source's reason ("! gpu: ...") is in every frame, the final one included.
func TestDashboardBesideOutputInATerminal(t *testing.T) {
	t.Parallel()
	screen := terminalRun(t, "-display -gpu none")
	lines := strings.Split(screen, "\n")
	header, model, result, gpuErr := -1, -1, -1, -1
	headers := 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "── vmtest tty"):
			headers++
			header = i
		case strings.HasPrefix(l, "vmtest: load: model"):
			model = i
		case strings.HasPrefix(l, "vmtest: load: loadgen"):
			result = i
		case strings.HasPrefix(l, "  ! gpu: "):
			gpuErr = i
		}
		assert.True(t, strings.HasPrefix(l, "vmtest: ") || strings.HasPrefix(l, "── vmtest tty") ||
			strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "exit status "), "a line neither printed nor of a frame: %q", l)
	}
	assert.Equal(t, 1, headers, "one frame on screen: the first and every later one were redrawn in place, below what was printed")
	require.Positive(t, model)
	require.Greater(t, result, model)
	assert.Greater(t, header, result, "the frame is below every line printed while it was up")
	assert.Contains(t, lines[header], "(final)")
	assert.Greater(t, gpuErr, header, "the GPU source's reason is in the final frame")
	assert.Contains(t, lines[len(lines)-1], "exit status 0")
}
