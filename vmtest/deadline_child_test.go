package vmtest

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vllmsim"
)

// Environment of the child process TestLoadBoundedByContextEndsBeforeGoTestTimeout starts: where it writes.
const envDeadlineChild = "VMTEST_TEST_DEADLINE_CHILD_DIR"

// TestDeadlineChild is the README's long test under a short go test -timeout: a load of an hour bounded by
// c.Context(). It then waits for the collector's early finish, so that its log lines come from the
// collector's goroutine.
func TestDeadlineChild(t *testing.T) {
	dir := os.Getenv(envDeadlineChild)
	if dir == "" {
		t.Skip("the child of TestLoadBoundedByContextEndsBeforeGoTestTimeout")
	}
	sim := vllmsim.New(t, vllmsim.Config{Seed: 1, TTFTBase: 5 * time.Millisecond, TimePerOutputToken: 10 * time.Millisecond})
	c := Collect(t, Options{VLLMBaseURL: sim.URL, Interval: 200 * time.Millisecond, OutputDir: dir, GPUSource: "none", NoSystem: true})
	res, err := loadgen.Run(c.Context(), loadgen.LoadConfig{
		Client: loadgen.ClientConfig{BaseURL: sim.URL}, Prompts: loadgen.TextPrompts("a b c"),
		Params: loadgen.Params{MaxTokens: 32}, Concurrency: 2, Duration: time.Hour, Sink: c,
	})
	t.Logf("load: %v (%v)", res, err)
	if err != nil && c.Context().Err() == nil { // the README's check: a load ended by c.Context() is no failure
		t.Fatal(err)
	}
	if !errors.Is(err, ErrTestDeadline) {
		t.Errorf("the load's error %v does not wrap ErrTestDeadline", err)
	}
	<-c.stopped // the early finish, from the collector's goroutine
}

// The trial's finding: a test that bounded its load by t.Deadline() was killed ("panic: test timed out")
// however early Collect stopped. A load bounded by c.Context() under go test -timeout 12s ends first: the
// binary exits 0, the files are written with the requests measured in the 5 s margin, and the early finish's
// log lines point at vmtest's collector.go, not at asm_*.s. It runs on the wall clock (drawing the PNG and
// HTML must fit the margin), so only where asked: with CI set (the non-race run in .ci/run) or
// VMTEST_WALLCLOCK_TESTS=1, and not under -race, which makes drawing take seconds on a loaded machine. The
// margin's arithmetic, the scaled-down one included, is TestShortDeadlineScalesTheMarginDown's, on a virtual clock.
func TestLoadBoundedByContextEndsBeforeGoTestTimeout(t *testing.T) {
	switch {
	case os.Getenv(envDeadlineChild) != "":
		t.Skip("in the child")
	case os.Getenv("CI") == "" && os.Getenv("VMTEST_WALLCLOCK_TESTS") == "":
		t.Skip("runs against the wall clock: set VMTEST_WALLCLOCK_TESTS=1 (or CI) to run it")
	case raceEnabled:
		t.Skip("under -race, writing the files takes longer than the short deadline this test sets")
	}
	t.Parallel() // it waits for its child, which waits for its deadline
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeadlineChild$", "-test.count=1", "-test.v", "-test.timeout=12s")
	cmd.Env = append(os.Environ(), envDeadlineChild+"="+dir)
	out, err := cmd.CombinedOutput()
	text := string(out)
	require.NoError(t, err, "the child must end by itself:\n%s", text)
	assert.NotContains(t, text, "panic: test timed out")
	assert.Contains(t, text, "--- PASS: TestDeadlineChild")
	assert.Contains(t, text, "stopping 5s before it so that")
	assert.Contains(t, text, "\nvmtest: TestDeadlineChild stopped early for the test's deadline (go test -timeout) at ", "the notice on stderr")
	var early []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "vmtest: stopped early:") || strings.Contains(line, "vmtest: wrote ") {
			early = append(early, line)
		}
	}
	require.NotEmpty(t, early, "the early finish logs:\n%s", text)
	for _, line := range early {
		assert.NotContains(t, line, "asm_", "a log line of the early finish points at the runtime")
		assert.Regexp(t, `^\s+collector\.go:\d+: vmtest: `, line, "it points at the collector's own file")
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary_statistics.json"))
	require.NoError(t, err, "the files are written:\n%s", text)
	var sum summary.Summary
	require.NoError(t, json.Unmarshal(data, &sum))
	assert.Positive(t, sum.DurationS)
	assert.Positive(t, sum.Requests.OK, "requests were measured before the stop")
	assert.Equal(t, sum.Requests.Total, sum.Requests.OK+sum.Requests.Canceled, "the load's last requests are canceled, none lost or failed")
	assert.True(t, sum.Finished)
}
