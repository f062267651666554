package serverstats

import "slices"

// Logical fields of a vLLM /metrics scrape. Each is read from the first metric name in Candidates(field) that
// the server exposes; Stats.NamesUsed maps these keys to the name found. The scalar keys are the JSON names
// of the snapshot.VLLM fields they fill.
const (
	// FieldRequestQueueSize: requests waiting to be scheduled, the gauge vllm:num_requests_waiting summed over
	// series (engines) → snapshot.VLLM.RequestQueueSize.
	FieldRequestQueueSize = "request_queue_size"
	// FieldActiveBatchSize: requests in the running batch, the gauge vllm:num_requests_running summed over
	// series (engines) → snapshot.VLLM.ActiveBatchSize.
	FieldActiveBatchSize = "active_batch_size"
	// FieldKVCacheUsagePercent: KV-cache usage, the gauge vllm:kv_cache_usage_perc (V1, vLLM ≥ 0.9) or
	// vllm:gpu_cache_usage_perc (V0 and vLLM < 0.9), a 0–1 fraction per engine, ×100 → percent
	// (snapshot.VLLM.KVCacheUsagePercent is the mean over engines).
	FieldKVCacheUsagePercent = "kv_cache_usage_percent"
	// FieldGenerationTokensTotal: the counter vllm:generation_tokens_total, tokens, summed over series →
	// snapshot.VLLM.GenerationTokensTotal and its rate TokensPerSecond.
	FieldGenerationTokensTotal = "generation_tokens_total"
	// FieldPromptTokensTotal: the counter vllm:prompt_tokens_total, tokens, summed over series →
	// snapshot.VLLM.PromptTokensTotal and its rate PromptTokensPerSecond.
	FieldPromptTokensTotal = "prompt_tokens_total"
	// FieldRequestSuccessTotal: the counter vllm:request_success_total, requests, summed over engines and over
	// the finish-reason label (`finished_reason` in vLLM, `finish_reason` in llm-d-inference-sim) →
	// snapshot.VLLM.RequestSuccessTotal and its rate RequestsPerSecond.
	FieldRequestSuccessTotal = "request_success_total"
	// FieldPreemptions: the counter vllm:num_preemptions_total (V0 and V1), preemptions; window figure only.
	FieldPreemptions = "preemptions_total"

	// FieldTTFTSeconds: the histogram vllm:time_to_first_token_seconds, seconds.
	FieldTTFTSeconds = "ttft_seconds"
	// FieldE2ELatencySeconds: the histogram vllm:e2e_request_latency_seconds, seconds.
	FieldE2ELatencySeconds = "e2e_latency_seconds"
	// FieldITLSeconds: the inter-token latency histogram, seconds: vllm:inter_token_latency_seconds, or before
	// vLLM 0.11 vllm:time_per_output_token_seconds. Never vllm:request_time_per_output_token_seconds, which is
	// per-request TPOT, another metric.
	FieldITLSeconds = "itl_seconds"
	// FieldQueueTimeSeconds: the histogram vllm:request_queue_time_seconds, seconds.
	FieldQueueTimeSeconds = "queue_time_seconds"
)

// Kind is how a catalogue metric is read and aggregated.
type Kind int

const (
	// KindCounter: a monotonic counter; its increase is taken per series and summed over series.
	KindCounter Kind = iota
	// KindGaugeSum: a gauge summed over series in each scrape.
	KindGaugeSum
	// KindGaugeMean: a gauge averaged over series in each scrape; its maximum is that of a single series (the
	// busiest engine).
	KindGaugeMean
	// KindHistogram: a classic Prometheus histogram; bucket increases per series, quantiles as histogram_quantile.
	KindHistogram
)

// Metric is one entry of the catalogue of vLLM metrics vmtest reads.
type Metric struct {
	// Field is the logical field (FieldTTFTSeconds, ...), stable across vLLM versions.
	Field string
	// Names are the metric names it is read from, most preferred first (the first one a scrape exposes wins).
	// ../shared/testdata/vllm/METRIC_NAMES.md has the rename history.
	Names []string
	// Kind is how it is aggregated.
	Kind Kind
	// Unit is the unit after Scale: "requests", "percent", "tokens", "preemptions" or "seconds".
	Unit string
	// Scale multiplies the exposed value into Unit (100 for a 0–1 fraction reported in percent).
	Scale float64
}

// catalogue lists the counters first (indexes cGen...cPreempt), then the gauges (gQueue...gKV), then the
// histograms (in the order hTTFT...hITL).
var catalogue = []Metric{
	{FieldGenerationTokensTotal, []string{"vllm:generation_tokens_total"}, KindCounter, "tokens", 1},
	{FieldPromptTokensTotal, []string{"vllm:prompt_tokens_total"}, KindCounter, "tokens", 1},
	{FieldRequestSuccessTotal, []string{"vllm:request_success_total"}, KindCounter, "requests", 1},
	{FieldPreemptions, []string{"vllm:num_preemptions_total"}, KindCounter, "preemptions", 1},
	{FieldRequestQueueSize, []string{"vllm:num_requests_waiting"}, KindGaugeSum, "requests", 1},
	{FieldActiveBatchSize, []string{"vllm:num_requests_running"}, KindGaugeSum, "requests", 1},
	{FieldKVCacheUsagePercent, []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}, KindGaugeMean, "percent", 100},
	{FieldTTFTSeconds, []string{"vllm:time_to_first_token_seconds"}, KindHistogram, "seconds", 1},
	{FieldE2ELatencySeconds, []string{"vllm:e2e_request_latency_seconds"}, KindHistogram, "seconds", 1},
	{FieldQueueTimeSeconds, []string{"vllm:request_queue_time_seconds"}, KindHistogram, "seconds", 1},
	{FieldITLSeconds, []string{"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"}, KindHistogram, "seconds", 1},
}

const (
	cGen = iota
	cPrompt
	cSuccess
	cPreempt
	gQueue
	gRunning
	gKV
	nScalar
)

const (
	hTTFT = iota
	hE2E
	hQueue
	hITL
	nHist
)

// scalarFields are the counters and gauges of the catalogue, histFields the histograms' logical fields.
var (
	scalarFields = catalogue[:nScalar]
	histFields   = [nHist]string{FieldTTFTSeconds, FieldE2ELatencySeconds, FieldQueueTimeSeconds, FieldITLSeconds}
)

// processStart is the standard process collector's start time (Unix seconds); a change means the server
// process restarted between scrapes.
const processStart = "process_start_time_seconds"

// Catalogue returns every metric vmtest reads from a vLLM server (a deep copy).
func Catalogue() []Metric {
	out := slices.Clone(catalogue)
	for i := range out {
		out[i].Names = slices.Clone(out[i].Names)
	}
	return out
}

// Candidates returns the metric names a logical field (FieldRequestQueueSize, FieldITLSeconds, ...) is read
// from, most preferred first, or nil for an unknown field. The slice is a copy.
func Candidates(field string) []string {
	for _, m := range catalogue {
		if m.Field == field {
			return slices.Clone(m.Names)
		}
	}
	return nil
}
