package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// runCmd runs the command line in process and returns its exit status, stdout and stderr.
func runCmd(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut testio.SyncBuffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func fastSim(t *testing.T) *vllmsim.Server {
	return vllmsim.New(t, vllmsim.Config{Model: "sim-model", TTFTBase: 5 * time.Millisecond, TimePerOutputToken: time.Millisecond})
}

// onNthRequest serves sim's handler at a URL of its own and calls do, once, when the nth request whose path
// ends in suffix arrives (before it is served): an interrupt that comes at a point of the run, not of the clock.
func onNthRequest(t *testing.T, sim *vllmsim.Server, suffix string, n int64, do func()) string {
	t.Helper()
	var arrived atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, suffix) && arrived.Add(1) == n {
			do()
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// runFiles returns the files of the one run in dir, keyed by kind.
func runFiles(t *testing.T, dir, config string) map[string]string {
	t.Helper()
	return filesOf(t, dir, config, true)
}

// runFilesNoPNG is runFiles for a run given -no-png: it checks that no PNG was written and returns the other
// files.
func runFilesNoPNG(t *testing.T, dir, config string) map[string]string {
	t.Helper()
	return filesOf(t, dir, config, false)
}

// filesOf returns the files of the one run in dir, keyed by kind; the PNG is required when png is true, and
// required absent when it is false.
func filesOf(t *testing.T, dir, config string, png bool) map[string]string {
	t.Helper()
	got := map[string]string{}
	for kind, pattern := range map[string]string{
		"snapshots_json": "metrics_" + config + "_*.json", "snapshots_csv": "metrics_" + config + "_*.csv",
		"plot_png": "metrics_" + config + "_*.png", "requests_csv": "requests_" + config + "_*.csv",
		"run_summary_json": "summary_" + config + "_*.json", "summary_json": "summary_statistics.json",
		"report_html": "report_" + config + "_*.html",
	} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		require.NoError(t, err)
		if kind == "plot_png" && !png {
			require.Empty(t, m, "-no-png: %s in %s", pattern, dir)
			continue
		}
		require.Len(t, m, 1, "%s in %s", pattern, dir)
		got[kind] = m[0]
	}
	return got
}

func readSummaryT(t *testing.T, path string) *summary.Summary {
	t.Helper()
	s, err := readSummary(path)
	require.NoError(t, err)
	return s
}

func TestCollectWritesFilesAndPrintsSummary(t *testing.T) {
	sim := fastSim(t)
	dir := t.TempDir()
	start := time.Now()
	code, out, errOut := runCmd(context.Background(), "collect", "-url", sim.URL, "-duration", "1s", "-interval", "200ms",
		"-out", dir, "-config", "c1", "-gpu", "none", "-no-png")
	elapsed := time.Since(start)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.GreaterOrEqual(t, elapsed, time.Second)

	files := runFilesNoPNG(t, dir, "c1")
	for _, p := range files {
		assert.Contains(t, out, "vmtest: wrote "+p)
	}
	assert.Contains(t, out, `config "c1", interval 200ms, files in `+dir)
	assert.Regexp(t, `vmtest: run \S+ config c1: 1\.\d s, \d+ snapshots`, out)
	assert.Contains(t, out, "vmtest: requests: 0 total")

	s := readSummaryT(t, files["summary_json"])
	assert.Equal(t, "c1", s.ConfigID)
	assert.Equal(t, "c1", s.TestName)
	// 1 s at 200 ms: at most 5 ticks plus the first and the last; a loaded machine may miss ticks, never add them.
	assert.GreaterOrEqual(t, s.Snapshots, 2, "the first and the last")
	assert.LessOrEqual(t, s.Snapshots, 7, "no more than 1 s at 200 ms allows")
	// Every successful scrape is counted; on a loaded machine a scrape can miss its deadline (a failed reading).
	st := s.Sources["vllm"]
	require.NotNil(t, st)
	assert.Equal(t, s.Snapshots, st.Readings, "every snapshot asked the simulator")
	assert.Equal(t, st.Readings-st.Failed, s.VLLM.Scrapes, "failed: %d, last error %q", st.Failed, st.LastError)
	assert.Positive(t, s.VLLM.Scrapes)
	assert.Equal(t, 0.2, s.IntervalS)
	assert.Equal(t, files, s.Files)
}

func TestCollectStopsEarlyOnInterrupt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	// What SIGINT does through main's signal context, when the first tick after the first snapshot scrapes.
	url := onNthRequest(t, fastSim(t), "/metrics", 2, cancel)
	dir := t.TempDir()
	start := time.Now()
	code, out, errOut := runCmd(ctx, "collect", "-url", url, "-duration", "1m", "-interval", "100ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	// -duration is 1 minute: well under it is the interrupt, however long writing the files takes under load.
	assert.Less(t, time.Since(start), 30*time.Second, "the interrupt ended the collection, not -duration")
	assert.Contains(t, out, "vmtest: interrupted after")
	files := runFilesNoPNG(t, dir, "collect")
	s := readSummaryT(t, files["summary_json"])
	assert.Equal(t, "collect", s.ConfigID, "the default config is the command's name")
	require.NotEmpty(t, s.Events)
	assert.Equal(t, "stopped early: context canceled", s.Events[len(s.Events)-1].Message, "the summary says why it stopped")
	assert.Less(t, s.DurationS, 10.0)
	assert.GreaterOrEqual(t, s.Snapshots, 2, "the first and the last (a loaded machine may miss the ticks between)")
}

// collect -duration 0 runs until SIGINT/SIGTERM: the signal is its end, so the run finished, not early.
func TestCollectDurationZeroEndsAtTheSignal(t *testing.T) {
	sim := fastSim(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(600*time.Millisecond, cancel) // what SIGINT does through main's signal context
	code, out, errOut := runCmd(ctx, "collect", "-url", sim.URL, "-duration", "0", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest: signal received (-duration 0 runs until one) after")
	assert.NotContains(t, out, "early")
	s := readSummaryT(t, runFilesNoPNG(t, dir, "collect")["summary_json"])
	assert.True(t, s.Finished)
	for _, e := range s.Events {
		assert.NotContains(t, e.Message, "stopped early")
	}
}

// collect -slo checks each threshold over what it collected: one line each, exit status 1 when one is not met.
// The run ends (-duration 0: at the signal) when the second scrape arrives, so the first has landed however
// slow the machine is.
func TestCollectChecksSLOs(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	ctx, cancel := context.WithCancel(context.Background())
	url := onNthRequest(t, sim, "/metrics", 2, cancel) // what SIGINT does through main's signal context
	dir := t.TempDir()
	code, out, errOut := runCmd(ctx, "collect", "-url", url, "-duration", "0", "-interval", "200ms", "-out", dir,
		"-gpu", "none", "-no-png", "-slo", "server.queue.max < 1000", "-slo", "server.kv_cache_usage.max > 50")
	assert.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest: SLO met        threshold \"server.queue.max < 1000\"\n")
	assert.Contains(t, out, "vmtest: SLO NOT met    threshold \"server.kv_cache_usage.max > 50\": server.kv_cache_usage.max = ")
	assert.Contains(t, out, "vmtest: 1 of 2 checks not met, 0 not known\n")
	assert.Contains(t, errOut, `(from -slo "server.kv_cache_usage.max > 50")`)

	code, _, errOut = runCmd(context.Background(), "collect", "-url", sim.URL, "-slo", "nosuch.metric < 1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-slo #1")
}

func TestLoadChecksSLOs(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	for _, tc := range []struct {
		name, slo string
		code      int
	}{
		{"pass", "p(99) ttft < 10s", exitOK},
		{"fail", "p(99) ttft < 1us", exitFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "20", "-concurrency", "4",
				"-max-tokens", "8", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png",
				"-slo", tc.slo, "-slo", "error_rate < 1%", "-goodput-ttft", "10s")
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, `vmtest: load: model "sim-model"`, "the model is the server's first")
			assert.Contains(t, out, "vmtest: requests: 20 total, 20 ok")
			s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
			assert.Equal(t, 20, s.Requests.OK)
			// The rate itself is unknown: 20 quick requests span less than recorder.MinThroughputWindow.
			assert.Equal(t, map[string]float64{"ttft": 10000}, s.Requests.GoodputSLOs, "-goodput-ttft set Options.Goodput")
			assert.Equal(t, new(20), s.Requests.GoodputRequests)
			if tc.code == exitOK {
				assert.Contains(t, out, "vmtest: 0 of 2 checks not met, 0 not known\n")
				assert.Empty(t, errOut)
			} else {
				assert.Contains(t, out, "vmtest: SLO NOT met    threshold \""+tc.slo+"\": ")
				assert.Contains(t, out, "vmtest: 1 of 2 checks not met, 0 not known\n")
				assert.Contains(t, errOut, `threshold "`+tc.slo+`" not met`)
				assert.Contains(t, errOut, `(from -slo "`+tc.slo+`")`, "the failure names the flag it came from")
				assert.NotContains(t, errOut, "check registered at", "not a line inside the command")
			}
		})
	}
}

