package vmtest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vassert "github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/live"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

// fakeTB records what the collector says to the test and runs cleanups on demand, so tests can check the
// failures the collector reports without failing themselves.
type fakeTB struct {
	name     string
	mu       sync.Mutex
	logs     []string
	errs     []string
	fatal    []string
	cleanups []func()
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Logf(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, a...))
}
func (f *fakeTB) Errorf(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, a...))
}
func (f *fakeTB) Fatalf(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatal = append(f.fatal, fmt.Sprintf(format, a...))
}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// metricsServer serves body at /metrics; body can be swapped while running.
type metricsServer struct {
	*httptest.Server
	body atomic.Value
	hits atomic.Int64
}

func newMetricsServer(t *testing.T, body string) *metricsServer {
	m := &metricsServer{}
	m.body.Store(body)
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, m.body.Load().(string))
	}))
	t.Cleanup(m.Close)
	return m
}

func capture(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", "v0-busy-qwen3-0.6b.prom"))
	require.NoError(t, err)
	return string(b)
}

func okReq(start time.Time, ttft, e2e time.Duration, tokens int) Request {
	return Request{Start: start, FirstToken: start.Add(ttft), End: start.Add(e2e), OutputTokens: tokens, HTTPStatus: 200}
}

// No assertion depends on when a tick comes or how long a scrape takes: the test waits for the readings it
// checks (a loaded machine may miss a scrape's deadline, 80 % of the interval: beside 4 busy loops and 3 copies
// of this test, 8 runs of at most 600 did at 100 ms, 1 of 98 at 1 s), and the requests are looked for in
// whichever snapshot carries them.
func TestCollectEndToEndWritesSeedFiles(t *testing.T) {
	t.Parallel()
	srv := newMetricsServer(t, capture(t))
	dir := t.TempDir()
	ft := &fakeTB{name: "TestServe/qwen 0.6b"}
	c := Collect(ft, Options{VLLMBaseURL: srv.URL, Interval: 200 * time.Millisecond, OutputDir: dir, GPUSource: "none"})
	require.NotNil(t, c)
	require.Empty(t, ft.fatal)
	assert.Equal(t, "TestServe_qwen_0.6b-e99eac6f", c.ConfigID())
	snaps := c.Snapshots()
	require.NotEmpty(t, snaps, "the first snapshot is taken at once")
	assert.Zero(t, snaps[0].ElapsedS, "the first snapshot is taken at once")

	// TTFTs 10..50 ms, E2E 100..500 ms, all ended by now (a request counts in the interval in which it ended).
	now := time.Now().Add(-500 * time.Millisecond)
	for i := 1; i <= 5; i++ {
		c.RecordRequest(okReq(now, time.Duration(i)*10*time.Millisecond, time.Duration(i)*100*time.Millisecond, 8))
	}
	c.RecordRequest(Request{Start: now, Err: fmt.Errorf("connection refused")})
	c.Assert(vassert.P99Below("ttft", 100*time.Millisecond))
	c.Assert(vassert.P99Below("e2e", 450*time.Millisecond)) // p99 E2E = 400+0.96·100 = 496 ms → must fail
	// Until a snapshot after the first has a rate (two scrapes in a row, at least half the interval apart, as
	// the summary counts one) and the requests are in one.
	waitSnapshots(t, c, func(s []snapshot.Snapshot) bool {
		rate, reqs := false, false
		for _, sn := range s[1:] {
			v := &sn.VLLMMetrics
			rate = rate || v.TokensPerSecond != nil && v.ScrapeIntervalS != nil && *v.ScrapeIntervalS >= 0.1
			reqs = reqs || sn.VLLMMetrics.RequestsFinished > 0
		}
		return rate && reqs
	})
	scraped := slices.IndexFunc(c.Snapshots(), func(sn snapshot.Snapshot) bool { return sn.VLLMMetrics.ActiveBatchSize != nil })
	require.GreaterOrEqual(t, scraped, 0, "a rate needs scrapes")
	sn := c.Snapshots()[scraped]
	assert.Equal(t, 0.0, *sn.VLLMMetrics.ActiveBatchSize) // capture line 286: num_requests_running 0.0
	assert.Equal(t, 4874.0, *sn.VLLMMetrics.GenerationTokensTotal)
	ft.runCleanups()

	sum := c.Summary()
	assert.Equal(t, 6, sum.Requests.Total)
	assert.Equal(t, 5, sum.Requests.OK)
	assert.Equal(t, 1, sum.Requests.Failed)
	assert.InDelta(t, 30, *sum.Requests.TTFTMS.Mean, 1e-6)
	assert.InDelta(t, 300, *sum.Requests.E2EMS.P50, 1e-6)
	assert.InDelta(t, 496, *sum.Requests.E2EMS.P99, 1e-6)
	require.Len(t, ft.errs, 1, "only the e2e SLO fails: %v", ft.errs)
	assert.Contains(t, ft.errs[0], "p99 e2e = 496.000 ms, want < 450ms (n=5")
	assert.Contains(t, ft.errs[0], sum.Files["requests_csv"])
	// The HTML report holds both verdicts, the failure's message as the test got it (HTML-escaped).
	page, err := os.ReadFile(sum.Files["report_html"])
	require.NoError(t, err)
	assert.Contains(t, string(page), `<td class="failed">NOT MET</td><td style="text-align:left">`+
		html.EscapeString(ft.errs[0])+`</td>`)
	assert.Contains(t, string(page), html.EscapeString(`P99Below("ttft", 100ms)`)+`</code></td><td class="met">met</td>`)
	assert.GreaterOrEqual(t, sum.Snapshots, 3)
	// The capture's running=0 waiting=0 gauges reach the snapshots; with a static capture the rate is 0.
	require.NotNil(t, sum.VLLM.AvgRequestQueueSize)
	assert.Equal(t, 0.0, *sum.VLLM.AvgRequestQueueSize)
	require.NotNil(t, sum.VLLM.AvgTokensPerSecond)
	assert.Equal(t, 0.0, *sum.VLLM.AvgTokensPerSecond)
	assert.Equal(t, "gpu source is \"none\"", sum.Sources["gpu"].Note)

	// Files: names, seed fields, and the requests CSV.
	for _, k := range []string{"snapshots_json", "snapshots_csv", "summary_json", "run_summary_json", "requests_csv", "plot_png"} {
		p := sum.Files[k]
		require.FileExists(t, p)
		assert.Equal(t, dir, filepath.Dir(p))
	}
	assert.Regexp(t, `metrics_TestServe_qwen_0\.6b-e99eac6f_\d{8}_\d{6}\.json$`, sum.Files["snapshots_json"])
	var doc struct {
		RunID     string           `json:"run_id"`
		Snapshots []map[string]any `json:"snapshots"`
	}
	b, err := os.ReadFile(sum.Files["snapshots_json"])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, c.RunID(), doc.RunID)
	require.Equal(t, sum.Snapshots, len(doc.Snapshots))
	first := doc.Snapshots[0]
	for _, k := range []string{"timestamp", "config_id", "gpu_metrics", "vllm_metrics", "system_metrics"} {
		assert.Contains(t, first, k)
	}
	ts, err := time.Parse(time.RFC3339, first["timestamp"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, now, ts, 5*time.Second)
	assert.Nil(t, first["system_metrics"].(map[string]any)["cpu_percent"], "first snapshot's CPU is null, not 0")
	assert.Equal(t, map[string]any{}, first["gpu_metrics"])
	assert.Equal(t, "gpu source is \"none\"", first["errors"].(map[string]any)["gpu"])
	// The requests were recorded after the first tick, all five at once: the first snapshot taken after that
	// carries them (the second, unless the machine held this test up past a tick), and no other does.
	carries := -1
	for i, sn := range doc.Snapshots {
		if n, _ := sn["vllm_metrics"].(map[string]any)["requests_finished"].(float64); n > 0 {
			assert.Equal(t, -1, carries, "snapshots %d and %d both carry requests", carries, i)
			carries = i
		}
	}
	require.GreaterOrEqual(t, carries, 1, "a snapshot after the first carries the requests")
	in := doc.Snapshots[carries]["vllm_metrics"].(map[string]any)
	assert.Equal(t, 5.0, in["requests_finished"])
	assert.InDelta(t, 30, in["first_token_latency_ms"], 1e-6)
	assert.InDelta(t, 300, in["p50_latency_ms"], 1e-6)
	assert.InDelta(t, 300, in["mean_latency_ms"], 1e-6)

	f, err := os.Open(sum.Files["requests_csv"])
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, 7)

	var s map[string]any
	b, _ = os.ReadFile(sum.Files["summary_json"])
	require.NoError(t, json.Unmarshal(b, &s))
	for _, k := range []string{"gpu_statistics", "vllm_statistics", "system_statistics", "request_statistics"} {
		assert.Contains(t, s, k)
	}
	logs := strings.Join(ft.logs, "\n")
	assert.Contains(t, logs, "wrote "+sum.Files["summary_json"])
	assert.Contains(t, logs, c.RunID())
}

func TestInvalidOptionsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Interval: time.Millisecond}, "Options.Interval"},
		{Options{Interval: time.Second, SampleTimeout: 2 * time.Second}, "Options.SampleTimeout"},
		{Options{MaxSnapshots: -1}, "Options.MaxSnapshots"},
		{Options{MaxRequests: -1}, "Options.MaxRequests"},
		{Options{Goal: live.Goal{Count: -1}}, "Options.Goal"},
		{Options{Goal: live.Goal{Duration: -time.Second}}, "Options.Goal"},
		{Options{VLLMBaseURL: "localhost:8000"}, "Options.VLLMBaseURL"},
		{Options{GPUSource: "cuda"}, "GPUSource"},
	} {
		ft := &fakeTB{name: "T"}
		c := Collect(ft, tc.opts)
		assert.Nil(t, c)
		require.Len(t, ft.fatal, 1, "%+v", tc.opts)
		assert.Contains(t, ft.fatal[0], tc.want)
	}
}

func TestRequireGPUFailsWithoutGPU(t *testing.T) {
	ft := &fakeTB{name: "T"}
	assert.Nil(t, Collect(ft, Options{RequireGPU: true, GPUSource: "none", NoPNG: true, OutputDir: t.TempDir()}))
	require.Len(t, ft.fatal, 1)
	assert.Contains(t, ft.fatal[0], "RequireGPU")
}

