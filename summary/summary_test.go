package summary

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

func f(v float64) *float64 { return &v }

func TestComputeAveragesMaximaAndDeltas(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{GPUMetrics: map[string]snapshot.GPU{"gpu_0": {Name: "H200", Utilization: f(80), MemoryUsedMB: f(1000), PowerW: f(300), EnergyJ: f(0)}},
			VLLMMetrics:   snapshot.VLLM{GenerationTokensTotal: f(1000), RequestQueueSize: f(2), KVCacheUsagePercent: f(10)},
			SystemMetrics: snapshot.System{CPUPercent: nil, MemoryGB: f(4), NetworkSentBytes: f(100)}},
		{ElapsedS: 2, GPUMetrics: map[string]snapshot.GPU{"gpu_0": {Name: "H200", Utilization: f(90), MemoryUsedMB: f(3000), PowerW: f(500), EnergyJ: f(800)}},
			VLLMMetrics:   snapshot.VLLM{GenerationTokensTotal: f(1400), TokensPerSecond: f(200), RequestQueueSize: f(6), KVCacheUsagePercent: f(30)},
			SystemMetrics: snapshot.System{CPUPercent: f(50), MemoryGB: f(6), NetworkSentBytes: f(700)}},
		{ElapsedS: 4, GPUMetrics: map[string]snapshot.GPU{}, // GPU missing this tick: not averaged in as 0
			VLLMMetrics:   snapshot.VLLM{}, // failed scrape: nil everywhere
			SystemMetrics: snapshot.System{CPUPercent: f(70), MemoryGB: f(5), NetworkSentBytes: f(900)}},
	}
	reqs := recorder.Summary{E2EMS: recorder.ComputeStats([]float64{10, 20, 30}), TTFTMS: recorder.ComputeStats([]float64{4, 6})}
	ev := []snapshot.Event{{Time: time.Unix(20, 0), Message: "b"}, {Time: time.Unix(10, 0), Message: "a"}}
	// The server's window over the two successful scrapes behind the first two snapshots (the third failed).
	server := window(t,
		"# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total 1000\n# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting 2\n# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc 0.1\n",
		"# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total 1400\n# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting 6\n# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc 0.3\n")
	s := Compute(Input{Snapshots: snaps, Requests: reqs, Events: ev, IntervalS: 2, Server: server})

	g := s.GPU["gpu_0"]
	assert.Equal(t, 2, g.Samples)
	assert.InDelta(t, 85, *g.AvgUtilization, 1e-9)
	assert.InDelta(t, 90, *g.MaxUtilization, 1e-9)
	assert.InDelta(t, 2000, *g.AvgMemoryUsedMB, 1e-9)
	assert.InDelta(t, 500, *g.MaxPowerW, 1e-9)
	assert.InDelta(t, 800, *g.EnergyJ, 1e-9)
	// 800 J over 1400−1000 = 400 generated tokens = 2 J/token.
	require.NotNil(t, s.EnergyPerOutputTokenJ)
	assert.InDelta(t, 2, *s.EnergyPerOutputTokenJ, 1e-9)

	assert.InDelta(t, 400, *s.VLLM.GenerationTokens, 1e-9)
	assert.Equal(t, 2, s.VLLM.Scrapes)
	assert.InDelta(t, 200, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 4, *s.VLLM.AvgRequestQueueSize, 1e-9)
	assert.InDelta(t, 6, *s.VLLM.MaxRequestQueueSize, 1e-9)
	assert.InDelta(t, 20, *s.VLLM.AvgKVCacheUsagePercent, 1e-9)
	assert.Nil(t, s.VLLM.AvgActiveBatchSize, "never exposed → null, not 0")
	assert.InDelta(t, 20, *s.VLLM.P50LatencyMS, 1e-9)
	assert.InDelta(t, 5, *s.VLLM.FirstTokenLatencyMS, 1e-9)

	assert.InDelta(t, 60, *s.System.AvgCPUPercent, 1e-9, "the first tick's null CPU is not a 0")
	assert.InDelta(t, 70, *s.System.MaxCPUPercent, 1e-9)
	assert.InDelta(t, 5, *s.System.AvgMemoryGB, 1e-9)
	assert.InDelta(t, 800, *s.System.NetworkSentBytes, 1e-9)

	require.Len(t, s.Events, 2)
	assert.Equal(t, "a", s.Events[0].Message, "events are in time order")
}

