package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vassert "github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/recorder"
)

// A mistake in a registered check fails the test when the check is registered, before any load runs, with
// the same message whichever registration method was used; the bad check is not registered.
func TestBadChecksFailAtRegistration(t *testing.T) {
	const latencies = "ttft, ttfot, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended"
	base := filepath.Join(t.TempDir(), "b.json")
	for _, tc := range []struct {
		register func(c *Collector)
		want     string
	}{
		{func(c *Collector) { c.Assert(vassert.P99Below("ttfb", 500*time.Millisecond)) },
			`vmtest: P99Below("ttfb", 500ms): unknown latency metric "ttfb" (did you mean ttft?); want ` + latencies},
		{func(c *Collector) { c.Assert(vassert.P90Below("tpot ", time.Second)) },
			`vmtest: P90Below("tpot ", 1s): unknown latency metric "tpot " (did you mean tpot?)`},
		{func(c *Collector) { c.Assert(vassert.P50Below("e2e_latancy", time.Second)) },
			`vmtest: P50Below("e2e_latancy", 1s): unknown latency metric "e2e_latancy" (did you mean e2e_latency?); want ` + latencies},
		{func(c *Collector) { c.Assert(vassert.MeanBelow("itl", -time.Millisecond)) },
			`vmtest: MeanBelow("itl", -1ms): mean itl < -1ms: a latency is never below 0, so the check could never pass; want a positive limit`},
		{func(c *Collector) { c.Assert(vassert.P99Below("ttft", 500)) },
			`vmtest: P99Below("ttft", 500ns): p99 ttft < 500ns: a latency limit under 1µs is likely a number without a unit (a time.Duration counts nanoseconds); write e.g. 500*time.Millisecond`},
		{func(c *Collector) { c.Assert(vassert.ErrorRateBelow(1)) },
			`vmtest: ErrorRateBelow(1): error_rate < 1: error_rate is a fraction from 0 to 1 (1 is 100%), so "< 1" passes unless every request failed; for 1% write "error_rate < 0.01" or "error_rate < 1%" (as this limit: 0.01)`},
		{func(c *Collector) { c.Assert(vassert.ThroughputAbove(-2)) },
			`vmtest: ThroughputAbove(-2): request_throughput > -2 req/s: a rate is never below 0, so the check could never fail; want a limit ≥ 0`},
		{func(c *Collector) { c.Assert(vassert.GoodputAbove(1)) },
			`vmtest: GoodputAbove(1): no goodput objective: set Options.Goodput (TTFT, TPOT and/or E2E limits a request must meet to count)`},
		{func(c *Collector) { c.Assert(vassert.Baseline(base, vassert.Rel("ttfb.p99", 0.1))) },
			`vmtest: Baseline(` + strconv.Quote(base) + `, ttfb.p99): baseline ` + base + `: unknown metric "ttfb.p99"; did you mean ttft.p99? (every name: go doc github.com/vmtest/vmtest/summary Summary.Lookup, or vmtest help metrics)`},
		{func(c *Collector) { c.Assert(vassert.Baseline(base)) }, `vmtest: Baseline(` + strconv.Quote(base) + `): baseline ` + base + `: no metric chosen`},
		{func(c *Collector) { c.Assert(vassert.Expr("avg(ttft) < 100ms")) },
			`vmtest: threshold "avg(ttft) < 100ms": at byte 3: "avg(" takes no parentheses; write "avg ttft" or "ttft.mean"`},
		{func(c *Collector) { c.Assert(vassert.Expr("goodput > 1")) },
			`vmtest: threshold "goodput > 1": no goodput objective: set Options.Goodput`},
		{func(c *Collector) { c.Assert(vassert.Expr("error_rate < 1")) },
			`vmtest: threshold "error_rate < 1": at byte 13: error_rate is a fraction from 0 to 1 (1 is 100%)`},
	} {
		ft := &fakeTB{name: "T"}
		c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
		require.NotNil(t, c)
		tc.register(c)
		require.Len(t, ft.fatal, 1, tc.want)
		assert.Contains(t, ft.fatal[0], tc.want)
		ft.runCleanups()
		assert.Empty(t, ft.errs, "the bad check was not registered: nothing runs at the end")
	}
}

// One call with several mistakes names every one at once, registers none of its checks (not even the valid
// one, which would only add a "no data" failure), and the run writes no files: summary_statistics.json stays
// the last measured run's.
func TestEveryBadCheckOfACallIsNamedAndNothingIsWritten(t *testing.T) {
	dir := t.TempDir()
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c)
	c.Assert(vassert.P99Below("ttft", 500*time.Millisecond), vassert.P99Below("ttfb", time.Second),
		vassert.Expr("p(99) e2e_latncy < 2s"))
	require.Len(t, ft.fatal, 1)
	assert.Contains(t, ft.fatal[0], `P99Below("ttfb", 1s): unknown latency metric "ttfb"`)
	assert.Contains(t, ft.fatal[0], `threshold "p(99) e2e_latncy < 2s"`)
	assert.NotContains(t, ft.fatal[0], `P99Below("ttft"`)
	assert.Contains(t, ft.fatal[0], "\nvmtest: the test stops here (nothing was measured yet: no summary, no files)")
	logged := len(ft.logs)
	ft.runCleanups()
	assert.Empty(t, ft.errs, "no check of the call was registered")
	assert.Equal(t, logged, len(ft.logs), "nothing logged after the failure: %q", ft.logs[logged:])
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no files, no journal, no placeholder")
}