func TestUnreachableServerAtStartAndMidRun(t *testing.T) {
	srv := newMetricsServer(t, capture(t))
	url := srv.URL
	srv.Close() // unreachable at start
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{VLLMBaseURL: url, Interval: 50 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true})
	waitSnapshots(t, c, func(s []snapshot.Snapshot) bool { return len(s) >= 2 })
	ft.runCleanups()
	sum := c.Summary()
	st := sum.Sources["vllm"]
	assert.Equal(t, st.Readings, st.Failed, "every scrape failed")
	assert.GreaterOrEqual(t, st.Readings, 3, "collection went on")
	assert.Contains(t, st.LastError, "connect")
	assert.Nil(t, sum.VLLM.AvgRequestQueueSize)
	for _, s := range c.Snapshots() {
		assert.Nil(t, s.VLLMMetrics.RequestQueueSize)
		assert.NotEmpty(t, s.Errors["vllm"])
		assert.NotNil(t, s.SystemMetrics.MemoryGB, "the other samplers are unaffected")
	}
	assert.Empty(t, ft.errs, "a broken scrape is recorded, not fatal")

	// Mid-run: good scrapes, then the server goes away.
	srv2 := newMetricsServer(t, capture(t))
	ft2 := &fakeTB{name: "T2"}
	c2 := Collect(ft2, Options{VLLMBaseURL: srv2.URL, Interval: 50 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true})
	waitSnapshots(t, c2, func(s []snapshot.Snapshot) bool { return len(s) >= 2 && s[len(s)-1].Errors["vllm"] == "" })
	srv2.CloseClientConnections()
	srv2.Close()
	waitSnapshots(t, c2, func(s []snapshot.Snapshot) bool { return s[len(s)-1].Errors["vllm"] != "" })
	ft2.runCleanups()
	st2 := c2.Summary().Sources["vllm"]
	assert.Greater(t, st2.Failed, 0)
	assert.Less(t, st2.Failed, st2.Readings)
	assert.Equal(t, 0.0, *c2.Summary().VLLM.MaxRequestQueueSize, "samples before the failure kept")
	assert.Empty(t, ft2.errs)
}

// hungSampler never answers: each Sample waits for its context's deadline.
type hungSampler struct{}

func (hungSampler) Name() string { return "hung" }
func (hungSampler) Sample(ctx context.Context) samplers.Reading {
	<-ctx.Done()
	return samplers.Reading{Err: ctx.Err()}
}

