package vmtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/live"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

func frameText(f frame) string { return strings.Join(f.lines(), "\n") }

// The live dashboard shows the server's TTFT quantiles of the interval, a lower bound as ">bound".
func TestDashboardShowsServerTTFT(t *testing.T) {
	p50, lb := 56.66, 2560000.0
	s := frameText(frame{snap: &snapshot.Snapshot{VLLMMetrics: snapshot.VLLM{ServerTTFTP50MS: &p50, ServerTTFTP99LowerBoundMS: &lb}}})
	assert.Contains(t, s, "TTFT p50 56.7 p99 >2560000 ms")
	assert.Contains(t, frameText(frame{snap: &snapshot.Snapshot{}}), "TTFT p50 - p99 - ms")
}

// An unknown percentage reads "-", not "-%"; a known one carries its %.
func TestDashboardUnknownPercentages(t *testing.T) {
	s := frameText(frame{snap: &snapshot.Snapshot{GPUMetrics: map[string]snapshot.GPU{"gpu_0": {}}}})
	assert.Contains(t, s, "util     -  mem")
	assert.Contains(t, s, "KV -  TTFT")
	assert.Contains(t, s, "CPU -  mem")
	assert.NotContains(t, s, "-%")
	u, kv, cpu := 97.0, 41.25, 12.5
	s = frameText(frame{snap: &snapshot.Snapshot{GPUMetrics: map[string]snapshot.GPU{"gpu_0": {Utilization: &u}},
		VLLMMetrics: snapshot.VLLM{KVCacheUsagePercent: &kv}, SystemMetrics: snapshot.System{CPUPercent: &cpu}}})
	assert.Contains(t, s, "util   97%  mem")
	assert.Contains(t, s, "KV 41.2%  TTFT")
	assert.Contains(t, s, "CPU 12.5%  mem")
}

// The client row's rates are over the interval since the previous snapshot: 8 requests and 1,000 output
// tokens in 2 s are 4.00 req/s and 500.0 tok/s; over less than a second (a first or a hurried last snapshot)
// they are unknown, as the summary's throughputs are. Its percentiles are the interval's.
func TestDashboardClientRatesByHand(t *testing.T) {
	p50, p99 := 40.0, 90.0
	f := frame{snap: &snapshot.Snapshot{ElapsedS: 6}, intervalS: 2, nominalS: 2, counts: recorder.Counts{Total: 20, OK: 18},
		client: clientInterval{OK: 8, OutputTokens: 1000, TTFT: recorder.Stats{P50: &p50, P99: &p99}}}
	s := frameText(f)
	assert.Contains(t, s, "so far 20 requests: 18 ok, 2 not ok  ·  last 2.0s: 8 ok, 4.00 req/s, 500.0 tok/s")
	assert.Contains(t, s, "TTFT p50 40.0 p90 - p99 90.0 ms")
	f.intervalS, f.nominalS = 0.4, 0.4
	assert.Contains(t, frameText(f), "last 0.4s: 8 ok, - req/s, - tok/s")
}

