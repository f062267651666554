// Package promgen writes synthetic vLLM /metrics bodies of a chosen size for tests and benchmarks: the
// families a vLLM server exposes (counters, gauges, histograms) over many engine and model_name label values,
// beside the process and Python runtime families a real server also exposes.
package promgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Engines is how many engine label values a body spreads its series over; model_name takes as many values as
// the size needs.
const Engines = 8

// histogram is one histogram family and its bucket bounds (seconds), as vLLM's.
type histogram struct {
	name   string
	bounds []float64
}

var histograms = []histogram{
	{"vllm:time_to_first_token_seconds", []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}},
	{"vllm:inter_token_latency_seconds", []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1}},
	{"vllm:e2e_request_latency_seconds", []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60}},
	{"vllm:request_queue_time_seconds", []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10}},
}

var (
	counters = []string{"vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:num_preemptions_total"}
	gauges   = []string{"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"}
	reasons  = []string{"stop", "length", "abort"}
)

// perLabelSet is the sample lines one engine and model_name pair adds.
func perLabelSet() int {
	n := len(counters) + len(gauges) + len(reasons)
	for _, h := range histograms {
		n += len(h.bounds) + 3 // +Inf, _sum, _count
	}
	return n
}

// Body returns a text exposition (format 0.0.4) of at least series sample lines: every vLLM family over
// ceil(series / lines per label set) engine and model_name pairs (Engines engines), then 40 lines of
// process and Python families. Values grow with tick (a busier server at each tick), so bodies of different
// ticks differ in every vLLM line (counters and histograms grow, labels in Prometheus's sorted order); process_start_time_seconds is 1764800000 plus start (another start: a
// restarted server).
func Body(series, tick, start int) []byte {
	sets := (series + perLabelSet() - 1) / perLabelSet()
	var b strings.Builder
	b.Grow(series * 110)
	labels, engines, models := make([]string, sets), make([]string, sets), make([]string, sets)
	for i := range labels {
		engines[i], models[i] = fmt.Sprintf(`engine="%d"`, i%Engines), fmt.Sprintf(`model_name="org/model-%03d"`, i/Engines)
		labels[i] = engines[i] + "," + models[i]
	}
	for fi, name := range counters {
		fmt.Fprintf(&b, "# HELP %s Counter %d.\n# TYPE %s counter\n", name, fi, name)
		for i, l := range labels {
			fmt.Fprintf(&b, "%s{%s} %d\n", name, l, (i+1)*(fi+3)*(tick+1)*17)
		}
	}
	b.WriteString("# HELP vllm:request_success_total Finished requests.\n# TYPE vllm:request_success_total counter\n")
	for i := range labels {
		for ri, r := range reasons {
			fmt.Fprintf(&b, "vllm:request_success_total{%s,finished_reason=\"%s\",%s} %d\n", engines[i], r, models[i], (i+ri+1)*(tick+1))
		}
	}
	for gi, name := range gauges {
		fmt.Fprintf(&b, "# HELP %s Gauge %d.\n# TYPE %s gauge\n", name, gi, name)
		for i, l := range labels {
			fmt.Fprintf(&b, "%s{%s} %s\n", name, l, strconv.FormatFloat(float64((i+tick)%50)/64, 'g', -1, 64))
		}
	}
	for _, h := range histograms {
		fmt.Fprintf(&b, "# HELP %s Histogram.\n# TYPE %s histogram\n", h.name, h.name)
		for i, l := range labels {
			n := 0
			for bi, le := range h.bounds {
				n += ((i+bi)%7 + 1) * tick
				fmt.Fprintf(&b, "%s_bucket{%s,le=\"%s\"} %d\n", h.name, l, strconv.FormatFloat(le, 'g', -1, 64), n)
			}
			fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %d\n", h.name, l, n+1)
			fmt.Fprintf(&b, "%s_sum{%s} %s\n", h.name, l, strconv.FormatFloat(float64(n)*0.37, 'g', -1, 64))
			fmt.Fprintf(&b, "%s_count{%s} %d\n", h.name, l, n+1)
		}
	}
	runtime(&b, tick, start)
	return []byte(b.String())
}

// runtime writes the process and Python collector families a vLLM server exposes beside its own.
func runtime(b *strings.Builder, tick, start int) {
	b.WriteString("# HELP python_gc_objects_collected_total Objects collected during gc\n# TYPE python_gc_objects_collected_total counter\n")
	for g := range 3 {
		fmt.Fprintf(b, "python_gc_objects_collected_total{generation=\"%d\"} %d.0\n", g, 1000*(g+1)+tick)
	}
	b.WriteString("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n")
	fmt.Fprintf(b, "process_start_time_seconds %d\n", 1764800000+start)
	b.WriteString("# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\n")
	fmt.Fprintf(b, "process_cpu_seconds_total %d.25\n", 100+tick)
	b.WriteString("# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n")
	for i := range 35 {
		fmt.Fprintf(b, "http_requests_total{handler=\"/h%d\",method=\"POST\",status=\"2xx\"} %d.0\n", i, i*tick+1)
	}
}
