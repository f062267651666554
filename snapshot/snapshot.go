// Package snapshot defines one tick of vmtest's sampling: the GPU, vLLM server and host readings taken at one
// instant on one clock, in the JSON schema of the original Python collector (seed field names and units kept
// exactly; new fields carry their unit in the name). Unknown values are nil pointers, written as JSON null and
// as empty CSV cells, never 0 and never NaN.
package snapshot

import (
	"math"
	"time"
)

// Snapshot is one tick: every reading merged under one timestamp.
//
// JSON shape (seed-compatible, extended):
//
//	{"timestamp": RFC 3339 with offset, "config_id": ..., "run_id": ..., "elapsed_s": ...,
//	 "gpu_metrics": {"gpu_0": {...}}, "vllm_metrics": {...}, "system_metrics": {...}, "errors": {...}}
type Snapshot struct {
	// Timestamp is the wall-clock time of the tick, for display and export only (RFC 3339 with offset in JSON).
	Timestamp time.Time `json:"timestamp"`
	// ConfigID names the configuration under test (the original Python collector's config_id).
	ConfigID string `json:"config_id"`
	// RunID identifies the run, so a stale or cached file is visibly not this run.
	RunID string `json:"run_id"`
	// ElapsedS is seconds since collection started, from the monotonic clock.
	ElapsedS float64 `json:"elapsed_s"`
	// GPUMetrics maps "gpu_<index>" (or "<host>_gpu_<index>" for several dcgm-exporter nodes) to that GPU's
	// reading. It is empty ({}), never null, when no GPU source is available; Errors["gpu"] then says why.
	GPUMetrics map[string]GPU `json:"gpu_metrics"`
	// VLLMMetrics holds the server's /metrics readings and the client-side latency of requests that
	// finished during the interval ending at this tick.
	VLLMMetrics VLLM `json:"vllm_metrics"`
	// SystemMetrics holds the host's CPU, memory, network and disk readings.
	SystemMetrics System `json:"system_metrics"`
	// NodeMetrics maps a server node's name (Options.NodeExporterURLs) to its host readings from node_exporter;
	// absent (nil) when no node is sampled. A node whose scrape failed has every field nil and
	// Errors["node:<name>"] says why.
	NodeMetrics map[string]Node `json:"node_metrics,omitempty"`
	// Errors maps a source ("vllm", "system", "gpu", ...) to why its reading is missing or partial this tick.
	Errors map[string]string `json:"errors,omitempty"`
}

