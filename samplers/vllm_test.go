package samplers

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

const (
	vllmV0Capture       = "v0-busy-qwen3-0.6b.prom"
	vllmV1IdleCapture   = "v1-idle-qwen2.5-0.5b.prom"
	vllmFragmentCapture = "v0.22.1rc1-fragment.prom"
)

func vllmCapture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", name))
	require.NoError(tb, err)
	return b
}

// vllmFakeClock is an injectable VLLMConfig.Now.
type vllmFakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newVLLMFakeClock() *vllmFakeClock {
	return &vllmFakeClock{t: time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)}
}

func (c *vllmFakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *vllmFakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// vllmBodyServer serves whatever body was set last, as Prometheus text.
type vllmBodyServer struct {
	*httptest.Server
	body atomic.Pointer[[]byte]
}

func newVLLMBodyServer(tb testing.TB, body []byte) *vllmBodyServer {
	tb.Helper()
	s := &vllmBodyServer{}
	s.Set(body)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(*s.body.Load())
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *vllmBodyServer) Set(b []byte) { s.body.Store(&b) }

func newTestVLLM(tb testing.TB, cfg VLLMConfig) *VLLM {
	tb.Helper()
	v, err := NewVLLM(cfg)
	require.NoError(tb, err)
	return v
}

// take is what the collector does with a reading it keeps: Sample, then Commit.
func take(tb testing.TB, v *VLLM) Reading {
	tb.Helper()
	r := v.Sample(vllmCtx(tb))
	if r.Commit != nil {
		r.Commit(&r)
	}
	return r
}

func vllmCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// replaceLine swaps one whole line of a capture (it must be there exactly once).
func replaceLine(tb testing.TB, body []byte, old, repl string) []byte {
	tb.Helper()
	require.Equal(tb, 1, bytes.Count(body, []byte("\n"+old+"\n")), "line %q", old)
	return bytes.Replace(body, []byte("\n"+old+"\n"), []byte("\n"+repl+"\n"), 1)
}

func f64(x float64) *float64 { return &x }

func assertAllVLLMFieldsNil(t *testing.T, r Reading) {
	t.Helper()
	require.NotNil(t, r.VLLM)
	assert.Equal(t, snapshot.VLLM{}, *r.VLLM, "a failed scrape leaves every field nil")
}

func TestVLLMConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   VLLMConfig
		field string
	}{
		{"empty", VLLMConfig{}, "VLLMConfig.BaseURL"},
		{"unparseable", VLLMConfig{BaseURL: "http://[::1"}, "VLLMConfig.BaseURL"},
		{"no scheme", VLLMConfig{BaseURL: "localhost:8000"}, "VLLMConfig.BaseURL"},
		{"ftp", VLLMConfig{BaseURL: "ftp://host/"}, "VLLMConfig.BaseURL"},
		{"no host", VLLMConfig{BaseURL: "http:///metrics"}, "VLLMConfig.BaseURL"},
		{"bad metrics url", VLLMConfig{BaseURL: "http://ok:8000", MetricsURL: "::"}, "VLLMConfig.MetricsURL"},
		{"negative max", VLLMConfig{BaseURL: "http://ok:8000", MaxBodyBytes: -1}, "VLLMConfig.MaxBodyBytes"},
		{"negative timeout", VLLMConfig{BaseURL: "http://ok:8000", Timeout: -time.Second}, "VLLMConfig.Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVLLM(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Contains(t, err.Error(), tc.field)
		})
	}
}

func TestVLLMMetricsURL(t *testing.T) {
	for base, want := range map[string]string{
		"http://h:8000":         "http://h:8000/metrics",
		"http://h:8000/":        "http://h:8000/metrics",
		"http://h:8000/v1":      "http://h:8000/metrics",
		"http://h:8000/v1/":     "http://h:8000/metrics",
		"https://h/prefix/":     "https://h/prefix/metrics",
		"https://h/prefix/v1":   "https://h/prefix/metrics",
		"http://127.0.0.1:9/x/": "http://127.0.0.1:9/x/metrics",
	} {
		assert.Equal(t, want, newTestVLLM(t, VLLMConfig{BaseURL: base}).URL(), base)
	}
	v := newTestVLLM(t, VLLMConfig{BaseURL: "http://h:8000", MetricsURL: "http://h:9100/custom"})
	assert.Equal(t, "http://h:9100/custom", v.URL())
	assert.Equal(t, "vllm", v.Name())
}

