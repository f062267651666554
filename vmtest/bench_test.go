package vmtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/report"
)

func TestReportMetricsInBenchstatUnits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// testing.Benchmark runs the function once per b.N it probes (it does not loop on b.N); each run reports
	// the same figures. With its timer stopped a run takes no time, so b.N grows 100-fold a run and reaches
	// its cap of 10⁹ in 6 runs. The test.benchtime flag is left alone: no test flips global state.
	res := testing.Benchmark(func(b *testing.B) {
		b.StopTimer()
		c := Collect(b, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true})
		now := time.Now()
		// TTFT 100, 200, 300, 400 ms; E2E = TTFT + 1600 ms; 11 tokens → TPOT 160 ms.
		for i := 1; i <= 4; i++ {
			ttft := time.Duration(i) * 100 * time.Millisecond
			c.RecordRequest(Request{Start: now, FirstToken: now.Add(ttft), End: now.Add(ttft + 1600*time.Millisecond), OutputTokens: 11})
		}
		c.ReportMetrics(b)
	})
	// numpy: p50 of [100 200 300 400] = 250 ms; p99: h = 2.97 → 300 + 0.97·100 = 397 ms.
	assert.InDelta(t, 0.250, res.Extra["p50-ttft-sec"], 1e-9)
	assert.InDelta(t, 0.397, res.Extra["p99-ttft-sec"], 1e-9)
	assert.InDelta(t, 0.160, res.Extra["p50-tpot-sec"], 1e-9)
	assert.InDelta(t, 1.850, res.Extra["p50-e2e-sec"], 1e-9)
	assert.InDelta(t, 0, res.Extra["err/req"], 0)
	// Window: all start at 0, last ends at 2 s → 4 / 2 s = 2 req/s; 44 tokens / 2 s = 22 tok/s.
	assert.InDelta(t, 2, res.Extra["req/s"], 1e-6)
	assert.InDelta(t, 22, res.Extra["tok/s"], 1e-6)
	_, hasGoodput := res.Extra["goodput-req/s"]
	assert.False(t, hasGoodput, "no SLO given: goodput is left out, not reported as 0")
	_, hasITL := res.Extra["p99-itl-sec"]
	assert.False(t, hasITL, "no token times: no ITL figure")

}

// benchTB is a fakeTB that is a benchmark (it has ReportMetric), as *testing.B is.
type benchTB struct {
	fakeTB
	reported map[string]float64
}

func (b *benchTB) ReportMetric(v float64, unit string) { b.reported[unit] = v }

// go test -bench calls a benchmark once per b.N it probes, on the same *testing.B; each call's Collect
// removes the files of the previous one, so one file set is left: the last call's, which the latest summary
// names. (Three calls here, as the probes of one benchmark run; testing.Benchmark's own probing depends on
// the machine's speed.)
func TestBenchmarkProbesLeaveOneFileSet(t *testing.T) {
	dir := t.TempDir()
	b := &benchTB{fakeTB: fakeTB{name: "BenchmarkServe"}, reported: map[string]float64{}}
	var last *Collector
	for n := range 3 {
		c := Collect(b, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoSystem: true})
		require.NotNil(t, c, "%v", b.fatal)
		now := time.Now()
		for range n + 1 {
			c.RecordRequest(Request{Start: now, FirstToken: now.Add(100 * time.Millisecond), End: now.Add(1500 * time.Millisecond), OutputTokens: 11})
		}
		c.ReportMetrics(b)
		b.runCleanups()
		b.cleanups = nil
		last = c
	}
	require.Empty(t, b.errs)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, pattern := range []string{"metrics_*.json", "metrics_*.csv", "metrics_*.png", "requests_*.csv", "summary_*_*.json", "summary_statistics.json"} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		require.NoError(t, err)
		assert.Len(t, matches, 1, "%s in %v", pattern, names)
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary_statistics.json"))
	require.NoError(t, err)
	var sum struct {
		RunID    string `json:"run_id"`
		Requests struct {
			Total int `json:"total"`
		} `json:"request_statistics"`
		Files map[string]string `json:"files"`
	}
	require.NoError(t, json.Unmarshal(data, &sum))
	assert.Equal(t, last.RunID(), sum.RunID)
	assert.Equal(t, 3, sum.Requests.Total, "the last call's run")
	data, err = os.ReadFile(sum.Files["snapshots_json"])
	require.NoError(t, err, "the latest summary names the file set that is left")
	var sf report.SnapshotFile
	require.NoError(t, json.Unmarshal(data, &sf))
	assert.Equal(t, last.RunID(), sf.RunID)
}

func TestUnitLines(t *testing.T) {
	var buf bytes.Buffer
	unitLines(&buf)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, len(BenchMetrics))
	assert.Contains(t, lines, "Unit p99-ttft-sec better=lower")
	assert.Contains(t, lines, "Unit tok/s better=higher")
}

// The benchstat units and directions are those ReportMetrics has always printed, now read from the registry.
func TestBenchMetricsFromTheRegistry(t *testing.T) {
	var got []string
	for _, m := range BenchMetrics {
		better := "higher"
		if m.LowerIsBetter {
			better = "lower"
		}
		got = append(got, m.Unit+" "+better)
	}
	assert.Equal(t, []string{"p50-ttft-sec lower", "p90-ttft-sec lower", "p99-ttft-sec lower", "p50-tpot-sec lower",
		"p99-tpot-sec lower", "p99-itl-sec lower", "p50-e2e-sec lower", "p99-e2e-sec lower", "req/s higher",
		"tok/s higher", "goodput-req/s higher", "err/req lower"}, got)
	assert.Panics(t, func() { benchMetrics([]string{"gpu.utilization.avg"}) }, "a figure with no benchstat unit")
}
