package journal

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// BenchmarkAppendTick is the journal's work in one tick of a run against a vLLM server on an 8-GPU host with
// no request in the interval: the server window's statistics (serverstats.Window.Summary) and Writer.Append
// of the snapshot (the busy V0 capture's vLLM reading, a host reading, 8 GPUs with every field) with them.
func BenchmarkAppendTick(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", "v0-busy-qwen3-0.6b.prom"))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(body) }))
	defer srv.Close()
	v, err := samplers.NewVLLM(samplers.VLLMConfig{BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	win := serverstats.NewWindow()
	snap := snapshot.Snapshot{Timestamp: time.Now(), ConfigID: "bench", RunID: "r", GPUMetrics: map[string]snapshot.GPU{}}
	for i := 0; i < 2; i++ {
		r := v.Sample(context.Background())
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		snap.VLLMMetrics = *r.VLLM
		win.Add(v.LastScrape())
	}
	if r := samplers.NewSystem().Sample(context.Background()); r.System != nil {
		snap.SystemMetrics = *r.System
	}
	f := snapshot.F(42.5)
	for i := 0; i < 8; i++ {
		snap.GPUMetrics[fmt.Sprintf("gpu_%d", i)] = snapshot.GPU{Name: "NVIDIA H200", UUID: "GPU-0000", Utilization: f,
			MemoryUsedMB: f, MemoryFreeMB: f, MemoryTotalMB: f, TempC: f, PowerW: f, EnergyJ: f}
	}
	srcs := map[string]summary.SourceStatus{"vllm": {Readings: 10}, "gpu": {Readings: 10, Note: "source: nvml"}, "system": {Readings: 10}}
	w := benchWriter(b)
	b.ReportAllocs()
	for b.Loop() {
		st := win.Summary()
		if err := w.Append(Entry{Snapshot: snap, Sources: srcs, Server: &st}); err != nil {
			b.Fatal(err)
		}
	}
}
