package summary

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
)

func lp(v float64) *float64 { return &v }

// lookupFixture is issue 5's pinned input (TTFT in ms, two failed requests) plus hand-set sampled figures.
func lookupFixture() *Summary {
	return &Summary{
		RunID: "run-1", DurationS: 30, Snapshots: 15,
		Requests: recorder.Summary{
			Counts:                recorder.Counts{Total: 12, OK: 10, Failed: 2, OutputTokens: 1000, PromptTokens: 500},
			TTFTMS:                recorder.ComputeStats([]float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500}),
			WindowS:               lp(12),
			RequestThroughput:     lp(10.0 / 12),
			OutputTokenThroughput: lp(1000.0 / 12),
			TotalTokenThroughput:  lp(1500.0 / 12),
			ErrorRate:             lp(2.0 / 12),
		},
		GPU: map[string]GPUStats{
			"gpu_0": {AvgUtilization: lp(80), MaxUtilization: lp(95), AvgMemoryUsedMB: lp(1000), MaxMemoryUsedMB: lp(1200),
				AvgPowerW: lp(300), MaxPowerW: lp(450), MaxTempC: lp(70), EnergyJ: lp(9000), Samples: 10},
			"gpu_1": {AvgUtilization: lp(60), MaxUtilization: lp(100), AvgMemoryUsedMB: lp(3000), MaxMemoryUsedMB: lp(3100),
				MaxTempC: lp(75), EnergyJ: lp(3000), Samples: 8}, // power never reported
		},
		VLLM: VLLMStats{AvgTokensPerSecond: lp(83), MaxTokensPerSecond: lp(140), AvgRequestQueueSize: lp(1.5),
			MaxRequestQueueSize: lp(4), AvgActiveBatchSize: lp(6), MaxActiveBatchSize: lp(8), AvgKVCacheUsagePercent: lp(12.5),
			MaxKVCacheUsagePercent: lp(30), GenerationTokens: lp(1000), Scrapes: 14},
		System:                SystemStats{AvgCPUPercent: lp(20), MaxCPUPercent: lp(55), AvgMemoryGB: lp(6), MaxMemoryGB: lp(7.5)},
		EnergyPerOutputTokenJ: lp(12),
	}
}

func TestLookupPinnedLatency(t *testing.T) {
	s := lookupFixture()
	// Sorted: 95 98 99 101 105 110 120 130 400 2500. numpy-linear, h = 9·q/100.
	cases := map[string]struct {
		canon string
		want  float64
	}{
		"ttft.p50":    {"ttft.p50", 107.5},  // h 4.5: 105 + .5·5
		"TTFT.median": {"ttft.p50", 107.5},  // synonyms, any case
		"ttft.med":    {"ttft.p50", 107.5},  //
		"ttft.p90":    {"ttft.p90", 610},    // h 8.1: 400 + .1·2100
		"ttft.p95":    {"ttft.p95", 1555},   // h 8.55: 400 + .55·2100
		"ttft.p99":    {"ttft.p99", 2311},   // h 8.91: 400 + .91·2100
		"ttft.mean":   {"ttft.mean", 375.8}, // 3758 / 10
		"ttft.avg":    {"ttft.mean", 375.8},
		"ttft.min":    {"ttft.min", 95},
		"ttft.max":    {"ttft.max", 2500},
		// population std: mean of squares 650305.6 − 375.8² = 509079.96
		"ttft.std": {"ttft.std", math.Sqrt(509079.96)},
	}
	for name, c := range cases {
		v, err := s.Lookup(name)
		require.NoError(t, err, name)
		assert.True(t, v.Known, name)
		assert.Equal(t, c.canon, v.Name, name)
		assert.InDelta(t, c.want, v.Value, 1e-9, name)
		assert.Equal(t, "ms", v.Unit, name)
		assert.Equal(t, 10, v.N, name)
		require.NotNil(t, v.WindowS, name)
		assert.Equal(t, 12.0, *v.WindowS, name)
	}
	// A latency with no sample is unknown, not 0, and says why.
	v, err := s.Lookup("tpot.p99")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, 0, v.N)
	assert.Equal(t, "n=0 values from 10 successful requests", v.Note)
	v, err = (&Summary{Requests: recorder.Summary{Counts: recorder.Counts{Total: 3, Failed: 2, Rejected: 1}}}).Lookup("e2e.p50")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, "n=0 successful requests of 3 recorded: 2 failed, 0 incomplete, 1 rejected, 0 canceled", v.Note)
	v, err = s.Lookup("latency.p99")
	require.NoError(t, err)
	assert.Equal(t, "e2e.p99", v.Name)
}

