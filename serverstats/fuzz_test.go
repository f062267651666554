package serverstats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vmtest/vmtest/snapshot"
)

// seedLines returns the lines of a capture that make a seed small enough for the fuzzer to mutate (its engine
// stalls on 10 KB inputs, and minimizes each new input for up to a minute): those of the families a Window
// reads (the catalogue's and process_start_time_seconds, with their # TYPE lines), only the first series of
// each (every bucket of a histogram's), cut at a line's end after 1 KB.
func seedLines(body []byte) []byte {
	read := map[string]bool{processStart: true}
	for _, m := range Catalogue() {
		for _, n := range m.Names {
			read[n] = true
		}
	}
	le := regexp.MustCompile(`le="[^"]*",?`)
	first := map[string]string{} // family → the labels (le aside) of its first series
	var out []byte
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && len(out) < 1<<10 {
		l := sc.Text()
		if strings.HasPrefix(l, "# HELP ") {
			continue
		}
		name, labels := strings.TrimPrefix(l, "# TYPE "), ""
		if i := strings.IndexAny(name, "{ "); i >= 0 {
			name, labels = name[:i], name[i:]
		}
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suf); ok && read[base] {
				name = base
			}
		}
		if !read[name] {
			continue
		}
		if !strings.HasPrefix(l, "#") {
			labels = strings.ReplaceAll(le.ReplaceAllString(labels[:strings.LastIndexByte(labels, ' ')+1], ""), ",}", "}")
			if f, ok := first[name]; ok && f != labels {
				continue
			}
			first[name] = labels
		}
		out = append(out, l+"\n"...)
	}
	return out
}

// FuzzScrapes: whatever two /metrics bodies a server sends, 2 s apart, the road from the bytes to the summary
// (Parser.Parse, Window.Add, Window.FillInterval after each, Window.Summary) keeps its rules: every result
// encodes as JSON (no NaN, no infinity); no count, increase, rate, sum or mean is negative; every gauge's
// mean lies between 0 and its max; each quantile is a value or a lower bound, never both, inside the bucket it
// names and at most its at_most bound, and p50 ≤ p90 ≤ p95 ≤ p99; the interval after the second scrape,
// when its figures are known, agrees with the window of the same two scrapes. Seeds: the lines a Window
// reads of each capture in testdata/vllm (each twice, and V0 then V1 for a change of names), and small
// bodies with a reset, a restart and a changed bucket set.
func FuzzScrapes(f *testing.F) {
	captures, _ := filepath.Glob(filepath.Join("..", "testdata", "vllm", "*.prom"))
	var seeds [][]byte
	for _, c := range captures {
		b, err := os.ReadFile(c)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, seedLines(b))
		f.Add(seeds[len(seeds)-1], seeds[len(seeds)-1])
	}
	if len(seeds) > 1 {
		f.Add(seeds[0], seeds[len(seeds)-1])
	}
	small := func(start, gen, success, b1, b2, count, sum, waiting float64) []byte {
		r := strings.NewReplacer("START", fmtF(start), "GEN", fmtF(gen), "SUCC", fmtF(success), "B1", fmtF(b1),
			"B2", fmtF(b2), "COUNT", fmtF(count), "SUM", fmtF(sum), "WAIT", fmtF(waiting))
		return []byte(r.Replace(`process_start_time_seconds START
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="m"} GEN
vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} SUCC
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} WAIT
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} B1
vllm:time_to_first_token_seconds_bucket{engine="0",le="1",model_name="m"} B2
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} COUNT
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} COUNT
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} SUM
`))
	}
	f.Add(small(100, 10, 1, 1, 2, 3, 1.5, 0), small(100, 50, 4, 2, 5, 7, 4.25, 3)) // steady
	f.Add(small(100, 500, 9, 5, 9, 9, 8, 1), small(100, 20, 1, 1, 1, 2, 0.5, 0))   // reset
	f.Add(small(100, 500, 9, 5, 9, 9, 8, 1), small(200, 20, 1, 1, 1, 2, 0.5, 0))   // restart
	f.Add(small(100, 10, 1, 1, 2, 3, 1.5, 0), small(100, 10, 1, 1, 2, 3, 1.5, 0))  // idle
	f.Add(small(100, 0, 0, 0, 0, 0, 0, 0), small(100, -4, 1, 3, 2, 1, -2, -1))     // invalid values
	f.Add(small(100, 1, 1, 1, 1, 1, 1, 1), bytes.ReplaceAll(small(100, 2, 2, 2, 2, 2, 2, 2), []byte(`le="1"`), []byte(`le="-1"`)))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		p, w := NewParser(""), NewWindow()
		at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		var v snapshot.VLLM
		for i, body := range [][]byte{first, second} {
			s, err := p.Parse(body, at.Add(time.Duration(i)*2*time.Second))
			if err != nil {
				continue
			}
			for _, e := range w.Add(s) {
				if e.Source != Source || e.Message == "" {
					t.Fatalf("event %+v", e)
				}
			}
			v = snapshot.VLLM{}
			w.FillInterval(&v)
			checkInterval(t, &v)
		}
		st := w.Summary()
		checkStats(t, &st)
		checkIntervalAgrees(t, &v, &st)
	})
}

