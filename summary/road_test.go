package summary

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// road runs Prometheus text bodies, scraped 2 s apart, through the server road as the collector does: each
// into the tracker (Add), each snapshot's vllm_metrics from it (FillInterval), the window's stats at the end.
func road(t *testing.T, bodies ...string) ([]snapshot.Snapshot, *serverstats.Stats) {
	t.Helper()
	snaps, st, _ := roadEvents(t, bodies...)
	return snaps, st
}

// roadEvents is road, with the events the tracker gave.
func roadEvents(t *testing.T, bodies ...string) ([]snapshot.Snapshot, *serverstats.Stats, []snapshot.Event) {
	t.Helper()
	var events []snapshot.Event
	w := serverstats.NewWindow()
	t0 := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	snaps := make([]snapshot.Snapshot, len(bodies))
	for i, b := range bodies {
		sc, err := serverstats.Parse([]byte(b), t0.Add(time.Duration(i)*2*time.Second), "")
		require.NoError(t, err, "body %d", i)
		events = append(events, w.Add(sc)...)
		snaps[i].ElapsedS = float64(2 * i)
		w.FillInterval(&snaps[i].VLLMMetrics)
	}
	st := w.Summary()
	return snaps, &st, events
}

func val(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// A server restart inside the window (process_start_time_seconds 100 → 200, generation tokens 1000 → 50 →
// 90): the interval with the restart has no rate (strict), the window counts it from 0: 50 + 40 = 90 tokens,
// in server_statistics and vllm_statistics alike, and 180 J of GPU energy make 2 J/token. (Before, the
// snapshots' first-to-last delta said unknown, and energy per token was null.)
func TestRoadRestartInsideTheWindow(t *testing.T) {
	body := func(start, gen string) string {
		return "process_start_time_seconds " + start + "\n# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total " + gen + "\n"
	}
	snaps, server := road(t, body("100", "1000"), body("200", "50"), body("200", "90"))
	assert.Equal(t, []any{nil, nil, 20.0}, []any{val(snaps[0].VLLMMetrics.TokensPerSecond),
		val(snaps[1].VLLMMetrics.TokensPerSecond), val(snaps[2].VLLMMetrics.TokensPerSecond)}) // 40 tokens / 2 s
	snaps[0].GPUMetrics = map[string]snapshot.GPU{"gpu_0": {EnergyJ: snapshot.F(0)}}
	snaps[2].GPUMetrics = map[string]snapshot.GPU{"gpu_0": {EnergyJ: snapshot.F(180)}}
	s := Compute(Input{Snapshots: snaps, Server: server, IntervalS: 2})
	require.NotNil(t, s.Server.GenerationTokens)
	assert.Equal(t, 90.0, *s.Server.GenerationTokens)
	assert.Equal(t, 90.0, *s.VLLM.GenerationTokens)
	assert.Equal(t, 1, s.Server.Restarts)
	require.NotNil(t, s.EnergyPerOutputTokenJ)
	assert.InDelta(t, 2, *s.EnergyPerOutputTokenJ, 1e-12)
	v, err := s.Lookup("server.generation_tokens")
	require.NoError(t, err)
	assert.Equal(t, 90.0, v.Value)
}

// The same restart, with a client that counted 200 output tokens (100 + 100, warm-up included) where the
// server's counter kept 90: the cross-check warning names the restart and when it was seen (the scrape at
// 2 s into the window, 3 s after the run's start, 1 s before it), and J/token keeps the server's count (180 J / 90 = 2 J) with a caveat giving it over the client's
// tokens, 180 / 200 = 0.9 J, in the JSON and the text.
func TestRoadRestartNamedInWarningAndEnergyCaveat(t *testing.T) {
	body := func(start, gen string) string {
		return "process_start_time_seconds " + start + "\n# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total " + gen + "\n"
	}
	snaps, server, events := roadEvents(t, body("100", "1000"), body("200", "50"), body("200", "90"))
	require.Len(t, events, 2, "not exposed, and the restart")
	snaps[0].GPUMetrics = map[string]snapshot.GPU{"gpu_0": {EnergyJ: snapshot.F(0)}}
	snaps[2].GPUMetrics = map[string]snapshot.GPU{"gpu_0": {EnergyJ: snapshot.F(180)}}
	reqs := recorder.Summary{Counts: recorder.Counts{Total: 1, OK: 1, OutputTokens: 100}}
	reqs.Warmup = recorder.WarmupCounts{OK: 1, OutputTokens: 100}
	start := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC).Add(-time.Second) // the run began 1 s before its first scrape
	s := Compute(Input{Start: start, Snapshots: snaps, Server: server, IntervalS: 2, Requests: reqs, Events: events})
	var tok []string
	for _, w := range s.Warnings {
		if strings.Contains(w, "server generation tokens") {
			tok = append(tok, w)
		}
	}
	require.Len(t, tok, 1, s.Warnings)
	assert.Contains(t, tok[0], "(90 from vllm:generation_tokens_total) and the client's output tokens")
	assert.True(t, strings.HasSuffix(tok[0], "; and the server restarted once in the window (seen at 3.0 s): what it generated between its last scrape and each restart is in none of its counters"), tok[0])
	require.NotNil(t, s.EnergyPerOutputTokenJ)
	assert.InDelta(t, 2, *s.EnergyPerOutputTokenJ, 1e-12)
	assert.Equal(t, "the server restarted once in the window (seen at 3.0 s): what it generated between its last scrape and each restart is in none of its counters, so 180 J over the server's 90 generation tokens may be too high; over the client's 200 output tokens it is 0.9000 J", s.EnergyPerOutputTokenNote)
	none := Compute(Input{Start: start, Snapshots: snaps, Server: &serverstats.Stats{Scrapes: 3, Figures: server.Figures}, IntervalS: 2, Requests: reqs})
	assert.Empty(t, none.EnergyPerOutputTokenNote, "no restart, no caveat")
}