// knownLookup is what Lookup must return for a name whose figure is known: its canonical name, unit, value
// and n.
type knownLookup struct {
	canon, unit string
	v           float64
	n           int
}

// checkKnown looks name up in s, checks the answer against want and returns it.
func checkKnown(t *testing.T, s *Summary, name string, want knownLookup) Value {
	t.Helper()
	v, err := s.Lookup(name)
	require.NoError(t, err, name)
	assert.True(t, v.Known, name)
	assert.Equal(t, want.canon, v.Name, name)
	assert.Equal(t, want.unit, v.Unit, name)
	assert.InDelta(t, want.v, v.Value, 1e-12, name)
	assert.Equal(t, want.n, v.N, name)
	return v
}

func TestLookupRequestFigures(t *testing.T) {
	s := lookupFixture()
	for name, want := range map[string]knownLookup{
		"error_rate":              {"error_rate", "fraction", 2.0 / 12, 12},
		"throughput":              {"request_throughput", "req/s", 10.0 / 12, 10},
		"request_throughput":      {"request_throughput", "req/s", 10.0 / 12, 10},
		"output_token_throughput": {"output_token_throughput", "tok/s", 1000.0 / 12, 10},
		"total_token_throughput":  {"total_token_throughput", "tok/s", 1500.0 / 12, 10},
		"requests.ok":             {"requests.ok", "requests", 10, 12},
		"requests.failed":         {"requests.failed", "requests", 2, 12},
		"requests.incomplete":     {"requests.incomplete", "requests", 0, 12},
		"requests.rejected":       {"requests.rejected", "requests", 0, 12},
		"Requests.Total":          {"requests.total", "requests", 12, 12},
		"requests.output_tokens":  {"requests.output_tokens", "tokens", 1000, 12},
	} {
		checkKnown(t, s, name, want)
	}
	empty := &Summary{}
	v, err := empty.Lookup("error_rate")
	require.NoError(t, err)
	assert.False(t, v.Known, "no request: the error rate is unknown, not 0")
	v, err = empty.Lookup("throughput")
	require.NoError(t, err)
	assert.False(t, v.Known)
	v, err = empty.Lookup("requests.failed")
	require.NoError(t, err)
	assert.True(t, v.Known, "a count of 0 is a fact")
}

