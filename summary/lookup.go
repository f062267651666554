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
	// Unit is the figure's unit: "ms", "fraction" (0–1), "%" (0–100), "req/s", "tok/s", "requests", "tokens",
	// "MiB", "GiB", "W", "°C", "J", "J/token".
	Unit string `json:"unit"`
	// N is the number of samples behind the figure: successful requests (or inter-token gaps for itl) for
	// latencies and throughputs, recorded requests for error_rate and requests.*, snapshots that had the
	// value for GPU figures, successful /metrics scrapes for server.*, snapshots for cpu and memory_gb.
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
	// it); nil otherwise. Value is interpolated as histogram_quantile does and may lie above it, since
	// interpolation assumes observations spread evenly over a bucket; AtMost may be set when Known is false
	// (a percentile in the +Inf bucket bounded by the sum).
	AtMost *float64 `json:"at_most,omitempty"`
	// Above is, for a server-side percentile that falls in the +Inf bucket (Known false), the highest finite
	// bucket bound, in Unit: the percentile is greater than it (serverstats.Quantile.LowerBoundMS); nil
	// otherwise.
	Above *float64 `json:"above,omitempty"`
}

// Units of Value.Unit that Lookup uses.
const (
	UnitMS       = "ms"
	UnitFraction = "fraction"
	UnitPercent  = "%"
	UnitReqPerS  = "req/s"
	UnitTokPerS  = "tok/s"
	UnitRequests = "requests"
	UnitTokens   = "tokens"
)

// MetricFamilies lists the families of names Lookup accepts, for error messages and documentation.
var MetricFamilies = []string{
	"ttft|tpot|itl|e2e|ttft_from_intended|e2e_from_intended.<p50|p90|p95|p99|mean|avg|median|std|min|max> (ms; latency and e2e_latency are e2e)",
	"error_rate (fraction)",
	"throughput|request_throughput (req/s)",
	"output_token_throughput|total_token_throughput (tok/s)",
	"goodput (req/s), goodput_requests",
	"requests.<ok|failed|incomplete|rejected|total|dropped|output_tokens|prompt_tokens>",
	"gpu.<utilization|memory_used_mb|power_w>.<avg|max> (over all GPUs), gpu.temp_c.max, gpu.energy_j",
	"gpu_<i>.<utilization|memory_used_mb|power_w>.<avg|max>, gpu_<i>.temp_c.max, gpu_<i>.energy_j (one GPU)",
	"energy_per_output_token_j (J/token)",
	"server.<tokens_per_second|queue|batch|kv_cache_usage>.<avg|max>, server.requests_per_second.avg, server.generation_tokens",
	"server.<ttft|e2e|queue_time|itl>.<p50|p90|p95|p99|mean> (ms, from the server's histograms over the test window)",
	"cpu.<avg|max> (%), memory_gb.<avg|max> (GiB)",
}

// UnknownMetricError is the error Lookup returns for a name outside every family.
type UnknownMetricError struct {
	// Name is the name as given.
	Name string
	// Reason says what is wrong with it beyond not being known, or is empty.
	Reason string
}

// Error names the metric, what is wrong with it, and lists MetricFamilies.
func (e *UnknownMetricError) Error() string {
	msg := fmt.Sprintf("unknown metric %q", e.Name)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg + "; valid names: " + strings.Join(MetricFamilies, "; ")
}

