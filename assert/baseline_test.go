package assert

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// baselineRun is issue 5's pinned run with a start time and config.
func baselineRun() *summary.Summary {
	s := issue5()
	s.ConfigID, s.TestName = "cfg-a", "TestServe"
	s.Start = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return s
}

// writeFile writes a hand-made baseline file.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

const handBaseline = `{
  "vmtest_baseline": 1,
  "run_id": "run-0",
  "time": "2025-03-01T00:00:00Z",
  "metrics": {
    "ttft.p99": {"value": 2000, "unit": "ms", "n": 10},
    "ttft.p50": {"value": 120, "unit": "ms", "n": 10},
    "tpot.p99": {"value": 20, "unit": "ms", "n": 10},
    "request_throughput": {"value": 1, "unit": "req/s", "n": 10},
    "error_rate": {"value": 0.25, "unit": "fraction", "n": 12},
    "gpu.utilization.avg": {"value": 70, "unit": "%", "n": 10},
    "server.kv_cache_usage.max": {"value": 50, "unit": "ms", "n": 9}
  }
}
`

func TestBaselineUpdateWritesSmallFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "serve.json")
	notes, err := baseline(baselineRun(), path, true, []Tolerance{
		Rel("TTFT.P99", 0.1), Rel("ttft.median", 0.1), Rel("throughput", 0.1), Abs("error_rate", 0.01),
	})
	require.NoError(t, err)
	require.Equal(t, []string{"vmtest: baseline " + path + " updated from run run-1 (-vmtest.update): " +
		"ttft.p99 2311.000 ms, ttft.p50 107.500 ms, request_throughput 0.833 req/s, error_rate 0.1667 (16.67%)"}, notes)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, `{
  "vmtest_baseline": 1,
  "run_id": "run-1",
  "config_id": "cfg-a",
  "test_name": "TestServe",
  "time": "2025-03-04T05:06:07Z",
  "metrics": {
    "error_rate": {
      "value": 0.166666666667,
      "unit": "fraction",
      "n": 12
    },
    "request_throughput": {
      "value": 0.833333333333,
      "unit": "req/s",
      "n": 10
    },
    "ttft.p50": {
      "value": 107.5,
      "unit": "ms",
      "n": 10
    },
    "ttft.p99": {
      "value": 2311,
      "unit": "ms",
      "n": 10
    }
  }
}
`, string(data))
	// Written atomically: nothing but the file is left in the directory.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	// The same run compares equal against what it wrote.
	notes, err = baseline(baselineRun(), path, false, []Tolerance{Rel("ttft.p99", 0), Rel("throughput", 0)})
	require.NoError(t, err)
	require.Equal(t, []string{
		"vmtest: baseline: ttft.p99 within tolerance: 2311.000 ms now vs 2311.000 ms in baseline (+0.0%, tolerance 0; lower is better)",
		"vmtest: baseline: request_throughput within tolerance: 0.833 req/s now vs 0.833 req/s in baseline (+0.0%, tolerance 0; higher is better)",
	}, notes)
}

func TestBaselineUpdateFlagAndEnv(t *testing.T) {
	require.NotNil(t, flag.Lookup(UpdateFlag), "the flag is registered")
	path := filepath.Join(t.TempDir(), "b.json")

	require.NoError(t, flag.Set(UpdateFlag, "true"))
	tb := &recTB{}
	ok := Assert(tb, baselineRun(), Baseline(path, Rel("ttft.p99", 0.1)))
	require.NoError(t, flag.Set(UpdateFlag, "false"))
	require.True(t, ok)
	require.Empty(t, tb.errs)
	require.Equal(t, []string{"vmtest: baseline " + path + " updated from run run-1 (-vmtest.update): ttft.p99 2311.000 ms"}, tb.logs)
	b, err := ReadBaseline(path)
	require.NoError(t, err)
	require.Equal(t, BaselineValue{Value: 2311, Unit: "ms", N: 10}, b.Metrics["ttft.p99"])

	// Without the flag the file is compared, not rewritten.
	writeFile(t, path, handBaseline)
	require.ErrorContains(t, Baseline(path, Rel("ttft.p99", 0.1)).Eval(baselineRun()), "ttft.p99 regressed")

	// VMTEST_UPDATE=1 rewrites it as the flag does.
	t.Setenv(UpdateEnv, "1")
	require.NoError(t, Baseline(path, Rel("ttft.p99", 0.1)).Eval(baselineRun()))
	b, err = ReadBaseline(path)
	require.NoError(t, err)
	require.Equal(t, "run-1", b.RunID)
	require.Len(t, b.Metrics, 1, "the file holds the chosen metrics only")
}

func TestBaselineUpdateRefusesNoData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	_, err := baseline(baselineRun(), path, true, []Tolerance{Rel("ttft.p99", 0.1), Rel("tpot.p99", 0.1)})
	require.EqualError(t, err, "vmtest: baseline: tpot.p99: no data in this run (n=0 values from 10 successful requests; run run-1; data: /tmp/requests.csv)\n"+
		"vmtest: baseline "+path+" not updated: a chosen metric has no data")
	_, statErr := os.Stat(path)
	require.True(t, os.IsNotExist(statErr), "nothing written")
}

func TestBaselineMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.json")
	tb := &recTB{}
	require.False(t, Assert(tb, baselineRun(), Baseline(path, Rel("ttft.p99", 0.1))))
	require.Equal(t, []string{"vmtest: baseline " + path + " does not exist; run the test with -vmtest.update (or VMTEST_UPDATE=1) to write it from this run"}, tb.errs)
}

func TestBaselineRegressionLowerIsBetter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	writeFile(t, path, handBaseline)
	s := baselineRun()
	// ttft.p99: 2311 now vs 2000: +15.55 %, 311 ms worse.
	err := Baseline(path, Rel("ttft.p99", 0.10)).Eval(s)
	require.EqualError(t, err, "vmtest: baseline: ttft.p99 regressed: 2311.000 ms now vs 2000.000 ms in baseline "+
		"(+15.6%, tolerance 10% = 200.000 ms; lower is better) "+
		"(n=10 vs 10, window 12.0 s, run run-1 vs baseline run run-0 of 2025-03-01T00:00:00Z; data: /tmp/requests.csv; baseline: "+path+")")
	require.NoError(t, Baseline(path, Rel("ttft.p99", 0.16)).Eval(s))
	require.NoError(t, Baseline(path, Abs("ttft.p99", 311)).Eval(s), "exactly at the tolerance passes")
	require.ErrorContains(t, Baseline(path, Abs("ttft.p99", 310)).Eval(s), "(+15.6%, tolerance 310.000 ms; lower is better)")
	require.NoError(t, Baseline(path, Tolerance{Metric: "ttft.p99", Rel: 0.05, Abs: 400}).Eval(s), "the larger allowance counts")
	require.ErrorContains(t, Baseline(path, Tolerance{Metric: "ttft.p99", Rel: 0.10, Abs: 150}).Eval(s),
		"tolerance max(10%, 150.000 ms) = 200.000 ms")
	// A metric improves in one direction only: declared higher-is-better, a higher p99 passes as an improvement.
	tb := &recTB{}
	require.True(t, Assert(tb, s, Baseline(path, Tolerance{Metric: "ttft.p99", Direction: HigherIsBetter})))
	require.Equal(t, []string{"vmtest: baseline: ttft.p99 improved: 2311.000 ms now vs 2000.000 ms in baseline (+15.6%; higher is better); run with -vmtest.update to keep the new figure"}, tb.logs)
}

func TestBaselineRegressionHigherIsBetter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	writeFile(t, path, handBaseline)
	s := baselineRun()
	// request_throughput: 0.833 now vs 1 req/s: −16.7 %.
	err := Baseline(path, Rel("throughput", 0.10)).Eval(s)
	require.ErrorContains(t, err, "vmtest: baseline: request_throughput regressed: 0.833 req/s now vs 1.000 req/s in baseline "+
		"(-16.7%, tolerance 10% = 0.100 req/s; higher is better)")
	require.NoError(t, Baseline(path, Rel("throughput", 0.17)).Eval(s))
	// gpu utilization is lower-is-better unless told otherwise: 62.5 % now vs 70 %.
	require.NoError(t, Baseline(path, Rel("gpu.utilization.mean", 0)).Eval(s))
	require.ErrorContains(t, Baseline(path, Tolerance{Metric: "gpu.utilization.avg", Rel: 0.05, Direction: HigherIsBetter}).Eval(s),
		"gpu.utilization.avg regressed: 62.500% now vs 70.000% in baseline (-10.7%, tolerance 5% = 3.500%; higher is better)")
}

func TestBaselineImprovementsPassAndAreLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	writeFile(t, path, handBaseline)
	tb := &recTB{}
	// ttft.p50 107.5 vs 120 (−10.4 %); error_rate 0.1667 vs 0.25 (−33.3 %); p99 within 20 %.
	require.True(t, Assert(tb, baselineRun(), Baseline(path, Rel("ttft.p50", 0), Rel("error_rate", 0), Rel("ttft.p99", 0.2))))
	require.Empty(t, tb.errs)
	require.Equal(t, []string{
		"vmtest: baseline: ttft.p50 improved: 107.500 ms now vs 120.000 ms in baseline (-10.4%; lower is better); run with -vmtest.update to keep the new figure",
		"vmtest: baseline: error_rate improved: 0.1667 (16.67%) now vs 0.2500 (25.00%) in baseline (-33.3%; lower is better); run with -vmtest.update to keep the new figure",
		"vmtest: baseline: ttft.p99 within tolerance: 2311.000 ms now vs 2000.000 ms in baseline (+15.6%, tolerance 20% = 400.000 ms; lower is better)",
	}, tb.logs)
}