func TestLookupSampledFigures(t *testing.T) {
	s := lookupFixture()
	for name, want := range map[string]knownLookup{
		// avg: mean of per-GPU averages (80, 60); max: max of maxima (95, 100); n: snapshots behind them.
		"gpu.utilization.avg":          {"gpu.utilization.avg", "%", 70, 18},
		"gpu.utilization.mean":         {"gpu.utilization.avg", "%", 70, 18},
		"gpu.utilization.max":          {"gpu.utilization.max", "%", 100, 18},
		"gpu.memory_used_mb.avg":       {"gpu.memory_used_mb.avg", "MiB", 2000, 18},
		"gpu.memory_used_mb.max":       {"gpu.memory_used_mb.max", "MiB", 3100, 18},
		"gpu.power_w.avg":              {"gpu.power_w.avg", "W", 300, 10}, // gpu_1 never reported power
		"gpu.power_w.max":              {"gpu.power_w.max", "W", 450, 10},
		"gpu.temp_c.max":               {"gpu.temp_c.max", "°C", 75, 18},
		"gpu.energy_j":                 {"gpu.energy_j", "J", 12000, 18},
		"gpu_0.utilization.avg":        {"gpu_0.utilization.avg", "%", 80, 10},
		"GPU_1.utilization.max":        {"gpu_1.utilization.max", "%", 100, 8},
		"gpu_1.energy_j":               {"gpu_1.energy_j", "J", 3000, 8},
		"energy_per_output_token_j":    {"energy_per_output_token_j", "J/token", 12, 14},
		"server.tokens_per_second.avg": {"server.tokens_per_second.avg", "tok/s", 83, 14},
		"server.tokens_per_second.max": {"server.tokens_per_second.max", "tok/s", 140, 14},
		"server.queue.avg":             {"server.queue.avg", "requests", 1.5, 14},
		"server.queue.max":             {"server.queue.max", "requests", 4, 14},
		"server.batch.mean":            {"server.batch.avg", "requests", 6, 14},
		"server.batch.max":             {"server.batch.max", "requests", 8, 14},
		"server.kv_cache_usage.avg":    {"server.kv_cache_usage.avg", "%", 12.5, 14},
		"server.kv_cache_usage.max":    {"server.kv_cache_usage.max", "%", 30, 14},
		"server.generation_tokens":     {"server.generation_tokens", "tokens", 1000, 14},
		"cpu.avg":                      {"cpu.avg", "%", 20, 15},
		"cpu.max":                      {"cpu.max", "%", 55, 15},
		"memory_gb.avg":                {"memory_gb.avg", "GiB", 6, 15},
		"memory_gb.max":                {"memory_gb.max", "GiB", 7.5, 15},
	} {
		v := checkKnown(t, s, name, want)
		require.NotNil(t, v.WindowS, name)
		assert.Equal(t, 30.0, *v.WindowS, name)
	}
}

func TestLookupUnknownFigures(t *testing.T) {
	s := lookupFixture()
	s.Sources = map[string]SourceStatus{"vllm": {Note: "no server to scrape"}}
	assertUnknown(t, s, map[string]string{
		"gpu_1.power_w.avg":              "gpu_1 never reported it",
		"gpu_7.utilization.avg":          "no gpu_7 in this run (GPUs: gpu_0, gpu_1)",
		"server.requests_per_second.avg": "no interval with a rate of request_success_total in the 14 scrapes (an interval shorter than half the sampling interval, with a restart or reset, or without the counter gives none)",
		"tpot.p50":                       "n=0 values from 10 successful requests",
	})
	none := &Summary{Sources: map[string]SourceStatus{"gpu": {Note: `gpu source is "none"`}}, GPU: map[string]GPUStats{}}
	v, err := none.Lookup("gpu.utilization.avg")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, `no GPU reported it (GPUs: none): gpu source is "none"`, v.Note)
	v, err = (*Summary)(nil).Lookup("ttft.p99")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, "no summary", v.Note)
	assert.Equal(t, "ms", v.Unit, "the unit is known without data")
}

func TestLookupBadNames(t *testing.T) {
	s := lookupFixture()
	for name, reason := range map[string]string{
		"ttfb.p99":                       "",
		"server.requests_per_second.max": `no statistic "max" for server.requests_per_second; want avg`,
		"requests":                       "requests is not a whole name; want requests.<ok|failed|incomplete|rejected|canceled|total|dropped|output_tokens|prompt_tokens|reasoning_tokens>",
		"ttft":                           "ttft takes one statistic: ttft.<p50|p90|p95|p99|mean|median|std|min|max>",
		"ttft.p98":                       `no statistic "p98" for ttft; want p50, p90, p95, p99, mean, median, std, min or max`,
		"ttft.p99.x":                     "ttft takes one statistic: ttft.<p50|p90|p95|p99|mean|median|std|min|max>",
		"gpu.utilization":                "gpu.utilization takes one statistic: gpu.utilization.<avg|max>",
		"gpu.utilization.p99":            `no statistic "p99" for gpu.utilization; want avg or max`,
		"gpu.fan.avg":                    `no "fan" after gpu; want utilization, memory_used_mb, power_w, temp_c or energy_j`,
		"gpu.temp_c.avg":                 `no statistic "avg" for gpu.temp_c; want max`,
		"gpu_x.utilization.avg":          "",
		"server.queue.p50":               `no statistic "p50" for server.queue; want avg or max`,
		"server.nope.avg":                `no "nope" after server; want tokens_per_second, queue, batch, kv_cache_usage, requests_per_second, generation_tokens, prefix_cache_hit_rate, ttft, e2e, queue_time or itl`,
		"cpu":                            "cpu takes one statistic: cpu.<avg|max>",
		"cpu.min":                        `no statistic "min" for cpu; want avg or max`,
		"requests.ok2":                   `no "ok2" after requests; want ok, failed, incomplete, rejected, canceled, total, dropped, output_tokens, prompt_tokens or reasoning_tokens`,
		"error_rate.avg":                 "error_rate is a whole name: nothing follows it",
		"":                               "empty name part",
		"ttft..p99":                      "empty name part",
	} {
		_, err := s.Lookup(name)
		require.Error(t, err, name)
		var ue *UnknownMetricError
		require.True(t, errors.As(err, &ue), name)
		assert.Equal(t, name, ue.Name)
		if reason == "" {
			assert.Empty(t, ue.Reason, name)
		} else {
			assert.Equal(t, reason, ue.Reason, name)
		}
		assert.Contains(t, err.Error(), "valid names: <ttft|ttfot|tpot|itl|e2e|", name)
		assert.Contains(t, err.Error(), "server.<tokens_per_second|queue|batch|kv_cache_usage>.<avg|max>", name)
	}
}

