package examples

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// pandasInstall is how to get what TestSeedPandasExample needs on Debian.
const pandasInstall = "sudo apt-get install -y python3-pandas python3-matplotlib"

// findModules is a Python program that exits 0 when every module named in its arguments can be found,
// without importing any.
const findModules = `import importlib.util, sys
sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)
`

// pythonWithPandas returns a Python 3 that has pandas and matplotlib: the system's /usr/bin/python3 first
// (where Debian's python3-pandas goes), else python3 on PATH. Without one the test skips, printing the
// install command, unless CI is set: then it fails.
func pythonWithPandas(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", findModules, "pandas", "matplotlib").Run() == nil {
			return py
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no python3 with pandas and matplotlib (tried %v); install them: %s", candidates, pandasInstall)
	}
	t.Skipf("no python3 with pandas and matplotlib (tried %v); to run this test: %s", candidates, pandasInstall)
	return ""
}

// started is when this test binary started: a file of TestChatLatency modified since is this run's.
var started = time.Now()

// testName is a name for vmtest.OutputDir.
type testName string

// Name returns the name.
func (n testName) Name() string { return string(n) }

// readmeMetricsCSV returns the metrics CSV of one run of TestChatLatency (the README's example) in this test
// binary: the newest its own run wrote (go test runs readme_test.go's tests before this file's), or, when it
// wrote none since this binary started (go test -run, -shuffle, -artifacts), that of running it here.
func readmeMetricsCSV(t *testing.T) string {
	t.Helper()
	csvs, err := filepath.Glob(filepath.Join(vmtest.OutputDir(testName("TestChatLatency"), ""), "metrics_*.csv"))
	require.NoError(t, err)
	newest, at := "", started
	for _, p := range csvs {
		if fi, err := os.Stat(p); err == nil && !fi.ModTime().Before(at) {
			newest, at = p, fi.ModTime()
		}
	}
	if newest != "" {
		t.Logf("the README example's files of this run: %s", newest)
		return newest
	}
	dir := t.TempDir()
	t.Setenv(vmtest.EnvOutputDir, dir)
	t.Run("readme", TestChatLatency)
	csvs, err = filepath.Glob(filepath.Join(dir, "*", "metrics_*.csv"))
	require.NoError(t, err)
	require.Len(t, csvs, 1)
	return csvs[0]
}

// discard is a recorder.Sink that keeps nothing.
type discard struct{}

func (discard) RecordRequest(recorder.Request) {}

// pandasView is what pandas_check.py prints about a metrics CSV.
type pandasView struct {
	Rows                 int      `json:"rows"`
	GPU0UtilizationKnown int      `json:"gpu_0_utilization_known"`
	GPU1UtilizationKnown int      `json:"gpu_1_utilization_known"`
	MeanLatencyKnown     int      `json:"mean_latency_ms_known"`
	MeanLatencySum       float64  `json:"mean_latency_ms_sum"`
	TokensPerSecondKnown int      `json:"tokens_per_second_known"`
	LatencySource        []string `json:"latency_source"`
}

// csvView computes pandasView from the file with encoding/csv, independently of pandas.
func csvView(t *testing.T, path string) pandasView {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	v := pandasView{Rows: len(rows) - 1, LatencySource: []string{}}
	sources := map[string]bool{}
	for _, r := range rows[1:] {
		known := func(name string) int {
			if r[col[name]] != "" {
				return 1
			}
			return 0
		}
		v.GPU0UtilizationKnown += known("gpu_0_utilization")
		v.GPU1UtilizationKnown += known("gpu_1_utilization")
		v.TokensPerSecondKnown += known("tokens_per_second")
		if s := r[col["mean_latency_ms"]]; s != "" {
			x, err := strconv.ParseFloat(s, 64)
			require.NoError(t, err)
			v.MeanLatencyKnown++
			v.MeanLatencySum += x
		}
		if s := r[col["latency_source"]]; s != "" {
			sources[s] = true
		}
	}
	for s := range sources {
		v.LatencySource = append(v.LatencySource, s)
	}
	sort.Strings(v.LatencySource)
	return v
}

// bothScripts is a Python program that runs the script argv[1], then the script argv[2] with the arguments
// after it, each as __main__, in one interpreter (pandas and matplotlib are imported once).
const bothScripts = `import runpy, sys
runpy.run_path(sys.argv[1], run_name="__main__")
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
`

// runSeedExample runs the original README's pandas example, unchanged, on csvPath (copied to the path the
// example reads), then pandas_check.py on the copy, and compares what pandas read with encoding/csv's reading.
func runSeedExample(t *testing.T, py, csvPath string) pandasView {
	t.Helper()
	work := t.TempDir()
	data, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	const copied = "metrics_output/metrics_test_001.csv" // where the example reads, relative to work
	require.NoError(t, os.MkdirAll(filepath.Join(work, "metrics_output"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, copied), data, 0o644))
	script, err := filepath.Abs(filepath.Join("testdata", "seed_pandas_example.py"))
	require.NoError(t, err)
	check, err := filepath.Abs(filepath.Join("testdata", "pandas_check.py"))
	require.NoError(t, err)
	cmd := exec.Command(py, "-c", bothScripts, script, check, copied)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "MPLBACKEND=Agg") // plt.show() draws nothing without a display
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "the seed's pandas example, then pandas_check.py, on %s:\n%s%s", csvPath, out, stderr.String())
	var got pandasView
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	want := csvView(t, csvPath)
	assert.InDelta(t, want.MeanLatencySum, got.MeanLatencySum, 1e-6*max(1, want.MeanLatencySum))
	got.MeanLatencySum = want.MeanLatencySum
	assert.Equal(t, want, got, "pandas reads the file as encoding/csv does")
	return got
}

// The original tool's README analyses the metrics CSV with pandas and matplotlib (GPU 0 and GPU 1
// utilization over time, throughput against mean latency). That example runs unchanged on the files a run
// writes, on a machine without a GPU: on the README example's files (requests timed by the client) and on
// those of a run that timed none (vmtest collect beside someone else's load), whose latency comes from the
// server's histograms.
func TestSeedPandasExample(t *testing.T) {
	py := pythonWithPandas(t)
	v := runSeedExample(t, py, readmeMetricsCSV(t))
	assert.Greater(t, v.MeanLatencyKnown, 0, "client latency per interval")
	assert.Equal(t, []string{"client"}, v.LatencySource)

	t.Run("collect", func(t *testing.T) {
		sim := vllmsim.New(t, vllmsim.Config{Seed: 1, TTFTBase: 20 * time.Millisecond, TimePerOutputToken: 2 * time.Millisecond})
		c, err := vmtest.Start(context.Background(), vmtest.Options{ConfigID: "collect", VLLMBaseURL: sim.URL,
			Interval: 250 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none"})
		require.NoError(t, err)
		_, err = loadgen.Run(context.Background(), loadgen.LoadConfig{
			Client:      loadgen.ClientConfig{BaseURL: sim.URL},
			Prompts:     loadgen.ChatPrompts("What is a KV cache?"),
			Params:      loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: 16},
			Concurrency: 4,
			Duration:    time.Second,
			Sink:        discard{}, // not the collector: it times no request, as vmtest collect beside another tool's load
		})
		require.NoError(t, err)
		sum, err := c.Finish()
		require.NoError(t, err)
		require.Equal(t, 0, sum.Requests.Total)
		v := runSeedExample(t, py, sum.Files["snapshots_csv"])
		assert.Greater(t, v.MeanLatencyKnown, 0, "latency from the server's histograms")
		assert.Equal(t, []string{"server"}, v.LatencySource)
	})
}