// The client's rates are known over an interval whose length on the collector's schedule is at least 1 s,
// whatever the tick's lateness makes its measured length, and divide by the measured length: at a 1 s
// interval, ticks at +1.003 s and +2.001 s are 0.998 s apart, and 16 requests and 2,000 tokens over them are
// 16 / 0.998 = 16.03 req/s and 2000 / 0.998 = 2004.0 tok/s. The first snapshot, a last one 0.299 s after the
// previous (off the schedule: its measured length counts) and every interval at a 0.5 s Interval are under
// 1 s: unknown; two 0.5 s slots (one skipped: a late tick) are 1 s on the schedule, 20 over 1.02 s 19.61 req/s.
func TestDashboardRateByTheSchedule(t *testing.T) {
	var b strings.Builder
	d := newDashboard(&b, live.Goal{}, "run")
	show := func(elapsed float64, slot int64, intervalS float64, ok int, out int64) string {
		b.Reset()
		d.show(&snapshot.Snapshot{ConfigID: "c", ElapsedS: elapsed}, clientInterval{OK: ok, OutputTokens: out}, recorder.Counts{}, slot, intervalS, slot < 0)
		line := b.String()
		_, after, _ := strings.Cut(line, " | client ")
		return after
	}
	assert.Contains(t, show(0, 0, 1, 0, 0), "- req/s")
	assert.Contains(t, show(1.003, 1, 1, 8, 1000), "7.98 req/s", "8 / 1.003")
	assert.Contains(t, show(2.001, 2, 1, 16, 2000), "16.03 req/s")
	assert.Contains(t, show(2.3, -1, 1, 3, 300), "- req/s")

	d = newDashboard(&b, live.Goal{}, "run")
	assert.Contains(t, show(0, 0, 0.5, 0, 0), "- req/s")
	assert.Contains(t, show(0.5, 1, 0.5, 10, 100), "- req/s")
	assert.Contains(t, show(1.52, 3, 0.5, 20, 100), "19.61 req/s")

	f := frame{snap: &snapshot.Snapshot{}, intervalS: 0.998, nominalS: 1, client: clientInterval{OK: 16, OutputTokens: 2000}}
	assert.Contains(t, frameText(f), "last 1.0s: 16 ok, 16.03 req/s, 2004.0 tok/s")
}

// Each source's error is in every frame while it lasts, the reason there is no GPU source included: the
// frame replaces the previous one, so a line shown once would be gone from the screen.
func TestDashboardErrorsInEveryFrame(t *testing.T) {
	errs := map[string]string{"gpu": "nvidia-smi not found on PATH", "vllm": "HTTP 500"}
	for _, last := range []bool{false, true} {
		s := frameText(frame{snap: &snapshot.Snapshot{ElapsedS: 4, Errors: errs}, last: last})
		assert.Contains(t, s, "\n  ! gpu: nvidia-smi not found on PATH\n  ! vllm: HTTP 500")
	}
}

// With a goal the frame has a progress row: 16 of 40 requests after 12 s is 40 % and 18 s left at that pace.
func TestDashboardProgressRow(t *testing.T) {
	f := frame{snap: &snapshot.Snapshot{ElapsedS: 12}, counts: recorder.Counts{Total: 16}, goal: live.Goal{Count: 40, Unit: "requests"}}
	assert.Contains(t, frameText(f), "  progress   40% |"+strings.Repeat("█", 12)+strings.Repeat(" ", 18)+"|  16/40 requests · elapsed 0:12 · remaining 0:18")
	assert.Contains(t, f.compact(map[string]string{}), " 40% 16/40 requests · elapsed 0:12 · remaining 0:18 |")
	f.goal = live.Goal{}
	assert.NotContains(t, frameText(f), "progress")
}

// dcgmSnapshot reads the 8-GPU dcgm-exporter capture (testdata/dcgm/a800-mig-excerpt.prom) through the dcgm
// sampler into a snapshot.
func dcgmSnapshot(t testing.TB) *snapshot.Snapshot {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "dcgm", "a800-mig-excerpt.prom"))
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(srv.Close)
	g, err := samplers.NewGPU(samplers.GPUConfig{Source: samplers.GPUSourceDCGM, DCGMURLs: []string{srv.URL}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Close() })
	r := g.Sample(context.Background())
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 8)
	return &snapshot.Snapshot{ConfigID: "load", Timestamp: time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC), ElapsedS: 3600, GPUMetrics: r.GPU}
}