func TestLoadOpenLoopWithPromptFile(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	prompts := filepath.Join(dir, "p.jsonl")
	require.NoError(t, os.WriteFile(prompts, []byte(`{"prompt": "one two three", "max_tokens": 4}`+"\n"+
		`{"messages": [{"role": "user", "content": "hi"}]}`+"\n"), 0o644))
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-model", "sim-model", "-prompts", prompts,
		"-rate", "50", "-max-concurrency", "4", "-requests", "10", "-interval", "100ms", "-out", dir, "-config", "open", "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "open loop at 50 req/s (at most 4 in flight), 10 requests")
	s := readSummaryT(t, runFilesNoPNG(t, dir, "open")["summary_json"])
	assert.Equal(t, 10, s.Requests.OK)
	assert.NotContains(t, out, "checks not met", "no -slo, no verdict")
}

// The interrupt comes when the server sees the first request arrive: it is in flight, none has finished.
func TestLoadStopsEarlyOnInterrupt(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{TTFTBase: 5 * time.Millisecond, TimePerOutputToken: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	url := onNthRequest(t, sim, "/completions", 1, cancel)
	dir := t.TempDir()
	start := time.Now()
	code, out, errOut := runCmd(ctx, "load", "-url", url, "-duration", "1m", "-interval", "200ms", "-out", dir,
		"-gpu", "none", "-no-png", "-slo", "requests.total > 0")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Less(t, time.Since(start), 30*time.Second, "the interrupt, not the 1-minute -duration, ended the load")
	assert.Contains(t, out, "vmtest: interrupted: load stopped early")
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Positive(t, s.Requests.Total, "the requests in flight at the interrupt are recorded before the collector stops")
	assert.Equal(t, s.Requests.Total, s.Requests.Canceled, "each was in flight at the interrupt: %+v", s.Requests.Counts)
	require.NotEmpty(t, s.Events)
	assert.Equal(t, "stopped early: context canceled", s.Events[len(s.Events)-1].Message)
}

// The run: `load -concurrency 4 -slo "error_rate < 10%"` interrupted while requests are in flight.
// The requests the client cancelled because the run was interrupted are canceled, not the server's errors:
// error_rate is over the others (all ok here: 0), so the SLO is met and the exit status is 0. The interrupt
// comes when the server sees the 8th request arrive: each worker sends its next request only after recording
// the last, so at least 4 requests were recorded ok by then, and the 8th is in flight (it takes ≥ 200 ms).
func TestLoadInterruptCancelsInFlightOutsideErrorRate(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{Model: "sim-model", TTFTBase: 200 * time.Millisecond, TimePerOutputToken: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	url := onNthRequest(t, sim, "/completions", 8, cancel)
	dir := t.TempDir()
	code, out, errOut := runCmd(ctx, "load", "-url", url, "-concurrency", "4", "-duration", "1m", "-max-tokens", "4",
		"-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png", "-slo", "error_rate < 10%")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "vmtest: interrupted: load stopped early")
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	r := s.Requests
	assert.GreaterOrEqual(t, r.OK, 4)
	assert.GreaterOrEqual(t, r.Canceled, 1, "the 8th request was in flight at the interrupt")
	assert.Equal(t, r.Total, r.OK+r.Canceled, "nothing failed: %+v", r.Counts)
	require.NotNil(t, r.ErrorRate)
	assert.Zero(t, *r.ErrorRate, "canceled requests are not the server's errors")
	assert.Contains(t, out, fmt.Sprintf("%d canceled", r.Canceled))
	assert.Contains(t, out, fmt.Sprintf("vmtest: interrupted: load stopped early; %d requests in flight were canceled by the interrupt: not the server's errors, they are left out of error_rate", r.Canceled))
}

func TestBadUsageExitsTwoNamingTheFlag(t *testing.T) {
	t.Setenv(vmtest.EnvVLLMURL, "")
	dir := t.TempDir()
	url := "http://127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: vmtest <command>"},
		{[]string{"nosuch"}, `unknown command "nosuch"`},
		{[]string{"collect", "-nosuch"}, "-nosuch"},
		{[]string{"collect", "-interval", "1ms"}, "-interval 1ms: must be at least 10ms"},
		{[]string{"collect", "-interval", "soon"}, "-interval"},
		{[]string{"load", "-url", url, "-duration", "5"}, "(-duration is a duration: give its unit, e.g. 5s, 500ms or 2m)"},
		{[]string{"collect", "-duration", "-1s"}, "-duration -1s"},
		{[]string{"collect", "-gpu", "tpu"}, "-gpu"},
		{[]string{"collect", "-url", "localhost:8000"}, "-url"},
		{[]string{"collect", "extra"}, `unexpected argument "extra"`},
		{[]string{"load"}, "-url (or -servers) is required"},
		{[]string{"collect", "-interval", "1s", "-interval", "2s"}, `invalid value "2s" for flag -interval: given twice (first "1s"): it takes one value`},
		{[]string{"load", "-url", url, "-display", "-display"}, "invalid boolean flag display: given twice"},
		{[]string{"compare", "-out", "a", "-out", "b", "x.json", "y.json"}, "flag -out: given twice"},
		{[]string{"collect", "-url", url, "-servers", "a=" + url}, "-url and -servers exclude each other"},
		{[]string{"collect", "-servers", "a=" + url + ",b"}, `-servers item 2 "b": want name=URL`},
		{[]string{"collect", "-servers", "a=" + url + ",a=" + url}, `"a" is given twice`},
		{[]string{"collect", "-url", url, "-router", url}, "flag provided but not defined: -router"},
		{[]string{"load", "-url", url, "-url", url}, "-url #1 and -url #2 are the same server (" + url + "): its figures would be counted twice"},
		{[]string{"collect", "-url", url, "-url", "http://127.0.0.1:2", "-url", "HTTP://127.0.0.1:1/v1/"}, "-url #1 and -url #3 are the same server"},
		{[]string{"collect", "-servers", "a=" + url + ",b=" + url + "/"}, "-servers a (item 1) and b (item 2) are the same server"},
		{[]string{"collect", "-servers", "a-1=" + url}, `-servers: replica 0: name "a-1": want 1–64 letters, digits or '_'`},
		{[]string{"collect", "-servers", "a-1=" + url + ",b=http://127.0.0.1:2"}, `-servers: replica 0: name "a-1"`},
		{[]string{"load", "-url", url, "-rate", "2", "-concurrency", "3"}, "-concurrency is the closed loop's"},
		{[]string{"load", "-url", url, "-burstiness", "2"}, "-burstiness and -max-concurrency need -rate"},
		{[]string{"load", "-url", url, "-rate", "0"}, "-rate 0"},
		{[]string{"load", "-url", url, "-requests", "-1"}, "-requests: must not be negative"},
		{[]string{"load", "-url", url, "-prompt", "a", "-prompts", "p.jsonl"}, "-prompts and -prompt"},
		{[]string{"load", "-url", url, "-prompts", filepath.Join(dir, "missing.jsonl")}, "-prompts:"},
		{[]string{"load", "-url", url, "-slo", "p(99) ttft < 1s", "-slo", "p(99) ttft <"}, "-slo #2: vmtest: threshold \"p(99) ttft <\": at byte"},
		{[]string{"load", "-url", url, "-slo", "nosuch.metric < 1"}, "-slo #1"},
		{[]string{"load", "-url", url, "-slo", "ttft.p99 < 0.5us"}, `-slo #1: vmtest: threshold "ttft.p99 < 0.5us": at byte 11: "ttft.p99 < 0.5us": a latency limit under 1µs`},
		{[]string{"load", "-url", url, "-slo", "ttft.p99 < 0.0005"}, `at byte 11: "ttft.p99 < 0.0005ms": a latency limit under 1µs`},
		{[]string{"load", "-url", url, "-slo", "ttft.p99 <= 0ms"}, `"ttft.p99 <= 0ms" holds only at exactly 0`},
		{[]string{"merge", "-slo", "e2e.p50 > 0", dir}, `-slo #1: vmtest: threshold "e2e.p50 > 0": at byte 10: "e2e.p50 > 0ms" fails only at exactly 0`},
		{[]string{"load", "-url", url, "-url", "http://127.0.0.1:2", "-slo", "p(99) ttft < 1s", "-slo", "replica.z.server.ttft.p99 < 1s"},
			`-slo #2 "replica.z.server.ttft.p99 < 1s": replica.z.server.ttft.p99: no replica "z" in this run (replicas: r0, r1)`},
		{[]string{"sweep", "-servers", "a=" + url + ",b=http://127.0.0.1:2", "-concurrency", "1:4", "-requests", "2", "-slo", "replica.r0.server.ttft.p99 < 1s"},
			`-slo #1 "replica.r0.server.ttft.p99 < 1s": replica.r0.server.ttft.p99: no replica "r0" in this run (replicas: a, b)`},
		{[]string{"load", "-url", url, "-slo", "replica.r0.server.ttft.p99 < 1s"}, `no replica "r0" in this run: it has one server, whose figures are server.*`},
		{[]string{"load", "-url", url, "-slo", "p(99) ttft < 1s", "-slo", "goodput > 1"},
			`-slo #2 "goodput > 1": no goodput objective: give -goodput-ttft, -goodput-tpot and/or -goodput-e2e`},
		{[]string{"sweep", "-url", url, "-concurrency", "1:4", "-requests", "2", "-slo", "goodput > 1"},
			`-slo #1 "goodput > 1": no goodput objective: give -goodput-ttft`},
		{[]string{"collect", "-url", url, "-slo", "goodput > 1"},
			`-slo #1 "goodput > 1": no goodput objective: collect sends no requests, so it has no goodput: check goodput with load or sweep`},
		{[]string{"compare", filepath.Join(dir, "a.json")}, "want at least two summary files"},
		{[]string{"compare", "-metrics", "ttft.p99,nosuch", "a", "b"}, `-metrics: unknown metric "nosuch"`},
		{[]string{"compare", "-metrics", "ttfb.p99", "a", "b"}, `-metrics: unknown metric "ttfb.p99"; did you mean ttft.p99?`},
		{[]string{"report"}, "want a directory or a metrics_<config>_<timestamp>.json file"},
	} {
		code, out, errOut := runCmd(context.Background(), tc.args...)
		assert.Equal(t, exitUsage, code, "%q: stdout %s", tc.args, out)
		assert.Contains(t, errOut, tc.want, "%q", tc.args)
		assert.NotContains(t, out, "vmtest: run ", "%q: nothing was collected", tc.args)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no command wrote a file")
}