// The V0 capture, values read by hand from testdata/vllm/v0-busy-qwen3-0.6b.prom.
func TestVLLMScrapeV0Capture(t *testing.T) {
	srv := newVLLMBodyServer(t, vllmCapture(t, vllmV0Capture))
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})

	r := take(t, v)
	require.NoError(t, r.Err)
	require.NotNil(t, r.VLLM)
	assert.Empty(t, r.Events)
	want := snapshot.VLLM{
		RequestQueueSize:      f64(0),     // line 289: vllm:num_requests_waiting{model_name="Qwen/Qwen3-0.6B"} 0.0
		ActiveBatchSize:       f64(0),     // line 286: vllm:num_requests_running{model_name="Qwen/Qwen3-0.6B"} 0.0
		KVCacheUsagePercent:   f64(0),     // line 292: vllm:gpu_cache_usage_perc{model_name="Qwen/Qwen3-0.6B"} 0.0 (old name)
		GenerationTokensTotal: f64(4874),  // line 301: vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 4874.0
		PromptTokensTotal:     f64(43952), // line 298: vllm:prompt_tokens_total{model_name="Qwen/Qwen3-0.6B"} 43952.0
		RequestSuccessTotal:   f64(38),    // line 304: vllm:request_success_total{finished_reason="length",model_name="Qwen/Qwen3-0.6B"} 38.0
		// First scrape: TokensPerSecond, PromptTokensPerSecond, RequestsPerSecond nil.
	}
	assert.Equal(t, want, *r.VLLM)

	assert.Equal(t, map[string]string{
		serverstats.FieldRequestQueueSize:      "vllm:num_requests_waiting",
		serverstats.FieldActiveBatchSize:       "vllm:num_requests_running",
		serverstats.FieldKVCacheUsagePercent:   "vllm:gpu_cache_usage_perc",
		serverstats.FieldPreemptions:           "vllm:num_preemptions_total", // line 295
		serverstats.FieldGenerationTokensTotal: "vllm:generation_tokens_total",
		serverstats.FieldPromptTokensTotal:     "vllm:prompt_tokens_total",
		serverstats.FieldRequestSuccessTotal:   "vllm:request_success_total",
		serverstats.FieldTTFTSeconds:           "vllm:time_to_first_token_seconds",
		serverstats.FieldE2ELatencySeconds:     "vllm:e2e_request_latency_seconds",
		serverstats.FieldITLSeconds:            "vllm:time_per_output_token_seconds",
		serverstats.FieldQueueTimeSeconds:      "vllm:request_queue_time_seconds",
	}, v.NamesUsed())
	assert.Empty(t, v.NotExposed())

	// Histograms kept for server-side quantiles (sum printed before the buckets in this capture).
	last := v.LastScrape()
	assert.False(t, last.At.IsZero())
	for _, tc := range []struct {
		field string
		name  string
		count uint64
		sum   float64
	}{
		// lines 27, 51
		{serverstats.FieldTTFTSeconds, "vllm:time_to_first_token_seconds", 69, 4941.843970537186},
		// lines 54, 75
		{serverstats.FieldITLSeconds, "vllm:time_per_output_token_seconds", 4805, 662.8116002082825},
		// lines 78, 101
		{serverstats.FieldE2ELatencySeconds, "vllm:e2e_request_latency_seconds", 38, 902.0056705474854},
		// lines 104, 127
		{serverstats.FieldQueueTimeSeconds, "vllm:request_queue_time_seconds", 38, 0.017765522003173828},
	} {
		name, series := last.Histogram(tc.field)
		assert.Equal(t, tc.name, name)
		require.Len(t, series, 1, tc.field)
		assert.Equal(t, tc.count, series[0].GetHistogram().GetSampleCount(), tc.field)
		assert.Equal(t, tc.sum, series[0].GetHistogram().GetSampleSum(), tc.field)
	}
	_, ttft := last.Histogram(serverstats.FieldTTFTSeconds)
	assert.Len(t, ttft[0].GetHistogram().GetBucket(), 23, "22 default TTFT bounds and +Inf (lines 28-50)")
}

// The V1 idle capture, values read by hand from testdata/vllm/v1-idle-qwen2.5-0.5b.prom.
func TestVLLMScrapeV1IdleCapture(t *testing.T) {
	srv := newVLLMBodyServer(t, vllmCapture(t, vllmV1IdleCapture))
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL + "/v1"})

	r := take(t, v)
	require.NoError(t, r.Err)
	assert.Empty(t, r.Events)
	want := snapshot.VLLM{
		RequestQueueSize:      f64(0), // line 60: vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 0.0
		ActiveBatchSize:       f64(0), // line 57: vllm:num_requests_running{engine="0",...} 0.0
		KVCacheUsagePercent:   f64(0), // line 68: vllm:kv_cache_usage_perc{engine="0",...} 0.0
		GenerationTokensTotal: f64(0), // line 141: vllm:generation_tokens_total{engine="0",...} 0.0
		PromptTokensTotal:     f64(0), // line 113: vllm:prompt_tokens_total{engine="0",...} 0.0
		RequestSuccessTotal:   f64(0), // lines 147-151: vllm:request_success_total{engine="0",finished_reason=stop|length|abort|error|repetition,...} 0.0 each
	}
	assert.Equal(t, want, *r.VLLM)
	used := v.NamesUsed()
	assert.Equal(t, "vllm:kv_cache_usage_perc", used[serverstats.FieldKVCacheUsagePercent])
	// line 325 (inter_token_latency) is used; line 330's request_time_per_output_token_seconds is another metric.
	assert.Equal(t, "vllm:inter_token_latency_seconds", used[serverstats.FieldITLSeconds])
	assert.Empty(t, v.NotExposed())

	for field, line := range map[string]string{
		serverstats.FieldTTFTSeconds:       "298", // vllm:time_to_first_token_seconds_count{engine="0",...} 0.0
		serverstats.FieldITLSeconds:        "325",
		serverstats.FieldE2ELatencySeconds: "381",
		serverstats.FieldQueueTimeSeconds:  "410",
	} {
		_, series := v.LastScrape().Histogram(field)
		require.Len(t, series, 1, field)
		assert.Zero(t, series[0].GetHistogram().GetSampleCount(), "line %s", line)
	}
	// Every family stays available, e.g. for the _created timestamps.
	assert.Contains(t, v.LastScrape().Families, "vllm:generation_tokens_created")
}

