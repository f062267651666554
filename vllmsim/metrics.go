package vllmsim

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// vLLM V1 default histogram buckets (vllm/v1/metrics/loggers.py).
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
		1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlBuckets = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
		1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}
	requestLatencyBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
		30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
)

// buckets125 returns 1, 2, 5, 10, 20, 50, ... up to max inclusive, as vLLM's
// build_1_2_5_buckets(max_model_len).
func buckets125(max int) []float64 {
	var b []float64
	for e := 1; ; e *= 10 {
		for _, m := range []int{1, 2, 5} {
			v := m * e
			if v > max {
				return b
			}
			b = append(b, float64(v))
		}
	}
}

// Finish reasons used as finished_reason label values (vLLM's set).
const (
	finishStop   = "stop"
	finishLength = "length"
	finishAbort  = "abort"
	finishError  = "error"
	// faultStall is the fault of a Stall request (counted as finishAbort).
	faultStall = "stall"
)

type metrics struct {
	reg *prometheus.Registry

	promptTokens              prometheus.Counter
	genTokens                 prometheus.Counter
	preemptions               prometheus.Counter
	prefixQueries, prefixHits prometheus.Counter
	success                   map[string]prometheus.Counter

	ttft, itl, e2e, queue, tpot   prometheus.Histogram
	prefill, decode, inference    prometheus.Histogram
	reqPrompt, reqGen, reqMaxToks prometheus.Histogram
}

func newMetrics(cfg *Config, e *engine) *metrics {
	labels := prometheus.Labels{"model_name": cfg.Model, "engine": "0"}
	reg := prometheus.NewRegistry()
	m := &metrics{reg: reg, success: map[string]prometheus.Counter{}}

	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, f))
	}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.",
		func() float64 { return float64(e.nRunning.Load()) })
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.",
		func() float64 { return float64(e.nWaiting.Load()) })
	kvCap := float64(e.kvCap)
	gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.",
		func() float64 { return float64(e.kvInUse.Load()) / kvCap })

	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
		reg.MustRegister(c)
		return c
	}
	m.preemptions = counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.")
	m.prefixQueries = counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.")
	m.prefixHits = counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.")
	m.promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.")
	m.genTokens = counter("vllm:generation_tokens_total", "Number of generation tokens processed.")
	sv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vllm:request_success_total",
		Help: "Count of successfully processed requests.", ConstLabels: labels}, []string{"finished_reason"})
	reg.MustRegister(sv)
	for _, r := range []string{finishStop, finishLength, finishAbort, finishError, "repetition"} {
		m.success[r] = sv.WithLabelValues(r) // pre-created so each series reads 0, as in vLLM
	}

	hist := func(name, help string, b []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: labels, Buckets: b})
		reg.MustRegister(h)
		return h
	}
	tok := buckets125(cfg.MaxModelLen)
	m.reqPrompt = hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", tok)
	m.reqGen = hist("vllm:request_generation_tokens", "Number of generation tokens processed.", tok)
	m.reqMaxToks = hist("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", tok)
	m.ttft = hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttftBuckets)
	m.itl = hist("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itlBuckets)
	m.tpot = hist("vllm:request_time_per_output_token_seconds", "Histogram of time_per_output_token_seconds per request.", itlBuckets)
	m.e2e = hist("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", requestLatencyBuckets)
	m.queue = hist("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", requestLatencyBuckets)
	m.inference = hist("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", requestLatencyBuckets)
	m.prefill = hist("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", requestLatencyBuckets)
	m.decode = hist("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", requestLatencyBuckets)

	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