func TestLookupGoodput(t *testing.T) {
	s := lookupFixture()
	v, err := s.Lookup("goodput")
	require.NoError(t, err)
	assert.False(t, v.Known, "no SLO given: goodput is unknown")
	assert.Equal(t, "no goodput SLO given", v.Note)
	v, err = s.Lookup("goodput_requests")
	require.NoError(t, err)
	assert.False(t, v.Known)

	// 6 of the 10 successful requests met TTFT ≤ 150 ms over the 12 s window: 0.5 req/s.
	s.Requests.GoodputSLOs, s.Requests.Goodput, s.Requests.GoodputRequests = map[string]float64{"ttft": 150}, lp(0.5), iptr(6)
	v, err = s.Lookup("GOODPUT")
	require.NoError(t, err)
	assert.Equal(t, Value{Name: "goodput", Value: 0.5, Unit: "req/s", N: 10, Known: true, WindowS: lp(12)}, v)
	v, err = s.Lookup("goodput_requests")
	require.NoError(t, err)
	assert.Equal(t, Value{Name: "goodput_requests", Value: 6, Unit: "requests", N: 12, Known: true, WindowS: lp(12)}, v)

	// SLOs given but no request succeeded: unknown, and says so.
	none := &Summary{Requests: recorder.Summary{Counts: recorder.Counts{Total: 2, Failed: 2}, GoodputSLOs: map[string]float64{"e2e": 1000}}}
	v, err = none.Lookup("goodput")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, "n=0 successful requests of 2 recorded: 2 failed, 0 incomplete, 0 rejected, 0 canceled", v.Note)
}

