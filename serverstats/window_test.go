package serverstats

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

const v0 = "v0-busy-qwen3-0.6b.prom"
const v0Labels = `model_name="Qwen/Qwen3-0.6B"`

func v0TTFT(le string) string {
	return `vllm:time_to_first_token_seconds_bucket{le="` + le + `",` + v0Labels + `}`
}

// v0Busier is the V0 capture after, by construction, these observations and counter increases:
//
//	TTFT: 10 requests at 0.2 s   → every bucket from le=0.25 up gains 10
//	       5 requests at 2.0 s   → every bucket from le=2.5 up gains 5
//	       1 request at 3000 s   → only +Inf gains 1 (above the highest finite bound, 2560)
//	       _count +16, _sum +10×0.2 + 5×2.0 + 3000 = +3012
//	generation_tokens_total +1234, prompt_tokens_total +567,
//	request_success_total{finished_reason="length"} +16 and a new series finished_reason="stop" at 3,
//	num_requests_running 0 → 5, num_requests_waiting 0 → 2, gpu_cache_usage_perc 0 → 0.25.
func v0Busier(t testing.TB, base string) string {
	b := base
	for _, le := range []string{"0.25", "0.5", "0.75", "1.0"} {
		b = bump(t, b, v0TTFT(le), 10)
	}
	for _, le := range []string{"2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0", "640.0", "2560.0"} {
		b = bump(t, b, v0TTFT(le), 15)
	}
	b = bump(t, b, v0TTFT("+Inf"), 16)
	b = bump(t, b, `vllm:time_to_first_token_seconds_count{`+v0Labels+`}`, 16)
	b = bump(t, b, `vllm:time_to_first_token_seconds_sum{`+v0Labels+`}`, 3012)
	b = bump(t, b, `vllm:generation_tokens_total{`+v0Labels+`}`, 1234)
	b = bump(t, b, `vllm:prompt_tokens_total{`+v0Labels+`}`, 567)
	b = bump(t, b, `vllm:request_success_total{finished_reason="length",`+v0Labels+`}`, 16)
	b += "\n" + `vllm:request_success_total{finished_reason="stop",` + v0Labels + `} 3.0` + "\n"
	b = set(t, b, `vllm:num_requests_running{`+v0Labels+`}`, 5)
	b = set(t, b, `vllm:num_requests_waiting{`+v0Labels+`}`, 2)
	b = set(t, b, `vllm:gpu_cache_usage_perc{`+v0Labels+`}`, 0.25)
	return b
}

// Window deltas from two real-capture scrapes, every figure computed by hand from v0Busier.
func TestWindowDeltasFromV0Capture(t *testing.T) {
	base := capture(t, v0)
	w := NewWindow()
	require.Empty(t, w.Add(scrape(t, base, t0)))
	require.Empty(t, w.Add(scrape(t, v0Busier(t, base), t0.Add(2*time.Second))))
	st := w.Summary()

	assert.Equal(t, 2, st.Scrapes)
	assert.Equal(t, 2.0, deref(st.DurationS))
	assert.Nil(t, st.PerEngine, "V0: no engine label")

	h := st.TTFT
	require.NotNil(t, h)
	assert.Equal(t, "vllm:time_to_first_token_seconds", h.Metric)
	assert.Equal(t, 16.0, h.Count)
	assert.InDelta(t, 3012e3, h.SumMS, 1e-6)
	assert.InDelta(t, 3012e3/16, deref(h.MeanMS), 1e-6)
	// Window buckets: le ≤ 0.1: 0; 0.25…1.0: 10; 2.5…2560: 15; +Inf: 16.
	// p50: rank 8 → le=0.25 (10 ≥ 8), bucket (0.1, 0.25] holds 10, rank inside 8 → 0.1 + 0.15 × 8/10 = 0.22 s.
	assert.InDelta(t, 220, ms(h.P50MS), 1e-9)
	// p90: rank 14.4 → le=2.5 (15), bucket (1.0, 2.5] holds 5, rank inside 4.4 → 1.0 + 1.5 × 4.4/5 = 2.32 s.
	assert.InDelta(t, 2320, ms(h.P90MS), 1e-9)
	// p95: rank 15.2 > 15, the highest finite count: in +Inf → lower bound 2560 s.
	for _, q := range []*Quantile{h.P95MS, h.P99MS} {
		require.NotNil(t, q)
		assert.True(t, q.IsLowerBound)
		assert.Nil(t, q.ValueMS)
		assert.Equal(t, 2560e3, deref(q.LowerBoundMS))
	}
	assert.False(t, h.MonotonicityForced)

	// E2E was exposed but saw no observation in the window: count 0, no mean, no quantiles.
	require.NotNil(t, st.E2ELatency)
	assert.Equal(t, 0.0, st.E2ELatency.Count)
	assert.Nil(t, st.E2ELatency.MeanMS)
	assert.Nil(t, st.E2ELatency.P50MS)
	assert.Nil(t, st.E2ELatency.P99MS)

	assert.Equal(t, 1234.0, deref(st.GenerationTokens))
	assert.Equal(t, 567.0, deref(st.PromptTokens))
	// The "stop" series appeared in the second scrape under a name already read: created at 0, counted from 0.
	assert.Equal(t, 19.0, deref(st.RequestSuccess))
	assert.Equal(t, map[string]float64{"length": 16, "stop": 3}, st.RequestSuccessByReason)
	assert.Equal(t, 0.0, deref(st.Preemptions))
	assert.Equal(t, 1234.0, st.CounterIncreases["vllm:generation_tokens_total"])
	assert.Equal(t, 0.0, st.CounterIncreases["vllm:num_preemptions_total"])
	assert.Equal(t, 19.0, st.CounterIncreases["vllm:request_success_total"])

	require.NotNil(t, st.ActiveBatchSize)
	assert.Equal(t, 2.5, deref(st.ActiveBatchSize.Mean)) // (0 + 5) / 2
	assert.Equal(t, 5.0, deref(st.ActiveBatchSize.Max))
	assert.Equal(t, 2, st.ActiveBatchSize.Samples)
	assert.Equal(t, 1.0, deref(st.RequestQueueSize.Mean))
	assert.Equal(t, 2.0, deref(st.RequestQueueSize.Max))
	assert.Equal(t, 12.5, deref(st.KVCacheUsagePercent.Mean)) // (0 + 25) / 2, percent
	assert.Equal(t, 25.0, deref(st.KVCacheUsagePercent.Max))

	// V0 names.
	assert.Equal(t, "vllm:time_per_output_token_seconds", st.NamesUsed[FieldITLSeconds])
	assert.Equal(t, "vllm:time_per_output_token_seconds", st.ITL.Metric)
	assert.Equal(t, "vllm:gpu_cache_usage_perc", st.NamesUsed[FieldKVCacheUsagePercent])
	assert.Equal(t, "vllm:num_preemptions_total", st.NamesUsed[FieldPreemptions])
	assert.Empty(t, st.NotExposed)
	assert.Zero(t, st.Restarts)
	assert.Zero(t, st.CounterResets)

	// The interval is the same step here.
	iv := w.stepHistogram(hTTFT)
	assert.Equal(t, 16.0, iv.Count)
	assert.InDelta(t, 2320, ms(iv.P90MS), 1e-9)
	var v snapshot.VLLM
	w.FillInterval(&v)
	assert.Equal(t, 5.0, deref(v.ActiveBatchSize), "interval gauges: the last scrape")
}

