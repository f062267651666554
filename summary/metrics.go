package summary

import (
	"fmt"
	"math"
	"strings"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
)

// Direction says which way a metric improves. The zero Direction is "none chosen" (assert.AutoDirection:
// take the metric's own from the registry).
type Direction int

const (
	// LowerIsBetter: a larger value is a regression (latencies, error rate, memory, power, energy).
	LowerIsBetter Direction = 1 + iota
	// HigherIsBetter: a smaller value is a regression (throughputs, goodput).
	HigherIsBetter
	// Neutral: neither way is better (counts of requests and tokens, which the workload sets): a comparison
	// gives no verdict, and a baseline on it flags a change beyond tolerance either way.
	Neutral
)

// String returns "lower is better", "higher is better", "neither is better", or "auto" for the zero Direction.
func (d Direction) String() string {
	switch d {
	case Neutral:
		return "neither is better"
	case LowerIsBetter:
		return "lower is better"
	case HigherIsBetter:
		return "higher is better"
	}
	return "auto"
}

// Metric is one entry of the metric registry (Registry): one figure of a Summary, or one family of figures
// that differ only by a statistic or a GPU.
type Metric struct {
	// Name is the canonical name, lower case and dotted. A part may be a choice of statistics, "<p50|p99|mean>",
	// of which one is written ("ttft.<p50|p99>" stands for ttft.p50 and ttft.p99; "avg" and "mean" stand for
	// each other, "median" and "med" for "p50"), or a placeholder for a key of the summary: "<gpu>" ("gpu" for
	// all GPUs together or "gpu_<i>" for GPU i), "<gpu_i>" (GPU i only), "<mig>" (a MIG device's key in
	// GPUStats.MIG, "gi1_ci0").
	Name string
	// Synonyms are other spellings of the name's leading parts: "latency" for "e2e.<...>" makes latency.p99 a
	// name of e2e.p99, "throughput" for "request_throughput" names it whole.
	Synonyms []string
	// Unit is the figure's unit, one of the Unit* constants. A threshold's number written without a unit is
	// in it.
	Unit string
	// Direction is which way the figure improves: baselines and comparisons judge changes by it.
	Direction Direction
	// Label is a short title for table columns: "TTFT", "request throughput"; for a <gpu> family, the field
	// ("utilization"), to which "GPU" or "gpu_<i>" is prefixed.
	Label string
	// Bench is the benchstat unit of the figure when it is not in ms ("req/s", "err/req"); a figure in ms is
	// reported in seconds as "<stat>-<name>-sec" ("p99-ttft-sec"). Empty: not reported to benchstat.
	Bench string
	// Doc is one line saying what the figure is and where it comes from.
	Doc string
	// read fills v (Name and Unit set) from s; stat is the chosen statistic, gpu the GPU key ("" for all GPUs).
	read func(s *Summary, a args, v Value) Value
	// dist reads a client-side latency distribution; set only for the <latency>.<stat> entries.
	dist func(r *recorder.Summary) recorder.Stats
	// data is the kind of file that holds the figure's data (Summary.DataFileOf).
	data dataKind
}

// dataKind is where a figure's data lies in a run's files.
type dataKind int

const (
	dataSnapshots dataKind = iota // the snapshots CSV and JSON: host, cgroup, GPU and server readings
	dataRequests                  // the requests CSV: one row per request, the client's figures
	dataSummary                   // only the summary JSON (the load generator's own cost)
)

// args are the parts of a name a family leaves open.
type args struct {
	// stat is the canonical statistic chosen ("p99", "mean", "avg", "max"), or "".
	stat string
	// gpu is the GPU key ("gpu_1"), or "" for all GPUs.
	gpu string
	// mig is the MIG device's key in GPUStats.MIG ("gi1_ci0"), or "".
	mig string
	// model is the model of a model.<name>.* figure as written, or ""; turn the k of a turn.<k>.* figure, or 0.
	model string
	turn  int
}