// window is the server window over scrapes of the given Prometheus text bodies, 2 s apart.
func window(t *testing.T, bodies ...string) *serverstats.Stats {
	t.Helper()
	w := serverstats.NewWindow()
	at := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	for _, b := range bodies {
		sc, err := serverstats.Parse([]byte(b), at, "")
		require.NoError(t, err)
		w.Add(sc)
		at = at.Add(2 * time.Second)
	}
	st := w.Summary()
	return &st
}

// A counter that went down without a restart seen (1000 → 50 → 90) is a reset: the window counts the step
// from 0 (50), then +40: 90 tokens, and the energy per token uses them (180 J / 90 = 2 J/token).
func TestCounterResetIsSurvived(t *testing.T) {
	gen := func(x string) string {
		return "# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total " + x + "\n"
	}
	snaps := []snapshot.Snapshot{
		{GPUMetrics: map[string]snapshot.GPU{"gpu_0": {EnergyJ: f(0)}}},
		{ElapsedS: 2},
		{ElapsedS: 4, GPUMetrics: map[string]snapshot.GPU{"gpu_0": {EnergyJ: f(180)}}},
	}
	s := Compute(Input{Snapshots: snaps, Server: window(t, gen("1000"), gen("50"), gen("90"))})
	require.NotNil(t, s.VLLM.GenerationTokens)
	assert.Equal(t, 90.0, *s.VLLM.GenerationTokens)
	assert.Equal(t, s.Server.GenerationTokens, s.VLLM.GenerationTokens, "one figure")
	require.NotNil(t, s.EnergyPerOutputTokenJ)
	assert.InDelta(t, 2, *s.EnergyPerOutputTokenJ, 1e-12)
	assert.Equal(t, 3, s.VLLM.Scrapes)
}

func TestEmptyRunIsAllNull(t *testing.T) {
	s := Compute(Input{})
	assert.Empty(t, s.GPU)
	assert.NotNil(t, s.GPU, "gpu_statistics is {}, not null")
	assert.Nil(t, s.VLLM.AvgTokensPerSecond)
	assert.Nil(t, s.System.AvgCPUPercent)
	assert.Equal(t, "(files not written)", s.DataFile())
}

func TestLatencyNames(t *testing.T) {
	s := &Summary{Requests: recorder.Summary{TTFTMS: recorder.ComputeStats([]float64{1})}}
	st, err := s.Latency("TTFT")
	require.NoError(t, err)
	assert.Equal(t, 1, st.N)
	_, err = s.Latency("ttfb")
	assert.ErrorContains(t, err, `unknown latency metric "ttfb"`)
}

// The last snapshot, taken when collection stops, may cover a few milliseconds: its rate is neither the
// maximum nor part of the average; both are over the full intervals only.
func TestShortLastIntervalDoesNotDistortRates(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 2, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(100), RequestsPerSecond: f(1)}, SystemMetrics: snapshot.System{CPUPercent: f(40)}},
		{ElapsedS: 4, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(200), RequestsPerSecond: f(3)}, SystemMetrics: snapshot.System{CPUPercent: f(60)}},
		{ElapsedS: 4.01, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(5000), RequestsPerSecond: f(100)}, SystemMetrics: snapshot.System{CPUPercent: f(0)}},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	// Full intervals (≥ 2/2 = 1 s): (0, 2] and (2, 4]; (4, 4.01] is 0.01 s and left out of both.
	// Weighted: (100·2 + 200·2) / (2 + 2) = 600 / 4 = 150; max 200.
	assert.InDelta(t, 150, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 200, *s.VLLM.MaxTokensPerSecond, 1e-9)
	// Requests: (1·2 + 3·2) / 4 = 2.
	assert.InDelta(t, 2, *s.VLLM.AvgRequestsPerSecond, 1e-9)
	// CPU: (40·2 + 60·2) / 4 = 50; max 60.
	assert.InDelta(t, 50, *s.System.AvgCPUPercent, 1e-9)
	assert.InDelta(t, 60, *s.System.MaxCPUPercent, 1e-9)
}

