package serverstats

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

var leRe = regexp.MustCompile(`le="([^"]+)"`)

// observe returns body with the observations vals (seconds) added to the histogram family whose series carry
// labels (the text between the braces, less le): each bucket with le ≥ v gains one per observation, as does
// _count, and _sum gains their total. It fails the test if the family has no such bucket lines.
func observe(t testing.TB, body, family, labels string, vals ...float64) string {
	t.Helper()
	lines := strings.Split(body, "\n")
	buckets := 0
	for i, l := range lines {
		series, val, ok := strings.Cut(l, " ")
		if !ok || !strings.Contains(series, labels) {
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(series, family+"_bucket{"):
			m := leRe.FindStringSubmatch(series)
			require.NotNil(t, m, l)
			le, err := strconv.ParseFloat(m[1], 64)
			require.NoError(t, err, l)
			for _, v := range vals {
				if v <= le {
					x++
				}
			}
			buckets++
		case strings.HasPrefix(series, family+"_count{"):
			x += float64(len(vals))
		case strings.HasPrefix(series, family+"_sum{"):
			for _, v := range vals {
				x += v
			}
		default:
			continue
		}
		lines[i] = series + " " + strconv.FormatFloat(x, 'g', -1, 64)
	}
	require.NotZero(t, buckets, "no bucket of %s{%s}", family, labels)
	return strings.Join(lines, "\n")
}

// repeat returns n copies of v.
func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

const (
	famTTFT  = "vllm:time_to_first_token_seconds"
	famE2E   = "vllm:e2e_request_latency_seconds"
	famQueue = "vllm:request_queue_time_seconds"
	famITLv0 = "vllm:time_per_output_token_seconds"
)

// v0Interval is the V0 capture after, by construction (bucket bounds as in the capture, METRIC_NAMES.md):
//
//	TTFT:  60 requests at 0.05 s (bucket (0.04, 0.06]), 39 at 0.07 s ((0.06, 0.08]), 1 at 0.3 s ((0.25, 0.5]);
//	E2E:   50 requests at 0.9 s ((0.8, 1.0]), 50 at 1.2 s ((1.0, 1.5]);
//	ITL:   900 tokens at 0.02 s ((0.01, 0.025]), 100 at 0.03 s ((0.025, 0.05]);
//	queue: 100 requests at 0.1 s ((0, 0.3], the lowest bucket).
func v0Interval(t testing.TB, base string) string {
	b := observe(t, base, famTTFT, v0Labels, append(append(repeat(0.05, 60), repeat(0.07, 39)...), 0.3)...)
	b = observe(t, b, famE2E, v0Labels, append(repeat(0.9, 50), repeat(1.2, 50)...)...)
	b = observe(t, b, famITLv0, v0Labels, append(repeat(0.02, 900), repeat(0.03, 100)...)...)
	return observe(t, b, famQueue, v0Labels, repeat(0.1, 100)...)
}

func val(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// allServerNil asserts every per-interval server figure of v (each Server* field) is nil.
func allServerNil(t *testing.T, v snapshot.VLLM, msg string) {
	t.Helper()
	rv := reflect.ValueOf(v)
	n := 0
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Type().Field(i)
		if !strings.HasPrefix(f.Name, "Server") {
			continue
		}
		n++
		p := rv.Field(i).Interface().(*float64)
		assert.Nil(t, p, "%s: %s = %v", msg, f.Name, val(p))
	}
	assert.Equal(t, 48, n, "every per-interval server field is checked")
}