// A partial exposition: the 0.22.1rc1 fragment has the gauges but no counters or histograms.
func TestVLLMScrapeFragmentNotExposed(t *testing.T) {
	srv := newVLLMBodyServer(t, vllmCapture(t, vllmFragmentCapture))
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})

	r := take(t, v)
	require.NoError(t, r.Err, "a missing optional metric is not a failed scrape")
	assert.Equal(t, snapshot.VLLM{
		RequestQueueSize:    f64(0), // line 2: vllm:num_requests_waiting{engine="0",model_name="qwen3-1.7b"} 0.0
		ActiveBatchSize:     f64(0), // line 1: vllm:num_requests_running{engine="0",model_name="qwen3-1.7b"} 0.0
		KVCacheUsagePercent: f64(0), // line 5: vllm:kv_cache_usage_perc{engine="0",model_name="qwen3-1.7b"} 0.0
	}, *r.VLLM)
	wantMissing := []string{serverstats.FieldE2ELatencySeconds, serverstats.FieldGenerationTokensTotal, serverstats.FieldITLSeconds,
		serverstats.FieldPromptTokensTotal, serverstats.FieldQueueTimeSeconds, serverstats.FieldRequestSuccessTotal, serverstats.FieldTTFTSeconds}
	assert.Equal(t, wantMissing, v.NotExposed())
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, "not exposed")
	assert.Contains(t, r.Events[0].Message, "generation_tokens_total (looked for vllm:generation_tokens_total)")
	assert.Equal(t, "vllm", r.Events[0].Source)

	// Same set next time: no repeated event.
	r = take(t, v)
	require.NoError(t, r.Err)
	assert.Empty(t, r.Events)
	assert.Nil(t, r.VLLM.TokensPerSecond)
}

func TestVLLMRates(t *testing.T) {
	v0 := vllmCapture(t, vllmV0Capture)
	srv := newVLLMBodyServer(t, v0)
	clk := newVLLMFakeClock()
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Now: clk.Now})

	r := take(t, v)
	require.NoError(t, r.Err)
	assert.Nil(t, r.VLLM.TokensPerSecond, "first scrape")
	assert.Nil(t, r.VLLM.PromptTokensPerSecond, "first scrape")
	assert.Nil(t, r.VLLM.RequestsPerSecond, "first scrape")
	assert.Nil(t, r.VLLM.ScrapeIntervalS, "first scrape: no interval")

	b := replaceLine(t, v0, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 4874.0`,
		`vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 5874.0`) // +1000
	b = replaceLine(t, b, `vllm:prompt_tokens_total{model_name="Qwen/Qwen3-0.6B"} 43952.0`,
		`vllm:prompt_tokens_total{model_name="Qwen/Qwen3-0.6B"} 44452.0`) // +500
	// +5, of which 2 under a finished_reason first seen now (vLLM creates labelled series on first use).
	b = replaceLine(t, b, `vllm:request_success_total{finished_reason="length",model_name="Qwen/Qwen3-0.6B"} 38.0`,
		`vllm:request_success_total{finished_reason="length",model_name="Qwen/Qwen3-0.6B"} 41.0`+"\n"+
			`vllm:request_success_total{finished_reason="stop",model_name="Qwen/Qwen3-0.6B"} 2.0`)
	srv.Set(b)
	clk.Advance(2 * time.Second)

	r = take(t, v)
	require.NoError(t, r.Err)
	assert.Empty(t, r.Events)
	require.NotNil(t, r.VLLM.TokensPerSecond)
	assert.Equal(t, 500.0, *r.VLLM.TokensPerSecond) // 1000 tokens / 2 s
	require.NotNil(t, r.VLLM.PromptTokensPerSecond)
	assert.Equal(t, 250.0, *r.VLLM.PromptTokensPerSecond) // 500 tokens / 2 s
	require.NotNil(t, r.VLLM.RequestsPerSecond)
	assert.Equal(t, 2.5, *r.VLLM.RequestsPerSecond) // 5 requests / 2 s
	require.NotNil(t, r.VLLM.ScrapeIntervalS)
	assert.Equal(t, 2.0, *r.VLLM.ScrapeIntervalS, "the rates' interval")
	assert.Equal(t, 5874.0, *r.VLLM.GenerationTokensTotal)
	assert.Equal(t, 43.0, *r.VLLM.RequestSuccessTotal)

	// Nothing new over the next 4 s: rates are 0, not nil.
	clk.Advance(4 * time.Second)
	r = take(t, v)
	require.NoError(t, r.Err)
	assert.Equal(t, 0.0, *r.VLLM.TokensPerSecond)
	assert.Equal(t, 0.0, *r.VLLM.RequestsPerSecond)
}

func TestVLLMCounterReset(t *testing.T) {
	v0 := vllmCapture(t, vllmV0Capture)
	srv := newVLLMBodyServer(t, v0)
	clk := newVLLMFakeClock()
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Now: clk.Now})
	require.NoError(t, take(t, v).Err)

	const genLine = `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 4874.0`
	srv.Set(replaceLine(t, v0, genLine, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 10.0`))
	clk.Advance(2 * time.Second)
	r := take(t, v)
	require.NoError(t, r.Err)
	assert.Nil(t, r.VLLM.TokensPerSecond, "never a negative rate")
	assert.Equal(t, 10.0, *r.VLLM.GenerationTokensTotal)
	require.NotNil(t, r.VLLM.PromptTokensPerSecond, "other counters keep their rate")
	assert.Equal(t, 0.0, *r.VLLM.PromptTokensPerSecond)
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} went down`)
	assert.Contains(t, r.Events[0].Message, "from 4874 to 10")
	assert.Contains(t, r.Events[0].Message, "rate for this interval is null")

	// The next interval counts from the reset value.
	srv.Set(replaceLine(t, v0, genLine, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 110.0`))
	clk.Advance(time.Second)
	r = take(t, v)
	require.NoError(t, r.Err)
	assert.Empty(t, r.Events)
	require.NotNil(t, r.VLLM.TokensPerSecond)
	assert.Equal(t, 100.0, *r.VLLM.TokensPerSecond)

	// A series that vanishes is a reset too.
	srv.Set(replaceLine(t, v0, `vllm:request_success_total{finished_reason="length",model_name="Qwen/Qwen3-0.6B"} 38.0`,
		`vllm:request_success_total{finished_reason="stop",model_name="Qwen/Qwen3-0.6B"} 40.0`))
	clk.Advance(time.Second)
	r = take(t, v)
	require.NoError(t, r.Err)
	assert.Nil(t, r.VLLM.RequestsPerSecond)
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, `finished_reason="length"`)
}