// A flag error is one line naming the flag, then the hint: not the whole usage. A URL without a scheme gets the
// library's message (vmtest.CheckHTTPURL), with the flag's name for the option's.
func TestFlagErrorIsOneLineAndTheHint(t *testing.T) {
	t.Setenv(vmtest.EnvVLLMURL, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"collect", "-nosuch"}, "vmtest collect: flag provided but not defined: -nosuch\n(vmtest collect -h lists the flags)\n"},
		{[]string{"load", "-concurrency", "many"}, "vmtest load: invalid value \"many\" for flag -concurrency: parse error\n(vmtest load -h lists the flags)\n"},
		{[]string{"collect", "-duration", "5"}, "vmtest collect: invalid value \"5\" for flag -duration: parse error\n" +
			"(-duration is a duration: give its unit, e.g. 5s, 500ms or 2m)\n(vmtest collect -h lists the flags)\n"},
		{[]string{"nosuch"}, "vmtest: unknown command \"nosuch\"\n(vmtest help lists the commands)\n"},
		{[]string{"collect", "-url", "localhost:8000"}, "vmtest collect: -url \"localhost:8000\": not an http(s) URL with a host (want e.g. http://localhost:8000)\n(vmtest collect -h lists the flags)\n"},
		{[]string{"load", "-url", "gpu-box:8000/v1"}, "vmtest load: -url \"gpu-box:8000/v1\": not an http(s) URL with a host (want e.g. http://gpu-box:8000/v1)\n(vmtest load -h lists the flags)\n"},
	} {
		code, _, errOut := runCmd(context.Background(), tc.args...)
		assert.Equal(t, exitUsage, code, "%q", tc.args)
		assert.Equal(t, tc.want, errOut, "%q", tc.args)
	}
	// The library says the same of the same URL.
	_, err := vmtest.Start(context.Background(), vmtest.Options{VLLMBaseURL: "localhost:8000", OutputDir: t.TempDir()})
	require.Error(t, err)
	assert.Equal(t, `vmtest: Options.VLLMBaseURL "localhost:8000": not an http(s) URL with a host (want e.g. http://localhost:8000)`, err.Error())
}