// Lookup returns the figure of s named name, one namespace over the whole summary, used by threshold
// expressions and baselines. Names are case-insensitive and dotted; MetricFamilies lists the families. Every
// name:
//
//	<latency>.<stat>            client-side latency over successful requests, ms: ttft.p99, tpot.mean, e2e.median.
//	                            <latency> is ttft, tpot, itl, e2e, ttft_from_intended or e2e_from_intended;
//	                            latency and e2e_latency are other names for e2e (latency.p99 is e2e.p99).
//	                            <stat> is p50, p90, p95, p99, mean, median, std, min or max
//	error_rate                  (total − ok) / total, fraction 0–1 (0.01 is 1%)
//	throughput                  = request_throughput: successful requests per second, req/s
//	output_token_throughput     tok/s; also total_token_throughput
//	goodput, goodput_requests   successful requests meeting every SLO (DistServe), req/s and count; unknown
//	                            when no SLO was given
//	requests.<count>            ok, failed, incomplete, rejected, total, dropped (requests), output_tokens,
//	                            prompt_tokens (tokens)
//	gpu.<field>.<avg|max>       over all GPUs, <field> utilization (%), memory_used_mb (MiB) or power_w (W):
//	                            avg is the mean of per-GPU averages, max the max; gpu.temp_c.max (°C, hottest
//	                            GPU), gpu.energy_j (J, all GPUs over the run)
//	gpu_<i>.<field>.<avg|max>   the same for one GPU: gpu_0.memory_used_mb.max, gpu_1.temp_c.max, gpu_0.energy_j
//	energy_per_output_token_j   J/token
//	server.<ttft|e2e|queue_time|itl>.<p50|p90|p95|p99|mean>
//	                            the server's own latency histograms (vllm:*_seconds) over the test window, ms:
//	                            server.ttft.p99, server.e2e.p50, server.queue_time.mean, server.itl.p99
//	server.<gauge>.<avg|max>    from the server's /metrics over the test: tokens_per_second (tok/s), queue and
//	                            batch (requests waiting and running), kv_cache_usage (%);
//	                            server.requests_per_second.avg (req/s); server.generation_tokens (tokens the
//	                            server generated during the test)
//	cpu.<avg|max>               host CPU, %; memory_gb.<avg|max>, host memory used, GiB
//
// "mean" and "avg" are synonyms everywhere, as are "median", "med" and "p50". A name that is valid but whose
// figure the summary does not have (a nil field, no GPU, no successful request) gives Known false with a
// Note, never an error and never 0. A name outside every family gives an *UnknownMetricError listing the
// families. A nil s is an empty summary.
func (s *Summary) Lookup(name string) (Value, error) {
	if s == nil {
		v, err := (&Summary{}).Lookup(name)
		if err == nil {
			v.Known, v.Value, v.Note = false, 0, "no summary"
		}
		return v, err
	}
	n := strings.ToLower(strings.TrimSpace(name))
	parts := strings.Split(n, ".")
	unknown := func(reason string) (Value, error) { return Value{}, &UnknownMetricError{Name: name, Reason: reason} }
	for _, p := range parts {
		if p == "" {
			return unknown("empty name part")
		}
	}
	head, rest := parts[0], parts[1:]

	switch head {
	case "ttft", "tpot", "itl", "e2e", "latency", "e2e_latency", "ttft_from_intended", "e2e_from_intended":
		if len(rest) != 1 {
			return unknown(head + " takes one statistic: " + head + ".<p50|p90|p95|p99|mean|median|std|min|max>")
		}
		st, err := s.Latency(head)
		if err != nil {
			return unknown("")
		}
		canon := head
		if head == "latency" || head == "e2e_latency" {
			canon = "e2e"
		}
		stat, ptr, ok := statOf(st, rest[0])
		if !ok {
			return unknown("no statistic " + strconv.Quote(rest[0]) + " for " + head + "; want p50, p90, p95, p99, mean, median, std, min or max")
		}
		v := Value{Name: canon + "." + stat, Unit: UnitMS, N: st.N}
		return s.requestValue(v, ptr), nil
	}

	if len(rest) == 0 {
		switch head {
		case "error_rate":
			v := Value{Name: head, Unit: UnitFraction, N: s.Requests.Total}
			if s.Requests.ErrorRate == nil {
				v.WindowS = s.Requests.WindowS
				v.Note = "no request recorded"
				return v, nil
			}
			v.WindowS, v.Value, v.Known = s.Requests.WindowS, *s.Requests.ErrorRate, true
			return v, nil
		case "throughput", "request_throughput":
			return s.requestValue(Value{Name: "request_throughput", Unit: UnitReqPerS, N: s.Requests.OK}, s.Requests.RequestThroughput), nil
		case "output_token_throughput":
			return s.requestValue(Value{Name: head, Unit: UnitTokPerS, N: s.Requests.OK}, s.Requests.OutputTokenThroughput), nil
		case "total_token_throughput":
			return s.requestValue(Value{Name: head, Unit: UnitTokPerS, N: s.Requests.OK}, s.Requests.TotalTokenThroughput), nil
		case "goodput":
			v := Value{Name: head, Unit: UnitReqPerS, N: s.Requests.OK}
			if len(s.Requests.GoodputSLOs) == 0 {
				v.WindowS, v.Note = s.Requests.WindowS, "no goodput SLO given"
				return v, nil
			}
			return s.requestValue(v, s.Requests.Goodput), nil
		case "goodput_requests":
			v := Value{Name: head, Unit: UnitRequests, N: s.Requests.Total, WindowS: s.Requests.WindowS}
			if len(s.Requests.GoodputSLOs) == 0 {
				v.Note = "no goodput SLO given"
				return v, nil
			}
			v.Value, v.Known = float64(s.Requests.GoodputRequests), true
			return v, nil
		case "energy_per_output_token_j":
			return s.sampledValue(Value{Name: head, Unit: "J/token", N: s.VLLM.Scrapes}, s.EnergyPerOutputTokenJ,
				"energy or the server's generation-token count is unknown"), nil
		}
		return unknown("")
	}

	switch head {
	case "requests":
		if len(rest) != 1 {
			return unknown("")
		}
		c := s.Requests.Counts
		counts := map[string]int64{"ok": int64(c.OK), "failed": int64(c.Failed), "incomplete": int64(c.Incomplete),
			"rejected": int64(c.Rejected), "total": int64(c.Total), "dropped": int64(c.Dropped),
			"output_tokens": c.OutputTokens, "prompt_tokens": c.PromptTokens}
		x, ok := counts[rest[0]]
		if !ok {
			return unknown("no count " + strconv.Quote(rest[0]) + "; want ok, failed, incomplete, rejected, total, dropped, output_tokens or prompt_tokens")
		}
		unit := UnitRequests
		if strings.HasSuffix(rest[0], "_tokens") {
			unit = UnitTokens
		}
		// Counts are facts even when zero: they are always known.
		return Value{Name: n, Value: float64(x), Unit: unit, N: c.Total, Known: true, WindowS: s.Requests.WindowS}, nil

	case "server":
		if len(rest) == 1 && rest[0] == "generation_tokens" {
			return s.sampledValue(Value{Name: n, Unit: UnitTokens, N: s.VLLM.Scrapes}, s.VLLM.GenerationTokens,
				"fewer than two successful scrapes, or the counter was reset"+s.sourceNote("vllm")), nil
		}
		if len(rest) != 2 {
			return unknown("")
		}
		if v, ok, err := s.serverHistValue(rest[0], rest[1]); ok {
			return v, err
		}
		agg, ok := aggName(rest[1])
		if !ok {
			return unknown("want .avg or .max after server." + rest[0])
		}
		var avg, max *float64
		var unit string
		switch rest[0] {
		case "tokens_per_second":
			avg, max, unit = s.VLLM.AvgTokensPerSecond, s.VLLM.MaxTokensPerSecond, UnitTokPerS
		case "requests_per_second":
			if agg == "max" {
				return unknown("server.requests_per_second has only .avg")
			}
			avg, unit = s.VLLM.AvgRequestsPerSecond, UnitReqPerS
		case "queue":
			avg, max, unit = s.VLLM.AvgRequestQueueSize, s.VLLM.MaxRequestQueueSize, UnitRequests
		case "batch":
			avg, max, unit = s.VLLM.AvgActiveBatchSize, s.VLLM.MaxActiveBatchSize, UnitRequests
		case "kv_cache_usage":
			avg, max, unit = s.VLLM.AvgKVCacheUsagePercent, s.VLLM.MaxKVCacheUsagePercent, UnitPercent
		default:
			return unknown("")
		}
		p := avg
		if agg == "max" {
			p = max
		}
		return s.sampledValue(Value{Name: "server." + rest[0] + "." + agg, Unit: unit, N: s.VLLM.Scrapes}, p,
			"no server reading"+s.sourceNote("vllm")), nil

	case "cpu", "memory_gb":
		if len(rest) != 1 {
			return unknown("")
		}
		agg, ok := aggName(rest[0])
		if !ok {
			return unknown("want " + head + ".avg or " + head + ".max")
		}
		sys := s.System
		var p *float64
		unit := UnitPercent
		switch {
		case head == "cpu" && agg == "avg":
			p = sys.AvgCPUPercent
		case head == "cpu":
			p = sys.MaxCPUPercent
		case agg == "avg":
			p, unit = sys.AvgMemoryGB, "GiB"
		default:
			p, unit = sys.MaxMemoryGB, "GiB"
		}
		return s.sampledValue(Value{Name: head + "." + agg, Unit: unit, N: s.Snapshots}, p,
			"no host reading"+s.sourceNote("system")), nil
	}

	if head == "gpu" || isGPUKey(head) {
		return s.gpuValue(name, head, rest)
	}
	return unknown("")
}

