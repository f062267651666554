package textparse

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/vmtest/vmtest/internal/promgen"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// bodies returns successive bodies of one size whose vLLM lines differ (a busy server's scrapes, so that
// serverstats.Parser parses each): the V0 capture (the second with one more comment line), or generated
// bodies of n series at ticks 1 to 4 of one process, then ticks 1 to 4 of another (a restart: the values
// go down once in a while without a reset of each series).
func bodies(b *testing.B, n int) [][]byte {
	if n == 0 {
		v0, err := os.ReadFile("../../testdata/vllm/v0-busy-qwen3-0.6b.prom")
		if err != nil {
			b.Fatal(err)
		}
		return [][]byte{v0, append([]byte("# another scrape\n"), v0...)}
	}
	var out [][]byte
	for start := range 2 {
		for tick := 1; tick <= 4; tick++ {
			out = append(out, promgen.Body(n, tick, start))
		}
	}
	return out
}

var sizes = []struct {
	name string
	n    int
}{{"V0", 0}, {"10k", 10_000}, {"75k", 75_000}}

// BenchmarkLarge times, per body size, one tick's road in vmtest (Parser.Parse of a body whose vLLM lines
// changed, Window.Add; "+interval" adds Window.FillInterval, the snapshot's figures) against Prometheus's
// PromParser reading the same bytes (Next, Series for each sample, Type for each TYPE line; "+labels" also
// builds each sample's label set, as Prometheus's scrape loop does). ns/series divides by the sample lines.
func BenchmarkLarge(b *testing.B) {
	for _, sz := range sizes {
		two := bodies(b, sz.n)
		series := countSeries(b, two[0])
		b.Run(sz.name+"/vmtest", func(b *testing.B) { benchRoad(b, two, series, false) })
		b.Run(sz.name+"/vmtest-parse-only", func(b *testing.B) { benchParse(b, two, series) })
		b.Run(sz.name+"/vmtest+interval", func(b *testing.B) { benchRoad(b, two, series, true) })
		b.Run(sz.name+"/textparse", func(b *testing.B) { benchPromParser(b, two, series, false) })
		b.Run(sz.name+"/textparse+labels", func(b *testing.B) { benchPromParser(b, two, series, true) })
	}
}

// benchRoad parses the bodies in turn into one Window, as a tick does.
func benchRoad(b *testing.B, bs [][]byte, series int, interval bool) {
	p := serverstats.NewParser("")
	w := serverstats.NewWindow()
	var v snapshot.VLLM
	at := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(bs[0])))
	b.ReportAllocs()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		s, err := p.Parse(bs[i%len(bs)], at.Add(time.Duration(i)*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		w.Add(s)
		if interval {
			w.FillInterval(&v)
		}
		i++
	}
	report(b, series, cpu)
}

// benchParse is benchRoad without the Window: Parser.Parse alone.
func benchParse(b *testing.B, bs [][]byte, series int) {
	p := serverstats.NewParser("")
	at := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(bs[0])))
	b.ReportAllocs()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		if _, err := p.Parse(bs[i%len(bs)], at.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	report(b, series, cpu)
}

func benchPromParser(b *testing.B, bs [][]byte, series int, withLabels bool) {
	st := labels.NewSymbolTable()
	var lset labels.Labels
	b.SetBytes(int64(len(bs[0])))
	b.ReportAllocs()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		p := textparse.NewPromParser(bs[i%len(bs)], st, false)
		for {
			et, err := p.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			switch et {
			case textparse.EntrySeries:
				p.Series()
				if withLabels {
					p.Labels(&lset)
				}
			case textparse.EntryType:
				p.Type()
			}
		}
		i++
	}
	report(b, series, cpu)
}

// report adds ns/series (wall) and cpu-ns/op (this process's user and system CPU time, every thread, the
// garbage collector's included: less sensitive than wall time to other jobs on a shared machine).
func report(b *testing.B, series int, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countSeries counts a body's sample lines with Prometheus's parser.
func countSeries(b *testing.B, body []byte) int {
	p := textparse.NewPromParser(body, labels.NewSymbolTable(), false)
	n := 0
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		if et == textparse.EntrySeries {
			n++
		}
	}
}