// An option only vmtest.Start checks (a dcgm source without a URL) stops the command with status 2, naming
// the flag: nothing after it runs, nothing is written.
func TestCollectFatalStopsWithStatusTwo(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "collect", "-duration", "1m", "-gpu", "dcgm", "-out", dir)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "DCGMURLs")
	assert.Contains(t, errOut, "-dcgm-url DCGMURLs")
	assert.NotContains(t, out, "vmtest: run ")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}} {
		code, out, errOut := runCmd(context.Background(), args...)
		assert.Equal(t, exitOK, code)
		assert.Empty(t, errOut)
		for _, c := range []string{"collect", "load", "sweep", "compare", "report", "help"} {
			assert.Contains(t, out, "  "+c+" ")
		}
	}
	for _, tc := range []struct{ cmd, flag string }{{"collect", "-duration"}, {"load", "-slo"}, {"sweep", "-knee-metric"}, {"compare", "-metrics"}, {"report", "metrics_<config>"}} {
		for _, args := range [][]string{{tc.cmd, "-h"}, {"help", tc.cmd}} {
			code, out, errOut := runCmd(context.Background(), args...)
			assert.Equal(t, exitOK, code, "%q", args)
			assert.Empty(t, errOut, "%q", args)
			assert.Contains(t, out, "usage: vmtest "+tc.cmd, "%q", args)
			assert.Contains(t, out, tc.flag, "%q", args)
		}
	}
	_, out, _ := runCmd(context.Background(), "report", "-h")
	assert.Contains(t, out, "\nflags:\n  -wait duration\n")
	var buf bytes.Buffer
	fs := newFlagSet("none", "ARG", "Does nothing.")
	fs.SetOutput(&buf)
	fs.Usage()
	assert.NotContains(t, buf.String(), "flags:", "a command without flags: no empty flags section")
	assert.Contains(t, buf.String(), "It takes no flags.")
}

func ptr(v float64) *float64 { return &v }

// writeSummary writes the summary of a run that finished, with figures the test chose.
func writeSummary(t *testing.T, path string, ttft []float64, rps, errRate *float64) {
	t.Helper()
	s := &summary.Summary{RunID: filepath.Base(path), ConfigID: "cfg", Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Finished: true}
	s.Requests.TTFTMS = recorder.ComputeStats(ttft)
	s.Requests.Total, s.Requests.OK = 20, len(ttft)
	s.Requests.WindowS, s.Requests.RequestThroughput, s.Requests.ErrorRate = ptr(2), rps, errRate
	require.NoError(t, report.WriteJSON(path, s))
}