// Choices of statistics, as the registry's names write them.
const (
	latencyStats = "<p50|p90|p95|p99|mean|median|std|min|max>"
	serverStats  = "<p50|p90|p95|p99|mean>"
	avgMax       = "<avg|max>"
)

// KeyMetrics are the figures a comparison shows when none are chosen, in order: the columns of
// report.ComparisonMarkdown and the rows of `vmtest compare`.
var KeyMetrics = []string{
	"ttft.p50", "ttft.p99", "tpot.p50", "tpot.p99", "itl.p99", "e2e.p50", "e2e.p99",
	"request_throughput", "output_token_throughput", "goodput", "error_rate",
	"server.ttft.p99", "gpu.utilization.avg", "gpu.power_w.avg", "energy_per_output_token_j",
}

// ExampleNames show what names look like, one of each kind, for messages about a name that fits none.
var ExampleNames = []string{"ttft.p99", "e2e.mean", "error_rate", "throughput", "requests.failed",
	"gpu.utilization.avg", "server.ttft.p99", "cpu.max"}

// registry is the table behind Registry: every metric Lookup knows, in the order documentation lists them.
var registry = []Metric{
	latency("ttft", nil, "TTFT", "time to first token: request start to the first chunk carrying a token, client side, successful requests",
		func(r *recorder.Summary) recorder.Stats { return r.TTFTMS }),
	latency("ttfot", nil, "TTFOT", "time to first output token: request start to the first chunk carrying visible content, after any reasoning, client side, successful requests with content",
		func(r *recorder.Summary) recorder.Stats { return r.TTFOMS }),
	latency("tpot", nil, "TPOT", "time per output token: (E2E − TTFT) / (output tokens − 1), as vLLM's bench serve computes it",
		func(r *recorder.Summary) recorder.Stats { return r.TPOTMS }),
	latency("itl", nil, "ITL", "inter-token latency: the gaps between token-bearing chunks (per token with usage on every chunk: itl_definition), over every gap of every successful request",
		func(r *recorder.Summary) recorder.Stats { return r.ITLMS }),
	latency("e2e", []string{"latency", "e2e_latency"}, "E2E", "E2E latency: request start to the last token-bearing chunk",
		func(r *recorder.Summary) recorder.Stats { return r.E2EMS }),
	latency("ttft_from_intended", nil, "TTFT from intended start", "TTFT measured from when an open-loop schedule meant the request to start (includes the client's own lag)",
		func(r *recorder.Summary) recorder.Stats { return r.TTFTFromIntendedMS }),
	latency("e2e_from_intended", nil, "E2E from intended start", "E2E latency measured from when an open-loop schedule meant the request to start",
		func(r *recorder.Summary) recorder.Stats { return r.E2EFromIntendedMS }),
	{Name: "time_to_reject." + latencyStats, data: dataRequests, Unit: UnitMS, Direction: LowerIsBetter, Label: "time to reject",
		Doc: "time to rejection: request start to the response headers of a request the server refused for load (HTTP 429 or 503), over rejected requests, ms", read: timeToReject},

	{Name: "send_lag." + latencyStats, data: dataRequests, Unit: UnitMS, Direction: LowerIsBetter, Label: "send lag",
		Doc:  "how late the open loop sent each request: intended start to send, slot waits included, over its requests of every outcome, ms; unknown in closed loop",
		read: sendLag},
	{Name: "client.cpu_utilization", data: dataSummary, Unit: UnitFraction, Direction: LowerIsBetter, Label: "client CPU",
		Doc: "the client process's CPU time over its load runs in a share of GOMAXPROCS's cores, a fraction (0.8 is 80%); unknown when no load generator reported it", read: clientCPU},
	{Name: "error_rate", data: dataRequests, Unit: UnitFraction, Direction: LowerIsBetter, Label: "error rate", Bench: "err/req",
		Doc: "(total − ok − canceled) / (total − canceled) over the recorded requests, a fraction (0.01 is 1%); unknown when every request was canceled", read: errorRate},
	{Name: "request_throughput", data: dataRequests, Synonyms: []string{"throughput"}, Unit: UnitReqPerS, Direction: HigherIsBetter,
		Label: "request throughput", Bench: "req/s", Doc: "successful requests per second over the requests' measured window; unknown when that window is under 1 s",
		read: requestFigure(func(r *recorder.Summary) *float64 { return r.RequestThroughput })},
	{Name: "output_token_throughput", data: dataRequests, Unit: UnitTokPerS, Direction: HigherIsBetter, Label: "output token throughput", Bench: "tok/s",
		Doc:  "output tokens of successful requests per second over the requests' measured window; unknown when that window is under 1 s",
		read: requestFigure(func(r *recorder.Summary) *float64 { return r.OutputTokenThroughput })},
	{Name: "total_token_throughput", data: dataRequests, Unit: UnitTokPerS, Direction: HigherIsBetter, Label: "total token throughput",
		Doc:  "prompt and output tokens of successful requests per second over the requests' measured window; unknown when that window is under 1 s",
		read: requestFigure(func(r *recorder.Summary) *float64 { return r.TotalTokenThroughput })},
	{Name: "goodput", data: dataRequests, Unit: UnitReqPerS, Direction: HigherIsBetter, Label: "goodput", Bench: "goodput-req/s",
		Doc: "successful requests per second that met every goodput SLO (DistServe) over the requests' measured window; unknown when no SLO was given or that window is under 1 s", read: goodput},
	{Name: "goodput_requests", data: dataRequests, Unit: UnitRequests, Direction: HigherIsBetter, Label: "goodput requests",
		Doc: "the number of requests that met every goodput SLO; unknown when no SLO was given", read: goodputRequests},

	count("ok", "successful requests: at least one token, and finished ([DONE] or a finish reason)", Neutral, func(c recorder.Counts) int64 { return int64(c.OK) }),
	count("failed", "requests that failed: a transport error, an HTTP error other than a rejection, or an error event in the stream", LowerIsBetter, func(c recorder.Counts) int64 { return int64(c.Failed) }),
	count("incomplete", "requests whose stream ended without [DONE] or a finish reason, or produced no token", LowerIsBetter, func(c recorder.Counts) int64 { return int64(c.Incomplete) }),
	count("rejected", "requests the server refused for load (HTTP 429 or 503)", LowerIsBetter, func(c recorder.Counts) int64 { return int64(c.Rejected) }),
	count("canceled", "requests the client cancelled because its caller ended the run while they were in flight (not in error_rate)", LowerIsBetter, func(c recorder.Counts) int64 { return int64(c.Canceled) }),
	count("total", "every recorded request", Neutral, func(c recorder.Counts) int64 { return int64(c.Total) }),
	count("dropped", "requests counted but not kept as rows of the requests CSV (the bound on kept rows was reached)", LowerIsBetter, func(c recorder.Counts) int64 { return int64(c.Dropped) }),
	count("output_tokens", "output tokens of every recorded request", Neutral, func(c recorder.Counts) int64 { return c.OutputTokens }),
	count("prompt_tokens", "prompt tokens of every recorded request", Neutral, func(c recorder.Counts) int64 { return c.PromptTokens }),
	count("reasoning_tokens", "reasoning tokens of successful requests (usage.completion_tokens_details.reasoning_tokens), part of output_tokens", Neutral, func(c recorder.Counts) int64 { return c.ReasoningTokens }),

	gpuField("utilization", UnitPercent, "utilization", "GPU utilization, %: avg the mean of per-GPU averages over the snapshots, max the largest reading",
		func(g *GPUStats) *float64 { return g.AvgUtilization }, func(g *GPUStats) *float64 { return g.MaxUtilization }),
	gpuField("memory_used_mb", UnitMiB, "memory used", "GPU memory in use, MiB: avg the mean of per-GPU averages, max the largest reading",
		func(g *GPUStats) *float64 { return g.AvgMemoryUsedMB }, func(g *GPUStats) *float64 { return g.MaxMemoryUsedMB }),
	gpuField("power_w", UnitW, "power", "GPU power draw, W: avg the mean of per-GPU averages, max the largest reading",
		func(g *GPUStats) *float64 { return g.AvgPowerW }, func(g *GPUStats) *float64 { return g.MaxPowerW }),
	gpuField("temp_c", UnitCelsius, "temperature", "GPU temperature, °C: the hottest reading",
		nil, func(g *GPUStats) *float64 { return g.MaxTempC }),
	{Name: "<gpu>.energy_j", Unit: UnitJ, Direction: LowerIsBetter, Label: "energy",
		Doc:  "GPU energy used over the run, J (for gpu: every GPU's together)",
		read: gpuRead(func(g *GPUStats) *float64 { return g.EnergyJ }, "sum")},
	{Name: "<gpu_i>.mig.<mig>.memory_used_mb." + avgMax, Unit: UnitMiB, Direction: LowerIsBetter, Label: "memory used",
		Doc:  "memory in use on one MIG device, MiB, over the snapshots that listed it (memory belongs to the GPU instance: MIG devices sharing one show the same)",
		read: migMemory},
	{Name: "energy_per_output_token_j", Unit: UnitJPerToken, Direction: LowerIsBetter, Label: "energy per output token",
		Doc: "energy of every GPU over the run divided by the server's generation-token count over the run",
		read: func(s *Summary, _ args, v Value) Value {
			v.N = s.VLLM.Scrapes
			return s.sampledValue(v, s.EnergyPerOutputTokenJ, "energy or the server's generation-token count is unknown")
		}},

	serverGauge("tokens_per_second", UnitTokPerS, HigherIsBetter, avgMax, "server generation throughput", "the rate of vllm:generation_tokens_total per sampling interval",
		serverReason(serverstats.FieldGenerationTokensTotal, true),
		func(v *VLLMStats) *float64 { return v.AvgTokensPerSecond }, func(v *VLLMStats) *float64 { return v.MaxTokensPerSecond }),
	serverGauge("queue", UnitRequests, LowerIsBetter, avgMax, "server queue", "requests waiting in the server (vllm:num_requests_waiting) over the snapshots",
		serverReason(serverstats.FieldRequestQueueSize, false),
		func(v *VLLMStats) *float64 { return v.AvgRequestQueueSize }, func(v *VLLMStats) *float64 { return v.MaxRequestQueueSize }),
	serverGauge("batch", UnitRequests, LowerIsBetter, avgMax, "server batch", "requests running in the server (vllm:num_requests_running) over the snapshots",
		serverReason(serverstats.FieldActiveBatchSize, false),
		func(v *VLLMStats) *float64 { return v.AvgActiveBatchSize }, func(v *VLLMStats) *float64 { return v.MaxActiveBatchSize }),
	serverGauge("kv_cache_usage", UnitPercent, LowerIsBetter, avgMax, "server KV-cache usage", "the server's KV-cache usage, %, over the snapshots",
		serverReason(serverstats.FieldKVCacheUsagePercent, false),
		func(v *VLLMStats) *float64 { return v.AvgKVCacheUsagePercent }, func(v *VLLMStats) *float64 { return v.MaxKVCacheUsagePercent }),
	serverGauge("requests_per_second", UnitReqPerS, HigherIsBetter, "<avg>", "server request throughput", "the rate of vllm:request_success_total per sampling interval",
		serverReason(serverstats.FieldRequestSuccessTotal, true),
		func(v *VLLMStats) *float64 { return v.AvgRequestsPerSecond }, nil),
	{Name: "server.generation_tokens", Unit: UnitTokens, Direction: Neutral, Label: "server generation tokens",
		Doc: "tokens the server generated during the test (vllm:generation_tokens_total, first to last scrape)",
		read: func(s *Summary, _ args, v Value) Value {
			v.N = s.VLLM.Scrapes
			return s.sampledValue(v, s.VLLM.GenerationTokens, "no increase known: fewer than two successful scrapes, or vllm:generation_tokens_total not exposed after the first"+s.sourceNote("vllm"))
		}},
	{Name: "server.prefix_cache_hit_rate", Unit: UnitFraction, Direction: HigherIsBetter, Label: "server prefix-cache hit rate",
		Doc: "prompt tokens served from the server's prefix cache over those it looked up, a fraction, over the test window (vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total increases)",
		read: func(s *Summary, _ args, v Value) Value {
			var r *float64
			if s.Server != nil {
				r, v.N = s.Server.PrefixCacheHitRate, s.Server.Scrapes
			}
			return s.sampledValue(v, r, "no increase of vllm:prefix_cache_queries_total over the window"+s.sourceNote("vllm"))
		}},
	serverHist("ttft", "server TTFT", "vllm:time_to_first_token_seconds", serverstats.FieldTTFTSeconds, func(f *serverstats.Figures) *serverstats.Histogram { return f.TTFT }),
	serverHist("e2e", "server E2E", "vllm:e2e_request_latency_seconds", serverstats.FieldE2ELatencySeconds, func(f *serverstats.Figures) *serverstats.Histogram { return f.E2ELatency }),
	serverHist("queue_time", "server queue time", "vllm:request_queue_time_seconds", serverstats.FieldQueueTimeSeconds, func(f *serverstats.Figures) *serverstats.Histogram { return f.QueueTime }),
	serverHist("itl", "server ITL", "vllm:inter_token_latency_seconds (before vLLM 0.11 vllm:time_per_output_token_seconds)", serverstats.FieldITLSeconds, func(f *serverstats.Figures) *serverstats.Histogram { return f.ITL }),

	hostFigure("cpu", UnitPercent, "host CPU", "the host's CPU busy time, % of all cores, per sampling interval", hostReason("rate"),
		func(y *SystemStats) *float64 { return y.AvgCPUPercent }, func(y *SystemStats) *float64 { return y.MaxCPUPercent }),
	hostFigure("memory_gb", UnitGiB, "host memory", "the host's memory in use, GiB", hostReason("memory"),
		func(y *SystemStats) *float64 { return y.AvgMemoryGB }, func(y *SystemStats) *float64 { return y.MaxMemoryGB }),
	hostFigure("cgroup_memory_percent", UnitPercent, "cgroup memory", "the process's cgroup's memory in use, % of its limit (v2 memory.max, v1 memory.limit_in_bytes); unknown without a limit", hostReason("cgroup_memory"),
		func(y *SystemStats) *float64 { return y.AvgCgroupMemoryPercent }, func(y *SystemStats) *float64 { return y.MaxCgroupMemoryPercent }),
	hostFigure("cgroup_cpu_percent", UnitPercent, "cgroup CPU", "the process's cgroup's CPU use, % of its quota (v2 cpu.max, v1 cpu.cfs_quota_us), per sampling interval; unknown without a quota", hostReason("cgroup_cpu"),
		func(y *SystemStats) *float64 { return y.AvgCgroupCPUPercent }, func(y *SystemStats) *float64 { return y.MaxCgroupCPUPercent }),
}