func TestBaselineFailures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.json")
	writeFile(t, path, handBaseline)
	s := baselineRun()

	// Every failing metric is reported, one line each; the passing ones are not.
	err := Baseline(path, Rel("tpot.p99", 1), Rel("e2e.p50", 1), Rel("server.kv_cache_usage.max", 1), Rel("ttft.p50", 0), Rel("ttft.p99", 0)).Eval(s)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "vmtest: baseline: tpot.p99: no data in this run (n=0 values from 10 successful requests; run run-1; data: /tmp/requests.csv)", lines[0])
	require.Contains(t, lines[1], "vmtest: baseline: e2e.p50: no data in this run")
	require.Equal(t, "vmtest: baseline "+path+" holds server.kv_cache_usage.max in \"ms\", this run has it in \"%\"; run with -vmtest.update to rewrite it", lines[2])
	require.Contains(t, lines[3], "ttft.p99 regressed")
	s.System.MaxCPUPercent = fp(55)
	require.EqualError(t, Baseline(path, Rel("cpu.max", 0)).Eval(s),
		"vmtest: baseline "+path+" does not hold cpu.max (it holds error_rate, gpu.utilization.avg, request_throughput, server.kv_cache_usage.max, tpot.p99, ttft.p50, ttft.p99); run with -vmtest.update to rewrite it")

	require.ErrorContains(t, Baseline(path, Rel("ttfb.p99", 0.1)).Eval(s), `unknown metric "ttfb.p99"`)
	require.ErrorContains(t, Baseline(path, Rel("ttft.p99", -0.1)).Eval(s), "want finite values ≥ 0")
	require.ErrorContains(t, Baseline(path).Eval(s), "no metric chosen")
	require.ErrorContains(t, Baseline(path, Rel("ttft.p99", 0)).Eval(nil), "no summary")

	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"vmtest_baseline": 2, "metrics": {}}`)
	require.ErrorContains(t, Baseline(bad, Rel("ttft.p99", 0)).Eval(s), "format 2, want vmtest_baseline 1")
	writeFile(t, bad, `{"metrics": [`)
	require.ErrorContains(t, Baseline(bad, Rel("ttft.p99", 0)).Eval(s), "baseline "+bad+": unexpected end of JSON input")
}

func TestDirectionOf(t *testing.T) {
	for name, want := range map[string]Direction{
		"ttft.p99": LowerIsBetter, "e2e.mean": LowerIsBetter, "error_rate": LowerIsBetter, "requests.failed": LowerIsBetter,
		"gpu.power_w.avg": LowerIsBetter, "energy_per_output_token_j": LowerIsBetter, "server.queue.max": LowerIsBetter,
		"request_throughput": HigherIsBetter, "output_token_throughput": HigherIsBetter, "total_token_throughput": HigherIsBetter,
		"goodput": HigherIsBetter, "requests.ok": Neutral, "requests.total": Neutral, "server.tokens_per_second.avg": HigherIsBetter,
	} {
		require.Equal(t, want, DirectionOf(name), name)
	}
	require.Equal(t, "higher is better", HigherIsBetter.String())
}

// A baseline on one replica's throughput takes its direction from the registry: a drop is a regression.
func TestBaselineReplicaThroughputDropRegresses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	writeFile(t, path, `{"vmtest_baseline": 1, "run_id": "run-0", "time": "2025-03-01T00:00:00Z",
  "metrics": {"replica.r1.server.tokens_per_second.avg": {"value": 200, "unit": "tok/s", "n": 10}}}`)
	s := baselineRun()
	agg := serverstats.Stats{Replicas: map[string]serverstats.Stats{"r1": {}}}
	s.Server = &agg
	s.VLLM.Replicas = map[string]summary.VLLMStats{"r1": {Scrapes: 10, AvgTokensPerSecond: ptrF(120)}}
	// 120 now vs 200: -40 %, higher is better: a regression.
	err := Baseline(path, Rel("replica.r1.server.tokens_per_second.avg", 0.10)).Eval(s)
	require.ErrorContains(t, err, "vmtest: baseline: replica.r1.server.tokens_per_second.avg regressed: 120.000 tok/s now vs 200.000 tok/s in baseline "+
		"(-40.0%, tolerance 10% = 20.000 tok/s; higher is better)")
	require.Equal(t, HigherIsBetter, DirectionOf("replica.r1.server.tokens_per_second.avg"))
}

func ptrF(x float64) *float64 { return &x }

// A count the workload sets (requests.total) has no better direction: a change beyond tolerance either way
// is a regression, and none is an improvement.
func TestBaselineNeutralTwoSided(t *testing.T) {
	s := baselineRun()
	total := float64(s.Requests.Counts.Total)
	path := filepath.Join(t.TempDir(), "b.json")
	for _, base := range []float64{total * 2, total / 2} {
		writeFile(t, path, fmt.Sprintf(`{"vmtest_baseline": 1, "run_id": "run-0", "time": "2025-03-01T00:00:00Z",
  "metrics": {"requests.total": {"value": %g, "unit": "requests", "n": 12}}}`, base))
		require.ErrorContains(t, Baseline(path, Rel("requests.total", 0.1)).Eval(s), "requests.total regressed", "baseline %g", base)
		require.NoError(t, Baseline(path, Rel("requests.total", 1.01)).Eval(s), "baseline %g", base)
	}
}
