package serverstats

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manyEngines is a /metrics body with n `engine` values, each with a generation counter at gen and one
// running request.
func manyEngines(n int, gen int) string {
	var b strings.Builder
	b.WriteString("# TYPE vllm:generation_tokens_total counter\n")
	for e := range n {
		fmt.Fprintf(&b, "vllm:generation_tokens_total{engine=\"%d\"} %d\n", e, gen)
	}
	b.WriteString("# TYPE vllm:num_requests_running gauge\n")
	for e := range n {
		fmt.Fprintf(&b, "vllm:num_requests_running{engine=\"%d\"} 1\n", e)
	}
	return b.String()
}

// A server exposing 120,000 engines (the case took 446 MB and wrote 57 MB summaries): the window
// tracks MaxSeries series and MaxEngines engines, says so, and its summary stays small.
func TestWindowManyEnginesBounded(t *testing.T) {
	const n = 120_000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before) // before the scrape: what is left at the end is the window's
	s := scrape(t, manyEngines(n, 10), t0)
	w := NewWindow()
	ev1 := w.Add(s)
	// The second scrape: every counter one higher (the body parsed once, for the test's speed under -race).
	for _, m := range s.Families["vllm:generation_tokens_total"].GetMetric() {
		*m.Counter.Value++
	}
	s.At = t0.Add(time.Second)
	ev2 := w.Add(s)
	s = Scrape{}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, grown, int64(16<<20), "the window keeps %d bytes for %d engines", grown, n)
	assert.Less(t, len(ev1)+len(ev2), 10, "a few events, not one per series")

	st := w.Summary()
	assert.Len(t, st.PerEngine, MaxEngines)
	// The first MaxSeries counter series are tracked, each increased by 1.
	assert.Equal(t, float64(MaxSeries), deref(st.GenerationTokens))
	// Gauges are not tracked per series: every engine counts in the total, 1 running request each.
	assert.Equal(t, float64(n), deref(st.ActiveBatchSize.Mean))
	require.Len(t, st.Limits, 2)
	assert.Contains(t, st.Limits[0], fmt.Sprintf("up to %d series per scrape past MaxSeries (%d)", n-MaxSeries, MaxSeries))
	assert.Contains(t, st.Limits[1], fmt.Sprintf("up to %d engine label values per scrape past MaxEngines (%d)", n-MaxEngines, MaxEngines))
	js, err := json.Marshal(st)
	require.NoError(t, err)
	assert.Less(t, len(js), 512<<10, "the summary is %d bytes", len(js))
	t.Logf("%d engines: the window keeps %d bytes of heap; its summary is %d bytes of JSON", n, grown, len(js))
	runtime.KeepAlive(w)
}

func TestScrapeModelsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("# TYPE vllm:num_requests_running gauge\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "vllm:num_requests_running{model_name=\"m%04d\"} 1\n", i)
	}
	s, err := Parse([]byte(b.String()), t0, "")
	require.NoError(t, err)
	assert.Len(t, s.Models, MaxModels)
	assert.True(t, s.ModelsCut)
	// A model past the listed ones is still found by the filter.
	_, err = Parse([]byte(b.String()), t0, "m0999")
	require.NoError(t, err)
	_, err = Parse([]byte(b.String()), t0, "nope")
	require.ErrorContains(t, err, fmt.Sprintf("and more (only %d listed)", MaxModels))
	assert.Less(t, len(err.Error()), 2000)
}

func TestLabelValuesCappedAndDistinct(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	body := func(v int) string {
		return "# TYPE vllm:generation_tokens_total counter\n" +
			fmt.Sprintf("vllm:generation_tokens_total{engine=%q} %d\n", long+"a", v) +
			fmt.Sprintf("vllm:generation_tokens_total{engine=%q} %d\n", long+"b", 2*v)
	}
	w := NewWindow()
	w.Add(scrape(t, body(1), t0))
	ev := w.Add(scrape(t, body(5), t0.Add(time.Second)))
	st := w.Summary()
	require.Len(t, st.PerEngine, 2, "values that differ past the cap stay distinct")
	var got []float64
	for e, f := range st.PerEngine {
		assert.LessOrEqual(t, len(e), MaxLabelValue+len("…")+8)
		assert.True(t, strings.HasPrefix(e, strings.Repeat("x", MaxLabelValue)+"…"), e)
		got = append(got, deref(f.GenerationTokens))
	}
	assert.ElementsMatch(t, []float64{4, 8}, got)
	assert.Equal(t, 12.0, deref(st.GenerationTokens))
	assert.Contains(t, st.Limits, "labels: values longer than 128 bytes cut, marked … and a hash of the whole value")
	for _, e := range ev {
		assert.Less(t, len(e.Message), 1000)
	}
	assert.Equal(t, capLabel(long+"a"), capLabel(long+"a"))
	assert.NotEqual(t, capLabel(long+"a"), capLabel(long+"b"))
	assert.Equal(t, "short", capLabel("short"))
}