// Registry returns the metric registry: every metric Summary.Lookup knows, each once, in documentation order.
// Names, units and directions used anywhere in vmtest (threshold expressions, baselines, benchmarks,
// comparisons, the README's table) come from it.
func Registry() []Metric { return append([]Metric(nil), registry...) }

// latency is the entry of a client-side latency distribution, ms, with its statistics.
func latency(name string, synonyms []string, label, doc string, get func(*recorder.Summary) recorder.Stats) Metric {
	return Metric{Name: name + "." + latencyStats, Synonyms: synonyms, Unit: UnitMS, Direction: LowerIsBetter,
		Label: label, Doc: doc + ", ms", dist: get, data: dataRequests,
		read: func(s *Summary, a args, v Value) Value {
			st := get(&s.Requests)
			v.N = st.N
			return s.requestValue(v, statOf(st, a.stat))
		}}
}

// sendLag reads a statistic of the open loop's send lag (recorder.Summary.SendLagMS).
func sendLag(s *Summary, a args, v Value) Value {
	st := s.Requests.SendLagMS
	v.N, v.WindowS = st.N, s.Requests.WindowS
	if p := statOf(st, a.stat); p != nil {
		v.Value, v.Known = *p, true
		return v
	}
	v.Note = fmt.Sprintf("n=0 open-loop requests of %d recorded: send lag is known only for requests sent on a schedule (a rate)", s.Requests.Total)
	return v
}