// checkInterval fails t unless the interval fields of v encode as JSON and none is negative.
func checkInterval(t *testing.T, v *snapshot.VLLM) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("interval does not encode: %v", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for k, x := range fields {
		if f, ok := x.(float64); ok && f < 0 {
			t.Fatalf("interval %s = %v", k, f)
		}
	}
	if v.ScrapeIntervalS != nil && *v.ScrapeIntervalS != 2 {
		t.Fatalf("scrape_interval_s = %v, the scrapes were 2 s apart", *v.ScrapeIntervalS)
	}
	for _, q := range [][5]*float64{
		{v.ServerTTFTP50MS, v.ServerTTFTP50LowerBoundMS, v.ServerTTFTP50BucketLowerMS, v.ServerTTFTP50BucketUpperMS, v.ServerTTFTP50AtMostMS},
		{v.ServerTTFTP99MS, v.ServerTTFTP99LowerBoundMS, v.ServerTTFTP99BucketLowerMS, v.ServerTTFTP99BucketUpperMS, v.ServerTTFTP99AtMostMS},
		{v.ServerE2EP90MS, v.ServerE2EP90LowerBoundMS, v.ServerE2EP90BucketLowerMS, v.ServerE2EP90BucketUpperMS, v.ServerE2EP90AtMostMS},
		{v.ServerITLP50MS, v.ServerITLP50LowerBoundMS, v.ServerITLP50BucketLowerMS, v.ServerITLP50BucketUpperMS, v.ServerITLP50AtMostMS},
		{v.ServerQueueTimeP99MS, v.ServerQueueTimeP99LowerBoundMS, v.ServerQueueTimeP99BucketLowerMS, v.ServerQueueTimeP99BucketUpperMS, v.ServerQueueTimeP99AtMostMS},
	} {
		checkQuantile(t, "interval", &Quantile{ValueMS: q[0], LowerBoundMS: q[1], IsLowerBound: q[1] != nil,
			BucketLowerMS: q[2], BucketUpperMS: q[3], AtMostMS: q[4]})
	}
}

// checkStats fails t unless st encodes as JSON and its figures keep the rules FuzzScrapes lists.
func checkStats(t *testing.T, st *Stats) {
	t.Helper()
	if _, err := json.Marshal(st); err != nil {
		t.Fatalf("summary does not encode: %v", err)
	}
	if st.Scrapes > 2 || st.Restarts > 1 || st.CounterResets < 0 || (st.DurationS != nil && *st.DurationS != 2) {
		t.Fatalf("scrapes %d, restarts %d, resets %d, duration %v", st.Scrapes, st.Restarts, st.CounterResets, st.DurationS)
	}
	for name, x := range st.CounterIncreases {
		if !(x >= 0) {
			t.Fatalf("counter_increases[%s] = %v", name, x)
		}
	}
	checkFigures(t, "all", &st.Figures)
	for e, f := range st.PerEngine {
		checkFigures(t, "engine "+e, &f)
	}
}

