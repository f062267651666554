package report

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

func f(v float64) *float64 { return &v }

func sampleSnaps() []snapshot.Snapshot {
	ts := time.Date(2025, 9, 9, 10, 30, 0, 0, time.FixedZone("", 2*3600))
	return []snapshot.Snapshot{
		{Timestamp: ts, ConfigID: "cfg", RunID: "r1", GPUMetrics: map[string]snapshot.GPU{},
			VLLMMetrics:   snapshot.VLLM{RequestQueueSize: f(5)},
			SystemMetrics: snapshot.System{MemoryGB: f(32)}, Errors: map[string]string{"gpu": "no GPU source"}},
		{Timestamp: ts.Add(2 * time.Second), ConfigID: "cfg", RunID: "r1", ElapsedS: 2,
			GPUMetrics: map[string]snapshot.GPU{
				"gpu_10": {Index: 10, Utilization: f(1)},
				"gpu_2":  {Index: 2, Utilization: f(85), MemoryUsedMB: f(40000), TempC: f(72), PowerW: f(250.5)},
			},
			VLLMMetrics:   snapshot.VLLM{TokensPerSecond: f(15000), MeanLatencyMS: f(85), RequestsFinished: 3},
			SystemMetrics: snapshot.System{CPUPercent: f(45), NetworkSentBytes: f(1048576)}},
	}
}

func TestSnapshotsCSVSeedColumnsAndEmptyUnknowns(t *testing.T) {
	b, err := SnapshotsCSV(sampleSnaps())
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	require.Len(t, rows, 3)
	// The seed's pandas example reads these columns.
	for _, name := range []string{"gpu_2_utilization", "gpu_10_utilization", "tokens_per_second", "mean_latency_ms",
		"first_token_latency_ms", "p99_latency_ms", "request_queue_size", "active_batch_size", "cpu_percent",
		"memory_gb", "memory_available_gb", "network_sent_bytes", "network_recv_bytes", "gpu_2_memory_used_mb",
		"gpu_2_temp_c", "gpu_2_power_w"} {
		assert.Contains(t, col, name)
	}
	assert.Less(t, col["gpu_2_utilization"], col["gpu_10_utilization"], "GPUs in numeric order")
	assert.Equal(t, "2025-09-09T10:30:00+02:00", rows[1][col["timestamp"]])
	assert.Equal(t, "", rows[1][col["gpu_2_utilization"]], "GPU absent that tick → empty")
	assert.Equal(t, "", rows[1][col["cpu_percent"]], "unknown → empty, never 0")
	assert.Equal(t, "5", rows[1][col["request_queue_size"]])
	assert.Equal(t, "gpu: no GPU source", rows[1][col["errors"]])
	assert.Equal(t, "85", rows[2][col["gpu_2_utilization"]])
	assert.Equal(t, "250.5", rows[2][col["gpu_2_power_w"]])
	assert.Equal(t, "15000", rows[2][col["tokens_per_second"]])
	assert.Equal(t, "1048576", rows[2][col["network_sent_bytes"]])
	assert.Equal(t, "3", rows[2][col["requests_finished"]])
}

func TestRequestsCSVEmptyForUnknown(t *testing.T) {
	b, err := RequestsCSV([]recorder.Record{
		{ID: "a", Outcome: recorder.OutcomeOK, TTFTMS: 12.5, E2EMS: 100, TPOTMS: math.NaN(), ITLMeanMS: math.NaN(),
			TTFTFromIntendedMS: math.NaN(), E2EFromIntendedMS: math.NaN(), OutputTokens: 1, HTTPStatus: 200,
			PromptTokens: 17, RequestedOutputTokens: 64},
		{ID: "b", Outcome: recorder.OutcomeFailed, TTFTMS: math.NaN(), E2EMS: math.NaN(), TPOTMS: math.NaN(),
			ITLMeanMS: math.NaN(), TTFTFromIntendedMS: math.NaN(), E2EFromIntendedMS: math.NaN(), Error: "refused, \"x\""},
	})
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	require.Len(t, rows, 3)
	assert.Equal(t, "12.5", rows[1][col["ttft_ms"]])
	assert.Equal(t, "", rows[1][col["tpot_ms"]])
	assert.Equal(t, "", rows[2][col["ttft_ms"]])
	assert.Equal(t, `refused, "x"`, rows[2][col["error"]])
	assert.Equal(t, []string{"200", "17", "64", "1"}, []string{rows[1][col["http_status"]], rows[1][col["prompt_tokens"]],
		rows[1][col["requested_output_tokens"]], rows[1][col["output_tokens"]]})
	// No response, no usage, max_tokens left to the server: unknown, not 0. Its output_tokens is a count: 0.
	assert.Equal(t, []string{"", "", "", "0"}, []string{rows[2][col["http_status"]], rows[2][col["prompt_tokens"]],
		rows[2][col["requested_output_tokens"]], rows[2][col["output_tokens"]]})
	assert.Equal(t, "failed", rows[2][col["outcome"]])
}

