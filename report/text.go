package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// num formats a nullable value with the given verb, or "n/a".
func num(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}

// pct formats a nullable percentage with the given verb followed by "%", or "n/a" (no stray "%").
func pct(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v) + "%"
}

// dist formats a latency distribution as "p50 X p90 Y p99 Z ms (n=N)".
func dist(s recorder.Stats) string {
	if s.N == 0 {
		return "no data"
	}
	return fmt.Sprintf("mean %s  p50 %s  p90 %s  p99 %s ms (n=%d)",
		num(s.Mean, "%.1f"), num(s.P50, "%.1f"), num(s.P90, "%.1f"), num(s.P99, "%.1f"), s.N)
}

// digitsLess orders strings with runs of digits compared as numbers: "gi2_ci1" before "gi9" before "gi10".
func digitsLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			x, _ := strconv.Atoi(a[:da])
			y, _ := strconv.Atoi(b[:db])
			if x != y {
				return x < y
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digitRun is the length of the run of ASCII digits s starts with.
func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// warmupText is "; and N warm-up (M ok), not measured" when warm-up requests were reported, else "".
func warmupText(w recorder.WarmupCounts) string {
	if w.Total == 0 {
		return ""
	}
	return fmt.Sprintf("; and %d warm-up (%d ok), not measured", w.Total, w.OK)
}

// itlText says, after the ITL line, when its gaps are not vLLM bench serve's per-chunk ones: " (per token)", or
// " (per token for N requests, per chunk for M)".
func itlText(r *recorder.Summary) string {
	switch {
	case r.ITLDefinition == nil || *r.ITLDefinition == recorder.ITLPerChunk:
		return ""
	case *r.ITLDefinition == recorder.ITLPerToken:
		return " (per token, from usage on every chunk)"
	}
	return fmt.Sprintf(" (per token for %d requests, per chunk for %d)", r.ITLPerToken, r.ITLPerChunk)
}

// TextSummary renders the summary as the few lines a person reads at the end of a test: run, requests,
// latencies, throughput, server (with several replicas: their aggregate, then one line per replica), GPUs,
// host, and why any source gave nothing.
func TextSummary(s *summary.Summary) []string {
	r := &s.Requests
	lines := []string{
		fmt.Sprintf("run %s config %s: %.1f s, %d %s", s.RunID, s.ConfigID, s.DurationS, s.Snapshots, noun(s.Snapshots, "snapshot", "snapshots")),
		fmt.Sprintf("requests: %d total, %d ok, %d failed, %d incomplete, %d rejected, %d canceled%s", r.Total, r.OK, r.Failed, r.Incomplete, r.Rejected, r.Canceled, warmupText(r.Warmup)),
		"TTFT  " + dist(r.TTFTMS),
		"TPOT  " + dist(r.TPOTMS),
		"ITL   " + dist(r.ITLMS) + itlText(r),
		"E2E   " + dist(r.E2EMS),
		fmt.Sprintf("throughput: %s req/s, %s output tok/s over %s s",
			num(r.RequestThroughput, "%.2f"), num(r.OutputTokenThroughput, "%.1f"), num(r.WindowS, "%.2f")),
		fmt.Sprintf("server: %s tok/s avg, %s max; queue avg %s max %s; batch avg %s max %s; KV cache avg %s max %s",
			num(s.VLLM.AvgTokensPerSecond, "%.1f"), num(s.VLLM.MaxTokensPerSecond, "%.1f"),
			num(s.VLLM.AvgRequestQueueSize, "%.1f"), num(s.VLLM.MaxRequestQueueSize, "%.0f"),
			num(s.VLLM.AvgActiveBatchSize, "%.1f"), num(s.VLLM.MaxActiveBatchSize, "%.0f"),
			pct(s.VLLM.AvgKVCacheUsagePercent, "%.1f"), pct(s.VLLM.MaxKVCacheUsagePercent, "%.1f")) + coverageText(s.VLLM.Coverage),
	}
	for _, name := range slices.Sorted(maps.Keys(s.VLLM.Replicas)) {
		v := s.VLLM.Replicas[name]
		ttft := "TTFT -"
		if s.Server != nil && s.Server.Replicas[name].TTFT != nil {
			ttft = "TTFT " + serverHist(s.Server.Replicas[name].TTFT)
		}
		lines = append(lines, fmt.Sprintf("  replica %s: %s tok/s avg; queue avg %s; batch avg %s; KV cache avg %s max %s; %s", name,
			num(v.AvgTokensPerSecond, "%.1f"), num(v.AvgRequestQueueSize, "%.1f"), num(v.AvgActiveBatchSize, "%.1f"),
			pct(v.AvgKVCacheUsagePercent, "%.1f"), pct(v.MaxKVCacheUsagePercent, "%.1f"), ttft))
	}
	if r.SendLagMS.N > 0 { // an open loop: how well it kept its schedule
		lines = slices.Insert(lines, 7, fmt.Sprintf("send lag (open loop: intended start to send, slot waits included): p50 %s  p99 %s  max %s ms (n=%d); slot wait mean %s ms; mean inter-arrival %s ms",
			num(r.SendLagMS.P50, "%.1f"), num(r.SendLagMS.P99, "%.1f"), num(r.SendLagMS.Max, "%.1f"), r.SendLagMS.N,
			num(r.SlotWaitMS.Mean, "%.1f"), num(r.MeanInterArrivalMS, "%.1f")))
	}
	if r.ReasoningTokens > 0 { // a reasoning model: the first content comes after the thinking
		lines = slices.Insert(lines, 3, "TTFOT "+dist(r.TTFOMS)+fmt.Sprintf(" (first content after reasoning; %d reasoning tokens)", r.ReasoningTokens))
	}
	lines = append(lines, groupLines(r)...)
	if sv := s.Server; sv != nil {
		lines = append(lines, "server-side, from /metrics histograms over the test window: a percentile is a value (interpolated as Prometheus histogram_quantile does) where its bucket is narrow, "+
			"else the range it is known to lie in (its bucket, narrowed by the histogram's sum; JSON bucket_lower_ms, at_most_ms):")
		if r.Total == 0 {
			lines = append(lines, "  (vmtest's client recorded no request: these figures are of requests sent by others, so they are not cross-checked against the client's)")
		}
		for _, h := range []struct {
			name string
			h    *serverstats.Histogram
		}{{"TTFT", sv.TTFT}, {"E2E", sv.E2ELatency}, {"queue", sv.QueueTime}, {"ITL", sv.ITL}} {
			lines = append(lines, fmt.Sprintf("  %-5s %s", h.name, serverHist(h.h)))
		}
		if r := sv.PrefixCacheHitRate; r != nil {
			lines = append(lines, fmt.Sprintf("  prefix-cache hit rate %.1f %% of prompt tokens looked up (vllm:prefix_cache_hits_total over queries)", 100**r))
		}
		for _, l := range sv.Limits {
			lines = append(lines, "  limit reached: "+l)
		}
	}
	keys := make([]string, 0, len(s.GPU))
	for k := range s.GPU {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	for _, k := range keys {
		g := s.GPU[k]
		lines = append(lines, fmt.Sprintf("%s %s: util avg %s max %s, memory avg %s MiB max %s MiB, power avg %s W, energy %s J",
			k, g.Name, pct(g.AvgUtilization, "%.1f"), pct(g.MaxUtilization, "%.0f"), num(g.AvgMemoryUsedMB, "%.0f"),
			num(g.MaxMemoryUsedMB, "%.0f"), num(g.AvgPowerW, "%.1f"), num(g.EnergyJ, "%.1f")))
		switch c := g.CoveredFraction; {
		case c == nil || g.LastReading == nil:
			lines[len(lines)-1] += " (no reading)"
		case *c < 1:
			lines[len(lines)-1] += fmt.Sprintf(" (figures cover %.0f%% of the run: %s to %s)", *c*100,
				g.FirstReading.Format("15:04:05"), g.LastReading.Format("15:04:05"))
		}
		migKeys := make([]string, 0, len(g.MIG))
		for mk := range g.MIG {
			migKeys = append(migKeys, mk)
		}
		sort.Slice(migKeys, func(i, j int) bool { return digitsLess(migKeys[i], migKeys[j]) })
		for _, mk := range migKeys {
			m := g.MIG[mk]
			lines = append(lines, fmt.Sprintf("  %s MIG %s %s: memory avg %s MiB max %s MiB of %s MiB",
				k, mk, m.Profile, num(m.AvgMemoryUsedMB, "%.0f"), num(m.MaxMemoryUsedMB, "%.0f"), num(m.MemoryTotalMB, "%.0f")))
		}
	}
	if s.EnergyPerOutputTokenJ != nil {
		line := fmt.Sprintf("energy per output token: %.4f J", *s.EnergyPerOutputTokenJ)
		if s.EnergyPerOutputTokenNote != "" {
			line += " (caveat: " + s.EnergyPerOutputTokenNote + ")"
		}
		lines = append(lines, line)
	}
	lines = append(lines, fmt.Sprintf("host: CPU avg %s max %s, memory avg %s GiB max %s GiB",
		pct(s.System.AvgCPUPercent, "%.1f"), pct(s.System.MaxCPUPercent, "%.1f"),
		num(s.System.AvgMemoryGB, "%.2f"), num(s.System.MaxMemoryGB, "%.2f")))
	if c := s.Client; c != nil {
		lines = append(lines, fmt.Sprintf("client process: CPU %.2f s over %.2f s of load (%s of GOMAXPROCS=%d), Go scheduler latency p50 %s  p99 %s  max %s ms",
			c.CPUS, c.WallS, pct(scale(c.CPUUtilization, 100), "%.0f"), c.GOMAXPROCS,
			num(c.SchedLatencyP50MS, "%.3f"), num(c.SchedLatencyP99MS, "%.3f"), num(c.SchedLatencyMaxMS, "%.3f")))
	}
	if y := s.System; y.Cgroup != "" {
		limit := "no limit"
		if y.CgroupMemoryLimitGB != nil {
			limit = fmt.Sprintf("of %.2f GiB (max %s)", *y.CgroupMemoryLimitGB, pct(y.MaxCgroupMemoryPercent, "%.1f"))
		}
		ws := ""
		if y.MaxCgroupMemoryWorkingSetGB != nil {
			ws = fmt.Sprintf(" (working set max %.2f GiB)", *y.MaxCgroupMemoryWorkingSetGB)
		}
		lines = append(lines, fmt.Sprintf("cgroup %s: memory max %s GiB%s %s, %s", y.Cgroup,
			num(y.MaxCgroupMemoryGB, "%.2f"), ws, limit, cgroupCPUText(&y)))
	}
	lines = append(lines, nodeLines(s.Nodes)...)
	names := make([]string, 0, len(s.Sources))
	for k := range s.Sources {
		names = append(names, k)
	}
	sort.Strings(names)
	var src []string
	for _, k := range names {
		st := s.Sources[k]
		part := fmt.Sprintf("%s %d/%d ok", k, st.Readings-st.Failed, st.Readings)
		if st.Note != "" {
			part += " (" + st.Note + ")"
		}
		if st.Failed > 0 && st.DominantError != "" && st.DominantError != st.LastError {
			part += " mostly: " + st.DominantError + ";"
		}
		if st.Failed > 0 && st.LastError != "" {
			part += " last error: " + st.LastError
		}
		src = append(src, part)
	}
	lines = append(lines, "sources: "+strings.Join(src, "; "))
	for _, k := range names {
		lines = append(lines, outageLines(k, s.Sources[k])...)
	}
	for _, e := range s.Events {
		lines = append(lines, fmt.Sprintf("event %s %s: %s", e.Time.Format("15:04:05.000"), e.Source, e.Message))
	}
	if r.DominantError != "" && r.DominantError != r.LastError {
		lines = append(lines, fmt.Sprintf("most request errors (%d): %s", r.DominantErrorCount, r.DominantError))
	}
	if r.LastError != "" {
		lines = append(lines, "last request error: "+r.LastError)
	}
	for _, w := range s.Warnings {
		lines = append(lines, "warning: "+w)
	}
	return lines
}

// serverHist formats a server-side histogram's window figures: mean, then p50, p90 and p99 as serverQuantile
// renders them, ms, and the histogram's note (bucket layouts merged, or why the quantiles are unknown).
func serverHist(h *serverstats.Histogram) string {
	if h == nil {
		return "not exposed"
	}
	if h.Count == 0 {
		return "no observation"
	}
	mean := "n/a"
	if h.MeanMS != nil {
		mean = msNum(*h.MeanMS)
	}
	out := fmt.Sprintf("mean %s  p50 %s  p90 %s  p99 %s ms (n=%.0f, %s)", mean, serverQuantile(h.P50MS),
		serverQuantile(h.P90MS), serverQuantile(h.P99MS), h.Count, h.Metric)
	if h.Note != "" {
		out += "; " + h.Note
	}
	return out
}

// narrowRange is the largest ratio of the upper to the lower end of the range a server-side quantile is
// known to lie in for serverQuantile to print its interpolated value: at 1.25 every point of the range is
// within ±11 % of its middle. Interpolation assumes observations spread evenly over a bucket, and a latency
// distribution is rarely even over a bucket of vLLM's (its E2E (1, 1.5] s bucket read p90 1450 ms for client
// latencies near 1060 ms), so only vLLM's narrowest buckets ((0.08, 0.1] s for TTFT, (0.04, 0.05] s for ITL,
// or a range the _sum narrows) give values; the rest give ranges.
const narrowRange = 1.25

// serverQuantile formats a server-side quantile, ms, by the range it is known to lie in: lo, the lower bound
// of its bucket (BucketLowerMS), and hi, the smallest upper bound known (AtMostMS: its bucket's upper bound,
// or less where the histogram's _sum proves it):
//
//   - the value interpolated as histogram_quantile does ("%.1f") when the range is narrow, hi ≤ narrowRange·lo,
//     and the value lies in it;
//   - "≤hi" when lo is 0 or unknown (the lowest bucket, where interpolation is a guess);
//   - "≥lo" when hi is unknown (the +Inf bucket and no usable _sum);
//   - "lo–hi" otherwise (a wide bucket, or a _sum that proves the interpolated value too high).
//
// The ends of a range are rounded outwards to 3 significant digits; "n/a" when there is no quantile.
func serverQuantile(x *serverstats.Quantile) string {
	if x == nil {
		return "n/a"
	}
	v, exact := x.MS()
	lo, hi := x.BucketLowerMS, x.AtMostMS
	if exact && lo != nil && hi != nil && *lo > 0 && *hi <= narrowRange**lo && *lo <= v && v <= *hi {
		return fmt.Sprintf("%.1f", v)
	}
	switch {
	case hi == nil && !exact: // the +Inf bucket: LowerBoundMS
		return "≥" + roundOut(v, false)
	case hi == nil: // not produced by serverstats; show the value as it is
		return fmt.Sprintf("%.1f", v)
	case lo == nil || *lo <= 0:
		return "≤" + roundOut(*hi, true)
	}
	return roundOut(*lo, false) + "–" + roundOut(*hi, true)
}

// roundOut formats v rounded to 3 significant digits, up (towards +Inf) or down, with no exponent:
// 0.000450980 → "0.000451" up, 2560000 → "2560000", 3006000 → "3010000" up, 299.99999999999994 → "300".
func roundOut(v float64, up bool) string {
	return sig3(v, func(x float64) float64 {
		// 1e-9 absorbs the float error of scaling (|x| is in [100, 1000)), so a bound of exactly 300 stays 300.
		if up {
			return math.Ceil(x - 1e-9)
		}
		return math.Floor(x + 1e-9)
	})
}

// msNum formats a value in ms: "%.1f" from 1 ms up, else rounded to 3 significant digits with no exponent (a
// mean of 0.00023 ms is not "0.0").
func msNum(v float64) string {
	if math.Abs(v) >= 1 || v == 0 {
		return fmt.Sprintf("%.1f", v)
	}
	return sig3(v, math.Round)
}

// sig3 formats v with 3 significant digits, rounding the 3-digit mantissa with round, with no exponent.
func sig3(v float64, round func(float64) float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	// Scale by an exact power of ten (multiply or divide by 10^|p|), so that the result is the float nearest
	// the rounded decimal and prints as it.
	p := 2 - int(math.Floor(math.Log10(math.Abs(v))))
	pow := math.Pow10(max(p, -p))
	if p >= 0 {
		return strconv.FormatFloat(round(v*pow)/pow, 'f', -1, 64)
	}
	return strconv.FormatFloat(round(v/pow)*pow, 'f', -1, 64)
}

// maxOutageLines bounds the outages the text summary and the HTML report list per source.
const maxOutageLines = 5

// outageLines lists a source's outages, one line each (the first maxOutageLines, then how many more).
func outageLines(name string, st summary.SourceStatus) []string {
	var out []string
	for _, text := range outageTexts(st) {
		out = append(out, "outage "+name+" "+text)
	}
	if n := moreOutages(st); n > 0 {
		out = append(out, fmt.Sprintf("outage %s: %s", name, moreOutagesText(n)))
	}
	return out
}

// outageTexts says the first maxOutageLines of a source's outages (outageText).
func outageTexts(st summary.SourceStatus) []string {
	shown := st.Outages[:min(len(st.Outages), maxOutageLines)]
	out := make([]string, len(shown))
	for i, o := range shown {
		out[i] = outageText(o)
	}
	return out
}

// moreOutages counts a source's outages outageTexts leaves out: those past maxOutageLines, and those the
// summary itself left out (OutagesOmitted).
func moreOutages(st summary.SourceStatus) int {
	return max(len(st.Outages)-maxOutageLines, 0) + st.OutagesOmitted
}

// moreOutagesText says that n more outages are in the summary file.
func moreOutagesText(n int) string {
	return fmt.Sprintf("%d more (summary_statistics.json has them)", n)
}

// outageText says one outage: its first and last failed reading (local clock, s), their count, whether the
// source was back by the end, and the dominant reason, e.g. "04:59:28–04:59:31: 4 failed readings: refused".
func outageText(o summary.Outage) string {
	ongoing := ""
	if o.Ongoing {
		ongoing = ", not back at the end"
	}
	return fmt.Sprintf("%s–%s: %d failed readings%s: %s", o.Start.Format("15:04:05"), o.End.Format("15:04:05"),
		o.Failed, ongoing, o.Reason)
}

// nodeLines is one line per server node (summary.NodeStats), by name: CPU, load1, memory, and the network and
// disk rates in MB/s (10^6 bytes).
func nodeLines(nodes map[string]summary.NodeStats) []string {
	names := make([]string, 0, len(nodes))
	for k := range nodes {
		names = append(names, k)
	}
	sort.Strings(names)
	mb := func(v *float64) *float64 { return scale(v, 1e-6) }
	lines := make([]string, 0, len(names))
	for _, k := range names {
		n := nodes[k]
		lines = append(lines, fmt.Sprintf("node %s: CPU avg %s max %s, load1 avg %s max %s, memory avg %s GiB max %s GiB of %s GiB, "+
			"network avg sent %s recv %s MB/s, disk avg read %s write %s MB/s", k,
			pct(n.AvgCPUPercent, "%.1f"), pct(n.MaxCPUPercent, "%.1f"), num(n.AvgLoad1, "%.2f"), num(n.MaxLoad1, "%.2f"),
			num(n.AvgMemoryGB, "%.2f"), num(n.MaxMemoryGB, "%.2f"), num(n.MemoryTotalGB, "%.2f"),
			num(mb(n.AvgNetworkSentBytesPerSecond), "%.2f"), num(mb(n.AvgNetworkRecvBytesPerSecond), "%.2f"),
			num(mb(n.AvgDiskReadBytesPerSecond), "%.2f"), num(mb(n.AvgDiskWriteBytesPerSecond), "%.2f")))
	}
	return lines

}

// coverageText says, for an aggregate over replicas some of which missed rounds, what share of the run its
// per-interval figures (the maxima) cover; "" when every round was complete or for one server.
func coverageText(c *float64) string {
	if c == nil || *c >= 1 {
		return ""
	}
	return fmt.Sprintf(" (max over the %.0f%% of rounds in which every replica answered; averages over the whole run)", *c*100)
}

// cgroupCPUText is the CPU part of the text summary's cgroup line: the cores used and the quota, naming the
// CPU cgroup where it is not the memory one, or, where it is the host's root cgroup, that its use is the host's.
func cgroupCPUText(y *summary.SystemStats) string {
	from := ""
	if y.CgroupCPU != "" && y.CgroupCPU != y.Cgroup {
		from = " (cgroup " + y.CgroupCPU + ")"
	}
	if y.CgroupCPUIsHost {
		return fmt.Sprintf("CPU%s not known: that is the host's root cgroup, whose use is the host's above", from)
	}
	quota := "no quota"
	if y.CgroupCPUQuotaCores != nil {
		quota = fmt.Sprintf("of a %.2f-core quota (avg %s, max %s)", *y.CgroupCPUQuotaCores,
			pct(y.AvgCgroupCPUPercent, "%.1f"), pct(y.MaxCgroupCPUPercent, "%.1f"))
	}
	return fmt.Sprintf("CPU%s avg %s cores %s", from, num(y.AvgCgroupCPUCores, "%.2f"), quota)
}

// noun is one when n is 1, else many: "snapshot" or "snapshots".
func noun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