// requestValue fills v from a client-side figure p.
func (s *Summary) requestValue(v Value, p *float64) Value {
	v.WindowS = s.Requests.WindowS
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		r := s.Requests
		v.Note = fmt.Sprintf("n=0 successful requests of %d recorded: %d failed, %d incomplete, %d rejected",
			r.Total, r.Failed, r.Incomplete, r.Rejected)
		if v.Unit == UnitMS && r.OK > 0 {
			v.Note = fmt.Sprintf("n=0 values from %d successful requests", r.OK)
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

// sourceNote returns ": <why>" from the source's note or last error, or "".
func (s *Summary) sourceNote(source string) string {
	st, ok := s.Sources[source]
	switch {
	case !ok:
		return ""
	case st.Note != "":
		return ": " + st.Note
	case st.LastError != "":
		return ": " + st.LastError
	}
	return ""
}

func isGPUKey(k string) bool {
	d, ok := strings.CutPrefix(k, "gpu_")
	if !ok || d == "" {
		return false
	}
	_, err := strconv.Atoi(d)
	return err == nil
}

// gpuValue looks up gpu.<field>.<agg> (all GPUs) or gpu_<i>.<field>.<agg> (one GPU).
func (s *Summary) gpuValue(name, head string, rest []string) (Value, error) {
	unknown := func(reason string) (Value, error) { return Value{}, &UnknownMetricError{Name: name, Reason: reason} }
	type field struct {
		avg, max func(*GPUStats) *float64
		unit     string
	}
	fields := map[string]field{
		"utilization":    {func(g *GPUStats) *float64 { return g.AvgUtilization }, func(g *GPUStats) *float64 { return g.MaxUtilization }, UnitPercent},
		"memory_used_mb": {func(g *GPUStats) *float64 { return g.AvgMemoryUsedMB }, func(g *GPUStats) *float64 { return g.MaxMemoryUsedMB }, "MiB"},
		"power_w":        {func(g *GPUStats) *float64 { return g.AvgPowerW }, func(g *GPUStats) *float64 { return g.MaxPowerW }, "W"},
		"temp_c":         {nil, func(g *GPUStats) *float64 { return g.MaxTempC }, "°C"},
	}
	var get func(*GPUStats) *float64
	var unit, canon, agg string
	switch {
	case len(rest) == 1 && rest[0] == "energy_j":
		get, unit, canon, agg = func(g *GPUStats) *float64 { return g.EnergyJ }, "J", head+".energy_j", "sum"
	case len(rest) == 2:
		f, ok := fields[rest[0]]
		if !ok {
			return unknown("no GPU field " + strconv.Quote(rest[0]) + "; want utilization, memory_used_mb, power_w, temp_c or energy_j")
		}
		a, ok := aggName(rest[1])
		if !ok {
			return unknown("want .avg or .max after " + head + "." + rest[0])
		}
		get = f.max
		if a == "avg" {
			get = f.avg
		}
		if get == nil {
			return unknown(head + "." + rest[0] + " has only .max")
		}
		unit, canon, agg = f.unit, head+"."+rest[0]+"."+a, a
	default:
		return unknown("")
	}
	v := Value{Name: canon, Unit: unit}
	if s.DurationS > 0 {
		d := s.DurationS
		v.WindowS = &d
	}
	if head != "gpu" {
		g, ok := s.GPU[head]
		if !ok {
			v.Note = "no " + head + " in this run (GPUs: " + s.gpuKeys() + ")" + s.sourceNote("gpu")
			return v, nil
		}
		v.N = g.Samples
		if p := get(&g); p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
			v.Value, v.Known = *p, true
		} else {
			v.Note = head + " never reported it"
		}
		return v, nil
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
		return v, nil
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
	return v, nil
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

// aggName maps avg, mean and max to their canonical "avg" and "max".
func aggName(a string) (string, bool) {
	switch a {
	case "avg", "mean":
		return "avg", true
	case "max":
		return "max", true
	}
	return "", false
}

// statOf returns the canonical name and value of a distribution's statistic.
func statOf(st recorder.Stats, stat string) (string, *float64, bool) {
	switch stat {
	case "p50", "median", "med":
		return "p50", st.P50, true
	case "p90":
		return "p90", st.P90, true
	case "p95":
		return "p95", st.P95, true
	case "p99":
		return "p99", st.P99, true
	case "mean", "avg":
		return "mean", st.Mean, true
	case "std":
		return "std", st.Std, true
	case "min":
		return "min", st.Min, true
	case "max":
		return "max", st.Max, true
	}
	return "", nil, false
}

// serverHistValue looks up server.<ttft|e2e|queue_time|itl>.<stat> in the server-side window statistics. ok
// is false when field is not a server histogram name. A percentile that is only a lower bound (it fell in the
// +Inf bucket) is not known: a bound is not a value.
func (s *Summary) serverHistValue(field, stat string) (Value, bool, error) {
	pick := func(f *serverstats.Figures) *serverstats.Histogram {
		switch field {
		case "ttft":
			return f.TTFT
		case "e2e":
			return f.E2ELatency
		case "queue_time":
			return f.QueueTime
		case "itl":
			return f.ITL
		}
		return nil
	}
	switch field {
	case "ttft", "e2e", "queue_time", "itl":
	default:
		return Value{}, false, nil
	}
	name := "server." + field + "." + stat
	switch stat {
	case "avg":
		name = "server." + field + ".mean"
	case "median", "med":
		name = "server." + field + ".p50"
	}
	switch stat {
	case "p50", "median", "med", "p90", "p95", "p99", "mean", "avg":
	default: // checked before looking at the data, so that a bad name fails even in a run without a server
		return Value{}, true, &UnknownMetricError{Name: name, Reason: "want p50, p90, p95, p99 or mean after server." + field}
	}
	v := Value{Name: name, Unit: UnitMS}
	if s.Server == nil {
		v.Note = "no successful /metrics scrape" + s.sourceNote("vllm")
		return v, true, nil
	}
	v.WindowS = s.Server.DurationS
	h := pick(&s.Server.Figures)
	if h == nil {
		v.Note = "the server does not expose this histogram"
		key := map[string]string{"ttft": serverstats.FieldTTFTSeconds, "e2e": serverstats.FieldE2ELatencySeconds,
			"queue_time": serverstats.FieldQueueTimeSeconds, "itl": serverstats.FieldITLSeconds}[field]
		if why := s.Server.NotExposed[key]; why != "" {
			v.Note += ": " + why
		}
		return v, true, nil
	}
	v.N = int(h.Count)
	var q *serverstats.Quantile
	switch stat {
	case "p50", "median", "med":
		q = h.P50MS
	case "p90":
		q = h.P90MS
	case "p95":
		q = h.P95MS
	case "p99":
		q = h.P99MS
	case "mean", "avg":
		if h.MeanMS == nil {
			v.Note = "no observation in the window"
			return v, true, nil
		}
		v.Value, v.Known = *h.MeanMS, true
		return v, true, nil
	default:
		return Value{}, true, &UnknownMetricError{Name: name, Reason: "want p50, p90, p95, p99 or mean after server." + field}
	}
	if q == nil {
		v.Note = "no observation in the window"
		if h.Note != "" {
			v.Note = h.Note
		}
		return v, true, nil
	}
	v.AtMost = q.AtMostMS
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
		return v, true, nil
	}
	v.Value, v.Known = ms, true
	return v, true, nil
}
