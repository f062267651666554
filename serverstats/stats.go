package serverstats

import "time"

// Stats is the server-side statistics of one test window, as computed from the vLLM /metrics scrapes given to
// Window.Add (Window.Summary). It goes into summary_statistics.json as server_statistics.
//
// Increases (histogram counts and sums, counters) are Prometheus increase() over the window, made
// reset-proof per series (see Window), summed over series: over the `engine` label of a data-parallel
// server and over any other label (model_name, finished_reason) the Model filter of the scrape kept. The
// embedded Figures are those sums; PerEngine has the same figures for each `engine` label value.
//
// Unknown values are nil (JSON null), never 0 and never NaN; NotExposed says why a field is nil.
type Stats struct {
	// Start is when the first scrape of the window (or the interval) arrived (Scrape.At); nil before any.
	Start *time.Time `json:"start"`
	// End is when the last scrape arrived; nil before any.
	End *time.Time `json:"end"`
	// DurationS is End − Start in seconds (monotonic clock when the scrapes carry it); nil before two scrapes.
	DurationS *float64 `json:"duration_s"`
	// Scrapes is the number of successful scrapes in the window (2 for an interval once there are two).
	Scrapes int `json:"scrapes"`

	// Figures holds the histograms, counter increases and gauges summed (or averaged) over every series.
	Figures

	// CounterIncreases maps the name of every vllm:* counter the server exposes (as exposed, with its
	// "_total" suffix: "vllm:prefix_cache_hits_total", "vllm:num_preemptions_total", ...) to its increase over
	// the window, summed over its series (engines, labels), with the same reset rules. Only counters with an
	// increase are present (a series has one once a second scrape has it, or when it appears after the first
	// scrape, counted from 0); nil when none.
	CounterIncreases map[string]float64 `json:"counter_increases,omitempty"`

	// PrefixCacheHitRate is the prefix-cache hit rate over the window, a 0–1 fraction: the increase of
	// vllm:prefix_cache_hits_total over that of vllm:prefix_cache_queries_total (tokens; before vLLM 0.9
	// vllm:gpu_prefix_cache_*), see PrefixCacheHitRate. Nil when the server exposes neither pair or queried
	// no token in the window.
	PrefixCacheHitRate *float64 `json:"prefix_cache_hit_rate"`

	// PerEngine maps each value of the `engine` label (V1 data-parallel servers: "0", "1", ...) to the same
	// figures over that engine's series only. Nil when no series carries an `engine` label (V0 servers),
	// whose figures are then only the embedded ones — the same numbers a one-engine V1 server gives.
	PerEngine map[string]Figures `json:"per_engine,omitempty"`

	// NamesUsed maps each logical field that was read (FieldTTFTSeconds, FieldITLSeconds,
	// ..., FieldPreemptions) to the metric name it was read from in the last scrape that exposed it, e.g.
	// "itl_seconds" → "vllm:time_per_output_token_seconds" on a V0 server. Fields are read from the first
	// candidate name the server exposes (Candidates).
	NamesUsed map[string]string `json:"names_used"`
	// NotExposed maps each logical field whose figure is nil to why: "not exposed (looked for ...)" when no
	// scrape had it, or for a counter or histogram whose series were all baselines (see Window.Summary)
	// "exposed, but no increase: its series were only in the first scrape, or under a name just switched to".
	NotExposed map[string]string `json:"not_exposed,omitempty"`

	// Restarts counts the server restarts seen in the window: process_start_time_seconds changed between two
	// scrapes. Each is also an Event.
	Restarts int `json:"restarts"`
	// RestartTimes is when each of those restarts was seen (the time of the scrape that showed it), oldest
	// first, at most MaxRestartTimes of them (the first ones); under a Fleet the replicas' merged. Nil when
	// the server did not restart, and in journals written before the field.
	RestartTimes []time.Time `json:"restart_times,omitempty"`
	// CounterResets counts the series (counter or histogram) whose value went down or whose bucket set
	// changed between two scrapes without a process restart being seen; their increase for that step was
	// counted from 0. Each is also an Event.
	CounterResets int `json:"counter_resets"`
	// Limits has one line for each cap of the window that was reached (MaxSeries, MaxEngines, MaxLabelValue)
	// and for the values refused as invalid (negative or non-finite counters and histogram counts, negative
	// gauges, NaN or negative bucket bounds: left out of every figure), saying what was left out; nil when
	// none. Each was also an Event the first time.
	Limits []string `json:"limits,omitempty"`

	// Replicas maps each replica's name to its own statistics, when the server is several replicas (Fleet):
	// the embedded figures are then their aggregate (Fleet.Summary). Nil for one server.
	Replicas map[string]Stats `json:"replicas,omitempty"`
	// Coverage is, for the aggregate of several replicas, the share of the rounds (0–1) in which every
	// replica was scraped: the rounds the aggregate's per-interval figures (and the queue and batch Max) are
	// known in (Fleet). Nil for one server and for a replica's own entry.
	Coverage *float64 `json:"coverage,omitempty"`
}