func TestCompareChangesByHand(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "c.json")
	writeSummary(t, a, []float64{100, 100, 100}, ptr(10), ptr(0))
	writeSummary(t, b, []float64{120, 120, 120}, ptr(12), ptr(0.05))
	writeSummary(t, c, []float64{90, 90, 90}, nil, ptr(0))
	code, out, errOut := runCmd(context.Background(), "compare", "-metrics", "ttft.p99,throughput,error_rate,goodput,e2e.p50", "-out", dir, a, b, c)
	require.Equal(t, exitOK, code, errOut)
	// These summaries name no requests CSV: the report says so and draws no CDF for them.
	assert.Contains(t, out, "vmtest: A: no latency CDF: the summary names no requests CSV")
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1); len(f) > 1 {
			rows[f[0]] = f
		}
	}
	assert.Contains(t, out, "A: "+a+" (config cfg, run a.json, 2025-01-02 03:04:05)")
	assert.Equal(t, []string{"metric", "unit", "A", "B", "B vs A", "C", "C vs A"}, rows["metric"])
	// ttft.p99: 100 → 120 is +20 % (lower is better: worse); 100 → 90 is −10 % (better).
	assert.Equal(t, []string{"ttft.p99", "ms", "100.0", "120.0", "+20.0% worse", "90.00", "-10.0% better"}, rows["ttft.p99"])
	// request_throughput: 10 → 12 is +20 % (higher is better: better); C has none.
	assert.Equal(t, []string{"request_throughput", "req/s", "10.00", "12.00", "+20.0% better", "n/a", "n/a"}, rows["request_throughput"])
	// error_rate: 0 → 0.05 has no % change but is worse; 0 → 0 is no change.
	assert.Equal(t, []string{"error_rate", "fraction", "0", "0.05", "from 0 worse", "0", "0%"}, rows["error_rate"])
	// No goodput SLO and no E2E data: unknown, never 0.
	assert.Equal(t, []string{"goodput", "req/s", "n/a", "n/a", "n/a", "n/a", "n/a"}, rows["goodput"])
	assert.Equal(t, []string{"e2e.p50", "ms", "n/a", "n/a", "n/a", "n/a", "n/a"}, rows["e2e.p50"])
}

func TestCompareReadsWhatLoadWrote(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	var paths []string
	for _, cfg := range []string{"x", "y"} {
		dir := t.TempDir()
		code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "10", "-concurrency", "2",
			"-max-tokens", "4", "-interval", "100ms", "-out", dir, "-config", cfg, "-gpu", "none", "-no-png")
		require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
		files := runFilesNoPNG(t, dir, cfg)
		paths = append(paths, files["summary_json"], files["run_summary_json"])
	}
	outDir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "compare", "-out", outDir, paths[0], paths[3])
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "config x")
	assert.Contains(t, out, "config y")
	// The comparison report, as compare.Run writes it: the Markdown and its HTML twin, with both runs' rows and
	// a CDF of each run's successful requests (read back from the requests CSV its summary names).
	htmls, _ := filepath.Glob(filepath.Join(outDir, "comparison_report_*.html"))
	mds, _ := filepath.Glob(filepath.Join(outDir, "comparison_report_*.md"))
	require.Len(t, htmls, 1)
	require.Len(t, mds, 1)
	assert.Contains(t, out, "vmtest: wrote "+htmls[0]+"\n")
	page, err := os.ReadFile(htmls[0])
	require.NoError(t, err)
	assert.Contains(t, string(page), "A: x")
	assert.Contains(t, string(page), "B: y")
	assert.Contains(t, string(page), "<svg")
	assert.NotContains(t, out, "no latency CDF")
	assert.NotContains(t, string(page), "<script")
	md, err := os.ReadFile(mds[0])
	require.NoError(t, err)
	assert.Contains(t, string(md), "| A: x |")
	// A change is signed and judged, one under 0.05 % reads 0.0 % unjudged, an identical value 0 %. A value is
	// shown to 4 significant digits: a loaded machine's p99 of over a second has no decimals ("1291").
	assert.Regexp(t, `(?m)^ttft\.p99\s+ms\s+\d+(\.\d+)?\s+\d+(\.\d+)?\s+([-+]\d+\.\d%\s(better|worse)|0\.0%|0%)$`, out)

	// What compare reads is what was written.
	s := readSummaryT(t, paths[0])
	data, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	var again summary.Summary
	require.NoError(t, json.Unmarshal(data, &again))
	for _, m := range defaultCompareMetrics {
		v1, _ := s.Lookup(m)
		v2, _ := again.Lookup(m)
		assert.Equal(t, v1, v2, m)
	}

	code, _, errOut = runCmd(context.Background(), "compare", "-out", outDir, paths[0], filepath.Join(t.TempDir(), "missing.json"))
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "missing.json")
	snaps, _ := filepath.Glob(filepath.Join(filepath.Dir(paths[0]), "metrics_x_*.json"))
	require.Len(t, snaps, 1)
	code, _, errOut = runCmd(context.Background(), "compare", "-out", outDir, paths[0], snaps[0])
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "not a vmtest summary")
}