// A source that never answers (a hung server) delays neither Collect, nor any tick, nor Stop: in a synctest
// bubble the clock moves only when every goroutine waits, so each of these is exact.
func TestHungSamplerDoesNotDelayTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{name: "T"}
		start := time.Now()
		c := Collect(ft, Options{Interval: 100 * time.Millisecond, SampleTimeout: 50 * time.Millisecond, NoSystem: true,
			OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, Samplers: []samplers.Sampler{hungSampler{}}})
		require.NotNil(t, c)
		firstTick := time.Since(start)
		assert.LessOrEqual(t, firstTick, 100*time.Millisecond, "Collect's first tick waits at most the deadline and its grace")
		time.Sleep(520*time.Millisecond - firstTick)
		stopAt := time.Now()
		ft.runCleanups()
		assert.LessOrEqual(t, time.Since(stopAt), 100*time.Millisecond, "the last tick waits at most the deadline and its grace")
		snaps := c.Snapshots()
		// Ticks at 0, 100, ..., 500 ms and the final one once Stop (at 520 ms) has let the tick in progress
		// reach its deadline (550 ms): a hung source does not stretch the interval.
		require.Len(t, snaps, 7)
		for i, s := range snaps {
			if i < 6 {
				assert.InDelta(t, 0.1*float64(i), s.ElapsedS, 1e-9, "tick %d", i)
			} else {
				assert.GreaterOrEqual(t, s.ElapsedS, 0.52)
				assert.LessOrEqual(t, s.ElapsedS, 0.55+1e-9)
			}
			assert.Contains(t, s.Errors["hung"], "deadline", "tick %d", i)
		}
	})
}

func TestNoRequestsMeansNoData(t *testing.T) {
	t.Parallel()
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: 50 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true})
	c.Assert(vassert.P99Below("ttft", time.Second))
	ft.runCleanups()
	sum := c.Summary()
	assert.Equal(t, 0, sum.Requests.TTFTMS.N)
	require.Len(t, ft.errs, 1)
	assert.Contains(t, ft.errs[0], "no data")
	assert.Contains(t, ft.errs[0], "n=0")
	assert.Contains(t, sum.Sources["vllm"].Note, "no server to scrape")
}

func TestSnapshotBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{name: "T"}
		c := Collect(ft, Options{Interval: 20 * time.Millisecond, MaxSnapshots: 3, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
		time.Sleep(150 * time.Millisecond) // ticks at 0, 20, ..., 140 ms
		ft.runCleanups()                   // and the last: 9 in all
		sum := c.Summary()
		assert.Equal(t, 3, sum.Snapshots)
		assert.Equal(t, 6, sum.SnapshotsDropped)
		assert.Len(t, c.Snapshots(), 3)
	})
}

func TestFinishIsIdempotentAndLateRecordsAreCounted(t *testing.T) {
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: 50 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	now := time.Now()
	c.RecordRequest(okReq(now, 5*time.Millisecond, 10*time.Millisecond, 2))
	s1, err := c.Finish()
	require.NoError(t, err)
	c.RecordRequest(okReq(now, 5*time.Millisecond, 10*time.Millisecond, 2))
	ft.runCleanups()
	assert.Same(t, s1, c.Summary())
	assert.Equal(t, 1, s1.Requests.OK)
	assert.Equal(t, 1, s1.Snapshots-1, "first tick at Collect plus the final one")
}