// One scrape: no increase yet. Counters and histograms are nil with a reason; gauges are known.
func TestWindowOneScrape(t *testing.T) {
	w := NewWindow()
	w.Add(scrape(t, capture(t, v0), t0))
	st := w.Summary()
	assert.Nil(t, st.TTFT)
	assert.Nil(t, st.GenerationTokens)
	assert.Nil(t, st.DurationS)
	assert.Equal(t, "exposed, but no increase: its series were only in the first scrape, or under a name just switched to", st.NotExposed[FieldTTFTSeconds])
	require.NotNil(t, st.ActiveBatchSize)
	assert.Equal(t, 1, st.ActiveBatchSize.Samples)

	empty := NewWindow().Summary()
	assert.Equal(t, 0, empty.Scrapes)
	assert.Nil(t, empty.Start)
	assert.Equal(t, "no successful scrape", empty.NotExposed[FieldTTFTSeconds])
}

// A counter that goes down mid-window restarted from 0: the increase of that step is its new value, and an
// event names the series and the values.
func TestWindowCounterReset(t *testing.T) {
	base := capture(t, v0)
	gen := `vllm:generation_tokens_total{` + v0Labels + `}`
	b2 := bump(t, base, gen, 1000) // 4874 → 5874: +1000
	b3 := set(t, b2, gen, 300)     // 5874 → 300: reset, +300
	b4 := set(t, b3, gen, 350)     // +50

	w := NewWindow()
	w.Add(scrape(t, base, t0))
	assert.Empty(t, w.Add(scrape(t, b2, t0.Add(2*time.Second))))
	ev := w.Add(scrape(t, b3, t0.Add(4*time.Second)))
	require.Len(t, ev, 1)
	assert.Equal(t, "vllm", ev[0].Source)
	assert.Equal(t, t0.Add(4*time.Second), ev[0].Time)
	assert.Contains(t, ev[0].Message, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} went down from 5874 to 300`)
	assert.Contains(t, ev[0].Message, "counted from 0")
	// The interval view is strict: a reset in the step makes its increase (and rate) unknown.
	_, known := w.stepCounter(cGen)
	assert.False(t, known)
	w.Add(scrape(t, b4, t0.Add(6*time.Second)))
	inc, known := w.stepCounter(cGen)
	assert.True(t, known)
	assert.Equal(t, 50.0, inc, "the next step counts from the reset value")

	st := w.Summary()
	assert.Equal(t, 1350.0, deref(st.GenerationTokens)) // 1000 + 300 + 50, never negative
	assert.Equal(t, 1, st.CounterResets)
	assert.Zero(t, st.Restarts)
}

// A histogram that goes down is reset as a whole (all its buckets count from 0 for that step).
func TestWindowHistogramReset(t *testing.T) {
	body := func(c1, c2, cInf, sum float64) string {
		return fmt.Sprintf(`# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} %g
vllm:time_to_first_token_seconds_bucket{le="1.0",model_name="m"} %g
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} %g
vllm:time_to_first_token_seconds_count{model_name="m"} %g
vllm:time_to_first_token_seconds_sum{model_name="m"} %g
`, c1, c2, cInf, cInf, sum)
	}
	w := NewWindow()
	w.Add(scrape(t, body(100, 200, 210, 90), t0))
	w.Add(scrape(t, body(110, 220, 230, 95), t0.Add(time.Second)))  // +10, +20, +20, sum +5
	ev := w.Add(scrape(t, body(1, 3, 4, 2), t0.Add(2*time.Second))) // reset: +1, +3, +4, sum +2
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0].Message, `vllm:time_to_first_token_seconds{model_name="m"} went down (_count 230 → 4`)
	h := w.Summary().TTFT
	assert.Equal(t, 24.0, h.Count)
	assert.InDelta(t, 7000, h.SumMS, 1e-9)
	// Window buckets 11, 23, 24. p50: rank 12 → le=1.0, (0.1, 1.0] holds 12, rank inside 1 → 0.1 + 0.9/12 = 0.175 s.
	assert.InDelta(t, 175, ms(h.P50MS), 1e-9)
	assert.Equal(t, 1, w.Summary().CounterResets)

	// A _sum a rounding lower with the same counts is no reset and adds nothing.
	assert.Empty(t, w.Add(scrape(t, body(1, 3, 4, 1.9999999999), t0.Add(3*time.Second))))
	assert.InDelta(t, 7000, w.Summary().TTFT.SumMS, 1e-9)
	assert.Equal(t, 24.0, w.Summary().TTFT.Count)
}

// A histogram whose bucket set changes is treated as reset, under its new bounds.
func TestWindowBucketSetChange(t *testing.T) {
	two := func(c float64) string {
		return fmt.Sprintf(`# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="1.0"} %g
vllm:e2e_request_latency_seconds_bucket{le="+Inf"} %g
vllm:e2e_request_latency_seconds_count %g
vllm:e2e_request_latency_seconds_sum %g
`, c, c, c, c)
	}
	three := `# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.5"} 2
vllm:e2e_request_latency_seconds_bucket{le="2.0"} 4
vllm:e2e_request_latency_seconds_bucket{le="+Inf"} 4
vllm:e2e_request_latency_seconds_count 4
vllm:e2e_request_latency_seconds_sum 3
`
	w := NewWindow()
	w.Add(scrape(t, two(10), t0))
	w.Add(scrape(t, two(14), t0.Add(time.Second))) // +4 in (0, 1.0]
	ev := w.Add(scrape(t, three, t0.Add(2*time.Second)))
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0].Message, "bucket bounds changed (2 → 3 buckets)")
	h := w.Summary().E2ELatency
	assert.Equal(t, 8.0, h.Count)
	// Summed per le as `sum by (le)` would (0.5: 2, 1.0: 4, 2.0: 4, +Inf: 8) the p90 would be "above 2.0 s",
	// yet every one of the 8 observations is ≤ 2.0 s (4 ≤ 1.0 s before the change, 4 ≤ 2.0 s after): false.
	// The two layouts ({1.0, +Inf} and {0.5, 2.0, +Inf}) share no finite bound: the quantiles are unknown.
	assert.Nil(t, h.P50MS)
	assert.Nil(t, h.P90MS)
	assert.Nil(t, h.P99MS)
	assert.Contains(t, h.Note, "no finite bound in common: quantiles unknown")

	// The same change together with a restart: one restart event, the new bounds, counted from 0.
	w = NewWindow()
	w.Add(scrape(t, "process_start_time_seconds 100\n"+two(10), t0))
	ev = w.Add(scrape(t, "process_start_time_seconds 200\n"+three, t0.Add(time.Second)))
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0].Message, "server restarted")
	assert.Equal(t, 4.0, w.Summary().E2ELatency.Count)
	assert.InDelta(t, 500, ms(w.Summary().E2ELatency.P50MS), 1e-9) // rank 2 → le=0.5 (2 ≥ 2) → 0.5 s
}

// process_start_time_seconds changing means the server restarted: every series counts from 0 for that step,
// even those that did not go down, and one event says so.
func TestWindowProcessRestart(t *testing.T) {
	base := capture(t, "v1-idle-qwen2.5-0.5b.prom")
	lbl := `engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"`
	gen := `vllm:generation_tokens_total{` + lbl + `}`
	b2 := bump(t, base, gen, 500)
	// After the restart the counter is at 700 (> 500: going down would not show it), TTFT saw 3 requests ≤ 0.1 s.
	b3 := set(t, b2, "process_start_time_seconds", 1.7740113846e+09+600)
	b3 = set(t, b3, gen, 700)
	for _, le := range []string{"0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0", "640.0", "2560.0", "+Inf"} {
		b3 = bump(t, b3, `vllm:time_to_first_token_seconds_bucket{engine="0",le="`+le+`",model_name="Qwen/Qwen2.5-0.5B-Instruct"}`, 3)
	}
	b3 = bump(t, b3, `vllm:time_to_first_token_seconds_count{`+lbl+`}`, 3)
	b3 = bump(t, b3, `vllm:time_to_first_token_seconds_sum{`+lbl+`}`, 0.24)

	w := NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, b2, t0.Add(2*time.Second)))
	ev := w.Add(scrape(t, b3, t0.Add(4*time.Second)))
	require.Len(t, ev, 1, "one event for the restart, none per series")
	assert.Contains(t, ev[0].Message, "server restarted: process_start_time_seconds changed from 1774011384.6 to 1774011984.6")

	st := w.Summary()
	assert.Equal(t, 1200.0, deref(st.GenerationTokens)) // 500, then 700 from 0
	assert.Equal(t, 1, st.Restarts)
	assert.Zero(t, st.CounterResets)
	assert.Equal(t, 3.0, st.TTFT.Count)
	// 3 observations in (0.08, 0.1]: p50 rank 1.5 → 0.08 + 0.02 × 1.5/3 = 0.09 s.
	assert.InDelta(t, 90, ms(st.TTFT.P50MS), 1e-9)
	assert.InDelta(t, 80, deref(st.TTFT.MeanMS), 1e-9)
}