func TestVLLMProcessRestart(t *testing.T) {
	v1 := vllmCapture(t, vllmV1IdleCapture)
	srv := newVLLMBodyServer(t, v1)
	clk := newVLLMFakeClock()
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Now: clk.Now})
	require.NoError(t, take(t, v).Err)

	// line 27: process_start_time_seconds 1.7740113846e+09; counters all higher, but the process is new.
	b := replaceLine(t, v1, "process_start_time_seconds 1.7740113846e+09", "process_start_time_seconds 1.7740119e+09")
	b = replaceLine(t, b, `vllm:generation_tokens_total{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 0.0`,
		`vllm:generation_tokens_total{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 7.0`)
	srv.Set(b)
	clk.Advance(2 * time.Second)
	r := take(t, v)
	require.NoError(t, r.Err)
	assert.Nil(t, r.VLLM.TokensPerSecond)
	assert.Nil(t, r.VLLM.PromptTokensPerSecond)
	assert.Nil(t, r.VLLM.RequestsPerSecond)
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, "server restarted")
}

// vllmEnginesBody is a data-parallel exposition with one series per engine, in the order given.
func vllmEnginesBody(engines []int, kv []float64, label string) []byte {
	var b strings.Builder
	emit := func(help, typ string, line func(e int) string) {
		fmt.Fprintf(&b, "# HELP %s x\n# TYPE %s\n", help, typ)
		for _, e := range engines {
			b.WriteString(line(e))
		}
	}
	lbl := func(e int) string { return fmt.Sprintf(`engine="%d",model_name="m"`, e) }
	emit("vllm:num_requests_waiting", "vllm:num_requests_waiting gauge", func(e int) string {
		return fmt.Sprintf("vllm:num_requests_waiting{%s} %d.0\n", lbl(e), 3+e)
	})
	emit("vllm:num_requests_running", "vllm:num_requests_running gauge", func(e int) string {
		return fmt.Sprintf("vllm:num_requests_running{%s} %d.0\n", lbl(e), 10*(e+1))
	})
	emit("vllm:kv_cache_usage_perc", "vllm:kv_cache_usage_perc gauge", func(e int) string {
		return fmt.Sprintf("vllm:kv_cache_usage_perc{%s} %s\n", lbl(e), strconv.FormatFloat(kv[e], 'g', -1, 64))
	})
	emit("vllm:generation_tokens_total", "vllm:generation_tokens_total counter", func(e int) string {
		return fmt.Sprintf("vllm:generation_tokens_total{%s} %d.0\n", lbl(e), 100*(e+1))
	})
	emit("vllm:prompt_tokens_total", "vllm:prompt_tokens_total counter", func(e int) string {
		return fmt.Sprintf("vllm:prompt_tokens_total{%s} 0.1\n", lbl(e))
	})
	emit("vllm:request_success_total", "vllm:request_success_total counter", func(e int) string {
		return fmt.Sprintf("vllm:request_success_total{engine=\"%d\",%s=\"stop\",model_name=\"m\"} %d.0\n", e, label, e+1) +
			fmt.Sprintf("vllm:request_success_total{%s=\"length\",model_name=\"m\",engine=\"%d\"} 1.0\n", label, e)
	})
	return []byte(b.String())
}

