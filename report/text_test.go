package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// lineWith returns the one line of lines that starts with prefix.
func lineWith(t *testing.T, lines []string, prefix string) string {
	t.Helper()
	var found []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			found = append(found, l)
		}
	}
	require.Len(t, found, 1, "lines starting with %q in %q", prefix, lines)
	return found[0]
}

// The server and host lines of a 0.4 s run: avg and max both come from the one (short) interval, and an
// unknown percentage is "n/a", not "n/a%".
func TestTextSummaryShortRunRatesAndPercentages(t *testing.T) {
	s := summary.Compute(summary.Input{IntervalS: 2, Snapshots: []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 0.4, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(130.5)}, SystemMetrics: snapshot.System{CPUPercent: f(9.9)},
			GPUMetrics: map[string]snapshot.GPU{"gpu_0": {Name: "H200"}}},
	}})
	lines := TextSummary(s)
	// avg = max = 130.5 tok/s (one 0.4 s interval); no queue, batch or KV-cache reading.
	assert.Equal(t, "server: 130.5 tok/s avg, 130.5 max; queue avg n/a max n/a; batch avg n/a max n/a; KV cache avg n/a max n/a",
		lineWith(t, lines, "server: "))
	assert.Equal(t, "host: CPU avg 9.9% max 9.9%, memory avg n/a GiB max n/a GiB", lineWith(t, lines, "host: "))
	assert.Equal(t, "gpu_0 H200: util avg n/a max n/a, memory avg n/a MiB max n/a MiB, power avg n/a W, energy n/a J (no reading)",
		lineWith(t, lines, "gpu_0 "))
	for _, l := range lines {
		assert.NotContains(t, l, "n/a%")
	}

	// Known percentages keep their "%": KV cache (10 + 30)/2 = 20.0 %, max 30.0 %.
	s.VLLM.AvgKVCacheUsagePercent, s.VLLM.MaxKVCacheUsagePercent = f(20), f(30)
	assert.Contains(t, lineWith(t, TextSummary(s), "server: "), "KV cache avg 20.0% max 30.0%")
}

// Server-side figures with no client request (vmtest collect): one neutral line, no warning.
func TestTextSummaryServerOnlyRun(t *testing.T) {
	gen := 2000.0
	sv := &serverstats.Stats{Scrapes: 10, Figures: serverstats.Figures{
		TTFT:             &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 20},
		GenerationTokens: &gen,
	}}
	lines := TextSummary(summary.Compute(summary.Input{Server: sv}))
	var neutral int
	for _, l := range lines {
		assert.False(t, strings.HasPrefix(l, "warning: "), l)
		if strings.Contains(l, "vmtest's client recorded no request") {
			neutral++
		}
	}
	assert.Equal(t, 1, neutral)

	// With a client request recorded the line is gone and the cross-check warns (20 observations vs 0 ok).
	lines = TextSummary(summary.Compute(summary.Input{Server: sv, Requests: recorder.Summary{Counts: recorder.Counts{Total: 1, Failed: 1}}}))
	assert.NotContains(t, strings.Join(lines, "\n"), "vmtest's client recorded no request")
	assert.Contains(t, strings.Join(lines, "\n"), "warning: server TTFT observations over the window (20 from")
}

// quantile builds a server quantile, ms; value < 0 means "in the +Inf bucket" (lower bound lo); nil ends are
// unknown.
func quantile(value float64, lo, up, atMost *float64) *serverstats.Quantile {
	q := &serverstats.Quantile{ValueMS: f(value), BucketLowerMS: lo, BucketUpperMS: up, AtMostMS: atMost}
	if value < 0 {
		q = &serverstats.Quantile{LowerBoundMS: lo, IsLowerBound: true, BucketLowerMS: lo, AtMostMS: atMost}
	}
	return q
}