// With the 8 GPUs of a dcgm capture and the widest figures a server gives, every row fits 120 columns; the
// GPU rows show the capture's readings (gpu 1: 0 % busy, 2 MiB used, 81226 free, 27 °C, 55.942 W).
func TestDashboardEightGPUsFit120Columns(t *testing.T) {
	s := dcgmSnapshot(t)
	big := func(v float64) *float64 { return &v }
	s.VLLMMetrics = snapshot.VLLM{TokensPerSecond: big(123456.7), RequestQueueSize: big(12345), ActiveBatchSize: big(1024),
		KVCacheUsagePercent: big(100), ServerTTFTP50MS: big(123456.7), ServerTTFTP99LowerBoundMS: big(2560000)}
	s.SystemMetrics = snapshot.System{CPUPercent: big(100), MemoryGB: big(2015.99), MemoryAvailableGB: big(2015.99)}
	st := recorder.Stats{P50: big(123456.7), P90: big(123456.7), P99: big(123456.7)}
	f := frame{snap: s, runID: "20261204T230000Z-abcdef", intervalS: 59.9, last: true,
		counts: recorder.Counts{Total: 1234567, OK: 1234567}, goal: live.Goal{Duration: time.Hour, Count: 1234567, Unit: "requests"},
		client: clientInterval{OK: 123456, OutputTokens: 12345678, TTFT: st, E2E: st}}
	lines := f.lines()
	require.Len(t, lines, 1+1+8+4)
	for _, l := range lines {
		assert.LessOrEqual(t, utf8.RuneCountInString(l), 120, "%q", l)
	}
	assert.Equal(t, "  gpu_1    util    0%  mem      2 MiB used  81226 free  temp 27°C  power   56 W", lines[3])
}

// Off a terminal each snapshot is one line; a source's error is on the first line it appears on and again
// only when it changes.
func TestDashboardCompactLines(t *testing.T) {
	var b strings.Builder
	d := newDashboard(&b, live.Goal{Duration: 10 * time.Second}, "run")
	require.False(t, d.screen.Terminal())
	for i, e := range []string{"connection refused", "connection refused", "HTTP 500"} {
		d.show(&snapshot.Snapshot{ConfigID: "c", ElapsedS: float64(2 * (i + 1)), Errors: map[string]string{"vllm": e}},
			clientInterval{}, recorder.Counts{}, int64(i+1), 2, false)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "vmtest c +2.0s 20% elapsed 0:02 · remaining 0:08 | server"), lines[0])
	assert.Contains(t, lines[0], "| ! vllm: connection refused")
	assert.NotContains(t, lines[1], "!")
	assert.Contains(t, lines[2], "| ! vllm: HTTP 500")
	assert.Contains(t, lines[1], "client 0 ok 0 not ok, 0.00 req/s", "2 s since the previous snapshot: a rate of 0 is known")
}