// llm-d-inference-sim exposes counters and histograms only once used: the first scrape has none, the second
// has 50 generation tokens, 2 requests (finish_reason="stop") and 2 TTFT observations. They count from 0:
// the first interval's rates are 25 tok/s and 1 req/s, and the totals agree with each other and with the
// client (50 tokens, 2 requests: no cross-check warning). Before, vllm_statistics.generation_tokens was null.
func TestRoadMetricsAbsentUntilFirstUsed(t *testing.T) {
	idle := "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} 0\n"
	used := idle + `# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{model_name="m"} 50
# TYPE vllm:request_success_total counter
vllm:request_success_total{finish_reason="stop",model_name="m"} 2
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{model_name="m",le="0.1"} 1
vllm:time_to_first_token_seconds_bucket{model_name="m",le="0.5"} 2
vllm:time_to_first_token_seconds_bucket{model_name="m",le="+Inf"} 2
vllm:time_to_first_token_seconds_count{model_name="m"} 2
vllm:time_to_first_token_seconds_sum{model_name="m"} 0.35
`
	snaps, server := road(t, idle, used)
	v := snaps[1].VLLMMetrics
	assert.Equal(t, 25.0, val(v.TokensPerSecond))  // 50 / 2 s
	assert.Equal(t, 1.0, val(v.RequestsPerSecond)) // 2 / 2 s
	assert.Equal(t, 50.0, val(v.GenerationTokensTotal))
	// TTFT over the interval: p50 rank 1 → le=0.1 (1 ≥ 1): 0 + 0.1·1/1 = 100 ms.
	assert.InDelta(t, 100, val(v.ServerTTFTP50MS), 1e-9)

	reqs := recorder.Summary{Counts: recorder.Counts{Total: 2, OK: 2, OutputTokens: 50}}
	s := Compute(Input{Snapshots: snaps, Server: server, Requests: reqs, IntervalS: 2})
	assert.Equal(t, 50.0, val(s.VLLM.GenerationTokens))
	assert.Equal(t, 50.0, val(s.Server.GenerationTokens))
	assert.Equal(t, 2.0, val(s.Server.RequestSuccess))
	assert.Equal(t, map[string]float64{"stop": 2}, s.Server.RequestSuccessByReason)
	assert.Equal(t, 2.0, s.Server.TTFT.Count)
	assert.Equal(t, 25.0, val(s.VLLM.AvgTokensPerSecond))
	assert.Empty(t, s.Warnings, "server and client agree")
}