func TestWriteAllAtomicFilesAndNulls(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2025, 9, 9, 10, 30, 0, 0, time.UTC)
	files := Names(dir, "cfg", start, "")
	assert.Equal(t, filepath.Join(dir, "metrics_cfg_20250909_103000.json"), files.SnapshotsJSON)
	sum := summary.Compute(summary.Input{ConfigID: "cfg"})
	err := WriteAll(files, SnapshotFile{ConfigID: "cfg", Snapshots: sampleSnaps()}, nil, sum, nil)
	require.NoError(t, err)
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"metrics_cfg_20250909_103000.json", "metrics_cfg_20250909_103000.csv",
		"summary_statistics.json", "summary_cfg_20250909_103000.json", "requests_cfg_20250909_103000.csv",
		"metrics_cfg_20250909_103000.png", "report_cfg_20250909_103000.html"}, names,
		"no temporary file left behind")
	pf, err := os.Open(files.PlotPNG)
	require.NoError(t, err)
	defer pf.Close()
	img, err := png.Decode(pf)
	require.NoError(t, err)
	assert.Equal(t, 1344, img.Bounds().Dx(), "two 7 in charts a row at 96 dpi")

	// Claiming names: a second run in the same second, even in another process, gets its own files;
	// summary_statistics.json stays the latest run's.
	claimed, err := Reserve(dir, "cfg2", start, 2, "run-a")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "metrics_cfg2_20250909_103000.json"), claimed.SnapshotsJSON)
	again, err := Reserve(dir, "cfg2", start, 0.5, "run-b")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "metrics_cfg2_20250909_103000_run-b.json"), again.SnapshotsJSON)
	assert.Equal(t, filepath.Join(dir, "summary_cfg2_20250909_103000_run-b.json"), again.RunSummaryJSON)
	assert.Equal(t, files.SummaryJSON, again.SummaryJSON)
	var placeholder SnapshotFile
	b, _ := os.ReadFile(again.SnapshotsJSON)
	require.NoError(t, json.Unmarshal(b, &placeholder), "the claimed file is valid JSON until it is written")
	assert.Equal(t, "run-b", placeholder.RunID)
	assert.Equal(t, 0.5, placeholder.IntervalS, "the placeholder names the interval too: known, so never 0")

	var doc map[string]any
	b, _ = os.ReadFile(files.SnapshotsJSON)
	require.NoError(t, json.Unmarshal(b, &doc))
	first := doc["snapshots"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{}, first["gpu_metrics"])
	v := first["vllm_metrics"].(map[string]any)
	assert.Contains(t, v, "tokens_per_second")
	assert.Nil(t, v["tokens_per_second"], "unknown → null")
	assert.Equal(t, 5.0, v["request_queue_size"])

	var s map[string]any
	b, _ = os.ReadFile(files.SummaryJSON)
	require.NoError(t, json.Unmarshal(b, &s))
	assert.Equal(t, files.RequestsCSV, s["files"].(map[string]any)["requests_csv"])
	assert.Nil(t, s["system_statistics"].(map[string]any)["avg_cpu_percent"])
}

func TestWriteFileAtomicReplacesAndNamesPathOnError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.json")
	require.NoError(t, WriteFileAtomic(p, []byte("1")))
	require.NoError(t, WriteFileAtomic(p, []byte("2")))
	b, _ := os.ReadFile(p)
	assert.Equal(t, "2", string(b))
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	err := WriteFileAtomic(filepath.Join(blocker, "y.json"), []byte("3"))
	assert.ErrorContains(t, err, blocker)
}

