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