// Figures is the set of server-side figures of a window, either over all series or over one engine's.
type Figures struct {
	// TTFT is vllm:time_to_first_token_seconds (FieldTTFTSeconds): the server's time from request
	// arrival to the first generated token, one observation per request that produced a token.
	TTFT *Histogram `json:"ttft"`
	// E2ELatency is vllm:e2e_request_latency_seconds (FieldE2ELatencySeconds): request arrival to
	// finish, one observation per finished request.
	E2ELatency *Histogram `json:"e2e_latency"`
	// QueueTime is vllm:request_queue_time_seconds (FieldQueueTimeSeconds): time spent waiting to be
	// scheduled, one observation per request.
	QueueTime *Histogram `json:"queue_time"`
	// ITL is the inter-token latency (FieldITLSeconds): vllm:inter_token_latency_seconds, or before
	// vLLM 0.11 vllm:time_per_output_token_seconds; one observation per generated token after the first.
	// Never vllm:request_time_per_output_token_seconds, which is per-request TPOT, another metric.
	ITL *Histogram `json:"itl"`

	// GenerationTokens is the increase of vllm:generation_tokens_total over the window, tokens.
	GenerationTokens *float64 `json:"generation_tokens"`
	// PromptTokens is the increase of vllm:prompt_tokens_total over the window, tokens.
	PromptTokens *float64 `json:"prompt_tokens"`
	// RequestSuccess is the increase of vllm:request_success_total over the window, summed over finish
	// reasons, requests.
	RequestSuccess *float64 `json:"request_success"`
	// RequestSuccessByReason splits RequestSuccess by the value of its `finished_reason` label (vLLM) or
	// `finish_reason` label (llm-d-inference-sim): "stop", "length", "abort", ...; a series with neither
	// label is under "unlabelled". Nil when RequestSuccess is nil.
	RequestSuccessByReason map[string]float64 `json:"request_success_by_reason"`
	// Preemptions is the increase of vllm:num_preemptions_total over the window, preemptions
	// (FieldPreemptions).
	Preemptions *float64 `json:"preemptions"`

	// KVCacheUsagePercent is the KV-cache usage, percent 0–100, from the gauge vllm:kv_cache_usage_perc (or
	// V0's vllm:gpu_cache_usage_perc), a 0–1 fraction ×100, over every scrape of the window: Mean is the mean
	// over scrapes of the mean across series (engines), Max the largest value of any one series (the fullest
	// engine) in any scrape.
	KVCacheUsagePercent *Gauge `json:"kv_cache_usage_percent"`
	// RequestQueueSize is the gauge vllm:num_requests_waiting summed over series (engines) in each scrape,
	// requests; Mean and Max over the scrapes of the window.
	RequestQueueSize *Gauge `json:"request_queue_size"`
	// ActiveBatchSize is the gauge vllm:num_requests_running summed over series (engines) in each scrape,
	// requests; Mean and Max over the scrapes of the window.
	ActiveBatchSize *Gauge `json:"active_batch_size"`
}

// Histogram is one vLLM latency histogram over the window, converted from seconds to milliseconds.
type Histogram struct {
	// Metric is the metric family the figures were read from, e.g. "vllm:time_to_first_token_seconds".
	Metric string `json:"metric"`
	// Count is the increase of the histogram's _count over the window: the number of observations.
	Count float64 `json:"count"`
	// SumMS is the increase of the histogram's _sum over the window, ms.
	SumMS float64 `json:"sum_ms"`
	// MeanMS is SumMS / Count, ms; nil when Count is 0.
	MeanMS *float64 `json:"mean_ms"`
	// P50MS, P90MS, P95MS and P99MS are quantiles of the observations made in the window, ms, from the
	// increase of each bucket over the window summed per `le` across series, computed as Prometheus's
	// histogram_quantile does (BucketQuantile). Nil when there is no data: zero observations in the window,
	// fewer than 2 buckets, or no +Inf bucket. A quantile that lies in the +Inf bucket is only a lower bound
	// (Quantile.IsLowerBound).
	P50MS *Quantile `json:"p50_ms"`
	P90MS *Quantile `json:"p90_ms"`
	P95MS *Quantile `json:"p95_ms"`
	P99MS *Quantile `json:"p99_ms"`
	// MonotonicityForced is true when the window's cumulative bucket counts were not monotonic (or differed by
	// float rounding only) and were fixed before the quantiles were computed, as Prometheus does (it reports
	// an info annotation then). The quantiles are then less trustworthy.
	MonotonicityForced bool `json:"monotonicity_forced"`
	// Note, when set, says how the buckets were merged or why the quantiles are unknown: series (engines, or
	// one series before and after a restart) whose bucket bounds differ are merged only onto the bounds every
	// one of them has, so that every quantile and bound is true; with no finite bound in common the quantiles
	// are nil.
	Note string `json:"note,omitempty"`
}