// Server percentiles print as values only where their range is narrow (upper ≤ 1.25 × lower), else as the
// range they are known to lie in.
func TestTextSummaryServerPercentileRanges(t *testing.T) {
	sv := &serverstats.Stats{Scrapes: 2, Figures: serverstats.Figures{
		// The user's queue times: 100 of 0.00023 ms, all in (0, 300] ms; histogram_quantile 150, 270, 297 ms.
		// Sum 0.023 ms: p50 ≤ 0.023/51 = 0.000450980 → "≤0.000451" (rounded up); p90 ≤ 0.023/11 = 0.00209091
		// → "≤0.0021"; p99 ≤ 0.023/2 = 0.0115.
		QueueTime: &serverstats.Histogram{Metric: "vllm:request_queue_time_seconds", Count: 100, MeanMS: f(0.00023),
			P50MS: quantile(150, f(0), f(300), f(0.023/51)),
			P90MS: quantile(270, f(0), f(300), f(0.023/11)),
			P99MS: quantile(297, f(0), f(300), f(0.023/2))},
		// p50 90 in (80, 100]: 100 ≤ 1.25 × 80 = 100, narrow → the value. p90 370 in (250, 500]: 500 > 312.5 →
		// range. p99 above 2560000 ms with no sum bound → "≥2560000".
		TTFT: &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 16, MeanMS: f(188250),
			P50MS: quantile(90, f(80), f(100), f(100)),
			P90MS: quantile(370, f(250), f(500), f(500)),
			P99MS: quantile(-1, f(2560000), nil, nil)},
		// p50 900 in (800, 1000]: 1000 ≤ 1.25 × 800, narrow → "900.0". p90 55 in (40, 60], narrowed by the sum
		// to ≤ 45 (45 ≤ 1.25 × 40 = 50: narrow), but the value is above it, known too high → "40–45". p99 in
		// +Inf with a sum bound of 3006000 → "2560000–3010000" (rounded up).
		E2ELatency: &serverstats.Histogram{Metric: "vllm:e2e_request_latency_seconds", Count: 10, MeanMS: f(1000),
			P50MS: quantile(900, f(800), f(1000), f(1000)),
			P90MS: quantile(55, f(40), f(60), f(45)),
			P99MS: quantile(-1, f(2560000), nil, f(3006000))},
		// p50 1450 in (1000, 1500]: 1500 > 1.25 × 1000 → "1000–1500", though the value lies in it (a p90 of
		// 1450 ms that client latencies near 1060 ms showed as a precise-looking value).
		ITL: &serverstats.Histogram{Metric: "vllm:inter_token_latency_seconds", Count: 10, MeanMS: f(1100),
			P50MS: quantile(1450, f(1000), f(1500), f(1500))},
	}}
	lines := TextSummary(&summary.Summary{Server: sv})
	assert.Equal(t, "  queue mean 0.00023  p50 ≤0.000451  p90 ≤0.0021  p99 ≤0.0115 ms (n=100, vllm:request_queue_time_seconds)",
		lineWith(t, lines, "  queue "))
	assert.Equal(t, "  TTFT  mean 188250.0  p50 90.0  p90 250–500  p99 ≥2560000 ms (n=16, vllm:time_to_first_token_seconds)",
		lineWith(t, lines, "  TTFT "))
	assert.Equal(t, "  E2E   mean 1000.0  p50 900.0  p90 40–45  p99 2560000–3010000 ms (n=10, vllm:e2e_request_latency_seconds)",
		lineWith(t, lines, "  E2E "))
	assert.Equal(t, "  ITL   mean 1100.0  p50 1000–1500  p90 n/a  p99 n/a ms (n=10, vllm:inter_token_latency_seconds)",
		lineWith(t, lines, "  ITL "))
}

func TestRoundOutAndMSNum(t *testing.T) {
	assert.Equal(t, "0.000451", roundOut(0.023/51, true)) // 0.000450980… up
	assert.Equal(t, "0.00045", roundOut(0.023/51, false)) // down: 0.000450
	assert.Equal(t, "300", roundOut(0.3*1000, true))
	assert.Equal(t, "300", roundOut(299.99999999999994, true))
	assert.Equal(t, "2560000", roundOut(2560000, false))
	assert.Equal(t, "3010000", roundOut(3006000, true))
	assert.Equal(t, "0", roundOut(0, true))
	assert.Equal(t, "0.00023", msNum(0.00023))
	assert.Equal(t, "0.000451", msNum(0.023/51))
	assert.Equal(t, "12.3", msNum(12.34))
	assert.Equal(t, "0.0", msNum(0))
}