// Per-interval quantiles from two real-capture scrapes, every figure computed by hand from v0Interval's
// bucket increases.
func TestFillIntervalFromV0Capture(t *testing.T) {
	base := capture(t, v0)
	w := NewWindow()
	w.Add(scrape(t, base, t0))

	// First scrape: a baseline only. Fields set before are cleared.
	stale := snapshot.F(1)
	v := snapshot.VLLM{ServerTTFTP50MS: stale, ServerRequestsFinished: stale, ServerE2EP99LowerBoundMS: stale}
	w.FillInterval(&v)
	allServerNil(t, v, "first scrape")

	w.Add(scrape(t, v0Interval(t, base), t0.Add(2*time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)

	// TTFT increments per le: ≤0.04: 0; 0.06: 60; 0.08 … 0.25: 99; 0.5 … +Inf: 100.
	// p50: rank 0.5×100 = 50 → first le with count ≥ 50 is 0.06; bucket (0.04, 0.06] holds 60, none below:
	//      0.04 + 0.02 × 50/60 = 0.056667 s = 56.667 ms.
	// p99: rank 99 → le 0.08 (99 ≥ 99); bucket (0.06, 0.08] holds 39, 60 below: 0.06 + 0.02 × 39/39 = 80 ms.
	assert.InDelta(t, 40+20*50.0/60, val(v.ServerTTFTP50MS), 1e-9)
	assert.InDelta(t, 80, val(v.ServerTTFTP99MS), 1e-9)
	// E2E per le: ≤0.8: 0; 1.0: 50; 1.5 … +Inf: 100.
	// p50: rank 50 → le 1.0; (0.8, 1.0] holds 50: 0.8 + 0.2 × 50/50 = 1.0 s.
	// p99: rank 99 → le 1.5; (1.0, 1.5] holds 50, 50 below: 1.0 + 0.5 × 49/50 = 1.49 s.
	assert.InDelta(t, 1000, val(v.ServerE2EP50MS), 1e-9)
	assert.InDelta(t, 1490, val(v.ServerE2EP99MS), 1e-9)
	// E2E _count +100: the requests the server finished.
	assert.Equal(t, 100.0, val(v.ServerRequestsFinished))
	// ITL (V0 name vllm:time_per_output_token_seconds) per le: 0.01: 0; 0.025: 900; 0.05 … +Inf: 1000.
	// p50: rank 500 → le 0.025; (0.01, 0.025] holds 900: 0.01 + 0.015 × 500/900 = 0.0183333 s.
	// p99: rank 990 → le 0.05; (0.025, 0.05] holds 100, 900 below: 0.025 + 0.025 × 90/100 = 0.0475 s.
	assert.InDelta(t, 10+15*500.0/900, val(v.ServerITLP50MS), 1e-9)
	assert.InDelta(t, 47.5, val(v.ServerITLP99MS), 1e-9)
	// Queue: all 100 in the lowest bucket (0, 0.3]: p50 = 0.3 × 50/100 = 0.15 s, p99 = 0.3 × 99/100 = 0.297 s.
	assert.InDelta(t, 150, val(v.ServerQueueTimeP50MS), 1e-9)
	assert.InDelta(t, 297, val(v.ServerQueueTimeP99MS), 1e-9)
	for _, lb := range []*float64{v.ServerTTFTP50LowerBoundMS, v.ServerTTFTP99LowerBoundMS, v.ServerE2EP50LowerBoundMS,
		v.ServerE2EP99LowerBoundMS, v.ServerITLP50LowerBoundMS, v.ServerITLP99LowerBoundMS,
		v.ServerQueueTimeP50LowerBoundMS, v.ServerQueueTimeP99LowerBoundMS} {
		assert.Nil(t, lb, "no quantile in +Inf")
	}
	// Means: _sum / _count increases. TTFT (60 × 0.05 + 39 × 0.07 + 0.3) / 100 = 0.0603 s; E2E
	// (50 × 0.9 + 50 × 1.2) / 100 = 1.05 s.
	assert.InDelta(t, 60.3, val(v.ServerTTFTMeanMS), 1e-9)
	assert.InDelta(t, 1050, val(v.ServerE2EMeanMS), 1e-9)
	// E2E p90: rank 90 → le 1.5; (1.0, 1.5] holds 50, 50 below: 1.0 + 0.5 × 40/50 = 1.4 s.
	assert.InDelta(t, 1400, val(v.ServerE2EP90MS), 1e-9)
	assert.Nil(t, v.ServerE2EP90LowerBoundMS)
	// Each quantile's bucket: TTFT p50 (40, 60], p99 (60, 80]; E2E p50 (800, 1000], p90 and p99 (1000, 1500];
	// ITL p50 (10, 25], p99 (25, 50]; queue (0, 300]. at_most is the bucket's upper bound or the _sum bound,
	// sum / (n − ⌈q·n⌉ + 1), whichever is lower: only the queue's p50 is bounded by its sum (100 × 0.1 s / 51).
	for name, want := range map[string][3]float64{
		"TTFTP50": {40, 60, 60}, "TTFTP99": {60, 80, 80}, "E2EP50": {800, 1000, 1000}, "E2EP90": {1000, 1500, 1500},
		"E2EP99": {1000, 1500, 1500}, "ITLP50": {10, 25, 25}, "ITLP99": {25, 50, 50}, "QueueTimeP50": {0, 300, 10000.0 / 51},
		"QueueTimeP99": {0, 300, 300},
	} {
		rv := reflect.ValueOf(v)
		for i, kind := range []string{"BucketLowerMS", "BucketUpperMS", "AtMostMS"} {
			got := rv.FieldByName("Server" + name + kind).Interface().(*float64)
			if assert.NotNil(t, got, name+kind) {
				assert.InDelta(t, want[i], *got, 1e-6, name+kind)
			}
		}
	}
	// The interval is the last step only: the same as the step's TTFT histogram.
	iv := w.stepHistogram(hTTFT)
	assert.InDelta(t, ms(iv.P50MS), val(v.ServerTTFTP50MS), 1e-12)

	// A third scrape identical to the second: every histogram exposed, no observation. Quantiles null,
	// requests finished 0 (known: none finished).
	w.Add(scrape(t, v0Interval(t, base), t0.Add(4*time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)
	assert.Equal(t, 0.0, val(v.ServerRequestsFinished))
	v.ServerRequestsFinished = nil
	allServerNil(t, v, "no observations")
}

// A histogram that goes down between two scrapes (reset) leaves its interval fields null; the others, which
// went up, keep their values.
func TestFillIntervalResetIsNull(t *testing.T) {
	base := capture(t, v0)
	first := v0Interval(t, base)
	// Second scrape: TTFT back to the capture's counts plus 5 observations (below the first scrape's: a reset,
	// not 5 new requests); E2E gains 10 requests at 1.8 s on top of the first scrape.
	second := observe(t, base, famTTFT, v0Labels, repeat(0.05, 5)...)
	second = observe(t, second, famE2E, v0Labels, append(repeat(0.9, 50), repeat(1.2, 50)...)...)
	second = observe(t, second, famE2E, v0Labels, repeat(1.8, 10)...)
	second = observe(t, second, famITLv0, v0Labels, append(repeat(0.02, 900), repeat(0.03, 100)...)...)
	second = observe(t, second, famQueue, v0Labels, repeat(0.1, 100)...)

	w := NewWindow()
	w.Add(scrape(t, first, t0))
	ev := w.Add(scrape(t, second, t0.Add(2*time.Second)))
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0].Message, "vllm:time_to_first_token_seconds")
	v := snapshot.VLLM{}
	w.FillInterval(&v)
	assert.Nil(t, v.ServerTTFTP50MS, "reset in the interval")
	assert.Nil(t, v.ServerTTFTP99MS)
	assert.Nil(t, v.ServerTTFTP99LowerBoundMS)
	// E2E: 10 in (1.5, 2.0]: p50 = 1.5 + 0.5 × 5/10 = 1.75 s; p99 = 1.5 + 0.5 × 9.9/10 = 1.995 s.
	assert.InDelta(t, 1750, val(v.ServerE2EP50MS), 1e-9)
	assert.InDelta(t, 1995, val(v.ServerE2EP99MS), 1e-9)
	assert.Equal(t, 10.0, val(v.ServerRequestsFinished))
	// ITL and queue unchanged: exposed, no observation.
	assert.Nil(t, v.ServerITLP50MS)
	assert.Nil(t, v.ServerQueueTimeP99MS)

	// The next interval, with no further reset, has values again: 4 more TTFT observations at 0.09 s in
	// (0.08, 0.1]: p50 = 0.08 + 0.02 × 2/4 = 0.09 s, p99 = 0.08 + 0.02 × 3.96/4 = 0.0998 s.
	third := observe(t, second, famTTFT, v0Labels, repeat(0.09, 4)...)
	w.Add(scrape(t, third, t0.Add(4*time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)
	assert.InDelta(t, 90, val(v.ServerTTFTP50MS), 1e-9)
	assert.InDelta(t, 99.8, val(v.ServerTTFTP99MS), 1e-9)
}

// A quantile in the +Inf bucket is null with its lower-bound companion set to the highest finite bound.
func TestFillIntervalInfBucketIsLowerBound(t *testing.T) {
	base := capture(t, v0)
	// TTFT: 1 request at 0.05 s, 1 at 3000 s (above the highest finite bound, 2560 s).
	// Per le: ≤0.04: 0; 0.06 … 2560: 1; +Inf: 2.
	// p50: rank 1 → le 0.06 (1 ≥ 1); (0.04, 0.06] holds 1: 0.04 + 0.02 × 1/1 = 0.06 s = 60 ms.
	// p99: rank 1.98 > 1, the highest finite count → in +Inf: null, lower bound 2560 s.
	// E2E: 1 request at 8000 s, above 7680 s: only +Inf gains → p50 and p99 both lower bounds, 7680 s.
	next := observe(t, base, famTTFT, v0Labels, 0.05, 3000)
	next = observe(t, next, famE2E, v0Labels, 8000)
	w := NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, next, t0.Add(2*time.Second)))
	v := snapshot.VLLM{}
	w.FillInterval(&v)
	assert.InDelta(t, 60, val(v.ServerTTFTP50MS), 1e-9)
	assert.Nil(t, v.ServerTTFTP50LowerBoundMS)
	assert.Nil(t, v.ServerTTFTP99MS, "a lower bound is never reported as a value")
	assert.Equal(t, 2560e3, val(v.ServerTTFTP99LowerBoundMS))
	assert.Nil(t, v.ServerE2EP50MS)
	assert.Nil(t, v.ServerE2EP99MS)
	assert.Equal(t, 7680e3, val(v.ServerE2EP50LowerBoundMS))
	assert.Equal(t, 7680e3, val(v.ServerE2EP99LowerBoundMS))
	assert.Equal(t, 1.0, val(v.ServerRequestsFinished))
}

// A histogram not exposed gives null; one that disappears between two scrapes gives null for that interval.
func TestFillIntervalNotExposedOrGone(t *testing.T) {
	base := capture(t, v0)
	noQueue := dropFamily(base, famQueue)
	w := NewWindow()
	w.Add(scrape(t, noQueue, t0))
	w.Add(scrape(t, dropFamily(v0Interval(t, base), famQueue), t0.Add(time.Second)))
	v := snapshot.VLLM{}
	w.FillInterval(&v)
	assert.Nil(t, v.ServerQueueTimeP50MS, "never exposed")
	assert.Nil(t, v.ServerQueueTimeP99MS)
	assert.InDelta(t, 80, val(v.ServerTTFTP99MS), 1e-9, "the others are there")

	// Exposed in the first scrape, gone in the second (with observations in the others).
	w = NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, dropFamily(v0Interval(t, base), famE2E), t0.Add(time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)
	assert.Nil(t, v.ServerE2EP50MS, "gone in the second scrape")
	assert.Nil(t, v.ServerRequestsFinished)
	assert.InDelta(t, 150, val(v.ServerQueueTimeP50MS), 1e-9)
}

// Two engines: bucket increases are summed per le before the quantile; an engine whose series vanishes
// makes that interval null (its observations are unknown), and the interval after is known again.
func TestFillIntervalEngines(t *testing.T) {
	zero0, zero1 := engineFig{engine: "0"}, engineFig{engine: "1"}
	// Engine 0: 4 requests ≤ 0.05 s, 4 in (0.1, 0.5]; engine 1: 2 in (0.05, 0.1], 2 above 0.5 s.
	e0 := engineFig{engine: "0", buckets: [4]float64{4, 4, 8, 8}, sum: 1.0}
	e1 := engineFig{engine: "1", buckets: [4]float64{0, 2, 2, 4}, sum: 2.5}
	w := NewWindow()
	w.Add(scrape(t, engineBody([]engineFig{zero0, zero1}, true), t0))
	w.Add(scrape(t, engineBody([]engineFig{e0, e1}, true), t0.Add(time.Second)))
	v := snapshot.VLLM{}
	w.FillInterval(&v)
	// Summed per le: 0.05: 4, 0.1: 6, 0.5: 10, +Inf: 12.
	// p50: rank 6 → le 0.1 (6 ≥ 6); (0.05, 0.1] holds 2, 4 below: 0.05 + 0.05 × 2/2 = 0.1 s.
	// p99: rank 11.88 > 10 → +Inf: lower bound 0.5 s.
	assert.InDelta(t, 100, val(v.ServerTTFTP50MS), 1e-9)
	assert.Nil(t, v.ServerTTFTP99MS)
	assert.Equal(t, 500.0, val(v.ServerTTFTP99LowerBoundMS))
	assert.Nil(t, v.ServerRequestsFinished, "the body has no E2E histogram")

	// Engine 1 vanishes; engine 0 gains 2 at ≤ 0.05 s. Engine 1's share of the interval is unknown: null.
	e0b := engineFig{engine: "0", buckets: [4]float64{6, 6, 10, 10}, sum: 1.1}
	w.Add(scrape(t, engineBody([]engineFig{e0b}, true), t0.Add(2*time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)
	assert.Nil(t, v.ServerTTFTP50MS, "engine 1 gone in this interval")

	// Next interval: engine 0 gains 10 in (0.05, 0.1]; engine 1 has been gone a whole interval.
	// Per le: 0.05: 0, 0.1: 10, 0.5: 10, +Inf: 10. p50: rank 5 → 0.05 + 0.05 × 5/10 = 0.075 s.
	e0c := engineFig{engine: "0", buckets: [4]float64{6, 16, 20, 20}, sum: 1.9}
	w.Add(scrape(t, engineBody([]engineFig{e0c}, true), t0.Add(3*time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)
	assert.InDelta(t, 75, val(v.ServerTTFTP50MS), 1e-9)
}

// A series back after a scrape without it (engine 1), or a whole family back after a scrape without it:
// its increase spans two intervals, so the interval it comes back in is null; the next one is known again.
func TestFillIntervalSeriesBackAfterAGapIsNull(t *testing.T) {
	zero0, zero1 := engineFig{engine: "0"}, engineFig{engine: "1"}
	w := NewWindow()
	w.Add(scrape(t, engineBody([]engineFig{zero0, zero1}, true), t0))
	w.Add(scrape(t, engineBody([]engineFig{zero0}, true), t0.Add(time.Second))) // engine 1 missing
	// Engine 1 is back with 100 observations ≤ 0.05 s made over both intervals.
	e1 := engineFig{engine: "1", buckets: [4]float64{100, 100, 100, 100}, sum: 2.5}
	w.Add(scrape(t, engineBody([]engineFig{zero0, e1}, true), t0.Add(2*time.Second)))
	v := snapshot.VLLM{}
	w.FillInterval(&v)
	assert.Nil(t, v.ServerTTFTP50MS, "engine 1's increase spans two intervals")
	// Next interval: engine 1 gains 4 in (0.05, 0.1]: p50 rank 2 → 0.05 + 0.05 × 2/4 = 0.075 s.
	e1b := engineFig{engine: "1", buckets: [4]float64{100, 104, 104, 104}, sum: 2.8}
	w.Add(scrape(t, engineBody([]engineFig{zero0, e1b}, true), t0.Add(3*time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)
	assert.InDelta(t, 75, val(v.ServerTTFTP50MS), 1e-9)

	// The whole TTFT family missing from one scrape, then back with the V0 interval's observations.
	base := capture(t, v0)
	w = NewWindow()
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, dropFamily(base, famTTFT), t0.Add(time.Second)))
	w.Add(scrape(t, v0Interval(t, base), t0.Add(2*time.Second)))
	v = snapshot.VLLM{}
	w.FillInterval(&v)
	assert.Nil(t, v.ServerTTFTP50MS, "TTFT back after a scrape without it")
	assert.Nil(t, v.ServerTTFTP99MS)
	assert.InDelta(t, 1000, val(v.ServerE2EP50MS), 1e-9, "E2E was in every scrape: 50 at 0.9 s, 50 at 1.2 s → p50 1.0 s")
}

// A server restart (process_start_time_seconds changed) makes every histogram's interval null, even one
// whose counts went up.
func TestFillIntervalRestartIsNull(t *testing.T) {
	body := func(start float64, e engineFig) string {
		return "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds " +
			strconv.FormatFloat(start, 'f', -1, 64) + "\n" + engineBody([]engineFig{e}, true)
	}
	w := NewWindow()
	w.Add(scrape(t, body(100, engineFig{engine: "0", buckets: [4]float64{1, 1, 1, 1}, sum: 0.01}), t0))
	ev := w.Add(scrape(t, body(200, engineFig{engine: "0", buckets: [4]float64{3, 3, 3, 3}, sum: 0.03}), t0.Add(time.Second)))
	require.NotEmpty(t, ev)
	assert.Contains(t, ev[0].Message, "server restarted")
	v := snapshot.VLLM{}
	w.FillInterval(&v)
	allServerNil(t, v, "restart")
}

// A counter field exposed as a gauge or untyped (a simulator that mislabels it) is still tracked as a counter:
// 100 → 160 tokens over 2 s is 30 tok/s and a window increase of 60.
func TestFillIntervalCounterExposedAsGauge(t *testing.T) {
	for _, typ := range []string{"gauge", "untyped"} {
		body := func(x string) string {
			return "# TYPE vllm:generation_tokens_total " + typ + "\nvllm:generation_tokens_total " + x + "\n"
		}
		w := NewWindow()
		w.Add(scrape(t, body("100"), t0))
		w.Add(scrape(t, body("160"), t0.Add(2*time.Second)))
		var v snapshot.VLLM
		w.FillInterval(&v)
		assert.Equal(t, 30.0, val(v.TokensPerSecond), typ)
		assert.Equal(t, 160.0, val(v.GenerationTokensTotal), typ)
		assert.Equal(t, 60.0, deref(w.Summary().GenerationTokens), typ)
	}
}

// The final snapshot of a run is taken a few ms after the last tick: its rates would extrapolate a sliver
// (the trial's 7.6 tokens in 7 ms read 1083 tok/s). Under MinRateInterval (half the collector's interval) they
// are null; the interval's length is still given. At exactly MinRateInterval the rate is known, and a tick a
// few ms late at a 1 s interval (0.998 s) keeps its rate.
func TestFillIntervalRatesNullOverASliver(t *testing.T) {
	const gen = `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"}`
	base := capture(t, v0)
	w := NewWindow()
	w.MinRateInterval = time.Second // a collector at a 2 s interval
	w.Add(scrape(t, base, t0))
	w.Add(scrape(t, set(t, base, gen, 4874+300), t0.Add(2*time.Second)))
	var v snapshot.VLLM
	w.FillInterval(&v)
	require.NotNil(t, v.TokensPerSecond)
	assert.Equal(t, 150.0, *v.TokensPerSecond) // 300 tokens / 2 s

	w.Add(scrape(t, set(t, base, gen, 4874+300+7.6), t0.Add(2007*time.Millisecond)))
	w.FillInterval(&v)
	assert.InDelta(t, 0.007, deref(v.ScrapeIntervalS), 1e-12)
	assert.Nil(t, v.TokensPerSecond, "7.6 tokens over 7 ms is no rate per second")
	assert.Nil(t, v.PromptTokensPerSecond)
	assert.Nil(t, v.RequestsPerSecond)

	w.Add(scrape(t, set(t, base, gen, 4874+300+7.6+50), t0.Add(3007*time.Millisecond)))
	w.FillInterval(&v)
	require.NotNil(t, v.TokensPerSecond)
	assert.InDelta(t, 50.0, *v.TokensPerSecond, 1e-9) // 50 tokens / 1 s
	require.NotNil(t, v.RequestsPerSecond)

	w.MinRateInterval = 500 * time.Millisecond // a collector at a 1 s interval
	w.Add(scrape(t, set(t, base, gen, 4874+300+7.6+50+99.8), t0.Add(4005*time.Millisecond)))
	w.FillInterval(&v)
	require.NotNil(t, v.TokensPerSecond)
	assert.InDelta(t, 100.0, *v.TokensPerSecond, 1e-9) // 99.8 tokens / 0.998 s
}
