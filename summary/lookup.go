package summary

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
)

// Value is one figure of a Summary looked up by name (see Summary.Lookup).
type Value struct {
	// Name is the canonical metric name: lower case, synonyms resolved ("ttft.avg" → "ttft.mean",
	// "gpu.utilization.mean" → "gpu.utilization.avg", "throughput" → "request_throughput").
	Name string `json:"name"`
	// Value is the figure in Unit. It is 0 and meaningless when Known is false.
	Value float64 `json:"value"`
	// Unit is the figure's unit, one of the Unit* constants: "ms", "fraction" (0–1), "%" (0–100), "req/s",
	// "tok/s", "requests", "tokens", "MiB", "GiB", "W", "°C", "J", "J/token".
	Unit string `json:"unit"`
	// N is the number of samples behind the figure: successful requests (or inter-token gaps for itl) for
	// latencies and throughputs, recorded requests for error_rate and requests.*, snapshots that had the
	// value for GPU figures (that listed the device for a MIG device), successful /metrics scrapes for the
	// server's gauges and energy_per_output_token_j, the window's observations for a server histogram,
	// snapshots for cpu and memory_gb.
	N int `json:"n"`
	// Known is false when the summary has no data for the figure (a nil field, no sample): "no data" is not 0.
	Known bool `json:"known"`
	// WindowS is the span the figure covers, s: the requests' measured window for request figures, the
	// collection's duration for sampled ones; nil when unknown.
	WindowS *float64 `json:"window_s,omitempty"`
	// Note says why the figure is unknown (empty when Known).
	Note string `json:"note,omitempty"`
	// AtMost is, for a server-side percentile (server.<histogram>.pNN), an upper bound the histogram proves,
	// in Unit (serverstats.Quantile.AtMostMS: its bucket's upper bound, or lower where the window's _sum shows
	// it); nil otherwise. Value is interpolated as histogram_quantile does, or AtMost where that
	// interpolation (which assumes observations spread evenly over a bucket) lies above it; AtMost may be set
	// when Known is false (a percentile in the +Inf bucket bounded by the sum).
	AtMost *float64 `json:"at_most,omitempty"`
	// Interpolated is, for a server-side percentile whose histogram_quantile figure lies above AtMost (what
	// the histogram proves), that figure, in Unit, and Value is then AtMost (serverstats.Quantile
	// .InterpolatedMS); nil otherwise. A figure shown alone is then marked as a bound ("≤").
	Interpolated *float64 `json:"interpolated,omitempty"`
	// Above is, for a server-side percentile that falls in the +Inf bucket (Known false), the highest finite
	// bucket bound, in Unit: the percentile is greater than it (serverstats.Quantile.LowerBoundMS); nil
	// otherwise.
	Above *float64 `json:"above,omitempty"`
}

// Units of Value.Unit and Metric.Unit: every unit a registry entry has.
const (
	UnitMS        = "ms"
	UnitFraction  = "fraction" // 0–1: 0.01 is 1%
	UnitPercent   = "%"        // 0–100
	UnitReqPerS   = "req/s"
	UnitTokPerS   = "tok/s"
	UnitRequests  = "requests"
	UnitTokens    = "tokens"
	UnitMiB       = "MiB"
	UnitGiB       = "GiB"
	UnitW         = "W"
	UnitCelsius   = "°C"
	UnitJ         = "J"
	UnitJPerToken = "J/token"
)

// MetricFamilies lists the names Lookup accepts, family by family, for error messages and documentation:
// the registry's names, those that differ in one part only joined ("server.<queue|batch>.<avg|max>").
var MetricFamilies = families()

// UnknownMetricError is the error Lookup returns for a name outside every family.
type UnknownMetricError struct {
	// Name is the name as given.
	Name string
	// Reason says what is wrong with it beyond not being known, or is empty.
	Reason string
	// Suggestions are up to three registry names close to it (Nearest over Names), or none.
	Suggestions []string
}