// V1 names: ITL from vllm:inter_token_latency_seconds, never from vllm:request_time_per_output_token_seconds
// (per-request TPOT, exposed beside it); KV cache from vllm:kv_cache_usage_perc.
func TestWindowV1Names(t *testing.T) {
	base := capture(t, "v1-idle-qwen2.5-0.5b.prom")
	lbl := `engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"`
	b := base
	// 40 inter-token gaps of 0.02 s: buckets from le=0.025 up gain 40.
	for _, le := range []string{"0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.3", "0.4", "0.5", "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "+Inf"} {
		b = bump(t, b, `vllm:inter_token_latency_seconds_bucket{engine="0",le="`+le+`",model_name="Qwen/Qwen2.5-0.5B-Instruct"}`, 40)
	}
	b = bump(t, b, `vllm:inter_token_latency_seconds_count{`+lbl+`}`, 40)
	b = bump(t, b, `vllm:inter_token_latency_seconds_sum{`+lbl+`}`, 0.8)
	// 2 requests' TPOT, which must not be read as ITL.
	b = bump(t, b, `vllm:request_time_per_output_token_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen2.5-0.5B-Instruct"}`, 2)
	b = bump(t, b, `vllm:request_time_per_output_token_seconds_count{`+lbl+`}`, 2)
	b = set(t, b, `vllm:kv_cache_usage_perc{`+lbl+`}`, 0.5)

	w := NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, b, t0.Add(time.Second)))
	st := w.Summary()
	assert.Equal(t, "vllm:inter_token_latency_seconds", st.NamesUsed[FieldITLSeconds])
	require.NotNil(t, st.ITL)
	assert.Equal(t, "vllm:inter_token_latency_seconds", st.ITL.Metric)
	assert.Equal(t, 40.0, st.ITL.Count)
	assert.InDelta(t, 20, deref(st.ITL.MeanMS), 1e-9)
	// 40 in (0.01, 0.025]: p50 rank 20 → 0.01 + 0.015 × 20/40 = 0.0175 s.
	assert.InDelta(t, 17.5, ms(st.ITL.P50MS), 1e-9)
	assert.Equal(t, "vllm:kv_cache_usage_perc", st.NamesUsed[FieldKVCacheUsagePercent])
	assert.Equal(t, 25.0, deref(st.KVCacheUsagePercent.Mean))
	assert.Equal(t, 50.0, deref(st.KVCacheUsagePercent.Max))
	// One engine, "0": the per-engine figures are the totals.
	require.Contains(t, st.PerEngine, "0")
	assert.Equal(t, st.ITL, st.PerEngine["0"].ITL)
	assert.Equal(t, map[string]float64{"stop": 0, "length": 0, "abort": 0, "error": 0, "repetition": 0}, st.RequestSuccessByReason)
}