// The user's case: a short last interval with a higher rate than any full one used to pull the weighted
// average above the maximum (354.1 tok/s avg, 353.1 max).
func TestRateAverageNeverAboveMaximum(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 2, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(350)}, SystemMetrics: snapshot.System{CPUPercent: f(58)}},
		{ElapsedS: 4, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(353)}, SystemMetrics: snapshot.System{CPUPercent: f(58.9)}},
		{ElapsedS: 4.5, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(380)}, SystemMetrics: snapshot.System{CPUPercent: f(70)}},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	// Old rule: avg (350·2 + 353·2 + 380·0.5) / 4.5 = 1596 / 4.5 = 354.67 > max 353.
	// New rule, full intervals only: (350·2 + 353·2) / 4 = 351.5; max 353.
	assert.InDelta(t, 351.5, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 353, *s.VLLM.MaxTokensPerSecond, 1e-9)
	// CPU: (58·2 + 58.9·2) / 4 = 58.45; max 58.9.
	assert.InDelta(t, 58.45, *s.System.AvgCPUPercent, 1e-9)
	assert.InDelta(t, 58.9, *s.System.MaxCPUPercent, 1e-9)
}

// A run shorter than half the sampling interval has no full interval: avg and max then both come from every
// interval, never an avg without a max.
func TestRatesOfARunShorterThanHalfAnInterval(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 0.4, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(130.5)}, SystemMetrics: snapshot.System{CPUPercent: f(9.9)}},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	// One interval of 0.4 s < 1 s: the fallback uses it for both: avg 130.5·0.4/0.4 = 130.5, max 130.5.
	require.NotNil(t, s.VLLM.MaxTokensPerSecond)
	assert.InDelta(t, 130.5, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 130.5, *s.VLLM.MaxTokensPerSecond, 1e-9)
	require.NotNil(t, s.System.MaxCPUPercent)
	assert.InDelta(t, 9.9, *s.System.AvgCPUPercent, 1e-9)
	assert.InDelta(t, 9.9, *s.System.MaxCPUPercent, 1e-9)

	// Two short intervals: 0.2 s at 100 and 0.3 s at 200 → avg (100·0.2 + 200·0.3)/0.5 = 80/0.5 = 160, max 200.
	snaps = []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 0.2, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(100)}},
		{ElapsedS: 0.5, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(200)}},
	}
	s = Compute(Input{Snapshots: snaps, IntervalS: 2})
	assert.InDelta(t, 160, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 200, *s.VLLM.MaxTokensPerSecond, 1e-9)
	assert.Nil(t, s.System.AvgCPUPercent, "no CPU reading: null, not 0")
	assert.Nil(t, s.System.MaxCPUPercent)
}

func iptr(v int) *int { return &v }