// Error names the metric, what is wrong with it, the names it may have meant, and lists MetricFamilies.
func (e *UnknownMetricError) Error() string {
	msg := fmt.Sprintf("unknown metric %q", e.Name)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + orList(e.Suggestions) + "?"
	}
	return msg + "; valid names: " + strings.Join(MetricFamilies, "; ")
}

// Lookup returns the figure of s named name, one namespace over the whole summary, used by threshold
// expressions, baselines, benchmarks and comparisons. The names are the registry's (Registry; README.md's
// table of metric names says what each is), case-insensitive and dotted: ttft.p99, latency.p99 (= e2e.p99),
// error_rate, throughput (= request_throughput), requests.failed, gpu.utilization.avg, gpu_0.power_w.max,
// server.ttft.p99, cpu.max. A part written <a|b> takes one of the words; <gpu> is gpu (all GPUs: avg the mean
// of the GPUs' averages, max the largest, energy the sum) or gpu_<i> (GPU i alone).
//
// Every name, from the registry (go generate ./summary writes this list; README.md explains each):
//
//	ttft.<p50|p90|p95|p99|mean|median|std|min|max>                ms        lower is better
//	ttfot.<p50|p90|p95|p99|mean|median|std|min|max>               ms        lower is better
//	tpot.<p50|p90|p95|p99|mean|median|std|min|max>                ms        lower is better
//	itl.<p50|p90|p95|p99|mean|median|std|min|max>                 ms        lower is better
//	e2e.<p50|p90|p95|p99|mean|median|std|min|max>                 ms        lower is better    also latency or e2e_latency
//	ttft_from_intended.<p50|p90|p95|p99|mean|median|std|min|max>  ms        lower is better
//	e2e_from_intended.<p50|p90|p95|p99|mean|median|std|min|max>   ms        lower is better
//	time_to_reject.<p50|p90|p95|p99|mean|median|std|min|max>      ms        lower is better
//	send_lag.<p50|p90|p95|p99|mean|median|std|min|max>            ms        lower is better
//	client.cpu_utilization                                        fraction  lower is better
//	error_rate                                                    fraction  lower is better
//	request_throughput                                            req/s     higher is better   also throughput
//	output_token_throughput                                       tok/s     higher is better
//	total_token_throughput                                        tok/s     higher is better
//	goodput                                                       req/s     higher is better
//	goodput_requests                                              requests  higher is better
//	requests.ok                                                   requests  neither is better
//	requests.failed                                               requests  lower is better
//	requests.incomplete                                           requests  lower is better
//	requests.rejected                                             requests  lower is better
//	requests.canceled                                             requests  lower is better
//	requests.total                                                requests  neither is better
//	requests.dropped                                              requests  lower is better
//	requests.output_tokens                                        tokens    neither is better
//	requests.prompt_tokens                                        tokens    neither is better
//	requests.reasoning_tokens                                     tokens    neither is better
//	<gpu>.utilization.<avg|max>                                   %         lower is better
//	<gpu>.memory_used_mb.<avg|max>                                MiB       lower is better
//	<gpu>.power_w.<avg|max>                                       W         lower is better
//	<gpu>.temp_c.<max>                                            °C        lower is better
//	<gpu>.energy_j                                                J         lower is better
//	<gpu_i>.mig.<mig>.memory_used_mb.<avg|max>                    MiB       lower is better
//	energy_per_output_token_j                                     J/token   lower is better
//	server.tokens_per_second.<avg|max>                            tok/s     higher is better
//	server.queue.<avg|max>                                        requests  lower is better
//	server.batch.<avg|max>                                        requests  lower is better
//	server.kv_cache_usage.<avg|max>                               %         lower is better
//	server.requests_per_second.<avg>                              req/s     higher is better
//	server.generation_tokens                                      tokens    neither is better
//	server.prefix_cache_hit_rate                                  fraction  higher is better
//	server.ttft.<p50|p90|p95|p99|mean>                            ms        lower is better
//	server.e2e.<p50|p90|p95|p99|mean>                             ms        lower is better
//	server.queue_time.<p50|p90|p95|p99|mean>                      ms        lower is better
//	server.itl.<p50|p90|p95|p99|mean>                             ms        lower is better
//	cpu.<avg|max>                                                 %         lower is better
//	memory_gb.<avg|max>                                           GiB       lower is better
//	cgroup_memory_percent.<avg|max>                               %         lower is better
//	cgroup_cpu_percent.<avg|max>                                  %         lower is better
//
// (end of the list)
//
// "mean" and "avg" are synonyms everywhere, as are "median", "med" and "p50". A name that is valid but whose
// figure the summary does not have (a nil field, no GPU, no successful request) gives Known false with a
// Note, never an error and never 0. A name outside every family gives an *UnknownMetricError saying what is
// wrong with it and listing the families. A nil s is an empty summary: it tells a good name from a bad one and
// gives the name's canonical spelling and unit.
//
// With several servers (replicas), every server.* name is the aggregate over them, and
// replica.<name>.server.* is the same figure over one replica (ReplicaPrefix); a replica the run does not
// have gives Known false with a Note listing those it has. Likewise model.<name>.<figure> and
// turn.<k>.<figure> (ModelPrefix, TurnPrefix) are a client-side request figure over one model's requests
// (recorder.Summary.ByModel) or one turn's, k from 1 (ByTurn[k-1]).
func (s *Summary) Lookup(name string) (Value, error) {
	r, err := resolve(name)
	if err != nil {
		return Value{}, err
	}
	v := Value{Name: r.name, Unit: r.metric.Unit}
	if s == nil {
		v.Note = "no summary"
		return v, nil
	}
	if r.replica != "" {
		return s.readReplica(r, v), nil
	}
	if r.a.model != "" || r.a.turn > 0 {
		return s.readGroup(r, v), nil
	}
	return r.metric.read(s, r.a, v), nil
}