// BenchmarkDashboardFrame: what the dashboard costs a tick with 8 GPUs when it is on (a frame for a terminal,
// or the compact line), beside the snapshot's JSON encoding, which the journal pays every tick (reference).
// Off, the dashboard costs nothing: the tick does not call it.
func BenchmarkDashboardFrame(b *testing.B) {
	s := dcgmSnapshot(b)
	v := 1234.5
	s.VLLMMetrics = snapshot.VLLM{TokensPerSecond: &v, RequestQueueSize: &v, ActiveBatchSize: &v, KVCacheUsagePercent: &v, ServerTTFTP50MS: &v, ServerTTFTP99MS: &v}
	st := recorder.Stats{P50: &v, P90: &v, P99: &v}
	f := frame{snap: s, runID: "run", intervalS: 2, counts: recorder.Counts{Total: 100, OK: 99},
		goal: live.Goal{Duration: time.Minute, Count: 1000, Unit: "requests"}, client: clientInterval{OK: 10, TTFT: st, E2E: st}}
	b.Run("terminal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = f.lines()
		}
	})
	b.Run("compact", func(b *testing.B) {
		b.ReportAllocs()
		prev := map[string]string{}
		for b.Loop() {
			_ = f.compact(prev)
		}
	})
	b.Run("reference-snapshot-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The compact line gives the GPUs together, by hand: utilization the mean of those that read one ((50 +
// 100) / 2), memory and power summed over those known, the hottest temperature.
func TestDashboardCompactGPUTotalsByHand(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	s := &snapshot.Snapshot{ConfigID: "c", GPUMetrics: map[string]snapshot.GPU{
		"gpu_0": {Utilization: p(50), MemoryUsedMB: p(10), MemoryFreeMB: p(5), TempC: p(60), PowerW: p(100.5)},
		"gpu_1": {MemoryUsedMB: p(20), TempC: p(70), PowerW: p(200.5)},
		"gpu_2": {Utilization: p(100)},
	}}
	line := (&frame{snap: s}).compact(map[string]string{})
	assert.Contains(t, line, " | 3 GPU util 75% mem 30 MiB used 5 free max 70°C power 301 W | ")
}

// Several replicas: the server row is their aggregate, then one row per replica, by name; the compact line
// has each replica after the aggregate.
func TestDashboardOneRowPerReplica(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	v := snapshot.VLLM{TokensPerSecond: f(30), RequestQueueSize: f(3), Replicas: map[string]snapshot.VLLM{
		"b": {TokensPerSecond: f(20), RequestQueueSize: f(2)}, "a": {TokensPerSecond: f(10), RequestQueueSize: f(1)}}}
	var rows []string
	for _, l := range strings.Split(frameText(frame{snap: &snapshot.Snapshot{VLLMMetrics: v}}), "\n") {
		if strings.Contains(l, "tok/s  queue") {
			rows = append(rows, l)
		}
	}
	assert.Equal(t, []string{
		"  server   30.0 tok/s  queue 3  batch -  KV -  TTFT p50 - p99 - ms",
		"  ·a       10.0 tok/s  queue 1  batch -  KV -  TTFT p50 - p99 - ms",
		"  ·b       20.0 tok/s  queue 2  batch -  KV -  TTFT p50 - p99 - ms",
	}, rows)
	fr := frame{snap: &snapshot.Snapshot{VLLMMetrics: v}}
	line := fr.compact(map[string]string{})
	assert.Contains(t, line, "| server 30.0 tok/s queue 3 batch - KV - TTFT p50 - p99 - ms | ·a 10.0 tok/s queue 1 batch - KV - | ·b 20.0 tok/s queue 2 batch - KV - | client")
}

// Each server node has its own row (fitting 120 columns with the widest figures) and its own part of the
// compact line; an unknown figure is "-".
func TestDashboardNodeRows(t *testing.T) {
	big := func(v float64) *float64 { return &v }
	s := &snapshot.Snapshot{ConfigID: "c", ElapsedS: 4, NodeMetrics: map[string]snapshot.Node{
		"b-node-with-a-long-name": {CPUPercent: big(100), Load1: big(1234.56), MemoryGB: big(2015.99), MemoryAvailableGB: big(2015.99),
			NetworkSentBytesPerSecond: big(12345.6e6), NetworkRecvBytesPerSecond: big(12345.6e6),
			DiskReadBytesPerSecond: big(12345.6e6), DiskWriteBytesPerSecond: big(12345.6e6)},
		"a": {MemoryGB: big(12), MemoryAvailableGB: big(4), NetworkRecvBytesPerSecond: big(2500)},
	}}
	f := frame{snap: s, runID: "r", intervalS: 2}
	lines := f.lines()
	var nodes []string
	for _, l := range lines {
		assert.LessOrEqual(t, utf8.RuneCountInString(l), 120, "%q", l)
		if strings.HasPrefix(l, "  node ") {
			nodes = append(nodes, l)
		}
	}
	require.Len(t, nodes, 2)
	assert.Equal(t, "  node a          CPU - load - mem 12.0 GiB (4.0 free) net ↑- ↓0.0 disk r- w- MB/s", nodes[0])
	assert.Contains(t, nodes[1], "node b-node-wit CPU 100.0% load 1234.6")
	c := f.compact(map[string]string{})
	assert.Contains(t, c, " | node a CPU - mem 12.00 GiB | node b-node-with-a-long-name CPU 100.0% mem 2015.99 GiB")
}