// Per-MIG-device memory: NVML devices keyed by GPU and compute instance, dcgm-exporter's by GPU instance only;
// a null reading is left out of the average, not counted as 0.
func TestMIGDeviceMemory(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{GPUMetrics: map[string]snapshot.GPU{
			"gpu_0": {MemoryUsedMB: f(16959), MIGDevices: []snapshot.MIGDevice{
				{GPUInstanceID: iptr(2), ComputeInstanceID: iptr(0), Index: iptr(0), Profile: "1c.3g.71gb", UUID: "MIG-a", MemoryUsedMB: f(16925), MemoryTotalMB: f(71424)},
				{GPUInstanceID: iptr(9), Profile: "1g.18gb", MemoryUsedMB: f(9), MemoryTotalMB: f(16384)},
			}},
			"gpu_1": {MemoryUsedMB: f(2)},
		}},
		{ElapsedS: 2, GPUMetrics: map[string]snapshot.GPU{
			"gpu_0": {MIGDevices: []snapshot.MIGDevice{
				{GPUInstanceID: iptr(2), ComputeInstanceID: iptr(0), Index: iptr(0), Profile: "1c.3g.71gb", UUID: "MIG-a", MemoryUsedMB: f(20925)},
				{GPUInstanceID: iptr(9), Profile: "1g.18gb"}, // memory null this tick
				{Index: iptr(5), MemoryUsedMB: f(1)},
				{}, // identified by nothing: left out
			}},
		}},
		{ElapsedS: 4, GPUMetrics: map[string]snapshot.GPU{}},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	mig := s.GPU["gpu_0"].MIG
	require.Len(t, mig, 3)
	a := mig["gi2_ci0"]
	assert.Equal(t, 2, a.Samples)
	assert.Equal(t, "1c.3g.71gb", a.Profile)
	assert.Equal(t, "MIG-a", a.UUID)
	assert.InDelta(t, (16925+20925)/2.0, *a.AvgMemoryUsedMB, 1e-9)
	assert.InDelta(t, 20925, *a.MaxMemoryUsedMB, 1e-9)
	assert.InDelta(t, 71424, *a.MemoryTotalMB, 1e-9, "last known total")
	b := mig["gi9"]
	assert.Equal(t, 2, b.Samples)
	assert.InDelta(t, 9, *b.AvgMemoryUsedMB, 1e-9, "the null tick is not averaged in")
	assert.InDelta(t, 9, *b.MaxMemoryUsedMB, 1e-9)
	assert.InDelta(t, 1, *mig["mig5"].MaxMemoryUsedMB, 1e-9)
	assert.Nil(t, mig["mig5"].MemoryTotalMB)
	assert.Nil(t, s.GPU["gpu_1"].MIG, "no MIG devices: nil")

	raw, err := json.Marshal(s.GPU["gpu_1"])
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "mig_devices")
	raw, err = json.Marshal(s.GPU["gpu_0"])
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"mig_devices":{"gi2_ci0":{"profile":"1c.3g.71gb","uuid":"MIG-a","avg_memory_used_mb":18925,`)
}

// A MIG device whose compute instance ID NVML could not read one tick stays under its gi/ci key (found by its
// UUID), and two compute instances of one GPU instance never merge: the review's case of two ticks, the second
// with CI IDs missing.
func TestMIGDeviceKeyStableByUUID(t *testing.T) {
	dev := func(ci *int, uuid string, used float64) snapshot.MIGDevice {
		return snapshot.MIGDevice{GPUInstanceID: iptr(2), ComputeInstanceID: ci, UUID: uuid, MemoryUsedMB: f(used)}
	}
	snaps := []snapshot.Snapshot{
		{GPUMetrics: map[string]snapshot.GPU{"gpu_0": {MIGDevices: []snapshot.MIGDevice{
			dev(iptr(0), "MIG-a", 100), dev(iptr(1), "MIG-b", 200)}}}},
		{ElapsedS: 2, GPUMetrics: map[string]snapshot.GPU{"gpu_0": {MIGDevices: []snapshot.MIGDevice{
			dev(nil, "MIG-a", 300), dev(nil, "MIG-b", 400)}}}},
	}
	mig := Compute(Input{Snapshots: snaps, IntervalS: 2}).GPU["gpu_0"].MIG
	require.Len(t, mig, 2)
	assert.Equal(t, 2, mig["gi2_ci0"].Samples)
	assert.InDelta(t, (100+300)/2.0, *mig["gi2_ci0"].AvgMemoryUsedMB, 1e-9)
	assert.Equal(t, 2, mig["gi2_ci1"].Samples)
	assert.InDelta(t, 400, *mig["gi2_ci1"].MaxMemoryUsedMB, 1e-9)

	// Without UUIDs the second tick's readings share the key gi2; one snapshot counts once under a key.
	snaps[1].GPUMetrics["gpu_0"] = snapshot.GPU{MIGDevices: []snapshot.MIGDevice{dev(nil, "", 300), dev(nil, "", 400)}}
	mig = Compute(Input{Snapshots: snaps, IntervalS: 2}).GPU["gpu_0"].MIG
	assert.Equal(t, 1, mig["gi2"].Samples)
}

// serverSaw is a window in which the server saw 20 requests (20 TTFT observations) and generated 2000 tokens.
func serverSaw() *serverstats.Stats {
	gen := 2000.0
	return &serverstats.Stats{Scrapes: 10, Figures: serverstats.Figures{
		TTFT:             &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 20},
		GenerationTokens: &gen,
	}, NamesUsed: map[string]string{serverstats.FieldGenerationTokensTotal: "vllm:generation_tokens_total"}}
}

// vmtest collect: the client recorded nothing, the requests came from elsewhere: no cross-check, no warning.
func TestNoCrossCheckWhenTheClientRecordedNothing(t *testing.T) {
	s := Compute(Input{Server: serverSaw()})
	assert.Empty(t, s.Warnings)
	assert.NotNil(t, s.Warnings, "warnings is [], not null")

	// One request recorded, failed: the client did send requests, so the check runs. Requests: |20 − 0| = 20 >
	// max(2, 5 % of 20 = 1) = 2; tokens: |2000 − 0| = 2000 > max(64, 5 % of 2000 = 100) = 100. Two warnings.
	s = Compute(Input{Server: serverSaw(), Requests: recorder.Summary{Counts: recorder.Counts{Total: 1, Failed: 1}}})
	require.Len(t, s.Warnings, 2)
	assert.Contains(t, s.Warnings[0], "server TTFT observations over the window (20 from vllm:time_to_first_token_seconds) and requests the client completed (0) differ by 20 (∞ of the client's), beyond the tolerance of 2")
	assert.Contains(t, s.Warnings[1], "the client's output tokens (0) differ by 2000 (∞ of the client's), beyond the tolerance of 100")
}

// The reviewer's case: a rate is over the interval since the previous successful scrape, so after a failed
// one it covers more than one tick and weighs accordingly. 100 tok/s over (0, 2] s, the scrape at 4 s fails,
// 300 tok/s over (2, 6] s: the server generated 100·2 + 300·4 = 1400 tokens in 6 s, 233.3 tok/s (weighting
// by the gap to the previous snapshot gave (100·2 + 300·2)/4 = 200).
func TestRateAfterAFailedScrapeWeighsTheIntervalItCovers(t *testing.T) {
	failed := map[string]string{"vllm": "GET http://localhost:8000/metrics: connection refused"}
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0, VLLMMetrics: snapshot.VLLM{GenerationTokensTotal: f(0), RequestSuccessTotal: f(0)}},
		{ElapsedS: 2, VLLMMetrics: snapshot.VLLM{GenerationTokensTotal: f(200), TokensPerSecond: f(100),
			RequestSuccessTotal: f(2), RequestsPerSecond: f(1), ScrapeIntervalS: f(2)}},
		{ElapsedS: 4, Errors: failed},
		{ElapsedS: 6, VLLMMetrics: snapshot.VLLM{GenerationTokensTotal: f(1400), TokensPerSecond: f(300),
			RequestSuccessTotal: f(14), RequestsPerSecond: f(3), ScrapeIntervalS: f(4)}},
	}
	gen := func(x string) string {
		return "# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total " + x + "\n"
	}
	server := window(t, gen("0"), gen("200"), gen("1400")) // the three successful scrapes
	check := func(name string, snaps []snapshot.Snapshot) {
		s := Compute(Input{Snapshots: snaps, IntervalS: 2, Server: server})
		require.NotNil(t, s.VLLM.AvgTokensPerSecond, name)
		// (100·2 + 300·4) / (2 + 4) = 1400 / 6 = 233.333…; the same as the counter's increase over the run / 6 s.
		assert.InDelta(t, 1400.0/6, *s.VLLM.AvgTokensPerSecond, 1e-9, name)
		assert.InDelta(t, *s.VLLM.GenerationTokens/6, *s.VLLM.AvgTokensPerSecond, 1e-9, name)
		assert.InDelta(t, 300, *s.VLLM.MaxTokensPerSecond, 1e-9, name)
		// Requests: (1·2 + 3·4) / 6 = 14/6 = 2.333…
		assert.InDelta(t, 14.0/6, *s.VLLM.AvgRequestsPerSecond, 1e-9, name)
	}
	check("recorded interval", snaps)

	// Snapshots without the recorded interval (an older file): the interval runs from the previous snapshot
	// whose scrape did not fail (no Errors["vllm"]), here (2, 6].
	old := append([]snapshot.Snapshot(nil), snaps...)
	for i := range old {
		old[i].VLLMMetrics.ScrapeIntervalS = nil
	}
	check("interval from the snapshots", old)
}

// The stopping snapshot comes a few ms after a tick whose scrape failed: its rate covers more than a full
// interval and is used, where the gap to the previous snapshot alone called it short and left it out.
func TestStoppingSnapshotAfterAFailedScrapeIsAFullInterval(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0, VLLMMetrics: snapshot.VLLM{GenerationTokensTotal: f(0)}},
		{ElapsedS: 2, VLLMMetrics: snapshot.VLLM{GenerationTokensTotal: f(200), TokensPerSecond: f(100), ScrapeIntervalS: f(2)}},
		{ElapsedS: 4, Errors: map[string]string{"vllm": "no reading within 1.5s"}},
		{ElapsedS: 4.01, VLLMMetrics: snapshot.VLLM{GenerationTokensTotal: f(702.5), TokensPerSecond: f(250), ScrapeIntervalS: f(2.01)}},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	// Covered: (0, 2] at 100 and (2, 4.01] at 250, both ≥ 1 s: avg (100·2 + 250·2.01) / 4.01 = 702.5 / 4.01
	// = 175.187…; max 250. (Before: 0.01 s, left out: avg 100, max 100.)
	assert.InDelta(t, 702.5/4.01, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 175.18703241895262, *s.VLLM.AvgTokensPerSecond, 1e-9)
	assert.InDelta(t, 250, *s.VLLM.MaxTokensPerSecond, 1e-9)
}

// CPU percent is over the interval since the host sampler's previous reading. A reading that came back after
// its tick's deadline is in no snapshot (the tick at 4 s has no host figures), but it was the sampler's
// previous reading, at 4.9 s: the CPU percent at 6 s covers (4.9, 6], 1.1 s, not the 2 s since the snapshot
// at 4 s.
func TestCPUPercentWeighsTheIntervalItCovers(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0, SystemMetrics: snapshot.System{MemoryGB: f(4)}},
		{ElapsedS: 2, SystemMetrics: snapshot.System{CPUPercent: f(40), RateIntervalS: f(2)}},
		{ElapsedS: 4, Errors: map[string]string{"system": "no reading within 1.5s"}},
		{ElapsedS: 6, SystemMetrics: snapshot.System{CPUPercent: f(80), RateIntervalS: f(1.1)}},
		{ElapsedS: 8, SystemMetrics: snapshot.System{CPUPercent: f(60), RateIntervalS: f(2)}},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	// (40·2 + 80·1.1 + 60·2) / (2 + 1.1 + 2) = 288 / 5.1 = 56.470588…; max 80. (By snapshot gaps: 360/6 = 60.)
	assert.InDelta(t, 288/5.1, *s.System.AvgCPUPercent, 1e-9)
	assert.InDelta(t, 56.470588235294116, *s.System.AvgCPUPercent, 1e-9)
	assert.InDelta(t, 80, *s.System.MaxCPUPercent, 1e-9)
}

// The cgroup beside the host: memory averaged over snapshots, CPU weighted by interval as the host's, the
// limit and quota as last read; without a limit or quota their figures stay unknown, not 0.
func TestCgroupStatistics(t *testing.T) {
	cg := func(mem, pct, cores, cpuPct *float64) snapshot.System {
		return snapshot.System{Cgroup: "v2 /", CgroupMemoryGB: mem, CgroupMemoryPercent: pct, CgroupMemoryLimitGB: f(2),
			CgroupCPUQuotaCores: f(1.5), CgroupCPUCores: cores, CgroupCPUPercent: cpuPct}
	}
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0, SystemMetrics: cg(f(0.5), f(25), nil, nil)},
		{ElapsedS: 2, SystemMetrics: cg(f(1), f(50), f(0.6), f(40))},
		{ElapsedS: 3, SystemMetrics: cg(f(1.5), f(75), f(1.5), f(100))},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	y := s.System
	assert.Equal(t, "v2 /", y.Cgroup)
	assert.InDelta(t, 1, *y.AvgCgroupMemoryGB, 1e-9, "(0.5 + 1 + 1.5) / 3")
	assert.InDelta(t, 1.5, *y.MaxCgroupMemoryGB, 1e-9)
	assert.InDelta(t, 50, *y.AvgCgroupMemoryPercent, 1e-9, "(25 + 50 + 75) / 3")
	assert.InDelta(t, 75, *y.MaxCgroupMemoryPercent, 1e-9)
	assert.InDelta(t, 2, *y.CgroupMemoryLimitGB, 1e-9)
	assert.InDelta(t, 1.5, *y.CgroupCPUQuotaCores, 1e-9)
	// Intervals 2 s and 1 s, both ≥ half the 2 s interval: (0.6·2 + 1.5·1) / 3 = 0.9 cores; (40·2 + 100·1) / 3 = 60 %.
	assert.InDelta(t, 0.9, *y.AvgCgroupCPUCores, 1e-9)
	assert.InDelta(t, 1.5, *y.MaxCgroupCPUCores, 1e-9)
	assert.InDelta(t, 60, *y.AvgCgroupCPUPercent, 1e-9)
	assert.InDelta(t, 100, *y.MaxCgroupCPUPercent, 1e-9)
	v, err := s.Lookup("cgroup_cpu_percent.avg")
	require.NoError(t, err)
	assert.True(t, v.Known)
	assert.InDelta(t, 60, v.Value, 1e-9)

	assert.Equal(t, "", y.CgroupCPU, "the snapshots name no CPU cgroup")

	// The CPU cgroup is the host's root (a hybrid v1 host): named and marked in the JSON, its use null.
	host := snapshot.System{Cgroup: "v1 /m", CgroupCPU: "v1 /", CgroupCPUIsHost: true, CgroupMemoryGB: f(1)}
	hs := Compute(Input{Snapshots: []snapshot.Snapshot{{ElapsedS: 0, SystemMetrics: host}, {ElapsedS: 2, SystemMetrics: host}}, IntervalS: 2})
	b, err := json.Marshal(hs.System)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"cgroup":"v1 /m","cgroup_cpu":"v1 /","cgroup_cpu_is_host":true,`)
	assert.Contains(t, string(b), `"avg_cgroup_cpu_cores":null,"max_cgroup_cpu_cores":null,`)

	none := Compute(Input{Snapshots: []snapshot.Snapshot{{ElapsedS: 0}, {ElapsedS: 2}}, IntervalS: 2}).System
	assert.Empty(t, none.Cgroup)
	assert.Nil(t, none.MaxCgroupMemoryPercent)
	assert.Nil(t, none.CgroupCPUQuotaCores)
}

// The caller's warnings (vmtest.Options.Warnings) come first, before the summary's own, and are copied.
func TestComputeCallerWarningsFirst(t *testing.T) {
	mine := []string{"input lengths are approximate (no tokenizer given)"}
	s := Compute(Input{Warnings: mine, Requests: recorder.Summary{Counts: recorder.Counts{Total: 1, OK: 1}}})
	require.NotEmpty(t, s.Warnings)
	assert.Equal(t, mine[0], s.Warnings[0])
	s.Warnings[0] = "changed"
	assert.Equal(t, "input lengths are approximate (no tokenizer given)", mine[0])
}