func TestReportRerendersCSVAndPNG(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "10", "-concurrency", "2",
		"-max-tokens", "4", "-interval", "100ms", "-out", dir, "-config", "r", "-gpu", "none")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	files := runFiles(t, dir, "r")
	csv0, err := os.ReadFile(files["snapshots_csv"])
	require.NoError(t, err)
	png0, err := os.ReadFile(files["plot_png"])
	require.NoError(t, err)
	page0, err := os.ReadFile(files["report_html"])
	require.NoError(t, err)
	require.NoError(t, os.Remove(files["snapshots_csv"]))
	require.NoError(t, os.Remove(files["plot_png"]))
	require.NoError(t, os.Remove(files["report_html"]))

	code, out, errOut = runCmd(context.Background(), "report", files["snapshots_json"])
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "vmtest: wrote "+files["snapshots_csv"]+"\nvmtest: wrote "+files["plot_png"]+"\nvmtest: wrote "+files["report_html"]+"\n", out)
	page, err := os.ReadFile(files["report_html"])
	require.NoError(t, err)
	sum := readSummaryT(t, files["run_summary_json"])
	assert.Contains(t, string(page), sum.RunID, "the run's summary")
	assert.Contains(t, string(page), "<svg", "the pictures")
	// The requests CSV beside it gives the same pictures as the collector drew: the client's TTFT p50 and p99.
	png1, err := os.ReadFile(files["plot_png"])
	require.NoError(t, err)
	assert.True(t, bytes.Equal(png0, png1), "the re-rendered PNG is the collector's, byte for byte")
	assert.NotContains(t, string(page), "need the request records")
	assert.Equal(t, svgsOf(string(page0)), svgsOf(string(page)), "the HTML's pictures are the collector's")
	// The run had no check; the page made afterwards cannot know that, and says so rather than "no check".
	assert.Contains(t, string(page0), "No SLO check was evaluated in this run.")
	assert.NotContains(t, string(page), "No SLO check was evaluated")
	assert.Contains(t, string(page), "this page was made afterwards from the run's files, which do not hold the SLO verdicts")
	// Without the run's summary the CSV and PNG are still re-rendered; the HTML report is not, and it says why.
	require.NoError(t, os.Remove(files["report_html"]))
	require.NoError(t, os.Rename(files["run_summary_json"], files["run_summary_json"]+".away"))
	code, out, errOut = runCmd(context.Background(), "report", files["snapshots_json"])
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "vmtest: no HTML report: it needs the run's summary: open "+files["run_summary_json"])
	assert.NotContains(t, out, "wrote "+files["report_html"])
	require.NoError(t, os.Rename(files["run_summary_json"]+".away", files["run_summary_json"]))
	csv1, err := os.ReadFile(files["snapshots_csv"])
	require.NoError(t, err)
	assert.Equal(t, string(csv0), string(csv1), "the same CSV as the collector wrote")
	png, err := os.ReadFile(files["plot_png"])
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")))
	left, err := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file left")

	// Not a snapshots file, a placeholder, a missing file: status 1, the file named.
	placeholder := filepath.Join(dir, "metrics_p_20250101_000000.json")
	require.NoError(t, report.WriteJSON(placeholder, report.SnapshotFile{RunID: "p", Snapshots: nil}))
	for _, path := range []string{files["summary_json"], placeholder, filepath.Join(dir, "missing.json"), files["snapshots_csv"]} {
		code, _, errOut = runCmd(context.Background(), "report", path)
		assert.Equal(t, exitFail, code, path)
		assert.Contains(t, errOut, path)
	}
}

// svgsOf returns the inline pictures of an HTML report.
func svgsOf(page string) []string {
	var out []string
	for {
		i := strings.Index(page, "<svg")
		if i < 0 {
			return out
		}
		j := strings.Index(page[i:], "</svg>")
		if j < 0 {
			return append(out, page[i:])
		}
		out = append(out, page[i:i+j])
		page = page[i+j:]
	}
}

// A re-render keeps the report the run wrote, whose SLO verdicts no file holds: a failed SLO stays "NOT MET".
func TestReportKeepsTheRunsVerdicts(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-requests", "4", "-concurrency", "2",
		"-max-tokens", "4", "-interval", "100ms", "-out", dir, "-config", "v", "-gpu", "none", "-no-png", "-slo", "p(99) ttft < 0.001ms")
	require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	files := runFilesNoPNG(t, dir, "v")
	page0, err := os.ReadFile(files["report_html"])
	require.NoError(t, err)
	require.Contains(t, string(page0), "NOT MET")

	code, out, errOut = runCmd(context.Background(), "report", files["snapshots_json"])
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "vmtest: kept "+files["report_html"]+": it holds the run's SLO verdicts")
	assert.NotContains(t, out, "wrote "+files["report_html"])
	page1, err := os.ReadFile(files["report_html"])
	require.NoError(t, err)
	assert.Equal(t, string(page0), string(page1))
}

// A load where no request succeeds is a failed run even without an -slo, and says why; the server being
// down does not make the client spin (the closed loop backs off).
func TestLoadWithNothingSucceedingExitsOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", url, "-model", "m", "-duration", "1s",
		"-concurrency", "2", "-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	m := regexp.MustCompile(`vmtest: load: no request succeeded \((\d+) sent\); the first failed with: `).FindStringSubmatch(errOut)
	require.NotNil(t, m, errOut)
	sent, _ := strconv.Atoi(m[1])
	// Each worker sends at 0, 10, 30, 70, 150, 310 and 630 ms and would next at 1270: at most 7 in 1 s (a
	// loaded machine only stretches the waits; loadgen's synctest tests hold the schedule exactly).
	assert.GreaterOrEqual(t, sent, 2, "each worker tried")
	assert.LessOrEqual(t, sent, 14, "2 workers × at most 7 attempts: the closed loop backs off")
	assert.Contains(t, errOut, "connection refused")
	assert.Contains(t, out, fmt.Sprintf("; %d could not connect to the server", sent))
	s := readSummaryT(t, runFilesNoPNG(t, dir, "load")["summary_json"])
	assert.Equal(t, sent, s.Requests.Failed)
}

// An output directory that cannot be written fails the command before anything runs.
func TestUnwritableOutputFailsAtOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	sim := fastSim(t)
	for _, args := range [][]string{
		{"load", "-url", sim.URL, "-requests", "5", "-out", filepath.Join(file, "out"), "-gpu", "none", "-no-png"},
		{"collect", "-url", sim.URL, "-duration", "1s", "-out", filepath.Join(file, "out"), "-gpu", "none", "-no-png"},
	} {
		code, out, errOut := runCmd(context.Background(), args...)
		assert.Equal(t, exitFail, code, "%v\nstdout:\n%s\nstderr:\n%s", args, out, errOut)
		assert.Contains(t, errOut, "vmtest "+args[0]+`: output directory "`+filepath.Join(file, "out")+`": mkdir `)
		assert.NotContains(t, out, "vmtest: run ", "nothing was run")
		assert.NotContains(t, out, "vmtest: load:")
	}
}

// A -model the server does not serve stops the load before anything is sent, naming what it serves.
func TestLoadWithAModelNotServedExitsOne(t *testing.T) {
	sim := fastSim(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-model", "sim-modle", "-requests", "5",
		"-interval", "200ms", "-out", dir, "-gpu", "none", "-no-png")
	require.Equal(t, exitFail, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, errOut, `vmtest: load: -model "sim-modle" is not served by `+sim.URL+` (it serves sim-model); nothing was sent`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "it stopped before collecting: no empty run over the latest run's files")
	assert.NotContains(t, out, "vmtest: requests:", "no summary of a run that never started")
}