// clientCPU reads the client process's CPU utilization (Summary.Client).
func clientCPU(s *Summary, _ args, v Value) Value {
	if c := s.Client; c != nil && c.CPUUtilization != nil {
		v.N, v.Value, v.Known = c.Runs, *c.CPUUtilization, true
		return v
	}
	v.Note = "no load generator reported its cost (loadgen.Run does, to a collector; a client of your own does not)"
	return v
}

// timeToReject reads a statistic of the rejected requests' time to rejection (recorder.Summary.TimeToRejectMS).
func timeToReject(s *Summary, a args, v Value) Value {
	st := s.Requests.TimeToRejectMS
	v.N, v.WindowS = st.N, s.Requests.WindowS
	if p := statOf(st, a.stat); p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
		v.Value, v.Known = *p, true
		return v
	}
	v.Note = fmt.Sprintf("n=0 rejected requests with a known time to rejection of %d recorded (%d rejected)", s.Requests.Total, s.Requests.Rejected)
	return v
}

// requestFigure reads a client-side figure over successful requests.
func requestFigure(get func(*recorder.Summary) *float64) func(*Summary, args, Value) Value {
	return func(s *Summary, _ args, v Value) Value {
		v.N = s.Requests.OK
		return s.requestValue(v, get(&s.Requests))
	}
}