// The server.* histogram names of the Lookup doc comment resolve against the server-side window statistics:
// a percentile is histogram_quantile's value (value_ms) even where its bucket is wide, one in the +Inf bucket
// is unknown with its bound in the Note, mean is _sum/_count.
func TestLookupServerHistograms(t *testing.T) {
	dur := 20.0
	s := &Summary{Server: &serverstats.Stats{Scrapes: 11, DurationS: &dur, Figures: serverstats.Figures{
		// TTFT: 16 observations, _sum 3012 s → mean 3012000/16 = 188250 ms; p50 220 ms in (100, 250];
		// p99 above 2560000 ms (≤ 3006000 by the sum).
		TTFT: &serverstats.Histogram{Count: 16, SumMS: 3012000, MeanMS: lp(188250),
			P50MS: &serverstats.Quantile{ValueMS: lp(220), BucketLowerMS: lp(100), BucketUpperMS: lp(250), AtMostMS: lp(250)},
			P99MS: &serverstats.Quantile{LowerBoundMS: lp(2560000), IsLowerBound: true, BucketLowerMS: lp(2560000), AtMostMS: lp(3006000)}},
		// Queue: 100 observations of 0.00023 ms in (0, 300]: histogram_quantile's p50 is 300 × 50/100 = 150 ms.
		QueueTime: &serverstats.Histogram{Count: 100, SumMS: 0.023, MeanMS: lp(0.00023),
			P50MS: &serverstats.Quantile{ValueMS: lp(150), BucketLowerMS: lp(0), BucketUpperMS: lp(300), AtMostMS: lp(0.023 / 51)}},
	}}}
	for name, want := range map[string]Value{
		"server.ttft.p50":       {Name: "server.ttft.p50", Value: 220, Unit: "ms", N: 16, Known: true, WindowS: &dur, AtMost: lp(250)},
		"server.ttft.median":    {Name: "server.ttft.p50", Value: 220, Unit: "ms", N: 16, Known: true, WindowS: &dur, AtMost: lp(250)},
		"server.ttft.mean":      {Name: "server.ttft.mean", Value: 188250, Unit: "ms", N: 16, Known: true, WindowS: &dur},
		"server.queue_time.p50": {Name: "server.queue_time.p50", Value: 150, Unit: "ms", N: 100, Known: true, WindowS: &dur, AtMost: lp(0.023 / 51)},
		"server.queue_time.avg": {Name: "server.queue_time.mean", Value: 0.00023, Unit: "ms", N: 100, Known: true, WindowS: &dur},
		"server.ttft.p99": {Name: "server.ttft.p99", Unit: "ms", N: 16, WindowS: &dur, AtMost: lp(3006000), Above: lp(2560000),
			Note: "only a lower bound is known: >= 2560000 ms (the percentile falls in the +Inf bucket; it is at most 3006000 ms by the histogram's sum)"},
		"server.ttft.p90": {Name: "server.ttft.p90", Unit: "ms", N: 16, WindowS: &dur, Note: "no observation in the window"},
		"server.e2e.p99":  {Name: "server.e2e.p99", Unit: "ms", WindowS: &dur, Note: "the server does not expose this histogram"},
		"server.itl.mean": {Name: "server.itl.mean", Unit: "ms", WindowS: &dur, Note: "the server does not expose this histogram"},
	} {
		v, err := s.Lookup(name)
		require.NoError(t, err, name)
		assert.Equal(t, want, v, name)
	}
	_, err := s.Lookup("server.ttft.p42")
	assert.ErrorContains(t, err, `no statistic "p42" for server.ttft; want p50, p90, p95, p99 or mean`)
	_, err = (&Summary{}).Lookup("server.ttft.p98")
	assert.ErrorContains(t, err, `no statistic "p98" for server.ttft; want p50, p90, p95, p99 or mean`, "a bad name fails without a server too")
	v, err := (&Summary{}).Lookup("server.ttft.p99")
	require.NoError(t, err)
	assert.False(t, v.Known)
}

// A server percentile carries the upper bound its histogram proves: all 100 queue times are 0.00023 ms, in
// vLLM's lowest bucket (0, 300 ms], so histogram_quantile reads p50 as 150 ms, yet the _sum (0.023 ms) proves
// p50 ≤ 0.023/51 ms (51 observations are ≥ p50).
func TestLookupServerPercentileAtMost(t *testing.T) {
	dur := 20.0
	s := &Summary{Server: &serverstats.Stats{Scrapes: 11, DurationS: &dur, Figures: serverstats.Figures{
		QueueTime: &serverstats.Histogram{Count: 100, SumMS: 0.023, MeanMS: lp(0.00023),
			P50MS: &serverstats.Quantile{ValueMS: lp(150), BucketLowerMS: lp(0), BucketUpperMS: lp(300), AtMostMS: lp(0.023 / 51)}},
		TTFT: &serverstats.Histogram{Count: 16, SumMS: 3012000,
			P99MS: &serverstats.Quantile{LowerBoundMS: lp(2560000), IsLowerBound: true, BucketLowerMS: lp(2560000), AtMostMS: lp(3006000)}},
	}}}
	v, err := s.Lookup("server.queue_time.p50")
	require.NoError(t, err)
	assert.Equal(t, 150.0, v.Value, "the value stays histogram_quantile's")
	assert.InDelta(t, 0.023/51, *v.AtMost, 1e-15)
}