func TestWriteAllUnwritableDirIsOneErrorAndNoPaths(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	sum := summary.Compute(summary.Input{ConfigID: "cfg"})
	err := WriteAll(Names(filepath.Join(blocker, "out"), "cfg", time.Now(), ""), SnapshotFile{}, nil, sum, nil)
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "create directory"), "one error, not one per file: %v", err)
	assert.Empty(t, sum.Files, "no path to a file that was not written")
	assert.Equal(t, "(files not written)", sum.DataFile())
}

// The per-interval server quantiles are CSV columns under their JSON names, after the seed's, empty when null.
func TestSnapshotsCSVServerIntervalColumns(t *testing.T) {
	snaps := sampleSnaps()
	snaps[1].VLLMMetrics.ServerTTFTP50MS = f(56.5)
	snaps[1].VLLMMetrics.ServerTTFTP99LowerBoundMS = f(2560000)
	snaps[1].VLLMMetrics.ServerRequestsFinished = f(0)
	b, err := SnapshotsCSV(snaps)
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	names := []string{"server_ttft_p50_ms", "server_ttft_p99_ms", "server_e2e_p50_ms", "server_e2e_p99_ms",
		"server_itl_p50_ms", "server_itl_p99_ms", "server_queue_time_p50_ms", "server_queue_time_p99_ms",
		"server_requests_finished", "server_ttft_p50_lower_bound_ms", "server_ttft_p99_lower_bound_ms",
		"server_e2e_p50_lower_bound_ms", "server_e2e_p99_lower_bound_ms", "server_itl_p50_lower_bound_ms",
		"server_itl_p99_lower_bound_ms", "server_queue_time_p50_lower_bound_ms", "server_queue_time_p99_lower_bound_ms"}
	for _, n := range names {
		require.Contains(t, col, n)
		assert.Greater(t, col[n], col["requests_finished"], "%s after the seed columns", n)
		assert.Equal(t, "", rows[1][col[n]], "%s null → empty", n)
	}
	assert.Equal(t, "56.5", rows[2][col["server_ttft_p50_ms"]])
	assert.Equal(t, "", rows[2][col["server_ttft_p99_ms"]])
	assert.Equal(t, "2560000", rows[2][col["server_ttft_p99_lower_bound_ms"]])
	assert.Equal(t, "0", rows[2][col["server_requests_finished"]], "a known 0 is 0, not empty")
}

// Without a GPU reading, the CSV still has the columns the seed's pandas example reads (gpu_0_utilization,
// gpu_1_utilization), empty; GPUs asked for by index get theirs beside those seen.
func TestSnapshotsCSVGPUColumnsWithoutReadings(t *testing.T) {
	snaps := sampleSnaps()[:1] // no GPU reading at all
	b, err := SnapshotsCSV(snaps)
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	for _, name := range []string{"gpu_0_utilization", "gpu_1_utilization", "gpu_0_memory_used_mb", "gpu_1_power_w"} {
		require.Contains(t, col, name)
		assert.Equal(t, "", rows[1][col[name]], name)
	}
	assert.NotContains(t, col, "gpu_2_utilization")
	assert.Less(t, col["gpu_0_utilization"], col["gpu_1_utilization"])

	b, err = SnapshotsCSV(sampleSnaps(), "gpu_3")
	require.NoError(t, err)
	col, rows = testio.CSV(t, b)
	assert.NotContains(t, col, "gpu_0_utilization", "GPUs named: only those and the ones seen")
	require.Contains(t, col, "gpu_3_utilization")
	assert.Less(t, col["gpu_2_utilization"], col["gpu_3_utilization"])
	assert.Less(t, col["gpu_3_utilization"], col["gpu_10_utilization"])
	assert.Equal(t, "", rows[2][col["gpu_3_utilization"]])
	assert.Equal(t, "85", rows[2][col["gpu_2_utilization"]])
}

