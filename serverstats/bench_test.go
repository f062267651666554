package serverstats

import (
	"testing"
	"time"

	"github.com/vmtest/vmtest/snapshot"
)

// BenchmarkWindowAddAndP99 times what the collector does per tick with server-side quantiles: Add one parsed
// scrape of the ~300-line V0 capture to a window that already holds two, then compute the window's p99 TTFT
// (Summary builds every figure: four histograms × four quantiles, counters, gauges). Target: under 50 µs
// (issue 5, Speed). Parsing the body is the sampler's cost and is not included.
func BenchmarkWindowAddAndP99(b *testing.B) {
	base := capture(b, v0)
	s1 := scrape(b, base, t0)
	s2 := scrape(b, v0Busier(b, base), t0.Add(2*time.Second))
	w := NewWindow()
	w.Add(s1)
	w.Add(s2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s2.At = t0.Add(time.Duration(i+2) * 2 * time.Second)
		w.Add(s2)
		st := w.Summary()
		if st.TTFT == nil || st.TTFT.P99MS == nil {
			b.Fatal("no p99")
		}
	}
}

// BenchmarkWindowIntervalP99 is the same with the per-interval figures (FillInterval: a snapshot's rates,
// totals, gauges and interval quantiles) instead of the window's.
func BenchmarkWindowIntervalP99(b *testing.B) {
	base := capture(b, v0)
	s1 := scrape(b, base, t0)
	s2 := scrape(b, v0Busier(b, base), t0.Add(2*time.Second))
	w := NewWindow()
	w.Add(s1)
	var v snapshot.VLLM
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.Add(s2)
		w.FillInterval(&v)
		w.Add(s1) // a reset back: exercises the reset path and its event too
	}
}

// BenchmarkWindowIdleTick is the server road's work in one tick of `vmtest collect` against an idle one-engine
// V1 server (the capture testdata/vllm/v1-idle-qwen2.5-0.5b.prom at every scrape): Parser.Parse (which reuses
// the last parse), Add, FillInterval (the snapshot's fields) and Summary (the journal's statistics).
func BenchmarkWindowIdleTick(b *testing.B) {
	body := []byte(capture(b, "v1-idle-qwen2.5-0.5b.prom"))
	p, w := NewParser(""), NewWindow()
	at := t0
	tick := func() Stats {
		at = at.Add(2 * time.Second)
		s, err := p.Parse(body, at)
		if err != nil {
			b.Fatal(err)
		}
		w.Add(s)
		var v snapshot.VLLM
		w.FillInterval(&v)
		return w.Summary()
	}
	tick()
	b.ReportAllocs()
	for b.Loop() {
		if st := tick(); st.Scrapes < 2 {
			b.Fatal("no scrapes")
		}
	}
}

// A Window's first Summary allocates at most 2 more than its next one (buffers the Window reuses, its engine
// list among them, grow once): the float block is sized from the engines that Summary reports (review finding
// 12: it was sized from the previous call's engine count, 0 the first time, so each of the engine's 4 figures
// past the block was its own allocation: 6 more).
func TestSummaryFirstCallAllocs(t *testing.T) {
	s := scrape(t, capture(t, "v1-idle-qwen2.5-0.5b.prom"), t0)
	s2 := s
	s2.At = t0.Add(2 * time.Second)
	var w *Window
	build := func() { w = NewWindow(); w.Add(s); w.Add(s2) }
	base := testing.AllocsPerRun(20, build)
	once := testing.AllocsPerRun(20, func() { build(); w.Summary() })
	twice := testing.AllocsPerRun(20, func() { build(); w.Summary(); w.Summary() })
	if st := w.Summary(); len(st.PerEngine) == 0 {
		t.Fatal("the capture has no engine: the test needs one")
	}
	if first, next := once-base, twice-once; first > next+2 {
		t.Errorf("first Summary: %v allocs, next: %v", first, next)
	}
}