// -metrics-model reads one model's series: a model the server does not expose fails each scrape, naming the
// flag and the models it has. One interval of 1 s: each scrape has 800 ms, which a loaded machine needs (at
// 100 ms the last reading could be one still in flight, whose error says so).
func TestCollectMetricsModel(t *testing.T) {
	t.Parallel()
	sim := fastSim(t)
	dir := t.TempDir()
	// A 10 s interval gives each scrape (at the start and at the stop) 8 s: a loaded machine's late answer
	// would otherwise be the last error instead of the model's.
	code, out, errOut := runCmd(context.Background(), "collect", "-url", sim.URL, "-duration", "1s", "-interval", "10s",
		"-out", dir, "-config", "m", "-gpu", "none", "-no-png", "-metrics-model", "no-such-model")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	s := readSummaryT(t, runFilesNoPNG(t, dir, "m")["summary_json"])
	assert.NotContains(t, s.Files, "plot_png", "-no-png")
	assert.Contains(t, s.Files, "report_html", "-no-png keeps the HTML report")
	st := s.Sources["vllm"]
	assert.Equal(t, st.Readings, st.Failed, "every scrape failed")
	assert.Contains(t, st.LastError, `no series with model_name="no-such-model"`)
	assert.Contains(t, st.LastError, "-metrics-model")
	assert.Contains(t, st.LastError, `the server has "sim-model"`)
}

// A path that does not exist is named as such, not as the wrong kind of file.
func TestReportMissingPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	code, _, errOut := runCmd(context.Background(), "report", missing)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "stat "+missing+": no such file or directory")
}

// Flags may follow the arguments, as README's examples put -out after the files; "--" ends the flags.
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	writeSummary(t, a, []float64{100}, ptr(10), ptr(0))
	writeSummary(t, b, []float64{120}, ptr(12), ptr(0))
	for _, args := range [][]string{
		{"compare", a, b, "-out", filepath.Join(dir, "after")},
		{"compare", a, "-out", filepath.Join(dir, "between"), b, "-metrics", "ttft.p99"},
		{"compare", "-out", filepath.Join(dir, "dashes"), "--", a, b},
	} {
		code, out, errOut := runCmd(context.Background(), args...)
		require.Equal(t, exitOK, code, "%q: %s", args, errOut)
		assert.Contains(t, out, "A: "+a+" ", "%q: the files in the order given", args)
		assert.Contains(t, out, "B: "+b+" ", "%q", args)
		outDir := args[slices.Index(args, "-out")+1]
		htmls, _ := filepath.Glob(filepath.Join(outDir, "comparison_report_*.html"))
		assert.Len(t, htmls, 1, "%q: the report is written under -out", args)
	}
	code, out, _ := runCmd(context.Background(), "compare", a, b, "-metrics", "ttft.p99", "-out", filepath.Join(dir, "m"))
	require.Equal(t, exitOK, code)
	assert.NotContains(t, out, "request_throughput", "-metrics after the files chose the rows")

	// report takes no -out: given after a file, it is refused as a flag (status 2), and nothing is re-rendered.
	snaps := filepath.Join(dir, "metrics_r_20250101_000000.json")
	code, out, errOut := runCmd(context.Background(), "report", snaps, "-out", filepath.Join(dir, "elsewhere"))
	assert.Equal(t, exitUsage, code, out)
	assert.Contains(t, errOut, "flag provided but not defined: -out")
	assert.NotContains(t, errOut, "stat -out")
	// After "--", a name that looks like a flag is a file.
	code, _, errOut = runCmd(context.Background(), "report", "--", "-x.json")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "stat -x.json: no such file or directory")
}

// A goodput -slo without a goodput objective stops the command before anything is sent, once, naming the flags.
func TestGoodputSLOWithoutObjectiveSendsNothing(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", srv.URL, "-requests", "2", "-out", dir, "-gpu", "none", "-no-png",
		"-slo", "goodput > 1")
	assert.Equal(t, exitUsage, code, out)
	assert.Equal(t, 1, strings.Count(errOut, "no goodput objective"), errOut)
	assert.NotContains(t, errOut, "Options.Goodput", "the command's flags, not the library's field")
	assert.Zero(t, hits.Load(), "nothing was sent to the server")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// When the server's models cannot be listed, the hint fits the cause: "give -model" only where the server
// answered without a usable list; a refused key points at the credentials, a server that is down at -url.
func TestModelListFailureHints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	status := func(code int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tc := range []struct {
		name, url, want string
	}{
		{"down", down, "(no answer from the server: check -url, and that the server is up)"},
		{"401", status(http.StatusUnauthorized), "(the server refused the credentials: check -api-key or $OPENAI_API_KEY, and -header)"},
		{"403", status(http.StatusForbidden), "(the server refused the credentials"},
		{"404", status(http.StatusNotFound), "(the server has no model list: give -model)"},
		{"200 empty", status(http.StatusOK), "(the server's model list is not usable: give -model)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(context.Background(), "load", "-url", tc.url, "-requests", "1", "-out", t.TempDir(), "-gpu", "none", "-no-png")
			assert.Equal(t, exitFail, code, out)
			assert.Contains(t, errOut, tc.want)
			if tc.name == "down" || tc.name == "401" || tc.name == "403" {
				assert.NotContains(t, errOut, "-model", "naming the model would only start a load that fails")
			}
		})
	}
}

// A metric-name typo points at a list the command itself prints, which works outside any Go module.
func TestHelpMetricsListsTheRegistry(t *testing.T) {
	code, out, errOut := runCmd(context.Background(), "help", "metrics")
	require.Equal(t, exitOK, code, errOut)
	for _, m := range summary.Registry() {
		assert.Contains(t, out, m.Name+" ", m.Name)
	}
	assert.Regexp(t, `(?m)^goodput_requests\s+requests\s+higher\s+`, out)
	assert.Regexp(t, `(?m)^e2e\.<[^>]*> \(also latency, e2e_latency\)\s+ms\s+lower\s+`, out)
	for _, s := range []string{"replica.<name>.server.*", "model.<name>.*", "turn.<k>.*", "ITL is not kept per turn"} {
		assert.Contains(t, out, s)
	}
	code, _, errOut = runCmd(context.Background(), "load", "-url", "http://127.0.0.1:1", "-slo", "turn.1.itl.p99 < 100ms")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "ITL is not kept per turn")
	code, _, errOut = runCmd(context.Background(), "load", "-url", "http://127.0.0.1:1", "-slo", "p(99) ttfb < 1s")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `did you mean ttft.p99? (every name: go doc github.com/vmtest/vmtest/summary Summary.Lookup, or vmtest help metrics)`)
}