func TestTextSummaryCountsCanceled(t *testing.T) {
	c := recorder.Counts{Total: 17, OK: 12, Rejected: 1, Canceled: 4}
	s := summary.Compute(summary.Input{Requests: recorder.Summary{Counts: c, ErrorRate: c.ErrorRate()}})
	assert.Equal(t, "requests: 17 total, 12 ok, 0 failed, 0 incomplete, 1 rejected, 4 canceled",
		lineWith(t, TextSummary(s), "requests: "))
	c.Warmup = recorder.WarmupCounts{Total: 4, OK: 3, OutputTokens: 300}
	s = summary.Compute(summary.Input{Requests: recorder.Summary{Counts: c, ErrorRate: c.ErrorRate()}})
	assert.Equal(t, "requests: 17 total, 12 ok, 0 failed, 0 incomplete, 1 rejected, 4 canceled; and 4 warm-up (3 ok), not measured",
		lineWith(t, TextSummary(s), "requests: "))
}

// The cgroup line: its memory against the limit and its CPU against the quota, or "no limit"/"no quota".
func TestTextSummaryCgroupLine(t *testing.T) {
	sys := func(cores float64) snapshot.System {
		return snapshot.System{Cgroup: "v2 /", CgroupMemoryGB: f(1), CgroupMemoryLimitGB: f(4), CgroupMemoryPercent: f(25),
			CgroupCPUQuotaCores: f(2), CgroupCPUCores: f(cores), CgroupCPUPercent: f(cores / 2 * 100)}
	}
	s := summary.Compute(summary.Input{IntervalS: 2, Snapshots: []snapshot.Snapshot{
		{ElapsedS: 0}, {ElapsedS: 2, SystemMetrics: sys(1)}, {ElapsedS: 4, SystemMetrics: sys(2)}}})
	assert.Equal(t, "cgroup v2 /: memory max 1.00 GiB of 4.00 GiB (max 25.0%), CPU avg 1.50 cores of a 2.00-core quota (avg 75.0%, max 100.0%)",
		lineWith(t, TextSummary(s), "cgroup "))
	s = summary.Compute(summary.Input{IntervalS: 2, Snapshots: []snapshot.Snapshot{
		{ElapsedS: 0, SystemMetrics: snapshot.System{Cgroup: "v1 /docker/x", CgroupMemoryGB: f(0.5)}}}})
	assert.Equal(t, "cgroup v1 /docker/x: memory max 0.50 GiB no limit, CPU avg n/a cores no quota", lineWith(t, TextSummary(s), "cgroup "))
}

// On a hybrid v1 host the CPU cgroup can differ from the memory one: the line names it; where it is the
// host's root cgroup, the line says its use is the host's rather than show it as the container's.
func TestTextSummaryCgroupCPUElsewhere(t *testing.T) {
	line := func(y snapshot.System) string {
		s := summary.Compute(summary.Input{IntervalS: 2, Snapshots: []snapshot.Snapshot{{ElapsedS: 0, SystemMetrics: y}}})
		return lineWith(t, TextSummary(s), "cgroup ")
	}
	assert.Equal(t, "cgroup v1 /process_api/64c0: memory max 0.50 GiB no limit, CPU (cgroup v1 /) not known: "+
		"that is the host's root cgroup, whose use is the host's above",
		line(snapshot.System{Cgroup: "v1 /process_api/64c0", CgroupCPU: "v1 /", CgroupCPUIsHost: true, CgroupMemoryGB: f(0.5)}))
	assert.Equal(t, "cgroup v1 /a: memory max 0.50 GiB no limit, CPU (cgroup v1 /b) avg n/a cores of a 2.00-core quota (avg n/a, max n/a)",
		line(snapshot.System{Cgroup: "v1 /a", CgroupCPU: "v1 /b", CgroupMemoryGB: f(0.5), CgroupCPUQuotaCores: f(2)}))
}