func checkFigures(t *testing.T, where string, f *Figures) {
	t.Helper()
	for name, c := range map[string]*float64{"generation_tokens": f.GenerationTokens, "prompt_tokens": f.PromptTokens,
		"request_success": f.RequestSuccess, "preemptions": f.Preemptions} {
		if c != nil && !(*c >= 0) {
			t.Fatalf("%s: %s = %v", where, name, *c)
		}
	}
	for r, x := range f.RequestSuccessByReason {
		if !(x >= 0) {
			t.Fatalf("%s: request_success_by_reason[%q] = %v", where, r, x)
		}
	}
	for name, g := range map[string]*Gauge{"request_queue_size": f.RequestQueueSize, "active_batch_size": f.ActiveBatchSize,
		"kv_cache_usage_percent": f.KVCacheUsagePercent} {
		if g == nil {
			continue
		}
		if g.Mean == nil || g.Max == nil || !(*g.Mean >= 0) || *g.Mean > *g.Max*(1+1e-12) || g.Samples < 1 || g.Samples > 2 {
			t.Fatalf("%s: %s mean %v, max %v, samples %d", where, name, deref(g.Mean), deref(g.Max), g.Samples)
		}
	}
	for name, h := range map[string]*Histogram{"ttft": f.TTFT, "e2e_latency": f.E2ELatency, "queue_time": f.QueueTime, "itl": f.ITL} {
		if h == nil {
			continue
		}
		if !(h.Count >= 0) || !(h.SumMS >= 0) || (h.MeanMS != nil && !(*h.MeanMS >= 0)) {
			t.Fatalf("%s: %s count %v, sum %v ms, mean %v ms", where, name, h.Count, h.SumMS, deref(h.MeanMS))
		}
		prev := math.Inf(-1)
		for _, q := range []*Quantile{h.P50MS, h.P90MS, h.P95MS, h.P99MS} {
			if q == nil {
				continue
			}
			checkQuantile(t, where+" "+name, q)
			ms, _ := q.MS()
			if ms < prev {
				t.Fatalf("%s: %s quantiles decrease: %v then %v ms", where, name, prev, ms)
			}
			prev = ms
		}
	}
}

// checkQuantile fails t unless q is a value or a lower bound (not both, or neither unless every field is nil)
// inside the bucket it names, with at_most between the bucket's bounds.
func checkQuantile(t *testing.T, where string, q *Quantile) {
	t.Helper()
	if q.ValueMS == nil && q.LowerBoundMS == nil {
		if q.BucketLowerMS != nil || q.BucketUpperMS != nil || q.AtMostMS != nil {
			t.Fatalf("%s: a quantile with bucket bounds and no value: %+v", where, q)
		}
		return
	}
	if (q.ValueMS != nil) == (q.LowerBoundMS != nil) || q.IsLowerBound != (q.LowerBoundMS != nil) {
		t.Fatalf("%s: value %v and lower bound %v (is_lower_bound %v)", where, deref(q.ValueMS), deref(q.LowerBoundMS), q.IsLowerBound)
	}
	lo, up, most := q.BucketLowerMS, q.BucketUpperMS, q.AtMostMS
	if q.IsLowerBound {
		if up != nil || lo == nil || *lo != *q.LowerBoundMS {
			t.Fatalf("%s: in the +Inf bucket, lower bound %v, bucket (%v, %v]", where, *q.LowerBoundMS, deref(lo), deref(up))
		}
	} else {
		x := *q.ValueMS
		if (lo != nil && x < *lo) || (up != nil && x > *up) || up == nil {
			t.Fatalf("%s: value %v ms outside its bucket (%v, %v]", where, x, deref(lo), deref(up))
		}
	}
	if most != nil && ((up != nil && *most > *up) || (lo != nil && *most < *lo)) {
		t.Fatalf("%s: at_most %v ms outside the bucket (%v, %v]", where, *most, deref(lo), deref(up))
	}
}