func errorRate(s *Summary, _ args, v Value) Value {
	v.N, v.WindowS = s.Requests.Total-s.Requests.Canceled, s.Requests.WindowS
	if s.Requests.ErrorRate == nil {
		v.Note = "no request recorded"
		if s.Requests.Canceled > 0 {
			v.Note = fmt.Sprintf("every request (%d) was canceled by its caller", s.Requests.Canceled)
		}
		return v
	}
	v.Value, v.Known = *s.Requests.ErrorRate, true
	return v
}

func goodput(s *Summary, _ args, v Value) Value {
	v.N = s.Requests.OK
	if len(s.Requests.GoodputSLOs) == 0 {
		v.WindowS, v.Note = s.Requests.WindowS, "no goodput SLO given"
		return v
	}
	return s.requestValue(v, s.Requests.Goodput)
}

func goodputRequests(s *Summary, _ args, v Value) Value {
	v.N, v.WindowS = s.Requests.Total, s.Requests.WindowS
	if len(s.Requests.GoodputSLOs) == 0 || s.Requests.GoodputRequests == nil {
		v.Note = "no goodput SLO given"
		return v
	}
	v.Value, v.Known = float64(*s.Requests.GoodputRequests), true
	return v
}

// count is the entry requests.<name>: a count over every recorded request, always known (0 is a fact).
func count(name, doc string, dir Direction, get func(recorder.Counts) int64) Metric {
	unit := UnitRequests
	if name == "output_tokens" || name == "prompt_tokens" || name == "reasoning_tokens" {
		unit = UnitTokens
	}
	return Metric{Name: "requests." + name, Unit: unit, Direction: dir, Label: "requests " + name, Doc: doc, data: dataRequests,
		read: func(s *Summary, _ args, v Value) Value {
			c := s.Requests.Counts
			v.Value, v.N, v.Known, v.WindowS = float64(get(c)), c.Total, true, s.Requests.WindowS
			return v
		}}
}