// A field the server does not expose stays nil, with the names looked for.
func TestWindowNotExposed(t *testing.T) {
	base := dropFamily(dropFamily(capture(t, v0), "vllm:request_queue_time_seconds"), "vllm:num_preemptions_total")
	base = dropFamily(base, "vllm:num_requests_waiting")
	w := NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, base, t0.Add(time.Second)))
	st := w.Summary()
	assert.Nil(t, st.QueueTime)
	assert.Nil(t, st.Preemptions)
	assert.Nil(t, st.RequestQueueSize)
	assert.Equal(t, "not exposed (looked for vllm:request_queue_time_seconds)", st.NotExposed[FieldQueueTimeSeconds])
	assert.Equal(t, "not exposed (looked for vllm:num_preemptions_total)", st.NotExposed[FieldPreemptions])
	assert.Equal(t, "not exposed (looked for vllm:num_requests_waiting)", st.NotExposed[FieldRequestQueueSize])
	assert.NotContains(t, st.NamesUsed, FieldQueueTimeSeconds)
	require.NotNil(t, st.TTFT, "the others are still there")
	assert.Equal(t, 0.0, st.TTFT.Count)

	js, err := json.Marshal(st)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"queue_time":null`)
	assert.Contains(t, string(js), `"preemptions":null`)
}

// engineBody is a V1-style body with one series per engine, in the order given.
type engineFig struct {
	engine  string
	buckets [4]float64 // cumulative counts at le 0.05, 0.1, 0.5, +Inf
	sum     float64
	gen     float64
	waiting float64
	kv      float64
}

func engineBody(engs []engineFig, withEngineLabel bool) string {
	var b strings.Builder
	lbl := func(e string) string {
		if !withEngineLabel {
			return `model_name="m"`
		}
		return `engine="` + e + `",model_name="m"`
	}
	b.WriteString("# TYPE vllm:time_to_first_token_seconds histogram\n")
	for _, e := range engs {
		for i, le := range []string{"0.05", "0.1", "0.5", "+Inf"} {
			l := `le="` + le + `",model_name="m"`
			if withEngineLabel {
				l = `engine="` + e.engine + `",` + l
			}
			fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_bucket{%s} %g\n", l, e.buckets[i])
		}
		fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_count{%s} %g\n", lbl(e.engine), e.buckets[3])
		fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_sum{%s} %g\n", lbl(e.engine), e.sum)
	}
	b.WriteString("# TYPE vllm:generation_tokens_total counter\n")
	for _, e := range engs {
		fmt.Fprintf(&b, "vllm:generation_tokens_total{%s} %g\n", lbl(e.engine), e.gen)
	}
	b.WriteString("# TYPE vllm:num_requests_waiting gauge\n")
	for _, e := range engs {
		fmt.Fprintf(&b, "vllm:num_requests_waiting{%s} %g\n", lbl(e.engine), e.waiting)
	}
	b.WriteString("# TYPE vllm:kv_cache_usage_perc gauge\n")
	for _, e := range engs {
		fmt.Fprintf(&b, "vllm:kv_cache_usage_perc{%s} %g\n", lbl(e.engine), e.kv)
	}
	return b.String()
}

func runWindow(t *testing.T, bodies ...string) Stats {
	w := NewWindow()
	for i, b := range bodies {
		w.Add(scrape(t, b, t0.Add(time.Duration(i)*time.Second)))
	}
	return w.Summary()
}

// Two engines, in both orders, give the same result, which is the sum per le of the two; each engine's
// figures are those of a one-engine server with its numbers; a server without engine labels gives the same
// numbers as one engine.
func TestWindowTwoEngines(t *testing.T) {
	zero0 := engineFig{engine: "0"}
	zero1 := engineFig{engine: "1"}
	// Engine 0: 4 requests ≤ 0.05 s, 4 in (0.1, 0.5]; engine 1: 2 in (0.05, 0.1], 2 above 0.5 s.
	e0 := engineFig{engine: "0", buckets: [4]float64{4, 4, 8, 8}, sum: 1.0, gen: 100, waiting: 3, kv: 0.2}
	e1 := engineFig{engine: "1", buckets: [4]float64{0, 2, 2, 4}, sum: 2.5, gen: 50, waiting: 1, kv: 0.6}

	a := runWindow(t, engineBody([]engineFig{zero0, zero1}, true), engineBody([]engineFig{e0, e1}, true))
	b := runWindow(t, engineBody([]engineFig{zero1, zero0}, true), engineBody([]engineFig{e1, e0}, true))
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	assert.JSONEq(t, string(ja), string(jb), "series order does not matter")

	// Sum per le: 4, 6, 10, 12. p50: rank 6 → le=0.1 (6 ≥ 6), (0.05, 0.1] holds 2, rank inside 2 → 0.1 s.
	// p90: rank 10.8 → +Inf (highest finite 10): lower bound 0.5 s.
	h := a.TTFT
	assert.Equal(t, 12.0, h.Count)
	assert.InDelta(t, 3500, h.SumMS, 1e-9)
	assert.InDelta(t, 100, ms(h.P50MS), 1e-9)
	assert.True(t, h.P90MS.IsLowerBound)
	assert.Equal(t, 500.0, deref(h.P90MS.LowerBoundMS))
	assert.Equal(t, 150.0, deref(a.GenerationTokens))
	// Queue summed over engines in each scrape: 0 then 4 → mean 2, max 4.
	assert.Equal(t, 2.0, deref(a.RequestQueueSize.Mean))
	assert.Equal(t, 4.0, deref(a.RequestQueueSize.Max))
	// KV: per-scrape mean across engines 0 then 40 % → mean 20 %; max of one engine 60 %.
	assert.InDelta(t, 20, deref(a.KVCacheUsagePercent.Mean), 1e-9)
	assert.InDelta(t, 60, deref(a.KVCacheUsagePercent.Max), 1e-9)

	// The sum is what a single engine with the summed buckets gives.
	sum := engineFig{engine: "0", buckets: [4]float64{4, 6, 10, 12}, sum: 3.5, gen: 150}
	one := runWindow(t, engineBody([]engineFig{zero0}, true), engineBody([]engineFig{sum}, true))
	assert.Equal(t, one.TTFT, a.TTFT)

	// Per engine: engine 1 alone. p50: rank 2 → le=0.1 (2 ≥ 2), (0.05, 0.1] holds 2 → 0.1 s.
	require.Len(t, a.PerEngine, 2)
	only1 := runWindow(t, engineBody([]engineFig{zero1}, true), engineBody([]engineFig{e1}, true))
	assert.Equal(t, only1.TTFT, a.PerEngine["1"].TTFT)
	assert.InDelta(t, 100, ms(a.PerEngine["1"].TTFT.P50MS), 1e-9)
	assert.Equal(t, 50.0, deref(a.PerEngine["1"].GenerationTokens))
	assert.Equal(t, 1.0, deref(a.PerEngine["1"].RequestQueueSize.Max))
	assert.InDelta(t, 30, deref(a.PerEngine["1"].KVCacheUsagePercent.Mean), 1e-9)

	// No engine label at all = one engine.
	noEng := runWindow(t, engineBody([]engineFig{{}}, false), engineBody([]engineFig{{buckets: e0.buckets, sum: e0.sum, gen: e0.gen, waiting: e0.waiting, kv: e0.kv}}, false))
	oneEng := runWindow(t, engineBody([]engineFig{zero0}, true), engineBody([]engineFig{e0}, true))
	assert.Nil(t, noEng.PerEngine)
	assert.Equal(t, oneEng.Figures, noEng.Figures)
}

// A series that appears mid-window because the field switched to another candidate name counts from its first
// value (its history predates the window), not from 0.
func TestWindowNameSwitchCountsFromFirstValue(t *testing.T) {
	hist := func(name string, c float64) string {
		return fmt.Sprintf(`# TYPE %[1]s histogram