// The cgroup's working set is beside its usage: the summary's average and maximum over the snapshots that
// had it (0.25 and 0.75 GiB: avg 0.5, max 0.75), the text line its maximum.
func TestTextSummaryCgroupWorkingSet(t *testing.T) {
	sys := func(ws float64) snapshot.System {
		return snapshot.System{Cgroup: "v2 /", CgroupMemoryGB: f(1), CgroupMemoryWorkingSetGB: f(ws)}
	}
	s := summary.Compute(summary.Input{IntervalS: 2, Snapshots: []snapshot.Snapshot{
		{ElapsedS: 0, SystemMetrics: snapshot.System{Cgroup: "v2 /", CgroupMemoryGB: f(1)}},
		{ElapsedS: 2, SystemMetrics: sys(0.25)}, {ElapsedS: 4, SystemMetrics: sys(0.75)}}})
	require.NotNil(t, s.System.AvgCgroupMemoryWorkingSetGB)
	assert.InDelta(t, 0.5, *s.System.AvgCgroupMemoryWorkingSetGB, 1e-12)
	assert.InDelta(t, 0.75, *s.System.MaxCgroupMemoryWorkingSetGB, 1e-12)
	assert.Equal(t, "cgroup v2 /: memory max 1.00 GiB (working set max 0.75 GiB) no limit, CPU avg n/a cores no quota",
		lineWith(t, TextSummary(s), "cgroup "))
}

// Outages are one line each, with their times, count and reason; the dominant error is shown beside the last.
func TestTextSummaryOutages(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var st summary.SourceStatus
	for i, err := range []string{"", "refused", "refused", "", "HTTP 500"} {
		st.Record(t0.Add(time.Duration(i)*time.Second), err)
	}
	s := summary.Compute(summary.Input{IntervalS: 1, Sources: map[string]summary.SourceStatus{"vllm": st}})
	lines := TextSummary(s)
	assert.Equal(t, "sources: vllm 2/5 ok mostly: refused; last error: HTTP 500", lineWith(t, lines, "sources: "))
	assert.Equal(t, "outage vllm 12:00:01–12:00:02: 2 failed readings: refused", lineWith(t, lines, "outage vllm 12:00:01"))
	assert.Equal(t, "outage vllm 12:00:04–12:00:04: 1 failed readings, not back at the end: HTTP 500", lineWith(t, lines, "outage vllm 12:00:04"))
}

// Past maxOutageLines outages, the text summary and the HTML report list the first 5 and the same count of
// the rest: 70 one-reading outages, of which the summary keeps 64 (summary.MaxOutages) and omits 6, leave
// 64 − 5 + 6 = 65 unlisted.
func TestOutagesPastTheListedOnes(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var st summary.SourceStatus
	for i := range 140 {
		err := ""
		if i%2 == 1 {
			err = "refused"
		}
		st.Record(t0.Add(time.Duration(i)*time.Second), err)
	}
	require.Len(t, st.Outages, 64)
	require.Equal(t, 6, st.OutagesOmitted)
	s := summary.Compute(summary.Input{IntervalS: 1, Sources: map[string]summary.SourceStatus{"vllm": st}})
	var outages []string
	for _, l := range TextSummary(s) {
		if strings.HasPrefix(l, "outage ") {
			outages = append(outages, l)
		}
	}
	require.Len(t, outages, 6)
	assert.Equal(t, "outage vllm 12:00:09–12:00:09: 1 failed readings: refused", outages[4])
	assert.Equal(t, "outage vllm: 65 more (summary_statistics.json has them)", outages[5])
	rows := sourceRows(s)
	require.Len(t, rows, 1)
	require.Len(t, rows[0].Outages, 6)
	assert.Equal(t, "12:00:01–12:00:01: 1 failed readings: refused", rows[0].Outages[0])
	assert.Equal(t, "65 more (summary_statistics.json has them)", rows[0].Outages[5])
}