func TestConcurrentRecordRequest(t *testing.T) {
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: 20 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				now := time.Now()
				c.RecordRequest(okReq(now, time.Millisecond, 2*time.Millisecond, 3))
				if i%50 == 0 {
					_ = c.Summary()
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	ft.runCleanups()
	sum := c.Summary()
	assert.Equal(t, 1600, sum.Requests.OK)
	finished := 0
	for _, s := range c.Snapshots() {
		finished += s.VLLMMetrics.RequestsFinished
	}
	assert.Equal(t, 1600, finished, "every request lands in exactly one interval")
	assert.Equal(t, recorder.Counts{Total: 1600, OK: 1600, OutputTokens: 4800}, sum.Requests.Counts)
}

func TestOutputDirDefaultsAndSanitizing(t *testing.T) {
	// Each changed name ends with the first 8 hex digits of `printf %s NAME | sha256sum`.
	assert.Equal(t, "a_b_c-0af99a60", Sanitize("a/b c"))
	assert.Equal(t, "etc_passwd-3754d6cb", Sanitize("../../etc/passwd"))
	assert.Equal(t, "test-5ec1f7e7", Sanitize(".."))
	assert.Equal(t, "test", Sanitize(""))
	assert.Equal(t, "TestX_sub-1.5-3fbf3f03", Sanitize("TestX/sub-1.5"))
	assert.Equal(t, "TestServePerf", Sanitize("TestServePerf"), "a safe name is kept as it is")
	assert.Equal(t, "Тест_日本語_run-0380a9b2", Sanitize("Тест/日本語 run"), "letters outside ASCII stay readable")

	ft := &fakeTB{name: "TestA/../../b"}
	assert.Equal(t, filepath.Join("metrics_output", "TestA_b-a8e0edf3"), OutputDir(ft, ""))
	t.Setenv(EnvOutputDir, "/tmp/out")
	assert.Equal(t, filepath.Join("/tmp/out", "TestA_b-a8e0edf3"), OutputDir(ft, ""))
	assert.Equal(t, "/x", OutputDir(ft, "/x"))
}

// Names that sanitize alike stay apart; every result is one safe path element of at most MaxNameBytes
// bytes, valid UTF-8, and sanitizes to itself.
func TestSanitizeDistinctBoundedIdempotent(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	names := []string{"a/b", "a b", "a_b", "a__b", "a\\b", "a..b", long, long + "x", strings.Repeat("x", 300),
		strings.Repeat("x", 301), "\xff\xfe", "日本/語", "日本 語", ".hidden", "\u202egnp.exe"}
	seen := map[string]string{}
	for _, n := range names {
		s := Sanitize(n)
		assert.LessOrEqual(t, len(s), MaxNameBytes, n)
		assert.True(t, utf8.ValidString(s), n)
		assert.NotContains(t, s, "/")
		assert.NotContains(t, s, "..")
		assert.False(t, strings.HasPrefix(s, "."), s)
		assert.Equal(t, s, Sanitize(s), "idempotent for %q", n)
		if other, dup := seen[s]; dup {
			t.Errorf("%q and %q both sanitize to %q", other, n, s)
		}
		seen[s] = n
	}
	assert.Equal(t, "a_b-c14cddc0", Sanitize("a/b"))
	assert.Equal(t, "a_b-c8687a08", Sanitize("a b"))
	assert.Equal(t, "a_b", Sanitize("a_b"))
	assert.True(t, strings.HasPrefix(Sanitize(long), strings.Repeat("é", 45)), "cut at a rune boundary: 45 × 2 bytes + 9")
}

func TestCollectorThresholdsAndRateChecks(t *testing.T) {
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
		Goodput: recorder.SLO{TTFT: 150 * time.Millisecond}})
	now := time.Now()
	for i := 1; i <= 4; i++ { // TTFT 100..400 ms, E2E +1600 ms → window 2 s
		ttft := time.Duration(i) * 100 * time.Millisecond
		c.RecordRequest(okReq(now, ttft, ttft+1600*time.Millisecond, 2))
	}
	c.RecordRequest(Request{Start: now, Err: fmt.Errorf("boom")})
	c.Assert(vassert.Expr("p(50) ttft < 260ms"), vassert.Expr("error_rate < 25%")) // p50 = 250 ms; error rate 1/5 = 20 %
	c.Assert(vassert.Expr("p(99) ttft < 300ms"))                                   // p99 = 397 ms: fails
	c.Assert(vassert.ErrorRateBelow(0.1))                                          // 0.2: fails
	c.Assert(vassert.ThroughputAbove(1.9))                                         // 4 / 2 s = 2 req/s: passes
	c.Assert(vassert.GoodputAbove(0.6))                                            // 1 request (TTFT 100 ms) / 2 s = 0.5 req/s: fails
	require.Empty(t, ft.fatal)
	ft.runCleanups()
	require.Len(t, ft.errs, 3, "%v", ft.errs)
	assert.Contains(t, ft.errs[0], "p(99) ttft < 300ms")
	assert.Contains(t, ft.errs[1], "error_rate = 0.2000 (20.00%), want < 0.1")
	assert.Contains(t, ft.errs[2], "goodput")

	bad := &fakeTB{name: "T"}
	c2 := Collect(bad, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	c2.Assert(vassert.Expr("p(99) ttft <"))
	require.Len(t, bad.fatal, 1)
	assert.Contains(t, bad.fatal[0], "byte")
	bad.runCleanups()
}