// A MIG device's memory by its key in mig_devices; a missing GPU, device or reading is unknown with a note.
func TestLookupMIGMemory(t *testing.T) {
	s := lookupFixture()
	g := s.GPU["gpu_0"]
	g.MIG = map[string]MIGStats{"gi1_ci0": {AvgMemoryUsedMB: lp(4000), MaxMemoryUsedMB: lp(4500), Samples: 6},
		"gi2": {Samples: 3}}
	s.GPU["gpu_0"] = g
	for name, want := range map[string]Value{
		"gpu_0.mig.gi1_ci0.memory_used_mb.max":  {Name: "gpu_0.mig.gi1_ci0.memory_used_mb.max", Value: 4500, Unit: "MiB", N: 6, Known: true, WindowS: lp(30)},
		"GPU_0.MIG.gi1_ci0.memory_used_mb.mean": {Name: "gpu_0.mig.gi1_ci0.memory_used_mb.avg", Value: 4000, Unit: "MiB", N: 6, Known: true, WindowS: lp(30)},
		"gpu_0.mig.gi2.memory_used_mb.avg":      {Name: "gpu_0.mig.gi2.memory_used_mb.avg", Unit: "MiB", N: 3, WindowS: lp(30), Note: "MIG device gi2 of gpu_0 never reported its memory"},
		"gpu_0.mig.mig3.memory_used_mb.avg":     {Name: "gpu_0.mig.mig3.memory_used_mb.avg", Unit: "MiB", WindowS: lp(30), Note: "no MIG device mig3 on gpu_0 (MIG devices: gi1_ci0, gi2)"},
		"gpu_1.mig.gi1_ci0.memory_used_mb.avg":  {Name: "gpu_1.mig.gi1_ci0.memory_used_mb.avg", Unit: "MiB", WindowS: lp(30), Note: "no MIG device gi1_ci0 on gpu_1 (MIG devices: none)"},
		"gpu_9.mig.gi1_ci0.memory_used_mb.avg":  {Name: "gpu_9.mig.gi1_ci0.memory_used_mb.avg", Unit: "MiB", WindowS: lp(30), Note: "no gpu_9 in this run (GPUs: gpu_0, gpu_1)"},
	} {
		v, err := s.Lookup(name)
		require.NoError(t, err, name)
		assert.Equal(t, want, v, name)
	}
	for _, bad := range []string{"gpu.mig.gi1_ci0.memory_used_mb.max", "gpu_0.mig.ci1.memory_used_mb.max", "gpu_0.mig.gi1_ci0.memory_used_mb.p99"} {
		_, err := s.Lookup(bad)
		require.Error(t, err, bad)
	}
	d, err := Describe("gpu_0.mig.gi1_ci0.memory_used_mb.max")
	require.NoError(t, err)
	assert.Equal(t, "gpu_0 MIG gi1_ci0 memory used max", d.Label)
}

// The interrupted run through the registry: 12 ok, 1 rejected, 4 canceled → error_rate 1/13 over the
// 13 requests the caller did not cancel, requests.canceled 4; every request canceled → unknown, saying why.
func TestLookupCanceled(t *testing.T) {
	c := recorder.Counts{Total: 17, OK: 12, Rejected: 1, Canceled: 4}
	s := &Summary{Requests: recorder.Summary{Counts: c, ErrorRate: c.ErrorRate()}}
	v, err := s.Lookup("error_rate")
	require.NoError(t, err)
	require.True(t, v.Known)
	assert.InDelta(t, 1.0/13, v.Value, 1e-12)
	assert.Equal(t, 13, v.N)
	v, err = s.Lookup("requests.canceled")
	require.NoError(t, err)
	assert.Equal(t, 4.0, v.Value)
	all := recorder.Counts{Total: 3, Canceled: 3}
	v, err = (&Summary{Requests: recorder.Summary{Counts: all, ErrorRate: all.ErrorRate()}}).Lookup("error_rate")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, "every request (3) was canceled by its caller", v.Note)
}

