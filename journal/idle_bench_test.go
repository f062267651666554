package journal

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// BenchmarkAppendIdleTick is the journal's work in one tick of `vmtest collect` against an idle one-engine V1
// server with host sampling and no GPU: the idle capture parsed and added to the window (serverstats.Parser,
// Window.Add), the window's statistics (Window.Summary) and Writer.Append of the tick's line.
func BenchmarkAppendIdleTick(b *testing.B) { benchAppendIdleTick(b, true) }

// BenchmarkAppendIdleTickNoServer is BenchmarkAppendIdleTick with the server statistics on the first line
// only (Entry.Server nil after it, as if unchanged): the least a tick's line could cost if an idle server's
// statistics took no room in it, the bound on what journaling less of them can save.
func BenchmarkAppendIdleTickNoServer(b *testing.B) { benchAppendIdleTick(b, false) }

// benchAppendIdleTick runs BenchmarkAppendIdleTick, with every line's server statistics when server is true.
func benchAppendIdleTick(b *testing.B, server bool) {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", "v1-idle-qwen2.5-0.5b.prom"))
	if err != nil {
		b.Fatal(err)
	}
	parser, win := serverstats.NewParser(""), serverstats.NewWindow()
	at := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	scrape := func() {
		at = at.Add(2 * time.Second)
		sc, err := parser.Parse(body, at)
		if err != nil {
			b.Fatal(err)
		}
		win.Add(sc)
	}
	scrape()
	f := snapshot.F(12.5)
	snap := snapshot.Snapshot{Timestamp: at, ConfigID: "bench", RunID: "r", GPUMetrics: map[string]snapshot.GPU{},
		SystemMetrics: snapshot.System{CPUPercent: f, MemoryGB: f, MemoryAvailableGB: f, MemoryTotalGB: f,
			NetworkSentBytes: f, NetworkRecvBytes: f, DiskReadBytes: f, DiskWriteBytes: f}}
	srcs := map[string]summary.SourceStatus{"vllm": {Readings: 10}, "gpu": {Note: "no GPU"}, "system": {Readings: 10}}
	w := benchWriter(b)
	st := win.Summary()
	if err := w.Append(Entry{Snapshot: snap, Sources: srcs, Server: &st}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		scrape()
		st := win.Summary()
		e := Entry{Snapshot: snap, Sources: srcs, Server: &st}
		if !server {
			e.Server = nil
		}
		if err := w.Append(e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.buf.Len()), "line-bytes")
}