type customSampler struct {
	name   string
	panics bool
	closed atomic.Bool
}

func (s *customSampler) Name() string { return s.name }
func (s *customSampler) Sample(context.Context) samplers.Reading {
	if s.panics {
		var m map[string]int
		m["x"] = 1 // a sampler bug: assignment to a nil map
	}
	return samplers.Reading{}
}
func (s *customSampler) Close() error { s.closed.Store(true); return nil }

func TestDuplicateSamplerNamesAreRejected(t *testing.T) {
	for _, tc := range []struct {
		extra []samplers.Sampler
		want  string
	}{
		{[]samplers.Sampler{&customSampler{name: "vllm"}}, `Options.Samplers[0]: name "vllm" is taken`},
		{[]samplers.Sampler{&customSampler{name: "system"}}, `Options.Samplers[0]: name "system" is taken`},
		{[]samplers.Sampler{&customSampler{name: "a"}, &customSampler{name: "a"}}, `Options.Samplers[1]: name "a" is taken`},
	} {
		ft := &fakeTB{name: "T"}
		assert.Nil(t, Collect(ft, Options{OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, Samplers: tc.extra}))
		require.Len(t, ft.fatal, 1)
		assert.Contains(t, ft.fatal[0], tc.want)
	}
}

func TestPanickingSamplerIsAFailedReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{name: "T"}
		bad, mine := &customSampler{name: "bad", panics: true}, &customSampler{name: "mine"}
		c := Collect(ft, Options{Interval: 50 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
			Samplers: []samplers.Sampler{bad, mine}})
		time.Sleep(120 * time.Millisecond) // ticks at 0, 50, 100 ms, and the last
		ft.runCleanups()
		st := c.Summary().Sources["bad"]
		assert.Equal(t, st.Readings, st.Failed)
		assert.Equal(t, 4, st.Readings, "it was asked again every tick: a panic does not leave it busy")
		assert.Contains(t, st.LastError, `sampler "bad" panicked: assignment to entry in nil map`)
		assert.Equal(t, 0, c.Summary().Sources["mine"].Failed)
		assert.False(t, mine.closed.Load(), "a sampler the caller passed in is the caller's to close")
		assert.Empty(t, ft.errs)
	})
}

// waitSnapshots polls c.Snapshots until done holds, however long a loaded machine takes (a minute at most):
// it waits for ticks to have happened, and bounds no duration.
func waitSnapshots(t *testing.T, c *Collector, done func([]snapshot.Snapshot) bool) {
	t.Helper()
	for start := time.Now(); !done(c.Snapshots()); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Fatalf("condition on the snapshots not reached in a minute; %d snapshots", len(c.Snapshots()))
		}
	}
}

// goroutineSampler records the goroutine each reading was taken on ("goroutine N [running]:" from
// runtime.Stack).
type goroutineSampler struct {
	mu  sync.Mutex
	ids []string
}

func (*goroutineSampler) Name() string { return "g" }
func (s *goroutineSampler) Sample(context.Context) samplers.Reading {
	buf := make([]byte, 64)
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf[:runtime.Stack(buf, false)]), "goroutine "), " ")
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
	return samplers.Reading{}
}

// Each sampler is read on one goroutine of its own for the whole run: a tick starts none.
func TestSamplerReadOnOneGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &goroutineSampler{}
		c, err := Start(t.Context(), Options{Interval: 100 * time.Millisecond, NoSystem: true, OutputDir: t.TempDir(),
			GPUSource: "none", NoPNG: true, Samplers: []samplers.Sampler{s}})
		require.NoError(t, err)
		time.Sleep(450 * time.Millisecond) // ticks at 0, 100, ..., 400 ms
		_, err = c.Finish()
		require.NoError(t, err)
		s.mu.Lock()
		defer s.mu.Unlock()
		require.Len(t, s.ids, 6, "five ticks and the last")
		for _, id := range s.ids {
			assert.Equal(t, s.ids[0], id)
		}
	})
}