// A server that exposes no counter at all (the 0.22.1rc1 fragment: gauges only) scraped three times:
// vllm_statistics.scrapes is 3, the successful scrapes, as in server_statistics (before: 0, the snapshots
// with a generation-token total).
func TestRoadScrapesCountWithoutCounters(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", "v0.22.1rc1-fragment.prom"))
	require.NoError(t, err)
	snaps, server := road(t, string(b), string(b), string(b))
	s := Compute(Input{Snapshots: snaps, Server: server, IntervalS: 2})
	assert.Equal(t, 3, s.VLLM.Scrapes)
	assert.Equal(t, 3, s.Server.Scrapes)
	assert.Nil(t, s.VLLM.GenerationTokens)
	assert.Nil(t, s.VLLM.AvgTokensPerSecond)
	assert.Equal(t, 0.0, val(s.VLLM.MaxActiveBatchSize)) // line 1: vllm:num_requests_running{engine="0",...} 0.0
}

// Data parallelism: KV-cache usage of engine 0 then 1 is 0.9, 0.1 in the first scrape and 0.2, 0.4 in the
// second. The busiest engine's maximum is 90 %, everywhere (JSON, threshold name); the means over engines
// (50 %, 30 %) stay per snapshot and average 40 %. (Before, the max was the max of the means: 50 %.)
func TestRoadKVCacheMaxIsTheBusiestEngines(t *testing.T) {
	kv := func(e0, e1 string) string {
		return "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine=\"0\"} " + e0 +
			"\nvllm:kv_cache_usage_perc{engine=\"1\"} " + e1 + "\n"
	}
	snaps, server := road(t, kv("0.9", "0.1"), kv("0.2", "0.4"))
	assert.InDelta(t, 50, val(snaps[0].VLLMMetrics.KVCacheUsagePercent), 1e-12)
	assert.InDelta(t, 30, val(snaps[1].VLLMMetrics.KVCacheUsagePercent), 1e-12)
	s := Compute(Input{Snapshots: snaps, Server: server, IntervalS: 2})
	assert.InDelta(t, 90, val(s.VLLM.MaxKVCacheUsagePercent), 1e-12)
	assert.InDelta(t, 40, val(s.VLLM.AvgKVCacheUsagePercent), 1e-12)
	assert.Equal(t, s.Server.KVCacheUsagePercent.Max, s.VLLM.MaxKVCacheUsagePercent, "one figure")
	v, err := s.Lookup("server.kv_cache_usage.max")
	require.NoError(t, err)
	assert.InDelta(t, 90, v.Value, 1e-12)
}

// Engines with different TTFT bucket layouts ({2, +Inf} and {1, 2, +Inf}): engine 0 saw 10 observations of
// 0.1 s, engine 1 10 of 1.95 s (sum 20.5 s). Summed per le as `sum by (le)` does, engine 0's observations
// are missing from le=1, so all 20 look > 1 s and the _sum bound "proves" p99 ≤ (20.5 − 19·1)/1 = 1.5 s, yet
// the p99 (the largest) is 1.95 s: a threshold p99 < 1.6 s would pass on a false bound. Merged onto the
// common bounds {2, +Inf}: p99 = 0 + 2·19.8/20 = 1.98 s, at most 2 s (true); p50 = 2·10/20 = 1 s, at most
// 20.5/11 = 1.8636... s by the sum (true: the p50 is 0.1 s).
func TestRoadHistogramLayoutsDifferAcrossEngines(t *testing.T) {
	zero := `# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="2"} 0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} 0
vllm:time_to_first_token_seconds_count{engine="0"} 0
vllm:time_to_first_token_seconds_sum{engine="0"} 0
vllm:time_to_first_token_seconds_bucket{engine="1",le="1"} 0
vllm:time_to_first_token_seconds_bucket{engine="1",le="2"} 0
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf"} 0
vllm:time_to_first_token_seconds_count{engine="1"} 0
vllm:time_to_first_token_seconds_sum{engine="1"} 0
`
	busy := `# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="2"} 10
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} 10
vllm:time_to_first_token_seconds_count{engine="0"} 10
vllm:time_to_first_token_seconds_sum{engine="0"} 1
vllm:time_to_first_token_seconds_bucket{engine="1",le="1"} 0
vllm:time_to_first_token_seconds_bucket{engine="1",le="2"} 10
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf"} 10
vllm:time_to_first_token_seconds_count{engine="1"} 10
vllm:time_to_first_token_seconds_sum{engine="1"} 19.5
`
	snaps, server := road(t, zero, busy)
	h := server.TTFT
	require.NotNil(t, h)
	assert.Equal(t, 20.0, h.Count)
	assert.Contains(t, h.Note, "merged onto the 2 bounds all of them have")
	require.NotNil(t, h.P99MS)
	assert.InDelta(t, 1980, val(h.P99MS.ValueMS), 1e-9)
	assert.Equal(t, 2000.0, val(h.P99MS.AtMostMS))
	assert.GreaterOrEqual(t, val(h.P99MS.AtMostMS), 1950.0, "the bound holds the true p99")
	assert.InDelta(t, 1000, val(h.P50MS.ValueMS), 1e-9)
	assert.InDelta(t, 20500.0/11, val(h.P50MS.AtMostMS), 1e-6)
	// The interval view merges the same way.
	assert.InDelta(t, 1980, val(snaps[1].VLLMMetrics.ServerTTFTP99MS), 1e-9)

	s := Compute(Input{Snapshots: snaps, Server: server, IntervalS: 2})
	v, err := s.Lookup("server.ttft.p99")
	require.NoError(t, err)
	require.NotNil(t, v.AtMost)
	assert.Equal(t, 2000.0, *v.AtMost)
}