// A run that timed no request (vmtest collect) gets its seed latency columns from the server's per-interval
// histogram figures of the same row, and latency_source says so; a run that timed requests keeps the client's.
func TestSnapshotsCSVLatencyFromServerWithoutRequests(t *testing.T) {
	ts := time.Date(2025, 9, 9, 10, 30, 0, 0, time.UTC)
	snaps := []snapshot.Snapshot{
		{Timestamp: ts, VLLMMetrics: snapshot.VLLM{RequestQueueSize: f(0)}}, // first scrape: no interval yet
		{Timestamp: ts.Add(2 * time.Second), ElapsedS: 2, VLLMMetrics: snapshot.VLLM{
			ServerTTFTMeanMS: f(60.3), ServerE2EMeanMS: f(1050), ServerE2EP50MS: f(1000), ServerE2EP90MS: f(1400),
			ServerE2EP99MS: nil, ServerE2EP99LowerBoundMS: f(2560000)}},
	}
	b, err := SnapshotsCSV(snaps)
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	require.Contains(t, col, "latency_source")
	assert.Equal(t, "", rows[1][col["latency_source"]], "no figure from either side")
	assert.Equal(t, "", rows[1][col["mean_latency_ms"]])
	got := map[string]string{}
	for _, c := range []string{"first_token_latency_ms", "mean_latency_ms", "p50_latency_ms", "p90_latency_ms", "p99_latency_ms", "latency_source"} {
		got[c] = rows[2][col[c]]
	}
	assert.Equal(t, map[string]string{"first_token_latency_ms": "60.3", "mean_latency_ms": "1050", "p50_latency_ms": "1000",
		"p90_latency_ms": "1400", "p99_latency_ms": "", "latency_source": "server"}, got,
		"p99 in the +Inf bucket stays empty: its lower bound is in server_e2e_p99_lower_bound_ms")
	assert.Equal(t, "1050", rows[2][col["server_e2e_mean_ms"]], "the server's own columns too")

	// Once the client timed a request anywhere in the run, no row takes the server's figures.
	snaps = append(snaps, snapshot.Snapshot{Timestamp: ts.Add(4 * time.Second), ElapsedS: 4,
		VLLMMetrics: snapshot.VLLM{MeanLatencyMS: f(85), RequestsFinished: 1, ServerE2EMeanMS: f(90)}})
	b, err = SnapshotsCSV(snaps)
	require.NoError(t, err)
	col, rows = testio.CSV(t, b)
	assert.Equal(t, []string{"", ""}, []string{rows[2][col["mean_latency_ms"]], rows[2][col["latency_source"]]})
	assert.Equal(t, []string{"85", "client"}, []string{rows[3][col["mean_latency_ms"]], rows[3][col["latency_source"]]})
}

// Each per-interval server quantile's bucket bounds are columns, as the summary's quantiles carry them.
func TestSnapshotsCSVServerBucketBounds(t *testing.T) {
	snaps := sampleSnaps()
	snaps[1].VLLMMetrics.ServerTTFTP99MS = f(80)
	snaps[1].VLLMMetrics.ServerTTFTP99BucketLowerMS = f(60)
	snaps[1].VLLMMetrics.ServerTTFTP99BucketUpperMS = f(80)
	snaps[1].VLLMMetrics.ServerTTFTP99AtMostMS = f(75.5)
	b, err := SnapshotsCSV(snaps)
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	for _, q := range []string{"ttft_p50", "ttft_p99", "e2e_p50", "e2e_p90", "e2e_p99", "itl_p50", "itl_p99", "queue_time_p50", "queue_time_p99"} {
		for _, kind := range []string{"bucket_lower_ms", "bucket_upper_ms", "at_most_ms"} {
			assert.Contains(t, col, "server_"+q+"_"+kind)
		}
	}
	assert.Equal(t, []string{"80", "60", "80", "75.5"}, []string{rows[2][col["server_ttft_p99_ms"]],
		rows[2][col["server_ttft_p99_bucket_lower_ms"]], rows[2][col["server_ttft_p99_bucket_upper_ms"]],
		rows[2][col["server_ttft_p99_at_most_ms"]]})
}

func TestGPUKeysOf(t *testing.T) {
	assert.Equal(t, []string{"gpu_2", "gpu_0"}, GPUKeysOf([]string{"2", " 0", "GPU-8c0b1d2e-0000-0000-0000-000000000000"}))
	assert.Nil(t, GPUKeysOf(nil))
}

// A file whose name is 250 bytes (the file system's limit is 255) is written through a temporary file whose
// name is cut, not through one too long to create.
func TestWriteFileAtomicLongName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, strings.Repeat("é", 123)+"1234.json") // 250 bytes
	require.NoError(t, WriteFileAtomic(path, []byte("{}")))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(b))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left behind")
	assert.Equal(t, strings.Repeat("é", 100), TempBase(strings.Repeat("é", 123)+"1234.json"), "cut to 200 bytes")
	assert.Equal(t, "x"+strings.Repeat("é", 99), TempBase("x"+strings.Repeat("é", 123)), "at a rune boundary")
}