func TestVLLMEnginesOrderIndependent(t *testing.T) {
	kv := []float64{0.1, 0.2, 0.3} // summed in different orders, these differ in the last bit
	var first *snapshot.VLLM
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}} {
		for _, label := range []string{"finished_reason", "finish_reason"} {
			srv := newVLLMBodyServer(t, vllmEnginesBody(order, kv, label))
			v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})
			r := take(t, v)
			require.NoError(t, r.Err)
			got := *r.VLLM
			assert.Equal(t, 3+4+5.0, *got.RequestQueueSize)          // 3, 4, 5 summed over engines
			assert.Equal(t, 10+20+30.0, *got.ActiveBatchSize)        // 10, 20, 30 summed
			assert.InDelta(t, 20.0, *got.KVCacheUsagePercent, 1e-12) // mean(0.1, 0.2, 0.3) × 100
			assert.Equal(t, 100+200+300.0, *got.GenerationTokensTotal)
			assert.InDelta(t, 0.3, *got.PromptTokensTotal, 1e-12)
			assert.Equal(t, 1+2+3+3.0, *got.RequestSuccessTotal, label) // stop 1,2,3 + length 1 per engine
			if first == nil {
				first = &got
				continue
			}
			assert.Equal(t, *first, got, "order %v, label %s: bit-identical result", order, label)
		}
	}
}

func TestVLLMEnginesRates(t *testing.T) {
	kv := []float64{0, 0}
	srv := newVLLMBodyServer(t, vllmEnginesBody([]int{0, 1}, kv, "finished_reason"))
	clk := newVLLMFakeClock()
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Now: clk.Now})
	require.NoError(t, take(t, v).Err)

	// Engine order flips and engine 1 advances by 50 tokens: the per-series deltas do not care about order.
	b := vllmEnginesBody([]int{1, 0}, kv, "finished_reason")
	b = bytes.Replace(b, []byte(`vllm:generation_tokens_total{engine="1",model_name="m"} 200.0`),
		[]byte(`vllm:generation_tokens_total{engine="1",model_name="m"} 250.0`), 1)
	srv.Set(b)
	clk.Advance(2 * time.Second)
	r := take(t, v)
	require.NoError(t, r.Err)
	assert.Equal(t, 25.0, *r.VLLM.TokensPerSecond) // 50 tokens / 2 s
	assert.Equal(t, 0.0, *r.VLLM.RequestsPerSecond)
}

func TestVLLMModelFilter(t *testing.T) {
	body := []byte(`# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="base"} 2.0
vllm:num_requests_waiting{model_name="sql-lora"} 5.0
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{model_name="base"} 100.0
vllm:generation_tokens_total{model_name="sql-lora"} 7.0
`)
	srv := newVLLMBodyServer(t, body)

	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Model: "sql-lora"})
	r := take(t, v)
	require.NoError(t, r.Err)
	assert.Equal(t, 5.0, *r.VLLM.RequestQueueSize)
	assert.Equal(t, 7.0, *r.VLLM.GenerationTokensTotal)
	assert.Equal(t, "sql-lora", v.LastScrape().Model)

	v = newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})
	r = take(t, v)
	require.NoError(t, r.Err)
	assert.Equal(t, 7.0, *r.VLLM.RequestQueueSize)
	assert.Equal(t, 107.0, *r.VLLM.GenerationTokensTotal)
	var msgs []string
	for _, e := range r.Events {
		msgs = append(msgs, e.Message)
	}
	assert.Contains(t, strings.Join(msgs, "\n"), `several model_name values ("base", "sql-lora")`)

	v = newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Model: "nope"})
	r = take(t, v)
	require.Error(t, r.Err)
	assert.Contains(t, r.Err.Error(), `model_name="nope"`)
	assert.Contains(t, r.Err.Error(), `"base", "sql-lora"`)
	assertAllVLLMFieldsNil(t, r)
}

func TestVLLMScrapeNotVLLM(t *testing.T) {
	srv := newVLLMBodyServer(t, []byte("# TYPE up gauge\nup 1\n"))
	r := take(t, newTestVLLM(t, VLLMConfig{BaseURL: srv.URL}))
	require.Error(t, r.Err)
	assert.Contains(t, r.Err.Error(), "no vllm:* metric")
	assertAllVLLMFieldsNil(t, r)
}

// --- Bad input ---

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

func TestVLLMScrapeUnreachableAtStart(t *testing.T) {
	v := newTestVLLM(t, VLLMConfig{BaseURL: closedPortURL(t)})
	for range 2 {
		r := take(t, v)
		require.Error(t, r.Err)
		assert.Contains(t, r.Err.Error(), "connection refused")
		assertAllVLLMFieldsNil(t, r)
	}
	assert.Empty(t, v.NamesUsed())
	assert.Nil(t, v.LastScrape().Families)
}