%[1]s_bucket{le="0.1"} %[2]g
%[1]s_bucket{le="+Inf"} %[2]g
%[1]s_count %[2]g
%[1]s_sum %[3]g
`, name, c, c*0.05)
	}
	w := NewWindow()
	w.Add(scrape(t, hist("vllm:time_per_output_token_seconds", 100), t0))
	w.Add(scrape(t, hist("vllm:time_per_output_token_seconds", 110), t0.Add(time.Second)))        // +10
	w.Add(scrape(t, hist("vllm:inter_token_latency_seconds", 5000), t0.Add(2*time.Second)))       // baseline
	ev := w.Add(scrape(t, hist("vllm:inter_token_latency_seconds", 5007), t0.Add(3*time.Second))) // +7
	assert.Empty(t, ev)
	st := w.Summary()
	assert.Equal(t, 17.0, st.ITL.Count)
	assert.Equal(t, "vllm:inter_token_latency_seconds", st.NamesUsed[FieldITLSeconds])
}

// The JSON never carries NaN, and a lower-bound quantile has value_ms null.
func TestStatsJSON(t *testing.T) {
	base := capture(t, v0)
	w := NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, v0Busier(t, base), t0.Add(2*time.Second)))
	js, err := json.Marshal(w.Summary())
	require.NoError(t, err)
	s := string(js)
	assert.NotContains(t, s, "NaN")
	// The names that were there keep their place; the bucket bounds follow. Window buckets: 10 observations
	// in (0.1, 0.25] s, 5 in (1.0, 2.5] s, 1 above 2560 s; _sum 3012 s. p99 is the ⌈0.99 × 16⌉ = 16th smallest,
	// in (2560 s, +Inf): the other 15 are at least 10 × 0.1 + 5 × 1.0 = 6 s, so it is ≤ 3012 − 6 = 3006 s.
	// p50 (the 8th) lies in (0.1, 0.25] s; the sum bound (3012 − 7 × 0.1 − 2 × 0.1 − 5 × 1.0) / (10 − 8 + 1)
	// = 3006.1 / 3 s is far above 0.25 s, so at_most_ms is the bucket's 250. The p99 bound carries the pad for
	// float rounding (quantileRange): (16 + 8) ulps of the cumulative _sum 7953.84 s (2⁻⁴⁰ s each) plus a few
	// ulps of 3012 s (2⁻⁴¹ s), ≈ 2.8e-11 s, so 3006 s rounded up to 12 significant digits is 3006.00000001 s.
	assert.Contains(t, s, `"p99_ms":{"value_ms":null,"lower_bound_ms":2560000,"is_lower_bound":true,`+
		`"bucket_lower_ms":2560000,"bucket_upper_ms":null,"at_most_ms":3006000.00001}`)
	assert.Contains(t, s, `"p50_ms":{"value_ms":220,"lower_bound_ms":null,"is_lower_bound":false,`+
		`"bucket_lower_ms":100,"bucket_upper_ms":250,"at_most_ms":250}`)

	var back Stats
	require.NoError(t, json.Unmarshal(js, &back))
	v, exact := back.TTFT.P99MS.MS()
	assert.False(t, exact)
	assert.Equal(t, 2560e3, v)
}

// Non-finite values in a scrape are skipped, never propagated.
func TestWindowNonFinite(t *testing.T) {
	body := func(v string) string {
		return "# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total " + v + "\n"
	}
	w := NewWindow()
	w.Add(scrape(t, body("10"), t0))
	w.Add(scrape(t, body("NaN"), t0.Add(time.Second)))
	w.Add(scrape(t, body("+Inf"), t0.Add(2*time.Second)))
	w.Add(scrape(t, body("15"), t0.Add(3*time.Second)))
	assert.Equal(t, 5.0, deref(w.Summary().GenerationTokens))
	_ = math.NaN
}

// A V0 histogram family with no series yet (no request before the test) whose series appears mid-window is
// counted from 0: its first value is all increase. Every vllm:* counter has its increase in CounterIncreases.
func TestWindowSeriesAppearsMidWindow(t *testing.T) {
	empty := "# HELP vllm:time_to_first_token_seconds x\n# TYPE vllm:time_to_first_token_seconds histogram\n" +
		"# TYPE vllm:prefix_cache_hits_total counter\nvllm:prefix_cache_hits_total 7\n"
	one := `# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.5",model_name="m"} 2
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} 2
vllm:time_to_first_token_seconds_count{model_name="m"} 2
vllm:time_to_first_token_seconds_sum{model_name="m"} 0.5
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total 12
`
	w := NewWindow()
	w.Add(scrape(t, empty, t0))
	w.Add(scrape(t, one, t0.Add(time.Second)))
	st := w.Summary()
	require.NotNil(t, st.TTFT)
	assert.Equal(t, 2.0, st.TTFT.Count)
	// 2 in (0, 0.5]: p50 rank 1 → 0.25 s.
	assert.InDelta(t, 250, ms(st.TTFT.P50MS), 1e-9)
	assert.Equal(t, map[string]float64{"vllm:prefix_cache_hits_total": 5}, st.CounterIncreases)
}

// The Model filter of the scrape keeps only that model_name's series.
func TestWindowModelFilter(t *testing.T) {
	body := func(a, b float64) string {
		return fmt.Sprintf("# TYPE vllm:generation_tokens_total counter\n"+
			"vllm:generation_tokens_total{model_name=\"base\"} %g\nvllm:generation_tokens_total{model_name=\"lora\"} %g\n", a, b)
	}
	parse := func(s string, at time.Time) Scrape {
		sc := scrape(t, s, at)
		sc.Model = "lora"
		return sc
	}
	w := NewWindow()
	w.Add(parse(body(10, 100), t0))
	w.Add(parse(body(20, 130), t0.Add(time.Second)))
	assert.Equal(t, 30.0, deref(w.Summary().GenerationTokens))
}

// Events do not depend on the order of series in the scrape.
func TestWindowEventsOrderIndependent(t *testing.T) {
	body := func(first, second string) string {
		return "# TYPE vllm:generation_tokens_total counter\n" + first + "\n" + second + "\n"
	}
	run := func(order bool) []string {
		w := NewWindow()
		a, b := `vllm:generation_tokens_total{engine="0"} 10`, `vllm:generation_tokens_total{engine="1"} 20`
		a2, b2 := `vllm:generation_tokens_total{engine="0"} 1`, `vllm:generation_tokens_total{engine="1"} 2`
		if order {
			w.Add(scrape(t, body(a, b), t0))
			return msgs(w.Add(scrape(t, body(a2, b2), t0.Add(time.Second))))
		}
		w.Add(scrape(t, body(b, a), t0))
		return msgs(w.Add(scrape(t, body(b2, a2), t0.Add(time.Second))))
	}
	x := run(true)
	require.Len(t, x, 2)
	assert.Equal(t, x, run(false))
}

func msgs(ev []snapshot.Event) []string {
	var out []string
	for _, e := range ev {
		out = append(out, e.Message)
	}
	return out
}

// A restart inside the window changes the bucket layout from {0.5, 1, +Inf} (4 observations ≤ 0.5 s before)
// to {1, 2, +Inf} (4 in (1, 2] s after). Summed per le the p90 would be "above 2 s" (0.5: 4, 1: 4, 2: 4,
// +Inf: 8), yet every observation is ≤ 2 s. Merged onto the common bounds {1, +Inf} (1: 4, +Inf: 8): p50 rank
// 4 → (0, 1], 0 + 1·4/4 = 1 s, at most 1 s (true: the 4th smallest is ≤ 0.5 s); p90 rank 7.2 → +Inf: above
// 1 s (true: the 8th smallest is in (1, 2] s).
func TestWindowLayoutChangeAcrossARestartMergesOnCommonBounds(t *testing.T) {
	hist := func(start string, les []string, counts []int, sum string) string {
		var b strings.Builder
		b.WriteString("process_start_time_seconds " + start + "\n# TYPE vllm:e2e_request_latency_seconds histogram\n")
		for i, le := range les {
			fmt.Fprintf(&b, "vllm:e2e_request_latency_seconds_bucket{le=%q} %d\n", le, counts[i])
		}
		fmt.Fprintf(&b, "vllm:e2e_request_latency_seconds_count %d\nvllm:e2e_request_latency_seconds_sum %s\n", counts[len(counts)-1], sum)
		return b.String()
	}
	before := []string{"0.5", "1", "+Inf"}
	after := []string{"1", "2", "+Inf"}
	w := NewWindow()
	w.Add(scrape(t, hist("100", before, []int{0, 0, 0}, "0"), t0))
	w.Add(scrape(t, hist("100", before, []int{4, 4, 4}, "1"), t0.Add(time.Second)))
	ev := w.Add(scrape(t, hist("200", after, []int{0, 4, 4}, "6"), t0.Add(2*time.Second)))
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0].Message, "server restarted")

	h := w.Summary().E2ELatency
	require.NotNil(t, h)
	assert.Equal(t, 8.0, h.Count)
	assert.Contains(t, h.Note, "merged onto the 2 bounds all of them have")
	assert.InDelta(t, 1000, ms(h.P50MS), 1e-9)
	assert.Equal(t, 1000.0, deref(h.P50MS.AtMostMS))
	require.NotNil(t, h.P90MS)
	assert.True(t, h.P90MS.IsLowerBound)
	assert.Equal(t, 1000.0, deref(h.P90MS.LowerBoundMS))
	var v snapshot.VLLM
	w.FillInterval(&v)
	assert.Nil(t, v.ServerE2EP50MS, "the restart's interval is unknown")
}

// restartBody is a scrape of a server whose process started at start: generation_tokens_total at gen (absent
// when gen < 0) and a TTFT histogram with bounds {1, 2, 5, +Inf} s at cumulative counts cum and _sum sum
// (absent when cum is nil).
func restartBody(start, gen float64, cum []float64, sum float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %g\n", start)
	b.WriteString("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 0\n")
	if gen >= 0 {
		fmt.Fprintf(&b, "# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total %g\n", gen)
	}
	if cum != nil {
		b.WriteString("# TYPE vllm:time_to_first_token_seconds histogram\n")
		for i, le := range []string{"1", "2", "5", "+Inf"} {
			fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_bucket{le=%q} %g\n", le, cum[i])
		}
		fmt.Fprintf(&b, "vllm:time_to_first_token_seconds_count %g\nvllm:time_to_first_token_seconds_sum %g\n", cum[3], sum)
	}
	return b.String()
}

// A counter missing from the scrape that showed a restart counts from 0 when it comes back: its value is the
// new process's (llm-d-inference-sim creates its counters on first use after a restart). Scrapes 2 s apart:
// start 100, 1000 tokens → start 200, counter absent → 1500 → 1600. By hand, with Prometheus increase()'s
// restart rule (the new process counts from 0): the window's increase is 1500 + 100 = 1600, not
// (1500 − 1000) + 100 = 600 (which mixes the two processes). Per interval (strict): the restart's interval
// and the one the counter comes back in are null; the next is 100 tokens / 2 s = 50 tok/s.
func TestWindowCounterMissingAtRestartCountsFrom0(t *testing.T) {
	w := NewWindow()
	var v snapshot.VLLM
	w.Add(scrape(t, restartBody(100, 1000, nil, 0), t0))
	ev := w.Add(scrape(t, restartBody(200, -1, nil, 0), t0.Add(2*time.Second)))
	require.NotEmpty(t, ev)
	assert.Contains(t, ev[0].Message, "server restarted")
	w.FillInterval(&v)
	assert.Nil(t, v.TokensPerSecond, "the restart's interval")

	ev = w.Add(scrape(t, restartBody(200, 1500, nil, 0), t0.Add(4*time.Second)))
	for _, e := range ev {
		assert.NotContains(t, e.Message, "went down", "a restart is no reset")
	}
	w.FillInterval(&v)
	assert.Nil(t, v.TokensPerSecond, "back after a scrape without it: the increase spans two intervals")
	assert.Equal(t, 1500.0, deref(w.Summary().GenerationTokens))

	w.Add(scrape(t, restartBody(200, 1600, nil, 0), t0.Add(6*time.Second)))
	w.FillInterval(&v)
	assert.Equal(t, 50.0, deref(v.TokensPerSecond))
	st := w.Summary()
	assert.Equal(t, 1600.0, deref(st.GenerationTokens))
	assert.Equal(t, 1600.0, st.CounterIncreases["vllm:generation_tokens_total"])
	assert.Equal(t, 1, st.Restarts)
	assert.Zero(t, st.CounterResets)
}

// A histogram missing from the scrape that showed a restart counts from 0 when it comes back. TTFT, bounds
// {1, 2, 5, +Inf} s: before the restart 10 observations at 0.5 s (cumulative 10, 10, 10, 10; _sum 5 s); the
// restart scrape lacks the family; then the new process's 15 at 0.5 s and 15 at 5 s (cumulative 15, 15, 30,
// 30; _sum 7.5 + 75 = 82.5 s). By hand: the window holds those 30 (count 30, _sum 82.5 s), not the
// differences 5, 5, 20, 20 (count 20, _sum 77.5 s). p50: rank 15 → le=1 (15 ≥ 15), (0, 1] holds 15 → 1 s
// (the differences would give rank 10 → (2, 5] holding 15, 2 + 3 × 5/15 = 3 s). p90: rank 27 → le=5, (2, 5]
// holds 15, rank inside 12 → 2 + 3 × 12/15 = 4.4 s. Per interval: null when it comes back (a gap), then 4
// observations at 1.5 s (cumulative 15, 19, 34, 34): p50 rank 2 → (1, 2] holds 4 → 1 + 1 × 2/4 = 1.5 s.
func TestWindowHistogramMissingAtRestartCountsFrom0(t *testing.T) {
	w := NewWindow()
	var v snapshot.VLLM
	w.Add(scrape(t, restartBody(100, 0, []float64{10, 10, 10, 10}, 5), t0))
	w.Add(scrape(t, restartBody(200, 0, nil, 0), t0.Add(2*time.Second)))
	ev := w.Add(scrape(t, restartBody(200, 0, []float64{15, 15, 30, 30}, 82.5), t0.Add(4*time.Second)))
	for _, e := range ev {
		assert.NotContains(t, e.Message, "went down", "a restart is no reset")
	}
	w.FillInterval(&v)
	assert.Nil(t, v.ServerTTFTP50MS, "back after a scrape without it")

	h := w.Summary().TTFT
	require.NotNil(t, h)
	assert.Equal(t, 30.0, h.Count)
	assert.InDelta(t, 82500, h.SumMS, 1e-9)
	assert.InDelta(t, 1000, ms(h.P50MS), 1e-9)
	assert.InDelta(t, 4400, ms(h.P90MS), 1e-9)
	assert.False(t, h.MonotonicityForced)
	assert.Zero(t, w.Summary().CounterResets)

	w.Add(scrape(t, restartBody(200, 0, []float64{15, 19, 34, 34}, 88.5), t0.Add(6*time.Second)))
	w.FillInterval(&v)
	assert.InDelta(t, 1500, val(v.ServerTTFTP50MS), 1e-9)
	assert.Equal(t, 34.0, w.Summary().TTFT.Count)
}

// A series without observations does not enter the merge (mergeBuckets: "a part without observations is not
// asked"), whatever its bounds. E2E, engine 0 with bounds {1, 2, +Inf} s and no observation; engine 1 with
// bounds {0.5, 2, +Inf} s and 10 observations at 0.4 s, 10 at 1.9 s (cumulative 10, 20, 20). By hand, from
// engine 1 alone: p50 rank 10 → le=0.5 (10 ≥ 10) → 0.5 s; p90 rank 18 → (0.5, 2] holds 10, rank inside 8 →
// 0.5 + 1.5 × 8/10 = 1.7 s; p99 rank 19.8 → 0.5 + 1.5 × 9.8/10 = 1.97 s. Adding engine 0's empty buckets at
// 1 s would make the p90 1 + 1 × 8/10 = 1.8 s and report MonotonicityForced. The interval view merges the
// same way.
func TestMergeSkipsSeriesWithoutObservations(t *testing.T) {
	body := func(c05, c2 float64, sum float64) string {
		return fmt.Sprintf(`# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="1"} 0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="2"} 0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf"} 0