// Over a window under recorder.MinThroughputWindow the rates are unknown, and both their lookup and the
// summary's warnings say why.
func TestThroughputOverATooShortWindow(t *testing.T) {
	s := Compute(Input{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: 3, OK: 3}, WindowS: lp(0.0045)}})
	for _, name := range []string{"request_throughput", "output_token_throughput", "total_token_throughput"} {
		v, err := s.Lookup(name)
		require.NoError(t, err)
		assert.False(t, v.Known, name)
		assert.Equal(t, "n=3 successful requests over 0.0045 s, under 1s: too short for a rate per second", v.Note, name)
	}
	assert.Equal(t, []string{"throughput and goodput unknown: n=3 successful requests over 0.0045 s, under 1s: too short for a rate per second (the window runs from the first successful request's start to the last one's end)"}, s.Warnings)
}

// server.prefix_cache_hit_rate reads serverstats.Stats.PrefixCacheHitRate, a fraction over the window's
// scrapes, and is unknown (with the reason) without it.
func TestLookupPrefixCacheHitRate(t *testing.T) {
	s := &Summary{DurationS: 10, Server: &serverstats.Stats{Scrapes: 6, PrefixCacheHitRate: lp(0.625)}}
	v, err := s.Lookup("server.prefix_cache_hit_rate")
	require.NoError(t, err)
	assert.True(t, v.Known)
	assert.Equal(t, 0.625, v.Value)
	assert.Equal(t, UnitFraction, v.Unit)
	assert.Equal(t, 6, v.N)

	v, err = (&Summary{}).Lookup("server.prefix_cache_hit_rate")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Contains(t, v.Note, "vllm:prefix_cache_queries_total")
}

// Each unknown sampled figure names its own cause, from the data: a host with 6 readings and no memory limit
// (issue 9's trial said "no host reading"), a 0.5 s run whose 2 scrapes are closer than the 1 s a rate needs
// at a 2 s interval (it said "no server reading"), and no scrape at all.
func TestLookupNullReasons(t *testing.T) {
	d := 0.5
	s := &Summary{IntervalS: 2, DurationS: 0.5, Snapshots: 6,
		Sources: map[string]SourceStatus{"system": {Readings: 7, Failed: 1}},
		System:  SystemStats{AvgCPUPercent: lp(3), Cgroup: "v2 /user.slice", CgroupCPU: "v2 /user.slice", AvgCgroupMemoryGB: lp(1)},
		VLLM:    VLLMStats{Scrapes: 2, GenerationTokens: lp(40), AvgRequestQueueSize: lp(0)},
		Server: &serverstats.Stats{Scrapes: 2, DurationS: &d,
			NotExposed: map[string]string{serverstats.FieldKVCacheUsagePercent: "not exposed (looked for vllm:kv_cache_usage_perc)"}},
	}
	assertUnknown(t, s, map[string]string{
		"cgroup_memory_percent.avg":      "no memory limit set on cgroup v2 /user.slice (memory.max is max): see memory_gb",
		"cgroup_cpu_percent.max":         "no CPU quota set on cgroup v2 /user.slice (cpu.max is max): see cpu",
		"memory_gb.avg":                  "no reading of it in the 6 host readings",
		"server.tokens_per_second.avg":   "no interval long enough for a rate: the 2 scrapes span 0.5 s, under the 1 s (half the sampling interval) a rate needs",
		"server.requests_per_second.avg": "no interval long enough for a rate: the 2 scrapes span 0.5 s, under the 1 s (half the sampling interval) a rate needs",
		"server.kv_cache_usage.max":      "kv_cache_usage_percent not exposed (looked for vllm:kv_cache_usage_perc)",
		"server.batch.avg":               "no reading of active_batch_size in the 2 successful scrapes",
	})
	s.Server.DurationS = lp(4)
	v, _ := s.Lookup("server.tokens_per_second.max")
	assert.Equal(t, "no interval with a rate of generation_tokens_total in the 2 scrapes (an interval shorter than half the sampling interval, with a restart or reset, or without the counter gives none)", v.Note)
	s.System.CgroupCPUIsHost = true
	v, _ = s.Lookup("cgroup_cpu_percent.avg")
	assert.Equal(t, "the CPU cgroup v2 /user.slice is the host's root cgroup: see cpu", v.Note)
	s.System.CgroupCPUIsHost = false
	s.System.Cgroup, s.System.CgroupCPU = "v1 /user.slice", "v1 /cpu"
	v, _ = s.Lookup("cgroup_memory_percent.avg")
	assert.Equal(t, "no memory limit set on cgroup v1 /user.slice (memory.limit_in_bytes is unlimited): see memory_gb", v.Note)
	v, _ = s.Lookup("cgroup_cpu_percent.avg")
	assert.Equal(t, "no CPU quota set on cgroup v1 /cpu (cpu.cfs_quota_us is -1): see cpu", v.Note)
	s.System.Cgroup = ""
	v, _ = s.Lookup("cgroup_memory_percent.avg")
	assert.Equal(t, "no cgroup read in the 6 host readings", v.Note, "a CPU cgroup alone is no memory cgroup")
	s.System.CgroupCPU = ""
	v, _ = s.Lookup("cgroup_memory_percent.avg")
	assert.Equal(t, "no cgroup read in the 6 host readings", v.Note)
	none := &Summary{Snapshots: 3, Sources: map[string]SourceStatus{"vllm": {Readings: 3, Failed: 3, LastError: "connection refused"}}}
	v, _ = none.Lookup("server.queue.max")
	assert.Equal(t, "no server reading: connection refused", v.Note)
	v, _ = none.Lookup("cpu.avg")
	assert.Equal(t, "no host reading", v.Note)
	one := &Summary{Sources: map[string]SourceStatus{"system": {Readings: 1}}, VLLM: VLLMStats{Scrapes: 1}}
	v, _ = one.Lookup("cpu.max")
	assert.Equal(t, "one host reading: a rate needs two", v.Note)
	v, _ = one.Lookup("server.tokens_per_second.avg")
	assert.Equal(t, "one successful scrape: a rate needs two", v.Note)
}