// startVLLMServerAt serves body on addr ("" for any port) until the returned stop is called.
func startVLLMServerAt(t *testing.T, addr string, body []byte) (url string, stop func()) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago; allow the kernel a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	var once sync.Once
	stop = func() { once.Do(srv.Close) }
	t.Cleanup(stop)
	return srv.URL, stop
}

func TestVLLMScrapeUnreachableMidRunRecovers(t *testing.T) {
	v0 := vllmCapture(t, vllmV0Capture)
	url, stop := startVLLMServerAt(t, "", v0)
	clk := newVLLMFakeClock()
	v := newTestVLLM(t, VLLMConfig{BaseURL: url, Now: clk.Now})

	good := take(t, v)
	require.NoError(t, good.Err)
	before := v.LastScrape()

	stop() // the server goes away mid-run
	clk.Advance(2 * time.Second)
	r := take(t, v)
	require.Error(t, r.Err)
	assertAllVLLMFieldsNil(t, r)
	assert.Equal(t, before.At, v.LastScrape().At, "a failed scrape keeps the last good one")

	// Back on the same address with 1000 more tokens: the rate spans the 4 s since the last good scrape.
	_, _ = startVLLMServerAt(t, strings.TrimPrefix(url, "http://"),
		replaceLine(t, v0, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 4874.0`,
			`vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 5874.0`))
	clk.Advance(2 * time.Second)
	r = take(t, v)
	require.NoError(t, r.Err)
	require.NotNil(t, r.VLLM.TokensPerSecond)
	assert.Equal(t, 250.0, *r.VLLM.TokensPerSecond) // 1000 tokens / 4 s
	require.NotNil(t, r.VLLM.ScrapeIntervalS)
	assert.Equal(t, 4.0, *r.VLLM.ScrapeIntervalS, "the interval the rate covers spans the failed scrape")
}

func TestVLLMScrapeHTML(t *testing.T) {
	page := []byte("<!DOCTYPE html>\n<html><head><title>Login</title></head><body>proxy</body></html>\n")
	for _, ct := range []string{"text/html; charset=utf-8", "text/plain"} {
		t.Run(ct, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ct)
				_, _ = w.Write(page)
			}))
			t.Cleanup(srv.Close)
			r := take(t, newTestVLLM(t, VLLMConfig{BaseURL: srv.URL}))
			require.Error(t, r.Err)
			assert.Contains(t, r.Err.Error(), "body is HTML")
			assertAllVLLMFieldsNil(t, r)
		})
	}
}

func TestVLLMScrapeTruncated(t *testing.T) {
	v0 := vllmCapture(t, vllmV0Capture)
	// Cut mid-line, inside the label set of vllm:generation_tokens_total (line 301).
	i := bytes.Index(v0, []byte(`vllm:generation_tokens_total{model_name="Qw`))
	require.Positive(t, i)
	cutLabels := v0[:i+len(`vllm:generation_tokens_total{model_name="Qw`)]
	// Cut mid-value: "4874.0" → "48" with no final newline.
	cutValue := v0[:i+len(`vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 48`)]

	for name, body := range map[string][]byte{"mid-labels": cutLabels, "mid-value": cutValue} {
		t.Run(name, func(t *testing.T) {
			srv := newVLLMBodyServer(t, v0)
			v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})
			require.NoError(t, take(t, v).Err)
			before := v.LastScrape()

			srv.Set(body) // served whole, with a matching Content-Length: only the parser can tell
			r := take(t, v)
			require.Error(t, r.Err)
			assert.Contains(t, r.Err.Error(), "text format parsing error in line 301: unexpected end of input stream")
			assertAllVLLMFieldsNil(t, r)
			assert.Equal(t, before.At, v.LastScrape().At, "no partial values kept")
			assert.Equal(t, before.Families, v.LastScrape().Families)
		})
	}

	t.Run("connection cut short of Content-Length", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(v0)))
			_, _ = w.Write(cutLabels) // the server closes the connection when the handler returns short
		}))
		t.Cleanup(srv.Close)
		r := take(t, newTestVLLM(t, VLLMConfig{BaseURL: srv.URL}))
		require.Error(t, r.Err)
		assert.Contains(t, r.Err.Error(), "unexpected EOF")
		assertAllVLLMFieldsNil(t, r)
	})
}

func TestVLLMScrapeBodyTooLarge(t *testing.T) {
	line := []byte("# a comment line to pad the body to ten megabytes...............................\n")
	big := bytes.Repeat(line, 10<<20/len(line)+1) // just over 10 MB
	for _, chunked := range []bool{true, false} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var sent atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				}
				for off := 0; off < len(big); off += 64 << 10 {
					n, err := w.Write(big[off:min(off+64<<10, len(big))])
					sent.Add(int64(n))
					if err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})

			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			r := take(t, v)
			runtime.ReadMemStats(&m1)

			require.Error(t, r.Err)
			assert.Contains(t, r.Err.Error(), "body exceeds 8388608 bytes")
			assertAllVLLMFieldsNil(t, r)
			alloc := m1.TotalAlloc - m0.TotalAlloc
			t.Logf("allocated %.1f MiB during the scrape (server side included)", float64(alloc)/(1<<20))
			assert.Less(t, alloc, uint64(3*DefaultVLLMMaxBodyBytes), "read is capped, never the whole body")
			assert.LessOrEqual(t, cap(v.body), vllmKeepBufferBytes, "a large read buffer is not kept")
		})
	}
}