// The prefix-cache hit rate has its line under the server-side figures when known, none otherwise.
func TestTextSummaryPrefixCacheHitRate(t *testing.T) {
	rate := 0.625
	lines := strings.Join(TextSummary(summary.Compute(summary.Input{Server: &serverstats.Stats{Scrapes: 3, PrefixCacheHitRate: &rate}})), "\n")
	assert.Contains(t, lines, "  prefix-cache hit rate 62.5 % of prompt tokens looked up")
	lines = strings.Join(TextSummary(summary.Compute(summary.Input{Server: &serverstats.Stats{Scrapes: 3}})), "\n")
	assert.NotContains(t, lines, "prefix-cache")
}

// The requests CSV has each row's TTFOT and reasoning tokens, empty when unknown.
func TestRequestsCSVTimeToFirstOutputToken(t *testing.T) {
	nan := math.NaN()
	b, err := RequestsCSV([]recorder.Record{
		{TTFTMS: 10, TTFOMS: 12.5, ReasoningTokens: 3, E2EMS: nan, TPOTMS: nan, ITLMeanMS: nan, TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan},
		{TTFTMS: 10, TTFOMS: nan, E2EMS: nan, TPOTMS: nan, ITLMeanMS: nan, TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan},
	})
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	assert.Equal(t, []string{"12.5", "3"}, []string{rows[1][col["ttfo_ms"]], rows[1][col["reasoning_tokens"]]})
	assert.Equal(t, []string{"", ""}, []string{rows[2][col["ttfo_ms"]], rows[2][col["reasoning_tokens"]]})
}

// A reasoning model's summary has a TTFOT line after TTFT; others have none.
func TestTextSummaryTTFOTForReasoningModels(t *testing.T) {
	mean := 40.0
	s := summary.Compute(summary.Input{Requests: recorder.Summary{Counts: recorder.Counts{Total: 1, OK: 1, ReasoningTokens: 3},
		TTFOMS: recorder.Stats{N: 1, Mean: &mean}}})
	lines := TextSummary(s)
	assert.True(t, strings.HasPrefix(lines[3], "TTFOT "), lines[3])
	assert.Contains(t, lines[3], "3 reasoning tokens")
	s.Requests.ReasoningTokens = 0
	assert.NotContains(t, strings.Join(TextSummary(s), "\n"), "TTFOT")
}

// The ITL line says when its gaps are per token (usage on every chunk), and how many requests were each way
// when both kinds were recorded; per chunk (vLLM bench serve's) it adds nothing.
func TestTextSummaryITLDefinition(t *testing.T) {
	def := func(d string) *string { return &d }
	for _, c := range []struct {
		def        *string
		tok, chunk int
		want       string
	}{
		{nil, 0, 0, ""},
		{def(recorder.ITLPerChunk), 0, 3, ""},
		{def(recorder.ITLPerToken), 3, 0, " (per token, from usage on every chunk)"},
		{def(recorder.ITLMixed), 2, 5, " (per token for 2 requests, per chunk for 5)"},
	} {
		s := summary.Compute(summary.Input{Requests: recorder.Summary{ITLDefinition: c.def,
			Counts: recorder.Counts{ITLPerToken: c.tok, ITLPerChunk: c.chunk}}})
		assert.Equal(t, "ITL   no data"+c.want, lineWith(t, TextSummary(s), "ITL "))
	}
}

