//go:build linux

package vmtest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time (user + system, every thread) this process has used, and its context switches
// (voluntary and not): each is a thread going to sleep or being woken.
func processCPU() (time.Duration, int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw + ru.Nivcsw
}

// BenchmarkIdleTickCPU is what collecting costs at the default 2 s interval against an idle server: one op is
// one whole tick (b.N ticks take 2·b.N s), and cpu-ms/tick is this process's CPU time over them, so the
// figure does not grow when other jobs take the cores; ctxsw/tick counts its context switches (threads
// sleeping and woken). The server is an httptest server in this process serving the idle vLLM V1 capture
// (its share is a static write); "host" adds the host sampler, "bare" is the collector with no sampler (its
// loop, tick and journal). Run with -benchtime 30x.
func BenchmarkIdleTickCPU(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", "v1-idle-qwen2.5-0.5b.prom"))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	for _, v := range []struct {
		name   string
		url    string
		noHost bool
	}{{"server+host", srv.URL, false}, {"server", srv.URL, true}, {"host", "", false}, {"bare", "", true}} {
		b.Run(v.name, func(b *testing.B) {
			c, err := Start(b.Context(), Options{Interval: DefaultInterval, OutputDir: b.TempDir(), GPUSource: "none",
				VLLMBaseURL: v.url, NoSystem: v.noHost})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _, _ = c.Finish() }()
			time.Sleep(DefaultInterval / 2) // between ticks: the first snapshot is taken, the next is due
			cpu0, sw0 := processCPU()
			b.ResetTimer()
			time.Sleep(time.Duration(b.N) * DefaultInterval)
			b.StopTimer()
			cpu1, sw1 := processCPU()
			b.ReportMetric(float64(cpu1-cpu0)/1e6/float64(b.N), "cpu-ms/tick")
			b.ReportMetric(float64(sw1-sw0)/float64(b.N), "ctxsw/tick")
		})
	}
}