// Values that cannot be are refused with a reason and never reach a figure.
func TestInvalidValuesRefused(t *testing.T) {
	body := func(k int, gen, neg, running, queue string, bound string) string {
		return "# TYPE vllm:generation_tokens_total counter\n" +
			"vllm:generation_tokens_total{engine=\"0\"} " + gen + "\n" +
			"vllm:generation_tokens_total{engine=\"1\"} " + neg + "\n" +
			"# TYPE vllm:num_requests_running gauge\n" +
			"vllm:num_requests_running{engine=\"0\"} " + running + "\n" +
			"vllm:num_requests_running{engine=\"1\"} 2\n" +
			"# TYPE vllm:num_requests_waiting gauge\n" +
			"vllm:num_requests_waiting{engine=\"0\"} " + queue + "\n" +
			"# TYPE vllm:time_to_first_token_seconds histogram\n" +
			fmt.Sprintf("vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.1\"} %d\n", k) +
			fmt.Sprintf("vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\"} %d\n", 2*k) +
			fmt.Sprintf("vllm:time_to_first_token_seconds_sum{engine=\"0\"} %g\n", 0.5*float64(k)) +
			fmt.Sprintf("vllm:time_to_first_token_seconds_count{engine=\"0\"} %d\n", 2*k) +
			"vllm:time_to_first_token_seconds_bucket{engine=\"1\",le=\"" + bound + "\"} 1\n" +
			"vllm:time_to_first_token_seconds_bucket{engine=\"1\",le=\"+Inf\"} 1\n" +
			"vllm:time_to_first_token_seconds_sum{engine=\"1\"} 0.5\n" +
			"vllm:time_to_first_token_seconds_count{engine=\"1\"} 1\n"
	}
	w := NewWindow()
	ev := w.Add(scrape(t, body(1, "10", "-5", "1", "3", "-0.1"), t0))
	ev = append(ev, w.Add(scrape(t, body(2, "15", "-7", "-1", "-3", "-Inf"), t0.Add(time.Second)))...)
	ev = append(ev, w.Add(scrape(t, body(3, "20", "-9", "-2", "NaN", "-0.2"), t0.Add(2*time.Second)))...)
	st := w.Summary()

	assert.Equal(t, 10.0, deref(st.GenerationTokens), "engine 1's negative counter is left out")
	// Running: engine 0 counts only while ≥ 0: scrapes sum 3, 2, 2 → mean 7/3; the negative values never.
	assert.InDelta(t, 7.0/3, deref(st.ActiveBatchSize.Mean), 1e-12)
	assert.Equal(t, 1, st.RequestQueueSize.Samples, "the negative and NaN queue sizes are no samples")
	assert.Equal(t, 3.0, deref(st.RequestQueueSize.Mean))
	require.NotNil(t, st.TTFT)
	assert.Equal(t, 4.0, st.TTFT.Count, "engine 0's increase (2 → 6); engine 1's histogram (negative bounds) is left out")
	// 3 negative counters, 2 negative running, 1 negative queue size, 3 bad bounds. (A family whose only
	// value is NaN is not exposed in that scrape, with its own event.)
	require.NotEmpty(t, st.Limits)
	assert.Equal(t, `invalid: 9 values left out; the first: vllm:generation_tokens_total{engine="1"}: negative counter value (-5)`, st.Limits[len(st.Limits)-1])

	var msgs []string
	for _, e := range ev {
		msgs = append(msgs, e.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`vllm:generation_tokens_total{engine="1"}: negative counter value (-5)`,
		`vllm:num_requests_running{engine="0"}: negative gauge value`,
		`vllm:num_requests_waiting{engine="0"}: negative gauge value (a count or a usage cannot be) (-3)`,
		`request_queue_size (looked for vllm:num_requests_waiting)`,
		`vllm:time_to_first_token_seconds{engine="1"}: bucket bound NaN or negative (le=-0.1)`,
	} {
		assert.Contains(t, all, want)
	}
	assert.Equal(t, 1, strings.Count(all, "negative counter value"), "told once per metric and fault")
}

func TestParseErrorCapped(t *testing.T) {
	body := []byte("vllm:x{a=\"" + strings.Repeat("y", 5<<20) + "\" 1\n")
	_, err := Parse(body, t0, "")
	require.Error(t, err)
	assert.LessOrEqual(t, len(err.Error()), MaxErrorText+100, "the parser quotes the 5 MB line; the error keeps its start")
	assert.True(t, strings.HasSuffix(err.Error(), "…"))
	assert.Contains(t, err.Error(), fmt.Sprintf("parsing %d-byte body: text format parsing error in line 1", len(body)))
}

func TestSeriesIDCapped(t *testing.T) {
	var labels []string
	for i := range 200 {
		labels = append(labels, fmt.Sprintf("l%03d=%q", i, strings.Repeat("v", 100)))
	}
	series := "vllm:generation_tokens_total{" + strings.Join(labels, ",") + "}"
	body := func(v int) string {
		return "# TYPE vllm:generation_tokens_total counter\n" + fmt.Sprintf("%s %d\n", series, v)
	}
	w := NewWindow()
	w.Add(scrape(t, body(1), t0))
	ev := w.Add(scrape(t, body(0), t0.Add(time.Second))) // a reset: an event naming the series
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0].Message, "went down from 1 to 0")
	for id := range w.counters {
		assert.Equal(t, MaxSeriesID+len("…")+8, len(id))
	}
	assert.Less(t, len(ev[0].Message), MaxSeriesID+400)
}

// A server that resets a counter on every scrape makes an event each time; the window returns MaxEvents of
// them and one that says the rest are not listed.
func TestWindowEventsCapped(t *testing.T) {
	body := func(v int) string {
		return "# TYPE vllm:generation_tokens_total counter\n" + fmt.Sprintf("vllm:generation_tokens_total %d\n", v)
	}
	w := NewWindow()
	total := 0
	var last string
	for i := range 2*MaxEvents + 10 {
		ev := w.Add(scrape(t, body(1-i%2), t0.Add(time.Duration(i)*time.Second))) // 1, 0, 1, 0: a reset every other scrape
		total += len(ev)
		if len(ev) > 0 {
			last = ev[len(ev)-1].Message
		}
	}
	assert.Equal(t, MaxEvents+1, total)
	assert.Contains(t, last, "the rest are not listed")
	assert.Contains(t, w.Summary().Limits, fmt.Sprintf("events: more than MaxEvents (%d) events from the server's metrics; the rest not listed", MaxEvents))
}