// fleetRoad runs two replicas' bodies, scraped 1 s apart ("" a failed scrape), through the Fleet as the
// collector does, and computes the summary.
func fleetRoad(t *testing.T, a, b []string) *Summary {
	t.Helper()
	f, err := serverstats.NewFleet([]string{"a", "b"}, 0)
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	snaps := make([]snapshot.Snapshot, len(a))
	for i := range a {
		var round []*serverstats.Scrape
		for _, body := range []string{a[i], b[i]} {
			if body == "" {
				round = append(round, nil)
				continue
			}
			sc, err := serverstats.Parse([]byte(body), t0.Add(time.Duration(i)*time.Second), "")
			require.NoError(t, err)
			round = append(round, &sc)
		}
		snaps[i].ElapsedS = float64(i)
		f.Commit(round, &snaps[i].VLLMMetrics)
	}
	st := f.Summary()
	return Compute(Input{Snapshots: snaps, Server: &st, IntervalS: 1, DurationS: float64(len(a) - 1)})
}

// genBodies returns one body per generation-token count ("" for a negative one: a failed scrape), with
// the queue gauge at q.
func genBodies(q float64, gens ...float64) []string {
	out := make([]string, len(gens))
	for i, g := range gens {
		if g >= 0 {
			out[i] = fmt.Sprintf("# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total %g\n"+
				"# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting %g\n", g, q)
		}
	}
	return out
}

// A replica stopped for part of the run (SIGSTOP: no scrape answered, no token made) or dead from some
// point: the aggregate's average throughput is every replica's tokens over the whole window, not the rate of
// the intervals in which every replica answered, and the summary says what share of rounds were complete.
func TestFleetAggregateAverageWithAReplicaDown(t *testing.T) {
	a := genBodies(2, 0, 130, 260, 390, 520, 650, 780, 910) // 130 tok/s throughout, queue 2
	// b makes 120 tok/s, is stopped from 2 s to 6 s (three failed scrapes, no tokens), then 120 tok/s again.
	s := fleetRoad(t, a, genBodies(4, 0, 120, 240, -1, -1, -1, 240, 360))
	// (910 + 360) tokens over 7 s = 181.43 tok/s; the complete intervals alone said 250.
	require.NotNil(t, s.VLLM.AvgTokensPerSecond)
	assert.InDelta(t, 1270.0/7, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 130, *s.VLLM.Replicas["a"].AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 360.0/7, *s.VLLM.Replicas["b"].AvgTokensPerSecond, 1e-9, "b's 4 s gap counts at its rate, 0")
	assert.Equal(t, 250.0, *s.VLLM.MaxTokensPerSecond, "the largest complete interval")
	assert.InDelta(t, 5.0/8, *s.VLLM.Coverage, 1e-12, "rounds 0, 1, 2, 6 and 7 had both replicas")
	assert.InDelta(t, 6, *s.VLLM.AvgRequestQueueSize, 1e-12, "queue 2 (a) + 4 (b), each over its own scrapes")
	v, err := s.Lookup("server.tokens_per_second.avg")
	require.NoError(t, err)
	assert.InDelta(t, 1270.0/7, v.Value, 1e-9)

	// b dies after 2 s for good: its 240 tokens count, and nothing after; (910 + 240) / 7 = 164.29 tok/s.
	s = fleetRoad(t, a, genBodies(4, 0, 120, 240, -1, -1, -1, -1, -1))
	assert.InDelta(t, 1150.0/7, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 3.0/8, *s.VLLM.Coverage, 1e-12)
	assert.Nil(t, s.VLLM.Replicas["a"].Coverage)
}