// requestValue fills v from a client-side figure p.
func (s *Summary) requestValue(v Value, p *float64) Value {
	v.WindowS = s.Requests.WindowS
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		r := s.Requests
		v.Note = fmt.Sprintf("n=0 successful requests of %d recorded: %d failed, %d incomplete, %d rejected, %d canceled",
			r.Total, r.Failed, r.Incomplete, r.Rejected, r.Canceled)
		if v.Unit == UnitMS && r.OK > 0 {
			v.Note = fmt.Sprintf("n=0 values from %d successful requests", r.OK)
		}
		if (v.Unit == UnitReqPerS || v.Unit == UnitTokPerS) && r.WindowTooShort() {
			v.Note = r.TooShortText()
		}
		return v
	}
	v.Value, v.Known = *p, true
	return v
}

// sampledValue fills v from a figure p computed over the snapshots.
func (s *Summary) sampledValue(v Value, p *float64, why string) Value {
	if s.DurationS > 0 {
		d := s.DurationS
		v.WindowS = &d
	}
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		v.Note = why
		return v
	}
	v.Value, v.Known = *p, true
	return v
}

// sourceNote returns ": <why>" from the source's note, dominant error or last error, or "".
func (s *Summary) sourceNote(source string) string {
	st, ok := s.Sources[source]
	switch {
	case !ok:
		return ""
	case st.Note != "":
		return ": " + st.Note
	case st.DominantError != "":
		return ": " + st.DominantError
	case st.LastError != "":
		return ": " + st.LastError
	}
	return ""
}