// gpuField is the entry <gpu>.<field>.<avg|max> (only .max when avg is nil).
func gpuField(field, unit, label, doc string, avg, max func(*GPUStats) *float64) Metric {
	aggs := avgMax
	if avg == nil {
		aggs = "<max>"
	}
	return Metric{Name: "<gpu>." + field + "." + aggs, Unit: unit, Direction: LowerIsBetter, Label: label, Doc: doc,
		read: func(s *Summary, a args, v Value) Value {
			if a.stat == "avg" {
				return gpuRead(avg, "avg")(s, a, v)
			}
			return gpuRead(max, "max")(s, a, v)
		}}
}

// serverGauge is the entry server.<name>.<aggs> over the snapshots' server readings.
func serverGauge(name, unit string, dir Direction, aggs, label, doc string, why func(*Summary) string, avg, max func(*VLLMStats) *float64) Metric {
	return Metric{Name: "server." + name + "." + aggs, Unit: unit, Direction: dir, Label: label, Doc: doc,
		read: func(s *Summary, a args, v Value) Value {
			p := avg
			if a.stat == "max" {
				p = max
			}
			v.N = s.VLLM.Scrapes
			if p(&s.VLLM) == nil {
				v.Note = why(s)
			}
			return s.sampledValue(v, p(&s.VLLM), v.Note)
		}}
}