// With Options.Goodput set, a negative goodput limit is refused at registration too.
func TestGoodputLimitCheckedAtRegistration(t *testing.T) {
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
		Goodput: recorder.SLO{TTFT: time.Second}})
	c.Assert(vassert.GoodputAbove(-2))
	require.Len(t, ft.fatal, 1)
	assert.Contains(t, ft.fatal[0], `vmtest: GoodputAbove(-2): goodput > -2 req/s: a rate is never below 0, so the check could never fail; want a limit ≥ 0`)
	ft.runCleanups()
}

// Valid checks register without a word, aliases included, and run at the end.
func TestGoodChecksRegisterQuietly(t *testing.T) {
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	now := time.Now()
	c.RecordRequest(okReq(now, 100*time.Millisecond, 1500*time.Millisecond, 3)) // a window of 1.5 s: a throughput is known
	c.Assert(vassert.P99Below("latency", 2*time.Second))
	c.Assert(vassert.P90Below("E2E", 2*time.Second))
	c.Assert(vassert.P50Below("ttft", 200*time.Millisecond))
	c.Assert(vassert.MeanBelow("tpot", time.Second))
	c.Assert(vassert.ErrorRateBelow(0.01))
	c.Assert(vassert.ThroughputAbove(0))
	c.Assert(vassert.Expr("p(99) latency < 2s"), vassert.Expr("p(99) ttft < 40")) // the second fails at the end
	_, _, registeredAt, _ := runtime.Caller(0)
	registeredAt--
	require.Empty(t, ft.fatal)
	ft.runCleanups()
	require.Len(t, ft.errs, 1, "%v", ft.errs)
	assert.Contains(t, ft.errs[0], `vmtest: threshold "p(99) ttft < 40" not met: ttft.p99 = 100.000 ms, want < 40ms (`)
	assert.True(t, strings.HasSuffix(ft.errs[0], fmt.Sprintf(" (check registered at checks_test.go:%d)", registeredAt)),
		"the failure points at the line that registered the check: %s", ft.errs[0])
}

// A check registered with AssertFrom names where it came from instead of a line of Go.
func TestAssertFromNamesTheOrigin(t *testing.T) {
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	now := time.Now()
	c.RecordRequest(okReq(now, 100*time.Millisecond, 300*time.Millisecond, 3))
	c.AssertFrom(`from -slo "p(99) ttft < 40ms"`, vassert.Expr("p(99) ttft < 40ms"))
	c.AssertFrom(`from -slo "p(99) ttft < 1s"`, vassert.Expr("p(99) ttft < 1s"))
	require.Empty(t, ft.fatal)
	ft.runCleanups()
	require.Len(t, ft.errs, 1, "%v", ft.errs)
	assert.True(t, strings.HasSuffix(ft.errs[0], `ms (n=1, window 0.3 s, run `+c.RunID()+`; data: `+c.files.RequestsCSV+`) (from -slo "p(99) ttft < 40ms")`),
		"the failure ends with the origin given: %s", ft.errs[0])
	assert.Contains(t, ft.errs[0], `ttft.p99 = 100.000 ms, want < 40ms`)
}