// A change that rounds to 0.0 % is not called better or worse; the comparison HTML shows no Markdown backticks.
func TestCompareNoiseIsNoVerdict(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "c.json")
	writeSummary(t, a, []float64{100}, ptr(10), ptr(0))
	writeSummary(t, b, []float64{100.04}, ptr(10), ptr(0)) // +0.04 %: under the 0.05 % one decimal shows
	writeSummary(t, c, []float64{100.06}, ptr(10), ptr(0)) // +0.06 %: shown as +0.1 %, and judged
	out0 := filepath.Join(dir, "out")
	code, out, errOut := runCmd(context.Background(), "compare", "-metrics", "ttft.p99", "-out", out0, a, b, c)
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `(?m)^ttft\.p99\s+ms\s+100\.0\s+100\.0\s+0\.0%\s+100\.1\s+\+0\.1% worse\s*$`, out)
	htmls, _ := filepath.Glob(filepath.Join(out0, "comparison_report_*.html"))
	require.Len(t, htmls, 1)
	page, err := os.ReadFile(htmls[0])
	require.NoError(t, err)
	assert.Contains(t, string(page), "compared by vmtest compare; A is the reference")
	assert.NotContains(t, string(page), "`")
}

// Two -url flags are two replicas: both scraped, each sent half the load (round robin), each with its own
// server figures in the summary beside their sum. With -router every request goes to the router.
func TestLoadSeveralServers(t *testing.T) {
	t.Parallel()
	a, b := fastSim(t), fastSim(t)
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "load", "-url", a.URL, "-url", b.URL, "-model", "sim-model",
		"-concurrency", "2", "-requests", "10", "-max-tokens", "3", "-interval", "1m", "-out", dir, "-config", "two", "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	s := readSummaryT(t, runFilesNoPNG(t, dir, "two")["summary_json"])
	require.NotNil(t, s.Server)
	require.Len(t, s.Server.Replicas, 2)
	assert.Equal(t, 15.0, *s.Server.Replicas["r0"].GenerationTokens, "5 requests × 3 tokens")
	assert.Equal(t, 15.0, *s.Server.Replicas["r1"].GenerationTokens)
	assert.Equal(t, 30.0, *s.Server.GenerationTokens)

	dir = t.TempDir()
	code, out, errOut = runCmd(context.Background(), "load", "-servers", "x="+a.URL+",y="+b.URL, "-router", a.URL, "-model", "sim-model",
		"-concurrency", "2", "-requests", "4", "-max-tokens", "3", "-interval", "1m", "-out", dir, "-config", "routed", "-gpu", "none", "-no-png")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	s = readSummaryT(t, runFilesNoPNG(t, dir, "routed")["summary_json"])
	require.NotNil(t, s.Server)
	assert.Equal(t, 12.0, *s.Server.Replicas["x"].GenerationTokens, "every request to the router (a)")
	assert.Equal(t, 0.0, *s.Server.Replicas["y"].GenerationTokens, "b was scraped, never sent a request")
}

// A count the workload sets has no better direction: compare gives its change and no verdict (it printed
// "+750.0% worse" for model.sql-lora.requests.total 2 → 17).
func TestCompareCountsHaveNoVerdict(t *testing.T) {
	two, seventeen, zero := summary.Value{Known: true, Value: 2}, summary.Value{Known: true, Value: 17}, summary.Value{Known: true}
	for _, name := range []string{"model.sql-lora.requests.total", "turn.1.requests.ok", "requests.total", "requests.output_tokens"} {
		assert.Equal(t, "+750.0%", change(two, seventeen, summary.DirectionOf(name)), name)
		assert.Equal(t, "from 0", change(zero, two, summary.DirectionOf(name)), name)
	}
	assert.Equal(t, "+750.0% worse", change(two, seventeen, summary.DirectionOf("requests.failed")))
}

// An -slo on a model no request will name is refused before any load, as one on a missing replica is: the
// models are known once the prompts are (-model, a mix drawn over them, or a -prompts file naming them).
func TestSLOOnAModelNoRequestNamesIsRefused(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{Model: "base", LoRAModules: []string{"sql-lora"},
		TTFTBase: 2 * time.Millisecond, TimePerOutputToken: 100 * time.Microsecond})
	prompts := filepath.Join(t.TempDir(), "p.jsonl")
	require.NoError(t, os.WriteFile(prompts, []byte(`{"prompt": "one two", "model": "sql-lora"}`+"\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"load", "-model", "base", "-slo", "p(99) ttft < 1s", "-slo", "model.foo.ttft.p99 < 1s"},
			`vmtest load: -slo #2 "model.foo.ttft.p99 < 1s": model.foo.ttft.p99: no model "foo" in this run (models: base)`},
		{[]string{"load", "-prompts", prompts, "-slo", "model.base.e2e.p50 < 1s"},
			`-slo #1 "model.base.e2e.p50 < 1s": model.base.e2e.p50: no model "base" in this run (models: sql-lora)`},
		{[]string{"sweep", "-concurrency", "1:2", "-requests", "2", "-slo", "model.org/m-1.5b.error_rate < 1%"},
			`-slo #1 "model.org/m-1.5b.error_rate < 1%": model.org/m-1.5b.error_rate: no model "org/m-1.5b" in this run (models: base)`},
	} {
		dir := t.TempDir()
		args := append(tc.args, "-url", sim.URL, "-gpu", "none", "-no-png", "-out", dir)
		code, out, errOut := runCmd(context.Background(), args...)
		assert.Equal(t, exitUsage, code, "%q: stdout %s\nstderr %s", tc.args, out, errOut)
		assert.Contains(t, errOut, tc.want, "%q", tc.args)
		assert.NotContains(t, out, "vmtest: load: model", "%q: no load was sent", tc.args)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "%q: no file written", tc.args)
	}
	code, out, errOut := runCmd(context.Background(), "load", "-url", sim.URL, "-prompts", prompts, "-requests", "2",
		"-gpu", "none", "-no-png", "-out", t.TempDir(), "-slo", "model.SQL-lora.e2e.p50 < 10s")
	assert.Equal(t, exitOK, code, "the model as the run spells it, case aside: stdout %s\nstderr %s", out, errOut)
}
