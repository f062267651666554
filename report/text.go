package report

import (
	"fmt"
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

// TextSummary renders the summary as the few lines a person reads at the end of a test: run, requests,
// latencies, throughput, server, GPUs, host, and why any source gave nothing.
func TextSummary(s *summary.Summary) []string {
	r := &s.Requests
	lines := []string{
		fmt.Sprintf("run %s config %s: %.1f s, %d snapshots", s.RunID, s.ConfigID, s.DurationS, s.Snapshots),
		fmt.Sprintf("requests: %d total, %d ok, %d failed, %d incomplete, %d rejected", r.Total, r.OK, r.Failed, r.Incomplete, r.Rejected),
		"TTFT  " + dist(r.TTFTMS),
		"TPOT  " + dist(r.TPOTMS),
		"ITL   " + dist(r.ITLMS),
		"E2E   " + dist(r.E2EMS),
		fmt.Sprintf("throughput: %s req/s, %s output tok/s over %s s",
			num(r.RequestThroughput, "%.2f"), num(r.OutputTokenThroughput, "%.1f"), num(r.WindowS, "%.2f")),
		fmt.Sprintf("server: %s tok/s avg, %s max; queue avg %s max %s; batch avg %s max %s; KV cache avg %s max %s",
			num(s.VLLM.AvgTokensPerSecond, "%.1f"), num(s.VLLM.MaxTokensPerSecond, "%.1f"),
			num(s.VLLM.AvgRequestQueueSize, "%.1f"), num(s.VLLM.MaxRequestQueueSize, "%.0f"),
			num(s.VLLM.AvgActiveBatchSize, "%.1f"), num(s.VLLM.MaxActiveBatchSize, "%.0f"),
			pct(s.VLLM.AvgKVCacheUsagePercent, "%.1f"), pct(s.VLLM.MaxKVCacheUsagePercent, "%.1f")),
	}
	if sv := s.Server; sv != nil {
		lines = append(lines, "server-side, from /metrics histograms over the test window (interpolated within buckets, as Prometheus histogram_quantile does: coarse where the buckets are wide):")
		if r.Total == 0 {
			lines = append(lines, "  (vmtest's client recorded no request: these figures are of requests sent by others, so they are not cross-checked against the client's)")
		}
		for _, h := range []struct {
			name string
			h    *serverstats.Histogram
		}{{"TTFT", sv.TTFT}, {"E2E", sv.E2ELatency}, {"queue", sv.QueueTime}, {"ITL", sv.ITL}} {
			lines = append(lines, fmt.Sprintf("  %-5s %s", h.name, serverHist(h.h)))
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
		lines = append(lines, fmt.Sprintf("energy per output token: %.4f J", *s.EnergyPerOutputTokenJ))
	}
	lines = append(lines, fmt.Sprintf("host: CPU avg %s max %s, memory avg %s GiB max %s GiB",
		pct(s.System.AvgCPUPercent, "%.1f"), pct(s.System.MaxCPUPercent, "%.1f"),
		num(s.System.AvgMemoryGB, "%.2f"), num(s.System.MaxMemoryGB, "%.2f")))
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
		if st.Failed > 0 && st.LastError != "" {
			part += " last error: " + st.LastError
		}
		src = append(src, part)
	}
	lines = append(lines, "sources: "+strings.Join(src, "; "))
	for _, e := range s.Events {
		lines = append(lines, fmt.Sprintf("event %s %s: %s", e.Time.Format("15:04:05.000"), e.Source, e.Message))
	}
	if r.LastError != "" {
		lines = append(lines, "last request error: "+r.LastError)
	}
	for _, w := range s.Warnings {
		lines = append(lines, "warning: "+w)
	}
	return lines
}

// serverHist formats a server-side histogram's window figures; a lower bound is shown as "≥ X".
func serverHist(h *serverstats.Histogram) string {
	if h == nil {
		return "not exposed"
	}
	if h.Count == 0 {
		return "no observation"
	}
	q := func(x *serverstats.Quantile) string {
		if x == nil {
			return "n/a"
		}
		v, exact := x.MS()
		if !exact {
			return fmt.Sprintf("≥%.1f", v)
		}
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("mean %s  p50 %s  p90 %s  p99 %s ms (n=%.0f, %s)", num(h.MeanMS, "%.1f"), q(h.P50MS), q(h.P90MS),
		q(h.P99MS), h.Count, h.Metric)
}