// gpuRead reads a GPU figure: for one GPU (a.gpu) its own, for all GPUs the mean of their values (agg
// "avg"), the largest ("max") or their sum ("sum").
func gpuRead(get func(*GPUStats) *float64, agg string) func(*Summary, args, Value) Value {
	return func(s *Summary, a args, v Value) Value {
		if s.DurationS > 0 {
			d := s.DurationS
			v.WindowS = &d
		}
		if a.gpu != "" {
			g, ok := s.GPU[a.gpu]
			if !ok {
				v.Note = "no " + a.gpu + " in this run (GPUs: " + s.gpuKeys() + ")" + s.sourceNote("gpu")
				return v
			}
			v.N = g.Samples
			if p := get(&g); p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
				v.Value, v.Known = *p, true
			} else {
				v.Note = a.gpu + " never reported it"
			}
			return v
		}
		var n int
		var sum, max float64
		for _, k := range sortedKeys(s.GPU) {
			g := s.GPU[k]
			p := get(&g)
			if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
				continue
			}
			if n == 0 || *p > max {
				max = *p
			}
			n++
			sum += *p
			v.N += g.Samples
		}
		if n == 0 {
			v.Note = "no GPU reported it (GPUs: " + s.gpuKeys() + ")" + s.sourceNote("gpu")
			return v
		}
		v.Known = true
		switch agg {
		case "avg":
			v.Value = sum / float64(n)
		case "max":
			v.Value = max
		default: // energy: the whole run's energy of every GPU
			v.Value = sum
		}
		return v
	}
}

func (s *Summary) gpuKeys() string {
	if len(s.GPU) == 0 {
		return "none"
	}
	return strings.Join(sortedKeys(s.GPU), ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// statOf returns a distribution's statistic by its canonical name (p50, p90, p95, p99, mean, std, min, max).
func statOf(st recorder.Stats, stat string) *float64 {
	switch stat {
	case "p50":
		return st.P50
	case "p90":
		return st.P90
	case "p95":
		return st.P95
	case "p99":
		return st.P99
	case "mean":
		return st.Mean
	case "std":
		return st.Std
	case "min":
		return st.Min
	case "max":
		return st.Max
	}
	return nil
}

// serverHistValue fills v from the server-side window statistics of one histogram (pick), metric its server
// name, stat p50, p90, p95, p99 or mean. A percentile that is only a lower bound (it fell in the +Inf bucket)
// is not known: a bound is not a value.
func (s *Summary) serverHistValue(v Value, stat, metric string, pick func(*serverstats.Figures) *serverstats.Histogram) Value {
	if s.Server == nil {
		v.Note = "no successful /metrics scrape" + s.sourceNote("vllm")
		return v
	}
	v.WindowS = s.Server.DurationS
	h := pick(&s.Server.Figures)
	if h == nil {
		v.Note = "the server does not expose this histogram"
		if why := s.Server.NotExposed[metric]; why != "" {
			v.Note += ": " + why
		}
		return v
	}
	v.N = int(h.Count)
	var q *serverstats.Quantile
	switch stat {
	case "p50":
		q = h.P50MS
	case "p90":
		q = h.P90MS
	case "p95":
		q = h.P95MS
	case "p99":
		q = h.P99MS
	case "mean":
		if h.MeanMS == nil {
			v.Note = "no observation in the window"
			return v
		}
		v.Value, v.Known = *h.MeanMS, true
		return v
	}
	if q == nil {
		v.Note = "no observation in the window"
		if h.Note != "" {
			v.Note = h.Note
		}
		return v
	}
	v.AtMost, v.Interpolated = q.AtMostMS, q.InterpolatedMS
	ms, exact := q.MS()
	if !exact && q.LowerBoundMS != nil {
		v.Above = q.LowerBoundMS
	}
	if !exact {
		v.Note = "only a lower bound is known: >= " + strconv.FormatFloat(ms, 'f', -1, 64) + " ms (the percentile falls in the +Inf bucket"
		if q.AtMostMS != nil {
			v.Note += "; it is at most " + strconv.FormatFloat(*q.AtMostMS, 'f', -1, 64) + " ms by the histogram's sum"
		}
		v.Note += ")"
		return v
	}
	v.Value, v.Known = ms, true
	return v
}