// URL options are checked where the user set them, in the user's words: the option (or the environment
// variable) and the value, what is wrong, and what a good one looks like.
func TestURLOptionsNameTheOptionNotAnInternalField(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{VLLMBaseURL: "localhost:8000"},
			`vmtest: Options.VLLMBaseURL "localhost:8000": not an http(s) URL with a host (want e.g. http://localhost:8000)`},
		{Options{VLLMBaseURL: "ftp://gpu-box:8000"},
			`vmtest: Options.VLLMBaseURL "ftp://gpu-box:8000": not an http(s) URL with a host (want e.g. http://localhost:8000)`},
		{Options{VLLMBaseURL: "http://"},
			`vmtest: Options.VLLMBaseURL "http://": not an http(s) URL with a host (want e.g. http://localhost:8000)`},
		{Options{MetricsURL: "gpu-box:8000/metrics"},
			`vmtest: Options.MetricsURL "gpu-box:8000/metrics": not an http(s) URL with a host (want e.g. http://gpu-box:8000/metrics)`},
		{Options{DCGMURLs: []string{"http://node0:9400/metrics", "node1:9400/metrics"}},
			`vmtest: Options.DCGMURLs[1] "node1:9400/metrics": not an http(s) URL with a host (want e.g. http://node1:9400/metrics)`},
		{Options{GPUSource: "dcgm"},
			`vmtest: Options.GPUSource "dcgm" needs at least one dcgm-exporter URL in Options.DCGMURLs (e.g. http://localhost:9400/metrics)`},
		{Options{GPUSource: "cuda"},
			`vmtest: Options.GPUSource "cuda": unknown GPU source (want auto, nvml, nvidia-smi, dcgm or none)`},
		{Options{GPUSource: "nvml"},
			`vmtest: Options.GPUSource "nvml": no NVML driver is linked: import _ "github.com/vmtest/vmtest/samplers/nvml" (needs cgo)`},
		{Options{GPUIDs: []string{"0", " "}}, `vmtest: Options.GPUIDs[1] is empty (want a GPU index such as "0" or a UUID)`},
		{Options{GPUIDs: []string{"-1"}}, `vmtest: Options.GPUIDs[0] "-1": a GPU index is never negative`},
		{Options{Goodput: recorder.SLO{TTFT: 500 * time.Millisecond, TPOT: 50}},
			`vmtest: Options.Goodput.TPOT = 50ns: want 0 (not checked) or a limit of at least 1µs (a time.Duration counts nanoseconds: write e.g. 50*time.Millisecond)`},
		{Options{Goodput: recorder.SLO{E2E: -time.Second}},
			`vmtest: Options.Goodput.E2E = -1s: must not be negative (0: not checked)`},
	} {
		ft := &fakeTB{name: "T"}
		tc.opts.OutputDir = t.TempDir()
		assert.Nil(t, Collect(ft, tc.opts))
		require.Len(t, ft.fatal, 1, tc.want)
		assert.Equal(t, tc.want, ft.fatal[0])
		assert.NotContains(t, ft.fatal[0], "Config.", "no internal type's field")
	}

	t.Setenv(EnvVLLMURL, "localhost:8000")
	ft := &fakeTB{name: "T"}
	assert.Nil(t, Collect(ft, Options{OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true}))
	require.Len(t, ft.fatal, 1)
	assert.Equal(t, `vmtest: VMTEST_VLLM_URL "localhost:8000" (read because Options.VLLMBaseURL is empty): not an http(s) URL with a host (want e.g. http://localhost:8000)`, ft.fatal[0])
}

// A typo in a check registered after the load still fails the test, but the run measured something: its files
// are written.
func TestBadCheckAfterTheLoadKeepsTheFiles(t *testing.T) {
	dir := t.TempDir()
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c)
	c.RecordRequest(okReq(time.Now(), 100*time.Millisecond, 300*time.Millisecond, 3))
	c.Assert(vassert.Expr("p(99) ttfx < 1s"))
	require.Len(t, ft.fatal, 1)
	assert.Contains(t, ft.fatal[0], "\nvmtest: the test stops here (no summary; the files of what was measured are still written in "+dir+")")
	logged := len(ft.logs)
	ft.runCleanups()
	assert.Equal(t, logged, len(ft.logs), "nothing logged after the failure: %q", ft.logs[logged:])
	sum, _ := c.Finish()
	require.NotEmpty(t, sum.Files)
	for _, p := range sum.Files {
		assert.FileExists(t, p)
	}
	assert.Equal(t, 1, sum.Requests.Total)
}

// A run stopped at an invalid check before it measured anything leaves no folder it made (the trial found
// an empty metrics_output/TestInvalidCheck/), and a folder that was there before stays.
func TestARejectedCheckLeavesNoFolderItMade(t *testing.T) {
	root := t.TempDir()
	made := filepath.Join(root, "metrics_output", "TestInvalidCheck")
	existing := filepath.Join(root, "mine")
	require.NoError(t, os.Mkdir(existing, 0o755))
	for _, dir := range []string{made, existing} {
		ft := &fakeTB{name: "TestInvalidCheck"}
		c := Collect(ft, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true})
		require.NotNil(t, c)
		require.DirExists(t, dir, "the names are claimed at once")
		c.Assert(vassert.P99Below("ttfb", time.Second))
		require.Len(t, ft.fatal, 1)
		ft.runCleanups()
	}
	left, _ := filepath.Glob(filepath.Join(root, "metrics_output", "*", "*"))
	assert.NoDirExists(t, filepath.Join(root, "metrics_output"), "neither the test's folder nor metrics_output/: %v", left)
	entries, err := os.ReadDir(existing)
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.DirExists(t, existing, "a folder the run did not make stays")
}

// A check failing over a summary taken while the collector runs says where the files will be, not that they
// are not written (the trial's "data: (files not written)" for files written when the test ends).
func TestMidRunFailureSaysWhereTheFilesWillBe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c)
	err := vassert.Expr("p(99) ttft < 1s").Eval(c.Summary())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data: (files not written yet: written to "+dir+" when the run ends)")
	ft.runCleanups()
	err = vassert.Expr("p(99) ttft < 1s").Eval(c.Summary())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data: "+dir+string(filepath.Separator)+"requests_T_", "after the run: the file itself")
}