// serverHist is the entry server.<name>.<p50|p90|p95|p99|mean> of the server latency histogram vllmName
// (kept under key in serverstats.Stats) over the test window.
func serverHist(name, label, vllmName, key string, pick func(*serverstats.Figures) *serverstats.Histogram) Metric {
	return Metric{Name: "server." + name + "." + serverStats, Unit: UnitMS, Direction: LowerIsBetter, Label: label,
		Doc: "the server's histogram " + vllmName + " over the test window, ms, as Prometheus histogram_quantile computes it, or the bound the histogram proves (at_most) where that interpolation lies above it; mean is _sum/_count",
		read: func(s *Summary, a args, v Value) Value {
			return s.serverHistValue(v, a.stat, key, pick)
		}}
}

// hostFigure is the entry <name>.<avg|max> of a host figure over the snapshots.
func hostFigure(name, unit, label, doc string, why func(*Summary) string, avg, max func(*SystemStats) *float64) Metric {
	return Metric{Name: name + "." + avgMax, Unit: unit, Direction: LowerIsBetter, Label: label, Doc: doc,
		read: func(s *Summary, a args, v Value) Value {
			p := avg
			if a.stat == "max" {
				p = max
			}
			v.N = s.Snapshots
			if p(&s.System) == nil {
				v.Note = why(s)
			}
			return s.sampledValue(v, p(&s.System), v.Note)
		}}
}

// migMemory reads gpu_<i>.mig.<key>.memory_used_mb.<avg|max>.
func migMemory(s *Summary, a args, v Value) Value {
	if s.DurationS > 0 {
		d := s.DurationS
		v.WindowS = &d
	}
	g, ok := s.GPU[a.gpu]
	if !ok {
		v.Note = "no " + a.gpu + " in this run (GPUs: " + s.gpuKeys() + ")" + s.sourceNote("gpu")
		return v
	}
	m, ok := g.MIG[a.mig]
	if !ok {
		keys := "none"
		if len(g.MIG) > 0 {
			keys = strings.Join(sortedKeys(g.MIG), ", ")
		}
		v.Note = "no MIG device " + a.mig + " on " + a.gpu + " (MIG devices: " + keys + ")"
		return v
	}
	v.N = m.Samples
	p := m.MaxMemoryUsedMB
	if a.stat == "avg" {
		p = m.AvgMemoryUsedMB
	}
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		v.Note = "MIG device " + a.mig + " of " + a.gpu + " never reported its memory"
		return v
	}
	v.Value, v.Known = *p, true
	return v
}
