package vmtest

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
)

func dv(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

// dq formats a server quantile, ms: its value, ">bound" when it is only a lower bound, "-" when unknown.
func dq(v, lowerBound *float64) string {
	if v == nil && lowerBound != nil {
		return ">" + dv(lowerBound, "%.0f")
	}
	return dv(v, "%.1f")
}

// render writes one dashboard frame for snap: GPUs, server, client latency and host, as the original Python collector's console
// dashboard shows them, then each source's error; an error that repeats the previous frame's is shown only
// on the first frame. Called on the sampling goroutine; it writes to w only (never to the test).
func render(w io.Writer, s *snapshot.Snapshot, counts recorder.Counts, first, last bool) {
	var b strings.Builder
	label := ""
	if last {
		label = "  (final)"
	}
	fmt.Fprintf(&b, "── vmtest %s  %s  +%.2fs%s ──\n", s.ConfigID, s.Timestamp.Format("15:04:05"), s.ElapsedS, label)
	keys := make([]string, 0, len(s.GPUMetrics))
	for k := range s.GPUMetrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := s.GPUMetrics[k]
		fmt.Fprintf(&b, "  %-8s util %5s  mem %s/%s MiB  %s°C  %s W\n", k, dv(g.Utilization, "%.0f%%"),
			dv(g.MemoryUsedMB, "%.0f"), dv(g.MemoryTotalMB, "%.0f"), dv(g.TempC, "%.0f"), dv(g.PowerW, "%.0f"))
	}
	v := &s.VLLMMetrics
	fmt.Fprintf(&b, "  server   %s tok/s  queue %s  batch %s  KV %s  TTFT p50 %s p99 %s ms\n", dv(v.TokensPerSecond, "%.1f"),
		dv(v.RequestQueueSize, "%.0f"), dv(v.ActiveBatchSize, "%.0f"), dv(v.KVCacheUsagePercent, "%.1f%%"),
		dq(v.ServerTTFTP50MS, v.ServerTTFTP50LowerBoundMS), dq(v.ServerTTFTP99MS, v.ServerTTFTP99LowerBoundMS))
	fmt.Fprintf(&b, "  client   this interval: %d ok, TTFT mean %s ms, E2E p50 %s p99 %s ms; so far: %d ok, %d not ok\n",
		v.RequestsFinished, dv(v.FirstTokenLatencyMS, "%.1f"), dv(v.P50LatencyMS, "%.1f"), dv(v.P99LatencyMS, "%.1f"),
		counts.OK, counts.Total-counts.OK)
	y := &s.SystemMetrics
	fmt.Fprintf(&b, "  host     CPU %s  mem %s GiB used, %s GiB free\n", dv(y.CPUPercent, "%.1f%%"),
		dv(y.MemoryGB, "%.2f"), dv(y.MemoryAvailableGB, "%.2f"))
	srcs := make([]string, 0, len(s.Errors))
	for src := range s.Errors {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs)
	for _, src := range srcs {
		e := s.Errors[src]
		if !first && src == "gpu" && len(s.GPUMetrics) == 0 {
			continue // the reason there is no GPU source was shown on the first frame
		}
		fmt.Fprintf(&b, "  ! %s: %s\n", src, e)
	}
	io.WriteString(w, b.String())
}