// checkIntervalAgrees fails t unless the interval v filled after the second scrape agrees with the window st
// of the same two scrapes wherever the interval's figure is known: the tokens and requests over the step and
// the E2E requests finished.
func checkIntervalAgrees(t *testing.T, v *snapshot.VLLM, st *Stats) {
	t.Helper()
	if st.Scrapes != 2 {
		return
	}
	for _, c := range []struct {
		name   string
		rate   *float64
		window *float64
	}{{"tokens_per_second", v.TokensPerSecond, st.GenerationTokens}, {"prompt_tokens_per_second", v.PromptTokensPerSecond, st.PromptTokens},
		{"requests_per_second", v.RequestsPerSecond, st.RequestSuccess}} {
		if c.rate == nil {
			continue
		}
		w := 0.0
		if c.window != nil {
			w = *c.window
		}
		if d := math.Abs(*c.rate*2 - w); d > 1e-9*max(1, w) {
			t.Fatalf("%s %v over 2 s, window increase %v", c.name, *c.rate, w)
		}
	}
	if v.ServerRequestsFinished != nil && st.E2ELatency != nil && *v.ServerRequestsFinished != st.E2ELatency.Count {
		t.Fatalf("interval requests finished %v, window e2e count %v", *v.ServerRequestsFinished, st.E2ELatency.Count)
	}
}

// Values a latency histogram or a count cannot have (FuzzScrapes's finds, in its seeds) are refused, never
// passed on: a negative gauge, a negative _sum, a negative bucket bound. Only engine 0 is valid here; its TTFT
// grows by 4 observations (buckets 0.1 s: +1, 1 s: +3, +Inf: +4) and 2.75 s, so the median (the 2nd) is
// interpolated in (0.1, 1] at 0.1 + 0.9·(2−1)/(3−1) = 0.55 s, as histogram_quantile does.
func TestNegativeValuesRefused(t *testing.T) {
	body := func(w0, w1, b1, b2, count, sum float64) string {
		r := strings.NewReplacer("W0", fmtF(w0), "W1", fmtF(w1), "B1", fmtF(b1), "B2", fmtF(b2), "COUNT", fmtF(count), "SUM", fmtF(sum))
		return r.Replace(`# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0"} W0
vllm:num_requests_waiting{engine="1"} W1
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1"} B1
vllm:time_to_first_token_seconds_bucket{engine="0",le="1"} B2
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} COUNT
vllm:time_to_first_token_seconds_count{engine="0"} COUNT
vllm:time_to_first_token_seconds_sum{engine="0"} SUM
vllm:time_to_first_token_seconds_bucket{engine="1",le="1"} COUNT
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf"} COUNT
vllm:time_to_first_token_seconds_count{engine="1"} COUNT
vllm:time_to_first_token_seconds_sum{engine="1"} -SUM
vllm:time_to_first_token_seconds_bucket{engine="2",le="-1"} 0
vllm:time_to_first_token_seconds_bucket{engine="2",le="+Inf"} COUNT
vllm:time_to_first_token_seconds_count{engine="2"} COUNT
vllm:time_to_first_token_seconds_sum{engine="2"} SUM
`)
	}
	w := NewWindow()
	var v snapshot.VLLM
	for i, b := range []string{body(2, -1, 1, 2, 3, 1.5), body(4, -3, 2, 5, 7, 4.25)} {
		s, err := Parse([]byte(b), t0.Add(time.Duration(i)*2*time.Second), "")
		if err != nil {
			t.Fatal(err)
		}
		w.Add(s)
		w.FillInterval(&v)
	}
	st := w.Summary()
	if deref(v.RequestQueueSize) != 4 || deref(st.RequestQueueSize.Mean) != 3 || deref(st.RequestQueueSize.Max) != 4 {
		t.Fatalf("queue size: interval %v, window mean %v max %v; want 4, 3, 4", deref(v.RequestQueueSize),
			deref(st.RequestQueueSize.Mean), deref(st.RequestQueueSize.Max))
	}
	h := st.TTFT
	if h == nil || h.Count != 4 || math.Abs(h.SumMS-2750) > 1e-9 || math.Abs(ms(h.P50MS)-550) > 1e-9 {
		t.Fatalf("TTFT %+v; want count 4, sum 2750 ms, p50 550 ms", h)
	}
	if len(st.PerEngine) != 1 || st.PerEngine["0"].TTFT == nil {
		t.Fatalf("engines %v; want only engine 0", st.PerEngine)
	}
	if math.Abs(deref(v.ServerTTFTP50MS)-550) > 1e-9 {
		t.Fatalf("interval TTFT p50 %v ms; want 550", deref(v.ServerTTFTP50MS))
	}
}