// With several replicas the server line is their aggregate and each replica has a line of its own, by name.
func TestTextSummaryOneLinePerReplica(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	s := &summary.Summary{
		VLLM: summary.VLLMStats{AvgTokensPerSecond: f(30), Replicas: map[string]summary.VLLMStats{
			"b": {AvgTokensPerSecond: f(20), AvgKVCacheUsagePercent: f(40), MaxKVCacheUsagePercent: f(55)},
			"a": {AvgTokensPerSecond: f(10)}}},
		Server: &serverstats.Stats{Replicas: map[string]serverstats.Stats{"a": {}, "b": {}}},
	}
	text := strings.Join(TextSummary(s), "\n")
	assert.Contains(t, text, "server: 30.0 tok/s avg")
	assert.NotContains(t, text, "rounds in which")
	s.VLLM.Coverage = f(5.0 / 8)
	assert.Equal(t, "server: 30.0 tok/s avg, n/a max; queue avg n/a max n/a; batch avg n/a max n/a; KV cache avg n/a max n/a"+
		" (max over the 62% of rounds in which every replica answered; averages over the whole run)", lineWith(t, TextSummary(s), "server: "))
	assert.Contains(t, text, "\n  replica a: 10.0 tok/s avg; queue avg n/a; batch avg n/a; KV cache avg n/a max n/a; TTFT -\n"+
		"  replica b: 20.0 tok/s avg; queue avg n/a; batch avg n/a; KV cache avg 40.0% max 55.0%; TTFT -")
}

// An open loop's send lag and the client's own cost get a line each, and the run's warnings end the text;
// a closed loop with no load generator's report has neither line.
func TestTextSummaryClientAndSendLag(t *testing.T) {
	req := recorder.Summary{SendLagMS: recorder.Stats{N: 40, Mean: f(3), P50: f(1.25), P99: f(25), Max: f(31)},
		SlotWaitMS: recorder.Stats{N: 40, Mean: f(2)}, MeanInterArrivalMS: f(200)}
	client := &recorder.ClientCost{Runs: 1, WallS: 10, CPUS: 32, GOMAXPROCS: 4, CPUUtilization: f(0.8),
		SchedLatencyP50MS: f(0.012), SchedLatencyP99MS: f(0.5), SchedLatencyMaxMS: f(4)}
	lines := TextSummary(summary.Compute(summary.Input{Requests: req, Client: client}))
	assert.Equal(t, "send lag (open loop: intended start to send, slot waits included): p50 1.2  p99 25.0  max 31.0 ms (n=40); slot wait mean 2.0 ms; mean inter-arrival 200.0 ms",
		lineWith(t, lines, "send lag "))
	assert.Equal(t, "client process: CPU 32.00 s over 10.00 s of load (80% of GOMAXPROCS=4), Go scheduler latency p50 0.012  p99 0.500  max 4.000 ms",
		lineWith(t, lines, "client process: "))
	// 25 ms over max(10 % of 200 ms, 10 ms) = 20 ms; 80 % of the cores.
	assert.Contains(t, lineWith(t, lines, "warning: the open loop fell behind its schedule"), "p99 25 ms")
	assert.Contains(t, lineWith(t, lines, "warning: the client may have been the bottleneck"), "80 % of GOMAXPROCS=4")

	for _, l := range TextSummary(summary.Compute(summary.Input{})) {
		assert.False(t, strings.HasPrefix(l, "send lag ") || strings.HasPrefix(l, "client process: "), l)
	}
}

// The J/token caveat after a server restart is printed beside the figure; without one the line is as before.
func TestTextSummaryEnergyCaveat(t *testing.T) {
	j := 2.0
	s := &summary.Summary{EnergyPerOutputTokenJ: &j}
	assert.Equal(t, "energy per output token: 2.0000 J", lineWith(t, TextSummary(s), "energy per output token"))
	s.EnergyPerOutputTokenNote = "the server restarted 1 time(s)"
	assert.Equal(t, "energy per output token: 2.0000 J (caveat: the server restarted 1 time(s))", lineWith(t, TextSummary(s), "energy per output token"))
}

// One snapshot is told in the singular: "1 snapshot", not "1 snapshots".
func TestTextSummaryCountsOneSnapshot(t *testing.T) {
	s := &summary.Summary{RunID: "r", ConfigID: "c", DurationS: 2, Snapshots: 1}
	assert.Equal(t, "run r config c: 2.0 s, 1 snapshot", TextSummary(s)[0])
	s.Snapshots = 2
	assert.Equal(t, "run r config c: 2.0 s, 2 snapshots", TextSummary(s)[0])
}