// A figure's data file is the file that holds it: the requests CSV for client figures, the snapshots CSV for
// host, cgroup, GPU and server readings, the summary JSON for the load generator's cost; a name that is no
// metric's gets DataFile's answer.
func TestDataFileOfChoosesByTheMetricsKind(t *testing.T) {
	s := &Summary{Files: map[string]string{"requests_csv": "r.csv", "snapshots_csv": "s.csv", "snapshots_json": "s.json", "summary_json": "sum.json"}}
	for name, want := range map[string]string{
		"ttft.p99": "r.csv", "latency.p50": "r.csv", "error_rate": "r.csv", "throughput": "r.csv", "requests.ok": "r.csv",
		"goodput": "r.csv", "send_lag.p99": "r.csv",
		"cgroup_cpu_percent.max": "s.csv", "cgroup_memory_percent.avg": "s.csv", "cpu.max": "s.csv", "gpu.utilization.avg": "s.csv",
		"gpu_0.power_w.max": "s.csv", "server.kv_cache_usage.max": "s.csv", "server.ttft.p99": "s.csv",
		"client.cpu_utilization": "sum.json", "no_such_metric": "r.csv",
	} {
		assert.Equal(t, want, s.DataFileOf(name), name)
	}
	s.Files = map[string]string{"requests_csv": "r.csv", "snapshots_json": "s.json"} // no CSV of the snapshots
	assert.Equal(t, "s.json", s.DataFileOf("cgroup_cpu_percent.max"))
	assert.Equal(t, "(files not written)", (&Summary{}).DataFileOf("cgroup_cpu_percent.max"))
}

// assertUnknown fails t unless each name in notes looks up in s as unknown (no value) with that note.
func assertUnknown(t *testing.T, s *Summary, notes map[string]string) {
	t.Helper()
	for name, note := range notes {
		v, err := s.Lookup(name)
		require.NoError(t, err, name)
		assert.False(t, v.Known, name)
		assert.Zero(t, v.Value, name)
		assert.Equal(t, note, v.Note, name)
	}
}