func TestVLLMScrapeHungServer(t *testing.T) {
	v0 := vllmCapture(t, vllmV0Capture)
	for _, mode := range []string{"no headers", "half a body"} {
		t.Run(mode, func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if mode == "half a body" {
					w.Header().Set("Content-Length", strconv.Itoa(len(v0)))
					_, _ = w.Write(v0[:len(v0)/2])
					w.(http.Flusher).Flush()
				}
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) }) // runs before srv.Close

			v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			deadline, _ := ctx.Deadline()
			r := v.Sample(ctx)
			late := time.Since(deadline)
			t.Logf("Sample returned %v after its deadline", late)
			require.Error(t, r.Err)
			assert.Contains(t, r.Err.Error(), "context deadline exceeded")
			assertAllVLLMFieldsNil(t, r)
			// The server holds the request until the test ends: returning at all is not waiting for it; within
			// 10 s of the deadline is returning at it, however loaded the machine.
			assert.Less(t, late, 10*time.Second)
		})
	}

	t.Run("no deadline: Timeout applies", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Timeout: 100 * time.Millisecond})
		start := time.Now()
		r := v.Sample(context.Background())
		require.Error(t, r.Err)
		assert.Less(t, time.Since(start), 10*time.Second, "the server never answers: Timeout ended the scrape")
	})
}

func TestVLLMScrapeStatus500(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "engine dead\n  traceback...", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	r := take(t, newTestVLLM(t, VLLMConfig{BaseURL: srv.URL}))
	require.Error(t, r.Err)
	assert.Contains(t, r.Err.Error(), "status 500 Internal Server Error: engine dead traceback...")
	assertAllVLLMFieldsNil(t, r)
}

func TestVLLMNameChangeEvent(t *testing.T) {
	// A server upgraded in place: the KV-cache gauge switches from the old to the new name.
	v0 := vllmCapture(t, vllmV0Capture)
	srv := newVLLMBodyServer(t, v0)
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})
	require.NoError(t, take(t, v).Err)
	srv.Set(bytes.ReplaceAll(v0, []byte("vllm:gpu_cache_usage_perc"), []byte("vllm:kv_cache_usage_perc")))
	r := take(t, v)
	require.NoError(t, r.Err)
	require.Len(t, r.Events, 1)
	assert.Equal(t, "kv_cache_usage_percent now read from vllm:kv_cache_usage_perc (was vllm:gpu_cache_usage_perc)", r.Events[0].Message)
}

// Accessors are safe while Sample runs on another goroutine (run with -race).
func TestVLLMAccessorsConcurrent(t *testing.T) {
	srv := newVLLMBodyServer(t, vllmCapture(t, vllmV1IdleCapture))
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			take(t, v)
		}
	}()
	for {
		select {
		case <-done:
			assert.NotEmpty(t, v.NamesUsed())
			return
		default:
			_ = v.NamesUsed()
			_ = v.NotExposed()
			_, _ = v.LastScrape().Histogram(serverstats.FieldTTFTSeconds)
		}
	}
}

// Close drops the sampler's idle keep-alive connection, so no connection (nor its goroutines) outlives a
// collector. Counted on the server side, which other tests' connections cannot disturb.
func TestVLLMCloseLeavesNoConnection(t *testing.T) {
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "vllm:num_requests_running 1")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	v, err := NewVLLM(VLLMConfig{BaseURL: srv.URL})
	require.NoError(t, err)
	r := v.Sample(context.Background())
	require.NoError(t, r.Err)
	require.Equal(t, int64(1), open.Load(), "one kept-alive connection while sampling")
	require.NoError(t, v.Close())
	require.Eventually(t, func() bool { return open.Load() == 0 }, 30*time.Second, 10*time.Millisecond)
}

// bumpSeries adds delta to the value of every line of body that starts with one of prefixes.
func bumpSeries(tb testing.TB, body []byte, delta float64, prefixes ...string) []byte {
	tb.Helper()
	lines := strings.Split(string(body), "\n")
	n := 0
	for i, l := range lines {
		for _, p := range prefixes {
			if !strings.HasPrefix(l, p) {
				continue
			}
			sp := strings.LastIndexByte(l, ' ')
			x, err := strconv.ParseFloat(l[sp+1:], 64)
			require.NoError(tb, err, l)
			lines[i] = l[:sp+1] + strconv.FormatFloat(x+delta, 'f', -1, 64)
			n++
		}
	}
	require.Equal(tb, len(prefixes), n, "every prefix matches one line")
	return []byte(strings.Join(lines, "\n"))
}