// GPU is one GPU's reading. Seed fields first (utilization in %, memory in MiB as nvidia-smi's "MiB",
// temperature in °C, power in W); fields a source cannot give are nil, with the reason in Unavailable.
type GPU struct {
	// Index is the GPU's index as the source numbers it (NVML/nvidia-smi index, dcgm-exporter "gpu" label).
	Index int `json:"index"`
	// UUID is the GPU's UUID ("GPU-..."), or the MIG instance's, when the source gives it.
	UUID string `json:"uuid,omitempty"`
	// Name is the product name (e.g. "NVIDIA H200").
	Name string `json:"name,omitempty"`
	// Host is the node's hostname, set for dcgm-exporter sources.
	Host string `json:"host,omitempty"`
	// Utilization is the percent of time over the driver's sample period that a kernel ran (0–100).
	Utilization *float64 `json:"utilization"`
	// MemoryUsedMB is device memory in use, MiB.
	MemoryUsedMB *float64 `json:"memory_used_mb"`
	// MemoryFreeMB is device memory free, MiB.
	MemoryFreeMB *float64 `json:"memory_free_mb"`
	// MemoryTotalMB is total device memory, MiB.
	MemoryTotalMB *float64 `json:"memory_total_mb"`
	// TempC is the GPU core temperature, °C.
	TempC *float64 `json:"temp_c"`
	// PowerW is the board power draw, W.
	PowerW *float64 `json:"power_w"`
	// MemoryUtilizationPercent is the percent of time device memory was read or written (0–100).
	MemoryUtilizationPercent *float64 `json:"memory_utilization_percent"`
	// SMClockMHz is the current SM clock, MHz.
	SMClockMHz *float64 `json:"sm_clock_mhz"`
	// MemoryClockMHz is the current memory clock, MHz.
	MemoryClockMHz *float64 `json:"memory_clock_mhz"`
	// EnergyJ is the energy consumed since collection started, J (from NVML's total energy counter).
	EnergyJ *float64 `json:"energy_j"`
	// ThrottleReasons lists the active clock throttle reasons (e.g. "sw_power_cap"); nil when unknown.
	ThrottleReasons []string `json:"throttle_reasons"`
	// Processes lists the compute processes on this GPU with their memory, when the source gives them.
	Processes []GPUProcess `json:"processes,omitempty"`
	// MIGDevices lists the GPU's MIG (Multi-Instance GPU) devices, each with its own memory, in the order the
	// source enumerates them (NVML: MIG device index; dcgm-exporter: GPU instance ID). Nil when the GPU is not
	// in MIG mode or the source cannot tell (nvidia-smi --query-gpu has no per-MIG-device fields); when NVML
	// could not tell, Unavailable["mig_devices"] says why. The GPU's own fields stay those of the whole
	// physical GPU.
	MIGDevices []MIGDevice `json:"mig_devices,omitempty"`
	// Unavailable maps a JSON field name to why it is null (e.g. "not_supported", "gpu_lost").
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// MIGDevice is one MIG device of a GPU in MIG mode: a compute instance inside a GPU instance, the unit that
// CUDA_VISIBLE_DEVICES=MIG-... hands to a process such as vLLM. Memory belongs to the GPU instance, so MIG
// devices that share a GPU instance (same GPUInstanceID, different ComputeInstanceID) report the same memory.
// NVML fills every field; dcgm-exporter, which labels its series per GPU instance, fills GPUInstanceID,
// Profile and the memory fields. Fields a source cannot give are nil (empty for strings), with the reason in
// Unavailable.
type MIGDevice struct {
	// GPUInstanceID is the GPU instance ID (nvidia-smi's "GI ID"): NVML nvmlDeviceGetGpuInstanceId on the MIG
	// device handle, or dcgm-exporter's GPU_I_ID label. Nil when NVML does not say (0 is a valid ID).
	GPUInstanceID *int `json:"gpu_instance_id"`
	// ComputeInstanceID is the compute instance ID within the GPU instance (nvidia-smi's "CI ID"): NVML
	// nvmlDeviceGetComputeInstanceId. Nil for dcgm-exporter, which does not label compute instances.
	ComputeInstanceID *int `json:"compute_instance_id"`
	// Index is the MIG device index under its GPU (nvidia-smi's "MIG Dev"): the index NVML's
	// nvmlDeviceGetMigDeviceHandleByIndex takes. Nil for dcgm-exporter.
	Index *int `json:"index"`
	// UUID is the MIG device's UUID ("MIG-..."), from NVML nvmlDeviceGetUUID on the MIG device handle. Empty
	// for dcgm-exporter, whose UUID label is the physical GPU's.
	UUID string `json:"uuid,omitempty"`
	// Profile is the MIG profile (e.g. "1g.18gb", "3g.71gb", or "1c.3g.71gb" for a compute instance that
	// uses part of a GPU instance): the text after " MIG " in NVML's device name ("NVIDIA H200 MIG 1g.18gb"),
	// or dcgm-exporter's GPU_I_PROFILE label.
	Profile string `json:"profile,omitempty"`
	// Utilization is the percent of time the GPU instance's graphics engine was busy (0–100): dcgm-exporter's
	// DCGM_FI_PROF_GR_ENGINE_ACTIVE of the instance × 100. Nil for NVML and nvidia-smi, which do not report it.
	Utilization *float64 `json:"utilization"`
	// MemoryUsedMB is the GPU instance's memory in use, MiB (NVML memory info on the MIG device handle,
	// bytes / 2^20; dcgm-exporter DCGM_FI_DEV_FB_USED of the instance's series).
	MemoryUsedMB *float64 `json:"memory_used_mb"`
	// MemoryFreeMB is the GPU instance's memory free, MiB (NVML memory info; dcgm-exporter DCGM_FI_DEV_FB_FREE).
	MemoryFreeMB *float64 `json:"memory_free_mb"`
	// MemoryTotalMB is the GPU instance's memory, MiB (NVML memory info; dcgm-exporter DCGM_FI_DEV_FB_TOTAL
	// when exported, else FB_USED + FB_FREE + FB_RESERVED, else FB_USED + FB_FREE: NVML reports no reserved
	// memory on a MIG device).
	MemoryTotalMB *float64 `json:"memory_total_mb"`
	// Unavailable maps a JSON field name of this MIG device to why it is null or empty (e.g. "not_supported",
	// "not_reported").
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// GPUProcess is one process using a GPU.
type GPUProcess struct {
	// PID is the process id.
	PID uint32 `json:"pid"`
	// UsedMemoryMB is the GPU memory the process holds, MiB; nil when the driver does not say.
	UsedMemoryMB *float64 `json:"used_memory_mb"`
	// GPUInstanceID is the MIG GPU instance the process runs in (NVML ProcessInfo.GpuInstanceId); nil when the
	// GPU is not in MIG mode (NVML gives 0xFFFFFFFF) or the source does not say (nvidia-smi, dcgm-exporter).
	GPUInstanceID *int `json:"gpu_instance_id"`
	// ComputeInstanceID is the MIG compute instance the process runs in (NVML ProcessInfo.ComputeInstanceId);
	// nil as GPUInstanceID is.
	ComputeInstanceID *int `json:"compute_instance_id"`
}

// VLLM holds the server-side readings from /metrics and the client-side latency of the requests that finished
// during the interval ending at this tick.
type VLLM struct {
	// TokensPerSecond is the rate of the server's generation-token counter (vllm:generation_tokens_total) over
	// the interval since the previous successful scrape (ScrapeIntervalS long), tokens/s, summed over series.
	// Nil on the first scrape, and for an interval in which the server restarted, a series went down, vanished
	// or came back after a gap (serverstats.Window.FillInterval, strict), and over an interval under
	// recorder.MinThroughputWindow (1 s: the final snapshot, a few ms after a tick). A counter or series first exposed in
	// this scrape (created on first use) counts from 0. PromptTokensPerSecond and RequestsPerSecond likewise.
	TokensPerSecond *float64 `json:"tokens_per_second"`
	// FirstTokenLatencyMS is the mean TTFT, ms, of requests recorded during the interval (client side).
	FirstTokenLatencyMS *float64 `json:"first_token_latency_ms"`
	// MeanLatencyMS is the mean E2E latency, ms, of requests recorded during the interval (client side).
	MeanLatencyMS *float64 `json:"mean_latency_ms"`
	// P50LatencyMS is the p50 E2E latency, ms, of requests recorded during the interval (numpy linear).
	P50LatencyMS *float64 `json:"p50_latency_ms"`
	// P90LatencyMS is the p90 E2E latency, ms, of requests recorded during the interval (numpy linear).
	P90LatencyMS *float64 `json:"p90_latency_ms"`
	// P99LatencyMS is the p99 E2E latency, ms, of requests recorded during the interval (numpy linear).
	P99LatencyMS *float64 `json:"p99_latency_ms"`
	// RequestQueueSize is vllm:num_requests_waiting (summed over engines).
	RequestQueueSize *float64 `json:"request_queue_size"`
	// ActiveBatchSize is vllm:num_requests_running (summed over engines).
	ActiveBatchSize *float64 `json:"active_batch_size"`
	// KVCacheUsagePercent is the KV-cache usage, 0–100 (vllm:kv_cache_usage_perc, or V0's
	// vllm:gpu_cache_usage_perc, which are 0–1 fractions, times 100; mean over engines). The summary's maximum
	// is the busiest engine's, not the maximum of these means.
	KVCacheUsagePercent *float64 `json:"kv_cache_usage_percent"`
	// PromptTokensPerSecond is the rate of vllm:prompt_tokens_total over the interval since the previous
	// successful scrape (ScrapeIntervalS long), tokens/s.
	PromptTokensPerSecond *float64 `json:"prompt_tokens_per_second"`
	// RequestsPerSecond is the rate of vllm:request_success_total (all finish reasons) over the interval since
	// the previous successful scrape (ScrapeIntervalS long), req/s.
	RequestsPerSecond *float64 `json:"requests_per_second"`
	// GenerationTokensTotal is the raw vllm:generation_tokens_total counter.
	GenerationTokensTotal *float64 `json:"generation_tokens_total"`
	// PromptTokensTotal is the raw vllm:prompt_tokens_total counter.
	PromptTokensTotal *float64 `json:"prompt_tokens_total"`
	// RequestSuccessTotal is the raw vllm:request_success_total counter, summed over finish reasons.
	RequestSuccessTotal *float64 `json:"request_success_total"`
	// RequestsFinished is the number of successful requests recorded by the client during the interval.
	RequestsFinished int `json:"requests_finished"`
	// ScrapeIntervalS is the length, s, of the interval TokensPerSecond, PromptTokensPerSecond and
	// RequestsPerSecond cover: from the previous successful scrape's response to this one's (the vLLM
	// sampler's clock, monotonic). A failed scrape does not move that start, nor does one that came back after
	// its tick's deadline (the collector discards that reading uncommitted), so after either the interval spans
	// more than one tick. Set on every kept scrape but the first, even when the rates are null (a restart, a
	// counter not exposed); nil on the first successful scrape and on a failed one. The summary weights each
	// rate by it.
	ScrapeIntervalS *float64 `json:"scrape_interval_s"`

	// The Server* fields are server-side figures over the interval between the previous successful /metrics
	// scrape and this one: from the increase of each bucket of a vLLM latency histogram between the two scrapes,
	// summed per `le` over series (engines) on the bounds every series has, a quantile interpolated as
	// Prometheus's histogram_quantile does (serverstats.BucketQuantile), in ms. They see every request the
	// server handled, whoever sent it. A histogram first exposed in this scrape (created on first use) counts
	// from 0.
	//
	// Each is null on the first successful scrape, on a tick whose scrape failed, when the histogram is not
	// exposed or read from another name than in the previous scrape, when it was reset in the interval (a
	// series went down, changed its buckets, vanished or came back after a gap, or process_start_time_seconds
	// changed; an event says so), and — the quantiles — when the histogram saw no observation in the interval
	// or its series share no finite bucket bound. A quantile that lies in the +Inf
	// bucket is not a value: it is null, and its _lower_bound_ms companion holds the highest finite bucket
	// bound (the quantile is above it); the companion is null otherwise. So a reader of the quantile column
	// never mistakes a bound for a measurement.

	// ServerTTFTP50MS is the median of vllm:time_to_first_token_seconds over the interval, ms.
	ServerTTFTP50MS *float64 `json:"server_ttft_p50_ms"`
	// ServerTTFTP99MS is the 99th percentile of vllm:time_to_first_token_seconds over the interval, ms.
	ServerTTFTP99MS *float64 `json:"server_ttft_p99_ms"`
	// ServerE2EP50MS is the median of vllm:e2e_request_latency_seconds (arrival to finish) over the interval, ms.
	ServerE2EP50MS *float64 `json:"server_e2e_p50_ms"`
	// ServerE2EP99MS is the 99th percentile of vllm:e2e_request_latency_seconds over the interval, ms.
	ServerE2EP99MS *float64 `json:"server_e2e_p99_ms"`
	// ServerITLP50MS is the median inter-token latency over the interval, ms, from vllm:inter_token_latency_seconds
	// (or, before vLLM 0.11 and on V0, vllm:time_per_output_token_seconds): one observation per generated token
	// after the first. Never vllm:request_time_per_output_token_seconds (per-request TPOT, another metric).
	ServerITLP50MS *float64 `json:"server_itl_p50_ms"`
	// ServerITLP99MS is the 99th percentile of the same inter-token latency histogram over the interval, ms.
	ServerITLP99MS *float64 `json:"server_itl_p99_ms"`
	// ServerQueueTimeP50MS is the median of vllm:request_queue_time_seconds (time waiting to be scheduled) over
	// the interval, ms.
	ServerQueueTimeP50MS *float64 `json:"server_queue_time_p50_ms"`
	// ServerQueueTimeP99MS is the 99th percentile of vllm:request_queue_time_seconds over the interval, ms.
	ServerQueueTimeP99MS *float64 `json:"server_queue_time_p99_ms"`
	// ServerRequestsFinished is the number of requests the server finished in the interval: the increase of
	// vllm:e2e_request_latency_seconds_count (one observation per finished request), summed over engines. 0 when
	// none finished (the quantiles are then null); null under the same conditions as the quantiles otherwise.
	ServerRequestsFinished *float64 `json:"server_requests_finished"`

	// ServerTTFTP50LowerBoundMS is set, ms, only when the TTFT median lies in the +Inf bucket (ServerTTFTP50MS
	// is then null): the highest finite bucket bound of vllm:time_to_first_token_seconds; the median is above it.
	ServerTTFTP50LowerBoundMS *float64 `json:"server_ttft_p50_lower_bound_ms"`
	// ServerTTFTP99LowerBoundMS is ServerTTFTP50LowerBoundMS for the 99th percentile (ServerTTFTP99MS null).
	ServerTTFTP99LowerBoundMS *float64 `json:"server_ttft_p99_lower_bound_ms"`
	// ServerE2EP50LowerBoundMS is set, ms, only when the E2E median lies in the +Inf bucket (ServerE2EP50MS
	// null): the highest finite bucket bound of vllm:e2e_request_latency_seconds.
	ServerE2EP50LowerBoundMS *float64 `json:"server_e2e_p50_lower_bound_ms"`
	// ServerE2EP99LowerBoundMS is ServerE2EP50LowerBoundMS for the 99th percentile (ServerE2EP99MS null).
	ServerE2EP99LowerBoundMS *float64 `json:"server_e2e_p99_lower_bound_ms"`
	// ServerITLP50LowerBoundMS is set, ms, only when the ITL median lies in the +Inf bucket (ServerITLP50MS null):
	// the highest finite bucket bound of the inter-token latency histogram.
	ServerITLP50LowerBoundMS *float64 `json:"server_itl_p50_lower_bound_ms"`
	// ServerITLP99LowerBoundMS is ServerITLP50LowerBoundMS for the 99th percentile (ServerITLP99MS null).
	ServerITLP99LowerBoundMS *float64 `json:"server_itl_p99_lower_bound_ms"`
	// ServerQueueTimeP50LowerBoundMS is set, ms, only when the queue-time median lies in the +Inf bucket
	// (ServerQueueTimeP50MS null): the highest finite bucket bound of vllm:request_queue_time_seconds.
	ServerQueueTimeP50LowerBoundMS *float64 `json:"server_queue_time_p50_lower_bound_ms"`
	// ServerQueueTimeP99LowerBoundMS is ServerQueueTimeP50LowerBoundMS for the 99th percentile
	// (ServerQueueTimeP99MS null).
	ServerQueueTimeP99LowerBoundMS *float64 `json:"server_queue_time_p99_lower_bound_ms"`

	// ServerTTFTMeanMS is the mean of vllm:time_to_first_token_seconds over the interval, ms: the increase of
	// its _sum over the increase of its _count; nil when the count did not increase, and as the quantiles are.
	ServerTTFTMeanMS *float64 `json:"server_ttft_mean_ms"`
	// ServerE2EMeanMS is the mean of vllm:e2e_request_latency_seconds over the interval, ms (_sum / _count
	// increase), nil as ServerTTFTMeanMS is.
	ServerE2EMeanMS *float64 `json:"server_e2e_mean_ms"`
	// ServerE2EP90MS is the 90th percentile of vllm:e2e_request_latency_seconds over the interval, ms.
	ServerE2EP90MS *float64 `json:"server_e2e_p90_ms"`
	// ServerE2EP90LowerBoundMS is ServerE2EP50LowerBoundMS for the 90th percentile (ServerE2EP90MS null).
	ServerE2EP90LowerBoundMS *float64 `json:"server_e2e_p90_lower_bound_ms"`

	// The _bucket_lower_ms, _bucket_upper_ms and _at_most_ms fields say how far each per-interval server
	// quantile above can be from the truth, as serverstats.Quantile's BucketLowerMS, BucketUpperMS and AtMostMS
	// do for the summary's: the quantile lies in (bucket_lower_ms, at_most_ms], ms, where at_most_ms is the
	// bucket's upper bound or less where the interval's _sum increase proves it. bucket_upper_ms and at_most_ms
	// are null for a quantile in the +Inf bucket; all three are null when the quantile and its lower bound are.
	// The quantile's value lies in that range too: where histogram_quantile's interpolation lies above
	// at_most_ms, the value is at_most_ms (serverstats.Quantile.ValueMS).
	// In JSON a null bound is left out (as null they would add 1 KB to every snapshot, 70 %, in an idle run); the CSV has
	// every column, empty when null.

	// ServerTTFTP50BucketLowerMS is the lower bound, ms, of the bucket ServerTTFTP50MS (or its lower bound) lies in.
	ServerTTFTP50BucketLowerMS *float64 `json:"server_ttft_p50_bucket_lower_ms,omitempty"`
	// ServerTTFTP50BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerTTFTP50MS lies in; nil for the +Inf bucket.
	ServerTTFTP50BucketUpperMS *float64 `json:"server_ttft_p50_bucket_upper_ms,omitempty"`
	// ServerTTFTP50AtMostMS is the smallest upper bound known for ServerTTFTP50MS, ms.
	ServerTTFTP50AtMostMS *float64 `json:"server_ttft_p50_at_most_ms,omitempty"`
	// ServerTTFTP99BucketLowerMS is the lower bound, ms, of the bucket ServerTTFTP99MS (or its lower bound) lies in.
	ServerTTFTP99BucketLowerMS *float64 `json:"server_ttft_p99_bucket_lower_ms,omitempty"`
	// ServerTTFTP99BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerTTFTP99MS lies in; nil for the +Inf bucket.
	ServerTTFTP99BucketUpperMS *float64 `json:"server_ttft_p99_bucket_upper_ms,omitempty"`
	// ServerTTFTP99AtMostMS is the smallest upper bound known for ServerTTFTP99MS, ms.
	ServerTTFTP99AtMostMS *float64 `json:"server_ttft_p99_at_most_ms,omitempty"`
	// ServerE2EP50BucketLowerMS is the lower bound, ms, of the bucket ServerE2EP50MS (or its lower bound) lies in.
	ServerE2EP50BucketLowerMS *float64 `json:"server_e2e_p50_bucket_lower_ms,omitempty"`
	// ServerE2EP50BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerE2EP50MS lies in; nil for the +Inf bucket.
	ServerE2EP50BucketUpperMS *float64 `json:"server_e2e_p50_bucket_upper_ms,omitempty"`
	// ServerE2EP50AtMostMS is the smallest upper bound known for ServerE2EP50MS, ms.
	ServerE2EP50AtMostMS *float64 `json:"server_e2e_p50_at_most_ms,omitempty"`
	// ServerE2EP90BucketLowerMS is the lower bound, ms, of the bucket ServerE2EP90MS (or its lower bound) lies in.
	ServerE2EP90BucketLowerMS *float64 `json:"server_e2e_p90_bucket_lower_ms,omitempty"`
	// ServerE2EP90BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerE2EP90MS lies in; nil for the +Inf bucket.
	ServerE2EP90BucketUpperMS *float64 `json:"server_e2e_p90_bucket_upper_ms,omitempty"`
	// ServerE2EP90AtMostMS is the smallest upper bound known for ServerE2EP90MS, ms.
	ServerE2EP90AtMostMS *float64 `json:"server_e2e_p90_at_most_ms,omitempty"`
	// ServerE2EP99BucketLowerMS is the lower bound, ms, of the bucket ServerE2EP99MS (or its lower bound) lies in.
	ServerE2EP99BucketLowerMS *float64 `json:"server_e2e_p99_bucket_lower_ms,omitempty"`
	// ServerE2EP99BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerE2EP99MS lies in; nil for the +Inf bucket.
	ServerE2EP99BucketUpperMS *float64 `json:"server_e2e_p99_bucket_upper_ms,omitempty"`
	// ServerE2EP99AtMostMS is the smallest upper bound known for ServerE2EP99MS, ms.
	ServerE2EP99AtMostMS *float64 `json:"server_e2e_p99_at_most_ms,omitempty"`
	// ServerITLP50BucketLowerMS is the lower bound, ms, of the bucket ServerITLP50MS (or its lower bound) lies in.
	ServerITLP50BucketLowerMS *float64 `json:"server_itl_p50_bucket_lower_ms,omitempty"`
	// ServerITLP50BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerITLP50MS lies in; nil for the +Inf bucket.
	ServerITLP50BucketUpperMS *float64 `json:"server_itl_p50_bucket_upper_ms,omitempty"`
	// ServerITLP50AtMostMS is the smallest upper bound known for ServerITLP50MS, ms.
	ServerITLP50AtMostMS *float64 `json:"server_itl_p50_at_most_ms,omitempty"`
	// ServerITLP99BucketLowerMS is the lower bound, ms, of the bucket ServerITLP99MS (or its lower bound) lies in.
	ServerITLP99BucketLowerMS *float64 `json:"server_itl_p99_bucket_lower_ms,omitempty"`
	// ServerITLP99BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerITLP99MS lies in; nil for the +Inf bucket.
	ServerITLP99BucketUpperMS *float64 `json:"server_itl_p99_bucket_upper_ms,omitempty"`
	// ServerITLP99AtMostMS is the smallest upper bound known for ServerITLP99MS, ms.
	ServerITLP99AtMostMS *float64 `json:"server_itl_p99_at_most_ms,omitempty"`
	// ServerQueueTimeP50BucketLowerMS is the lower bound, ms, of the bucket ServerQueueTimeP50MS (or its lower bound) lies in.
	ServerQueueTimeP50BucketLowerMS *float64 `json:"server_queue_time_p50_bucket_lower_ms,omitempty"`
	// ServerQueueTimeP50BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerQueueTimeP50MS lies in; nil for the +Inf bucket.
	ServerQueueTimeP50BucketUpperMS *float64 `json:"server_queue_time_p50_bucket_upper_ms,omitempty"`
	// ServerQueueTimeP50AtMostMS is the smallest upper bound known for ServerQueueTimeP50MS, ms.
	ServerQueueTimeP50AtMostMS *float64 `json:"server_queue_time_p50_at_most_ms,omitempty"`
	// ServerQueueTimeP99BucketLowerMS is the lower bound, ms, of the bucket ServerQueueTimeP99MS (or its lower bound) lies in.
	ServerQueueTimeP99BucketLowerMS *float64 `json:"server_queue_time_p99_bucket_lower_ms,omitempty"`
	// ServerQueueTimeP99BucketUpperMS is the upper bound (`le`), ms, of the bucket ServerQueueTimeP99MS lies in; nil for the +Inf bucket.
	ServerQueueTimeP99BucketUpperMS *float64 `json:"server_queue_time_p99_bucket_upper_ms,omitempty"`
	// ServerQueueTimeP99AtMostMS is the smallest upper bound known for ServerQueueTimeP99MS, ms.
	ServerQueueTimeP99AtMostMS *float64 `json:"server_queue_time_p99_at_most_ms,omitempty"`

	// Replicas maps each replica's name to its own server figures for the interval, when the server is several
	// replicas (serverstats.Fleet); the fields above are then their aggregate. A replica's client-side fields
	// are nil, and all its fields are nil on a tick its scrape failed. Nil for one server.
	Replicas map[string]VLLM `json:"replicas,omitempty"`
}

// System holds host readings (gopsutil). Counters are cumulative as the OS reports them (since boot), as the
// original Python collector's psutil fields are; the _per_second fields are rates over the interval.
type System struct {
	// CPUPercent is host CPU busy time over the interval since the host sampler's previous reading
	// (RateIntervalS long), percent of all cores (0–100); nil on the first tick and on the tick after a failed CPU
	// reading (which leaves no base).
	CPUPercent *float64 `json:"cpu_percent"`
	// MemoryGB is host memory in use, GiB (total − available).
	MemoryGB *float64 `json:"memory_gb"`
	// MemoryAvailableGB is host memory available, GiB.
	MemoryAvailableGB *float64 `json:"memory_available_gb"`
	// MemoryTotalGB is total host memory, GiB.
	MemoryTotalGB *float64 `json:"memory_total_gb"`
	// NetworkSentBytes is bytes sent on all interfaces since boot.
	NetworkSentBytes *float64 `json:"network_sent_bytes"`
	// NetworkRecvBytes is bytes received on all interfaces since boot.
	NetworkRecvBytes *float64 `json:"network_recv_bytes"`
	// DiskReadBytes is bytes read from all disks since boot.
	DiskReadBytes *float64 `json:"disk_read_bytes"`
	// DiskWriteBytes is bytes written to all disks since boot.
	DiskWriteBytes *float64 `json:"disk_write_bytes"`
	// NetworkSentBytesPerSecond is the send rate over the interval, bytes/s; nil on the first tick.
	NetworkSentBytesPerSecond *float64 `json:"network_sent_bytes_per_second"`
	// NetworkRecvBytesPerSecond is the receive rate over the interval, bytes/s; nil on the first tick.
	NetworkRecvBytesPerSecond *float64 `json:"network_recv_bytes_per_second"`
	// DiskReadBytesPerSecond is the disk read rate over the interval, bytes/s; nil on the first tick.
	DiskReadBytesPerSecond *float64 `json:"disk_read_bytes_per_second"`
	// DiskWriteBytesPerSecond is the disk write rate over the interval, bytes/s; nil on the first tick.
	DiskWriteBytesPerSecond *float64 `json:"disk_write_bytes_per_second"`
	// RateIntervalS is the length, s, of the interval CPUPercent and the _per_second rates cover: from the host
	// sampler's previous reading to this one (its clock, monotonic). A part that failed in the previous reading
	// has no base, so its figure is nil here rather than spanning a longer interval; a previous reading that
	// came back after its tick's deadline is in no snapshot, but it is the start of this interval all the
	// same. Nil on the first reading. The summary weights each CPU percent by it.
	RateIntervalS *float64 `json:"rate_interval_s"`
	// Cgroup names the cgroup the process runs in, whose figures the CgroupMemory* fields are: "v2 <path>" or
	// "v1 <path>" (the memory controller's), the path as /proc/self/cgroup gives it; CgroupCPU names the CPU
	// figures' one. Empty outside Linux or when no cgroup can be read; the Cgroup* fields are then nil.
	Cgroup string `json:"cgroup,omitempty"`
	// CgroupCPU names the cgroup the Cgroup CPU fields (CgroupCPUQuotaCores, CgroupCPUCores, CgroupCPUPercent)
	// come from, in Cgroup's form: under v1 the cpuacct controller's (else cpu's), which on a hybrid host can
	// differ from the memory controller's that Cgroup names; under v2 Cgroup itself. Empty when none is read.
	CgroupCPU string `json:"cgroup_cpu,omitempty"`
	// CgroupCPUIsHost is true when CgroupCPU is the host's root cgroup (v1: its directory holds release_agent,
	// which only a hierarchy's top cgroup has; v2: it lacks cgroup.type, which every other cgroup has): its CPU
	// time is the whole host's, not a container's, so CgroupCPUCores and CgroupCPUPercent are nil (the host's
	// use is CPUPercent).
	CgroupCPUIsHost bool `json:"cgroup_cpu_is_host,omitempty"`
	// CgroupMemoryGB is the cgroup's memory in use, GiB, as the kernel charges it (page cache included): v2
	// memory.current, v1 memory.usage_in_bytes.
	CgroupMemoryGB *float64 `json:"cgroup_memory_gb"`
	// CgroupMemoryWorkingSetGB is the cgroup's working set, GiB, as the kubelet and cAdvisor define it:
	// CgroupMemoryGB less the inactive file pages of memory.stat (v2 inactive_file, v1 total_inactive_file),
	// 0 when those exceed it. Nil when memory.stat cannot be read.
	CgroupMemoryWorkingSetGB *float64 `json:"cgroup_memory_working_set_gb"`
	// CgroupMemoryLimitGB is the cgroup's memory limit, GiB: the least memory.max (v2) or
	// memory.limit_in_bytes (v1) of the cgroup and its ancestors. Nil when none sets one ("max"; v1's
	// no-limit value, 2^62 bytes or more), or outside a cgroup (Cgroup empty).
	CgroupMemoryLimitGB *float64 `json:"cgroup_memory_limit_gb"`
	// CgroupMemoryPercent is CgroupMemoryGB in percent of CgroupMemoryLimitGB; nil without a limit.
	CgroupMemoryPercent *float64 `json:"cgroup_memory_percent"`
	// CgroupCPUQuotaCores is the cgroup's CPU quota in cores (quota / period): the least v2 cpu.max or v1
	// cpu.cfs_quota_us / cpu.cfs_period_us of the cgroup and its ancestors. Nil when none sets one ("max", -1).
	CgroupCPUQuotaCores *float64 `json:"cgroup_cpu_quota_cores"`
	// CgroupCPUCores is the CPU time the cgroup used over the interval (RateIntervalS), in cores (1 = one core
	// busy throughout): v2 cpu.stat usage_usec, v1 cpuacct.usage. Nil on the first reading and when
	// CgroupCPUIsHost.
	CgroupCPUCores *float64 `json:"cgroup_cpu_cores"`
	// CgroupCPUPercent is CgroupCPUCores in percent of CgroupCPUQuotaCores (100 = the quota used up, where
	// the kernel throttles the cgroup); nil without a quota.
	CgroupCPUPercent *float64 `json:"cgroup_cpu_percent"`
}

// Node holds one server node's host readings, from its Prometheus node_exporter (samplers.NodeExporter):
// the same meanings and units as System's, over the node's own counters. Nil where unknown.
type Node struct {
	// CPUPercent is the node's CPU busy time over RateIntervalS in percent of all its CPUs (0–100):
	// 100 × (1 − (idle + iowait) / all modes) of node_cpu_seconds_total's per-mode increases.
	CPUPercent *float64 `json:"cpu_percent"`
	// Load1 is the node's 1-minute load average (node_load1).
	Load1 *float64 `json:"load1"`
	// MemoryGB is memory in use, GiB: node_memory_MemTotal_bytes − node_memory_MemAvailable_bytes.
	MemoryGB *float64 `json:"memory_gb"`
	// MemoryAvailableGB is node_memory_MemAvailable_bytes, GiB.
	MemoryAvailableGB *float64 `json:"memory_available_gb"`
	// MemoryTotalGB is node_memory_MemTotal_bytes, GiB.
	MemoryTotalGB *float64 `json:"memory_total_gb"`
	// NetworkSentBytesPerSecond and NetworkRecvBytesPerSecond are bytes/s over RateIntervalS summed over the
	// physical interfaces (node_network_transmit_bytes_total, node_network_receive_bytes_total; loopback,
	// container, bridge, tunnel, bond and VLAN interfaces left out).
	NetworkSentBytesPerSecond *float64 `json:"network_sent_bytes_per_second"`
	NetworkRecvBytesPerSecond *float64 `json:"network_recv_bytes_per_second"`
	// DiskReadBytesPerSecond and DiskWriteBytesPerSecond are bytes/s over RateIntervalS summed over whole
	// physical disks (node_disk_read_bytes_total, node_disk_written_bytes_total; partitions, loop, ram, zram,
	// dm-* and md* left out).
	DiskReadBytesPerSecond  *float64 `json:"disk_read_bytes_per_second"`
	DiskWriteBytesPerSecond *float64 `json:"disk_write_bytes_per_second"`
	// RateIntervalS is the length, s, of the interval the rates and CPUPercent cover: from the node's previous
	// kept reading to this one. Nil on the first reading, after a failed one, and across a reboot.
	RateIntervalS *float64 `json:"rate_interval_s"`
}

// VLLMRateIntervalsS returns, for each of snaps (in time order), the length, s, of the interval that its
// VLLMMetrics rates (TokensPerSecond, PromptTokensPerSecond, RequestsPerSecond) cover, 0 where unknown: the
// snapshot's ScrapeIntervalS where set; for a snapshot without it (one not written by vmtest's vLLM sampler,
// e.g. from an older file), the time (ElapsedS) since the previous snapshot whose scrape did not fail (no
// Errors["vllm"]), since a failed scrape does not move the start of the next rate; 0 when there is none.
func VLLMRateIntervalsS(snaps []Snapshot) []float64 {
	return rateIntervalsS(snaps, func(s *Snapshot) *float64 { return s.VLLMMetrics.ScrapeIntervalS },
		func(s *Snapshot) bool { return s.Errors["vllm"] == "" })
}

// SystemRateIntervalsS returns, for each of snaps (in time order), the length, s, of the interval that its
// SystemMetrics CPUPercent and _per_second rates cover, 0 where unknown: the snapshot's RateIntervalS where
// set; for a snapshot without it, the time (ElapsedS) since the previous snapshot (the host sampler leaves a
// figure nil after a failed reading of its part rather than let it span more than one interval); 0 for the
// first snapshot.
func SystemRateIntervalsS(snaps []Snapshot) []float64 {
	return rateIntervalsS(snaps, func(s *Snapshot) *float64 { return s.SystemMetrics.RateIntervalS },
		func(*Snapshot) bool { return true })
}

// rateIntervalsS is recorded(snaps[i]) where it is set and > 0, else the time since the last snapshot before i
// for which isBase holds (0 when none).
func rateIntervalsS(snaps []Snapshot, recorded func(*Snapshot) *float64, isBase func(*Snapshot) bool) []float64 {
	out := make([]float64, len(snaps))
	base := -1
	for i := range snaps {
		s := &snaps[i]
		if r := recorded(s); r != nil && *r > 0 {
			out[i] = *r
		} else if base >= 0 {
			out[i] = max(s.ElapsedS-snaps[base].ElapsedS, 0)
		}
		if isBase(s) {
			base = i
		}
	}
	return out
}

// F returns a pointer to v, or nil when v is NaN or ±Inf, so that a non-finite value becomes null.
func F(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// The events that say a run did not run to its end, written by the collector and the journal and read by the
// report (report.RunNotes).
const (
	// EventSourceCollector is the Event.Source of the events the collector writes itself: an early stop, the
	// events it leaves out.
	EventSourceCollector = "vmtest"
	// StoppedEarlyPrefix begins the collector's event when a run stopped before its end:
	// "stopped early: <cause>" (a signal, the test's deadline, a sweep's SLO).
	StoppedEarlyPrefix = "stopped early: "
	// EventSourceJournal is the Event.Source of journal.Load's event on a run rebuilt from its journal.
	EventSourceJournal = "journal"
	// DidNotFinishPrefix begins journal.Load's event on a rebuilt run: "the run did not finish: rebuilt from
	// its journal up to …".
	DidNotFinishPrefix = "the run did not finish: "
)

// Event is something that happened during collection that a reader of the summary must know about: a GPU
// lost, a server restart, a source falling back.
type Event struct {
	// Time is when the sampler noticed it (wall clock, for display).
	Time time.Time `json:"time"`
	// Source is the sampler's name ("gpu", "vllm", ...).
	Source string `json:"source"`
	// Message says what happened, e.g. "gpu_3 lost: ERROR_GPU_IS_LOST".
	Message string `json:"message"`
	// End is when an event that lasts ended (a storm of rejected requests: the end of the last sampling
	// interval that had one; Time is then the start of the first); nil for an event of one moment.
	End *time.Time `json:"end,omitempty"`
	// Count is how many times the event's thing happened between Time and End (requests rejected in a
	// storm); 0 for an event of one moment.
	Count int `json:"count,omitempty"`
}
