package vmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/vllmsim"
)

// promHist writes one histogram family in Prometheus text: cumulative counts per bound, +Inf last (its count is
// the _count).
func promHist(name string, bounds []string, cum []float64, sum float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# TYPE %s histogram\n", name)
	for i, le := range bounds {
		fmt.Fprintf(&b, "%s_bucket{le=%q,model_name=\"m\"} %g\n", name, le, cum[i])
	}
	fmt.Fprintf(&b, "%s_count{model_name=\"m\"} %g\n%s_sum{model_name=\"m\"} %g\n", name, cum[len(cum)-1], name, sum)
	return b.String()
}

func intervalBody(ttft, e2e []float64) string {
	return "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} 0\n" +
		promHist("vllm:time_to_first_token_seconds", []string{"0.05", "0.1", "0.5", "+Inf"}, ttft, 1) +
		promHist("vllm:e2e_request_latency_seconds", []string{"0.5", "1", "+Inf"}, e2e, 1)
}

// The collector puts the server's per-interval quantiles in the snapshot of the tick whose scrape completes
// the interval, measured from the previous successful scrape (a failed scrape between them does not cut the
// interval), and writes them to the JSON (null when unknown) and CSV (empty when unknown) files.
func TestSnapshotsCarryServerIntervalQuantiles(t *testing.T) {
	// Scrape 1: every histogram at 0. Scrape 2: status 500. Scrapes 3+: 8 TTFT and 8 E2E observations.
	a := intervalBody([]float64{0, 0, 0, 0}, []float64{0, 0, 0})
	b := intervalBody([]float64{2, 6, 8, 8}, []float64{0, 4, 8})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch hits.Add(1) {
		case 1:
			fmt.Fprint(w, a)
		case 2:
			http.Error(w, "overloaded", http.StatusInternalServerError)
		default:
			fmt.Fprint(w, b)
		}
	}))
	t.Cleanup(srv.Close)
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{VLLMBaseURL: srv.URL, Interval: 100 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c)
	waitSnapshots(t, c, func(s []snapshot.Snapshot) bool { return len(s) >= 4 })
	ft.runCleanups()
	snaps := c.Snapshots()
	require.GreaterOrEqual(t, len(snaps), 4)

	v0, v1, v2, v3 := snaps[0].VLLMMetrics, snaps[1].VLLMMetrics, snaps[2].VLLMMetrics, snaps[3].VLLMMetrics
	assert.Nil(t, v0.ServerTTFTP50MS, "first scrape: baseline only")
	assert.Nil(t, v0.ServerRequestsFinished)
	require.Contains(t, snaps[1].Errors["vllm"], "500")
	assert.Nil(t, v1.ServerTTFTP50MS, "failed scrape")
	assert.Nil(t, v1.ServerRequestsFinished)

	// Scrape 3 against scrape 1. TTFT increments per le: 0.05: 2, 0.1: 6, 0.5: 8, +Inf: 8.
	// p50: rank 4 → le 0.1 (6 ≥ 4); (0.05, 0.1] holds 4, 2 below: 0.05 + 0.05 × 2/4 = 0.075 s.
	// p99: rank 7.92 → le 0.5 (8 ≥ 7.92); (0.1, 0.5] holds 2, 6 below: 0.1 + 0.4 × 1.92/2 = 0.484 s.
	require.NotNil(t, v2.ServerTTFTP50MS, "errors: %v", snaps[2].Errors)
	assert.InDelta(t, 75, *v2.ServerTTFTP50MS, 1e-9)
	require.NotNil(t, v2.ServerTTFTP99MS)
	assert.InDelta(t, 484, *v2.ServerTTFTP99MS, 1e-9)
	// E2E per le: 0.5: 0, 1: 4, +Inf: 8. p50: rank 4 → le 1; (0.5, 1] holds 4: 0.5 + 0.5 × 4/4 = 1 s.
	// p99: rank 7.92 > 4, the highest finite count → +Inf: null, lower bound 1 s.
	require.NotNil(t, v2.ServerE2EP50MS)
	assert.InDelta(t, 1000, *v2.ServerE2EP50MS, 1e-9)
	assert.Nil(t, v2.ServerE2EP99MS)
	require.NotNil(t, v2.ServerE2EP99LowerBoundMS)
	assert.Equal(t, 1000.0, *v2.ServerE2EP99LowerBoundMS)
	require.NotNil(t, v2.ServerRequestsFinished)
	assert.Equal(t, 8.0, *v2.ServerRequestsFinished)
	// The ranges they are known to lie in: TTFT p50 in (50, 100] ms, p99 in (100, 500] ms, E2E p50 in (500,
	// 1000] ms, E2E p99 in (1000, +Inf): lower 1000, no upper bound.
	for _, b := range []struct {
		name         string
		lower, upper *float64
		wantL, wantU float64
	}{{"ttft p50", v2.ServerTTFTP50BucketLowerMS, v2.ServerTTFTP50BucketUpperMS, 50, 100},
		{"ttft p99", v2.ServerTTFTP99BucketLowerMS, v2.ServerTTFTP99BucketUpperMS, 100, 500},
		{"e2e p50", v2.ServerE2EP50BucketLowerMS, v2.ServerE2EP50BucketUpperMS, 500, 1000}} {
		require.NotNil(t, b.lower, b.name)
		require.NotNil(t, b.upper, b.name)
		assert.InDelta(t, b.wantL, *b.lower, 1e-9, b.name)
		assert.InDelta(t, b.wantU, *b.upper, 1e-9, b.name)
	}
	require.NotNil(t, v2.ServerE2EP99BucketLowerMS)
	assert.InDelta(t, 1000, *v2.ServerE2EP99BucketLowerMS, 1e-9)
	assert.Nil(t, v2.ServerE2EP99BucketUpperMS)
	assert.Nil(t, v2.ServerITLP50BucketLowerMS, "not exposed")
	assert.Nil(t, v2.ServerITLP50MS, "not exposed")
	assert.Nil(t, v2.ServerQueueTimeP50MS, "not exposed")

	// Scrape 4 repeats scrape 3: no observation, no request finished.
	assert.Nil(t, v3.ServerTTFTP50MS)
	assert.Nil(t, v3.ServerE2EP99LowerBoundMS)
	assert.Nil(t, v3.ServerTTFTP50BucketLowerMS)
	assert.Nil(t, v3.ServerTTFTP50AtMostMS)
	require.NotNil(t, v3.ServerRequestsFinished)
	assert.Equal(t, 0.0, *v3.ServerRequestsFinished)

	// JSON: the fields are there, null when unknown.
	files := c.Files()
	raw, err := os.ReadFile(files["snapshots_json"])
	require.NoError(t, err)
	var doc struct {
		Snapshots []struct {
			VLLM map[string]any `json:"vllm_metrics"`
		} `json:"snapshots"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.GreaterOrEqual(t, len(doc.Snapshots), 4)
	first := doc.Snapshots[0].VLLM
	for _, k := range []string{"server_ttft_p50_ms", "server_ttft_p99_ms", "server_e2e_p99_lower_bound_ms", "server_requests_finished"} {
		v, ok := first[k]
		assert.True(t, ok, k)
		assert.Nil(t, v, k)
	}
	assert.InDelta(t, 75, doc.Snapshots[2].VLLM["server_ttft_p50_ms"], 1e-9)
	assert.Equal(t, 1000.0, doc.Snapshots[2].VLLM["server_e2e_p99_lower_bound_ms"])

	// CSV: one column per field under its JSON name, empty when unknown.
	col, rows := testio.CSVFile(t, files["snapshots_csv"])
	for _, k := range []string{"server_ttft_p50_ms", "server_ttft_p99_ms", "server_e2e_p50_ms", "server_e2e_p99_ms",
		"server_itl_p50_ms", "server_itl_p99_ms", "server_queue_time_p50_ms", "server_queue_time_p99_ms",
		"server_requests_finished", "server_ttft_p99_lower_bound_ms", "server_e2e_p99_lower_bound_ms"} {
		require.Contains(t, col, k)
	}
	assert.Equal(t, "", rows[1][col["server_ttft_p50_ms"]], "null → empty cell")
	num := func(cell string) float64 {
		x, err := strconv.ParseFloat(cell, 64)
		require.NoError(t, err)
		return x
	}
	assert.InDelta(t, 75, num(rows[3][col["server_ttft_p50_ms"]]), 1e-9)
	assert.InDelta(t, 484, num(rows[3][col["server_ttft_p99_ms"]]), 1e-9)
	assert.Equal(t, "", rows[3][col["server_e2e_p99_ms"]])
	assert.Equal(t, "1000", rows[3][col["server_e2e_p99_lower_bound_ms"]])
	assert.Equal(t, "8", rows[3][col["server_requests_finished"]])
	assert.Equal(t, "0", rows[4][col["server_requests_finished"]])
}

// End to end against the simulator: the server's per-interval TTFT quantiles are there once requests run,
// agree with the client's TTFT of the same interval within the histogram's bucket width, and the requests the
// server finished add up, over the snapshots, to the requests sent.
func TestSnapshotsServerTTFTBesideClientTTFT(t *testing.T) {
	// TTFT 45 ms × [0.7, 1.3): 31.5–58.5 ms, in the (0.02, 0.04] and (0.04, 0.06] buckets.
	sim := vllmsim.New(t, vllmsim.Config{Seed: 3, TTFTBase: 45 * time.Millisecond, Jitter: 0.3, TimePerOutputToken: time.Millisecond})
	ft := &fakeTB{name: "T"}
	// One interval for the whole run (the scrapes at Collect and at Stop, each with a 48 s deadline): with
	// 100 ms ticks a loaded machine makes scrapes miss their 80 ms deadline, and then no interval has both sides.
	c := Collect(ft, Options{VLLMBaseURL: sim.URL, Interval: time.Minute, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	_, err := loadgen.Run(context.Background(), loadgen.LoadConfig{
		Client: loadgen.ClientConfig{BaseURL: sim.URL}, Prompts: loadgen.TextPrompts("a b c"),
		Params: loadgen.Params{MaxTokens: 4}, Concurrency: 4, Requests: 40, Sink: c,
	})
	require.NoError(t, err)
	ft.runCleanups()
	require.Equal(t, 40, c.Summary().Requests.OK)

	var finished float64
	withTTFT, compared := 0, 0
	for i, s := range c.Snapshots() {
		v := s.VLLMMetrics
		if v.ServerRequestsFinished != nil {
			finished += *v.ServerRequestsFinished
		}
		if v.ServerTTFTP50MS == nil {
			continue
		}
		withTTFT++
		// TTFT buckets run to 2560 s: both quantiles are interpolated values, never a bound, and the median
		// lies above the lowest bound any observation can reach (0.02 s).
		require.NotNil(t, v.ServerTTFTP99MS, "snapshot %d", i)
		assert.Nil(t, v.ServerTTFTP50LowerBoundMS)
		assert.Nil(t, v.ServerTTFTP99LowerBoundMS)
		assert.Greater(t, *v.ServerTTFTP50MS, 20.0, "snapshot %d", i)
		assert.GreaterOrEqual(t, *v.ServerTTFTP99MS, *v.ServerTTFTP50MS, "snapshot %d", i)
		// Where the client and the server counted mostly the same requests in the interval (the client counts a
		// request when it has read the whole stream, the server when it sent the last token, so one can fall on
		// either side of a tick), the client's mean TTFT is within one bucket width (20 ms) of the server's
		// interpolated median: under VMTEST_TIMING=1 only, since on a loaded machine the client's goroutines
		// read each first chunk late and its mean moves up, as the run's own warning then says.
		if v.FirstTokenLatencyMS != nil && v.RequestsFinished >= 4 && *v.ServerRequestsFinished >= 4 &&
			math.Abs(float64(v.RequestsFinished)-*v.ServerRequestsFinished) <= 2 {
			compared++
			if os.Getenv("VMTEST_TIMING") == "1" {
				assert.LessOrEqual(t, math.Abs(*v.FirstTokenLatencyMS-*v.ServerTTFTP50MS), 20.0,
					"snapshot %d: client TTFT mean %.1f ms, server p50 %.1f ms", i, *v.FirstTokenLatencyMS, *v.ServerTTFTP50MS)
			}
		}
	}
	assert.Positive(t, compared, "some interval had mostly the same requests on both sides")
	assert.Positive(t, withTTFT, "some interval had server-side TTFT quantiles")
	assert.Equal(t, 40.0, finished, "one E2E observation per request, each in exactly one interval")
}