// End to end through the sampler: two committed scrapes of the V0 capture, the second with 1234 more
// generation tokens and two more TTFT observations in (0.5, 0.75] s summing 1.3 s. The snapshot's fields and
// the window's figures come from the one tracker and agree.
func TestVLLMServerRoadEndToEnd(t *testing.T) {
	base := vllmCapture(t, vllmV0Capture)
	const m = `model_name="Qwen/Qwen3-0.6B"`
	busier := bumpSeries(t, base, 1234, `vllm:generation_tokens_total{`+m+`}`)
	var ttft []string
	for _, le := range []string{"0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0", "640.0", "2560.0", "+Inf"} {
		ttft = append(ttft, `vllm:time_to_first_token_seconds_bucket{le="`+le+`",`+m+`}`)
	}
	busier = bumpSeries(t, busier, 2, append(ttft, `vllm:time_to_first_token_seconds_count{`+m+`}`)...)
	busier = bumpSeries(t, busier, 1.3, `vllm:time_to_first_token_seconds_sum{`+m+`}`)

	srv := newVLLMBodyServer(t, base)
	clk := newVLLMFakeClock()
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Now: clk.Now})
	_, ok := v.ServerStats()
	assert.False(t, ok, "no committed scrape yet")
	require.NoError(t, take(t, v).Err)
	srv.Set(busier)
	clk.Advance(2 * time.Second)
	r := take(t, v)
	require.NoError(t, r.Err)

	assert.Equal(t, 617.0, *r.VLLM.TokensPerSecond) // 1234 tokens / 2 s
	assert.Equal(t, 4874.0+1234, *r.VLLM.GenerationTokensTotal)
	// Two observations in (0.5, 0.75]: p50 rank 1 → 0.5 + 0.25·1/2 = 0.625 s; p99 rank 1.98 → 0.5 + 0.25·0.99.
	assert.InDelta(t, 625, *r.VLLM.ServerTTFTP50MS, 1e-9)
	assert.InDelta(t, 747.5, *r.VLLM.ServerTTFTP99MS, 1e-9)

	st, ok := v.ServerStats()
	require.True(t, ok)
	assert.Equal(t, 2, st.Scrapes)
	assert.Equal(t, 1234.0, *st.GenerationTokens)
	assert.Equal(t, 2.0, st.TTFT.Count)
	assert.InDelta(t, 625, *st.TTFT.P50MS.ValueMS, 1e-9)
	assert.InDelta(t, 1300, st.TTFT.SumMS, 1e-6)
	assert.Equal(t, v.NamesUsed()[serverstats.FieldITLSeconds], st.NamesUsed[serverstats.FieldITLSeconds])
	assert.Empty(t, serverstats.CrossCheck(st, serverstats.ClientTally{OK: 2, OutputTokens: 1234}))
	assert.Len(t, serverstats.CrossCheck(st, serverstats.ClientTally{OK: 10, OutputTokens: 1234}), 1)
}

// A reading the collector discards (late) is never committed: the sampler's state is as before it, so the
// next rate covers the interval from the last committed scrape and a one-time event is not lost.
func TestVLLMDiscardedReadingLeavesStateAsItWas(t *testing.T) {
	v0 := vllmCapture(t, vllmV0Capture)
	const gen = `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 4874.0`
	body := func(start, tokens string) []byte { // the capture has no process collector: add its start time
		b := replaceLine(t, v0, gen, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} `+tokens)
		return append(b, []byte("process_start_time_seconds "+start+"\n")...)
	}
	srv := newVLLMBodyServer(t, body("100", "4874"))
	clk := newVLLMFakeClock()
	v := newTestVLLM(t, VLLMConfig{BaseURL: srv.URL, Now: clk.Now})
	require.NoError(t, take(t, v).Err) // committed at t=0: 4874 tokens

	// At t=2 s the server has restarted (100 tokens since); the reading is discarded (no Commit).
	srv.Set(body("200", "100"))
	clk.Advance(2 * time.Second)
	late := v.Sample(vllmCtx(t))
	require.NoError(t, late.Err)
	require.NotNil(t, late.Commit)
	assert.Equal(t, snapshot.VLLM{}, *late.VLLM, "nothing filled before Commit")
	st, _ := v.ServerStats()
	assert.Equal(t, 1, st.Scrapes, "the discarded scrape is not in the window")
	assert.Equal(t, 0, st.Restarts)
	assert.Equal(t, 4874.0, v.LastScrape().Families["vllm:generation_tokens_total"].GetMetric()[0].GetCounter().GetValue())

	// At t=4 s (300 tokens since the restart) the kept reading covers the 4 s since the last committed scrape
	// and carries the restart event the discarded one would have given.
	srv.Set(body("200", "300"))
	clk.Advance(2 * time.Second)
	r := take(t, v)
	require.NoError(t, r.Err)
	assert.Equal(t, 4.0, *r.VLLM.ScrapeIntervalS, "from the last committed scrape")
	assert.Nil(t, r.VLLM.TokensPerSecond, "a restart in the interval: unknown")
	require.NotEmpty(t, r.Events)
	assert.Contains(t, r.Events[0].Message, "server restarted: process_start_time_seconds changed from 100 to 200")
	st, _ = v.ServerStats()
	assert.Equal(t, 2, st.Scrapes)
	assert.Equal(t, 1, st.Restarts)
	assert.Equal(t, 300.0, *st.GenerationTokens, "after a restart the window counts the step from 0")
}