vllm:e2e_request_latency_seconds_count{engine="0"} 0
vllm:e2e_request_latency_seconds_sum{engine="0"} 0
vllm:e2e_request_latency_seconds_bucket{engine="1",le="0.5"} %[1]g
vllm:e2e_request_latency_seconds_bucket{engine="1",le="2"} %[2]g
vllm:e2e_request_latency_seconds_bucket{engine="1",le="+Inf"} %[2]g
vllm:e2e_request_latency_seconds_count{engine="1"} %[2]g
vllm:e2e_request_latency_seconds_sum{engine="1"} %[3]g
`, c05, c2, sum)
	}
	w := NewWindow()
	w.Add(scrape(t, body(0, 0, 0), t0))
	w.Add(scrape(t, body(10, 20, 23), t0.Add(time.Second))) // _sum 10 × 0.4 + 10 × 1.9 = 23 s
	h := w.Summary().E2ELatency
	require.NotNil(t, h)
	assert.Equal(t, 20.0, h.Count)
	assert.InDelta(t, 500, ms(h.P50MS), 1e-9)
	assert.InDelta(t, 1700, ms(h.P90MS), 1e-9)
	assert.InDelta(t, 1970, ms(h.P99MS), 1e-9)
	assert.False(t, h.MonotonicityForced)
	assert.Empty(t, h.Note, "one layout asked")

	var v snapshot.VLLM
	w.FillInterval(&v)
	assert.InDelta(t, 500, val(v.ServerE2EP50MS), 1e-9)
	assert.InDelta(t, 1970, val(v.ServerE2EP99MS), 1e-9)
}

// genScrape is a scrape exposing the counters name=value in the order given, with the generation-token field
// read from field (a second candidate name stands in for a future rename of the counter).
func genScrape(t *testing.T, at time.Time, field string, counters ...any) Scrape {
	var b strings.Builder
	for i := 0; i < len(counters); i += 2 {
		fmt.Fprintf(&b, "# TYPE %[1]s counter\n%[1]s %[2]g\n", counters[i], counters[i+1])
	}
	s := scrape(t, b.String(), at)
	s.NamesUsed[FieldGenerationTokensTotal] = field
	return s
}

// A counter field read from another name than in the previous scrape: that interval's rate is null (strict
// per-interval rule), not 0. vllm:generation_tokens_total 100 → 110, then renamed (vllm:generation_tokens_v2
// _total) 5000 → 5020, 2 s apart: rates 10/2 = 5, null, 20/2 = 10 tok/s; the window 10 + 20 = 30 (the new
// name's first value is its baseline).
func TestFillIntervalCounterNameSwitchIsNull(t *testing.T) {
	const a, b = "vllm:generation_tokens_total", "vllm:generation_tokens_v2_total"
	w := NewWindow()
	var v snapshot.VLLM
	w.Add(genScrape(t, t0, a, a, 100.0))
	w.Add(genScrape(t, t0.Add(2*time.Second), a, a, 110.0))
	w.FillInterval(&v)
	assert.Equal(t, 5.0, val(v.TokensPerSecond))
	ev := w.Add(genScrape(t, t0.Add(4*time.Second), b, b, 5000.0))
	assert.Contains(t, msgs(ev), FieldGenerationTokensTotal+" now read from "+b+" (was "+a+")")
	w.FillInterval(&v)
	assert.Nil(t, v.TokensPerSecond, "switch interval")
	w.Add(genScrape(t, t0.Add(6*time.Second), b, b, 5020.0))
	w.FillInterval(&v)
	assert.Equal(t, 10.0, val(v.TokensPerSecond))
	assert.Equal(t, 30.0, deref(w.Summary().GenerationTokens))
}

// A counter exposed under two names at once (a deprecation period) counts once: each step from the name the
// field is read from. Both names go 100, 110, 130, 160; the field is read from the first name in scrapes 1–2
// and from the second in 3–4. By hand: 10 (step 2, first name) + 20 + 30 (steps 3–4, second name) = 60, not
// 120; CounterIncreases keeps each name's own 60. Per interval: step 3 switched names (null), step 4 is
// 30 / 2 s = 15 tok/s.
func TestWindowCounterTwoNamesExposedCountsOnce(t *testing.T) {
	const a, b = "vllm:generation_tokens_total", "vllm:generation_tokens_v2_total"
	w := NewWindow()
	var v snapshot.VLLM
	for i, x := range []float64{100, 110, 130, 160} {
		field := a
		if i >= 2 {
			field = b
		}
		w.Add(genScrape(t, t0.Add(time.Duration(2*i)*time.Second), field, a, x, b, x))
		w.FillInterval(&v)
		if i == 2 {
			assert.Nil(t, v.TokensPerSecond, "switch interval")
		}
	}
	assert.Equal(t, 15.0, val(v.TokensPerSecond))
	st := w.Summary()
	assert.Equal(t, 60.0, deref(st.GenerationTokens))
	assert.Equal(t, map[string]float64{a: 60, b: 60}, st.CounterIncreases)
}

// appendQuoted gives strconv.AppendQuote's text for every value, the plain ASCII ones by its own road.
func TestAppendQuotedIsStrconvs(t *testing.T) {
	for _, v := range []string{"", "org/model-001", "a b~", "a\"b", "a\\b", "tab\there", "nl\n", "é", "\x7f", "\xff", "日本"} {
		require.Equal(t, strconv.Quote(v), string(appendQuoted([]byte("x"), v))[1:], v)
	}
}