// Quantile is a histogram quantile, ms, with the range the buckets (and the histogram's _sum) prove it lies
// in. Exactly one of ValueMS and LowerBoundMS is set:
//
//	{"value_ms": 182.5, "lower_bound_ms": null, "is_lower_bound": false,
//	 "bucket_lower_ms": 100, "bucket_upper_ms": 250, "at_most_ms": 250}       the quantile is estimated at 182.5 ms;
//	                                                                          it lies in (100, 250] ms
//	{"value_ms": null, "lower_bound_ms": 2560000, "is_lower_bound": true,
//	 "bucket_lower_ms": 2560000, "bucket_upper_ms": null, "at_most_ms": null}  the quantile is above 2560000 ms
//
// The second form is what Prometheus's histogram_quantile returns, as if it were a value, when the quantile
// lies in the +Inf bucket: the highest finite bucket bound. Here it is never a value: a reader that only looks
// at value_ms sees null.
//
// ValueMS is interpolated linearly inside its bucket, which assumes the observations are spread evenly across
// it; where the bucket is wide it can be far from the truth (observations of 0.23 µs in a (0, 300] ms bucket
// give a median of 150 ms). BucketLowerMS, BucketUpperMS and AtMostMS say how far: the quantile, taken as the
// ⌈q·n⌉-th smallest of the window's n observations, lies in (BucketLowerMS, AtMostMS] (in [0, AtMostMS] for
// the lowest bucket). ValueMS never lies outside that range: where the interpolation does (above AtMostMS,
// which the _sum lowered), ValueMS is AtMostMS and InterpolatedMS keeps histogram_quantile's figure.
type Quantile struct {
	// ValueMS is the quantile interpolated as histogram_quantile does, ms, or AtMostMS where that
	// interpolation lies above it (InterpolatedMS is then set); nil when IsLowerBound.
	ValueMS *float64 `json:"value_ms"`
	// LowerBoundMS is the highest finite bucket upper bound, ms, when the quantile lies in the +Inf bucket
	// (the quantile is greater than it); nil otherwise.
	LowerBoundMS *float64 `json:"lower_bound_ms"`
	// IsLowerBound is true when the quantile lies in the +Inf bucket (LowerBoundMS is set, ValueMS nil).
	IsLowerBound bool `json:"is_lower_bound"`
	// BucketLowerMS is the lower bound of the bucket the quantile lies in, ms: the previous bucket's `le`; 0
	// for the lowest bucket when its `le` is > 0 (latencies are not negative; histogram_quantile interpolates
	// from 0 there); nil when the lowest bucket's `le` is ≤ 0. In the +Inf bucket it equals LowerBoundMS.
	BucketLowerMS *float64 `json:"bucket_lower_ms"`
	// BucketUpperMS is the upper bound (`le`) of the bucket the quantile lies in, ms; nil for the +Inf bucket.
	BucketUpperMS *float64 `json:"bucket_upper_ms"`
	// AtMostMS is the smallest upper bound known for the quantile, ms: BucketUpperMS, or lower where the
	// window's _sum increase proves it (at least n − ⌈q·n⌉ + 1 observations are ≥ the quantile and none is
	// negative, so the quantile ≤ sum / (n − ⌈q·n⌉ + 1); see quantileRange for when this is used). That bound
	// is padded by the float rounding error of the _sum increase, a difference of two cumulative _sum values
	// (an ulp of the cumulative _sum per observation and 8 more per scrape interval: 1.05e-9 s for one
	// observation at a cumulative 10⁶ s; see quantileRange), and rounded up to 12 significant
	// digits, so rounding never puts it below the quantile. It can be below ValueMS: the interpolated value is
	// then known to be too high. It can bound a quantile in the +Inf bucket. Nil when no upper bound is known.
	AtMostMS *float64 `json:"at_most_ms"`
	// InterpolatedMS is histogram_quantile's figure, ms, only where it lies above AtMostMS (what the
	// histogram proves), and ValueMS is then AtMostMS; nil otherwise (ValueMS is histogram_quantile's).
	InterpolatedMS *float64 `json:"interpolated_ms,omitempty"`
}

// MS returns the quantile in ms and whether it is a value (true) or only a lower bound (false).
func (q Quantile) MS() (ms float64, exact bool) {
	if q.ValueMS != nil {
		return *q.ValueMS, true
	}
	if q.LowerBoundMS != nil {
		return *q.LowerBoundMS, false
	}
	return 0, false
}

// Gauge summarizes a gauge over the scrapes of a window.
type Gauge struct {
	// Mean is the mean over the scrapes that exposed the gauge, in the gauge's unit.
	Mean *float64 `json:"mean"`
	// Max is the largest value seen in the window, in the gauge's unit.
	Max *float64 `json:"max"`
	// Samples is the number of scrapes that exposed the gauge.
	Samples int `json:"samples"`
}
