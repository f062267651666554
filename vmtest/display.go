package vmtest

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vmtest/vmtest/live"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
)

// dashboard is the live view Options.Display turns on: a frame per snapshot redrawn in place on a terminal,
// one compact line per snapshot elsewhere. Only the sampling goroutine (tick) calls show.
type dashboard struct {
	screen *live.Screen
	goal   live.Goal
	runID  string
	prevS  float64           // the previous snapshot's ElapsedS: the client's rates are over the time since
	prevK  int64             // the previous snapshot's slot on the collector's schedule (see show)
	errs   map[string]string // each source's error on the previous compact line: a line repeats none
}

// BesideDisplay runs print, which writes to the terminal the live dashboard is on (a line of the caller's,
// ending with a newline), between frames, so that the dashboard stays whole and in place: the frame is taken
// off the terminal while print runs, what print writes lands where it was, and the frame is drawn again below
// it, where the next frames redraw it (live.Screen.Outside). After the final frame what print writes goes
// below it. The collector's own log lines go the same way. Without Options.Display it just calls print.
// print must only print: it must not call BesideDisplay or any other method of c.
func (c *Collector) BesideDisplay(print func()) {
	if c.display == nil {
		print()
		return
	}
	c.display.screen.Outside(print)
}

// logBeside returns logf writing each line between the dashboard's frames, as BesideDisplay does; it is a
// test helper, so that a test's log lines still point at the test.
func (c *Collector) logBeside(logf func(string, ...any)) func(string, ...any) {
	return func(format string, args ...any) {
		c.helper()
		c.display.screen.Pause()
		defer c.display.screen.Resume()
		logf(format, args...)
	}
}

func newDashboard(w io.Writer, goal live.Goal, runID string) *dashboard {
	return &dashboard{screen: live.NewScreen(w), goal: goal, runID: runID, errs: map[string]string{}}
}

// clientInterval is what the client's requests that ended in one interval give the dashboard.
type clientInterval struct {
	TTFT, E2E    recorder.Stats
	OK           int
	OutputTokens int64
}

// frame is everything one dashboard frame shows.
type frame struct {
	snap      *snapshot.Snapshot
	runID     string
	client    clientInterval
	counts    recorder.Counts // every request recorded so far
	intervalS float64         // the time the client's figures are over: since the previous snapshot, measured
	nominalS  float64         // that interval's length on the collector's schedule (see dashboard.show)
	goal      live.Goal
	last      bool // the run's last snapshot
}

// show draws the snapshot s: its frame on a terminal, else its compact line. slot is s's place on the
// collector's schedule (start + slot·Interval, the first snapshot's 0), or -1 for a snapshot taken off it (the
// last, when the run stops): the interval's nominal length is the schedule's time since the previous
// snapshot's slot, or for one off the schedule its measured length.
func (d *dashboard) show(s *snapshot.Snapshot, client clientInterval, counts recorder.Counts, slot int64, intervalS float64, last bool) {
	f := frame{snap: s, runID: d.runID, client: client, counts: counts, intervalS: s.ElapsedS - d.prevS, goal: d.goal, last: last}
	f.nominalS = f.intervalS
	if slot >= 0 {
		f.nominalS = float64(slot-d.prevK) * intervalS
		d.prevK = slot
	}
	d.prevS = s.ElapsedS
	if d.screen.Terminal() {
		d.screen.Draw(f.lines())
		if last {
			d.screen.Release() // the final frame stays; the summary is printed below it
		}
		return
	}
	d.screen.Draw([]string{f.compact(d.errs)})
}

// progress is where the run stands against its goal at this snapshot: the time since the run started, the
// requests recorded.
func (f *frame) progress() live.Progress {
	return live.Progress{Goal: f.goal, Elapsed: time.Duration(f.snap.ElapsedS * float64(time.Second)), Done: f.counts.Total}
}

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

// rate is n per second over the frame's interval, its measured length; nil when the interval's nominal
// length is under recorder.MinThroughputWindow (the first snapshot, an Interval under 1 s, a last snapshot
// taken just after the previous), as the summary's throughputs are. The nominal length of a scheduled
// snapshot is the schedule's, so a tick's lateness (0.998 s between two ticks 1 s apart) does not hide it.
func (f *frame) rate(n float64) *float64 {
	if f.nominalS < recorder.MinThroughputWindow.Seconds() || f.intervalS <= 0 {
		return nil
	}
	r := n / f.intervalS
	return &r
}

// gpuKeys returns the snapshot's GPU keys in index order (gpu_2 before gpu_10).
func gpuKeys(m map[string]snapshot.GPU) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })
	return keys
}

// lines is the frame drawn on a terminal: a header, the progress against the goal (when it has a bound), a
// row per GPU (utilization, memory used and free, temperature, power), the server (tokens/s, queue, batch, KV-cache, its
// TTFT quantiles over the interval), the client (requests so far, rates and latency percentiles over the
// interval), the host, then each source's error, in every frame while it lasts. Every
// row fits 120 columns with the widest figures a vLLM server gives.
func (f *frame) lines() []string {
	s := f.snap
	label := ""
	if f.last {
		label = "  (final)"
	}
	out := []string{fmt.Sprintf("── vmtest %s  run %s  %s  +%.1fs%s ──", s.ConfigID, f.runID, s.Timestamp.Format("15:04:05"), s.ElapsedS, label)}
	if p := f.progress(); f.goal.Bounded() {
		fr, _ := p.Fraction()
		out = append(out, "  progress "+live.BarText(fr, live.BarWidth)+"  "+p.String())
	}
	for _, k := range gpuKeys(s.GPUMetrics) {
		g := s.GPUMetrics[k]
		out = append(out, fmt.Sprintf("  %-8s util %5s  mem %6s MiB used %6s free  temp %4s  power %6s", k, dv(g.Utilization, "%.0f%%"),
			dv(g.MemoryUsedMB, "%.0f"), dv(g.MemoryFreeMB, "%.0f"), dv(g.TempC, "%.0f°C"), dv(g.PowerW, "%.0f W")))
	}
	v := &s.VLLMMetrics
	out = append(out, serverRow("server", v))
	for _, name := range slices.Sorted(maps.Keys(v.Replicas)) {
		r := v.Replicas[name]
		out = append(out, serverRow(replicaLabel(name), &r))
	}
	c := &f.client
	out = append(out,
		fmt.Sprintf("  client   so far %d requests: %d ok, %d not ok  ·  last %.1fs: %d ok, %s req/s, %s tok/s",
			f.counts.Total, f.counts.OK, f.counts.Total-f.counts.OK, max(f.intervalS, 0), c.OK,
			dv(f.rate(float64(c.OK)), "%.2f"), dv(f.rate(float64(c.OutputTokens)), "%.1f")),
		fmt.Sprintf("  latency  last %.1fs: TTFT p50 %s p90 %s p99 %s ms  ·  E2E p50 %s p90 %s p99 %s ms", max(f.intervalS, 0),
			dv(c.TTFT.P50, "%.1f"), dv(c.TTFT.P90, "%.1f"), dv(c.TTFT.P99, "%.1f"), dv(c.E2E.P50, "%.1f"), dv(c.E2E.P90, "%.1f"), dv(c.E2E.P99, "%.1f")))
	y := &s.SystemMetrics
	out = append(out, fmt.Sprintf("  host     CPU %s  mem %s GiB used, %s GiB free", dv(y.CPUPercent, "%.1f%%"),
		dv(y.MemoryGB, "%.2f"), dv(y.MemoryAvailableGB, "%.2f")))
	for _, k := range nodeKeys(s.NodeMetrics) {
		n := s.NodeMetrics[k]
		out = append(out, fmt.Sprintf("  node %-10.10s CPU %s load %s mem %s GiB (%s free) net ↑%s ↓%s disk r%s w%s MB/s", k,
			dv(n.CPUPercent, "%.1f%%"), dv(n.Load1, "%.1f"), dv(n.MemoryGB, "%.1f"), dv(n.MemoryAvailableGB, "%.1f"),
			dv(perMB(n.NetworkSentBytesPerSecond), "%.1f"), dv(perMB(n.NetworkRecvBytesPerSecond), "%.1f"),
			dv(perMB(n.DiskReadBytesPerSecond), "%.1f"), dv(perMB(n.DiskWriteBytesPerSecond), "%.1f")))
	}
	for _, src := range sortedSources(s.Errors) {
		out = append(out, fmt.Sprintf("  ! %s: %s", src, s.Errors[src]))
	}
	return out
}

// serverRow is the frame's row of one server (the aggregate of several, or one replica), labelled label.
func serverRow(label string, v *snapshot.VLLM) string {
	return fmt.Sprintf("  %-8s %s tok/s  queue %s  batch %s  KV %s  TTFT p50 %s p99 %s ms", label, dv(v.TokensPerSecond, "%.1f"),
		dv(v.RequestQueueSize, "%.0f"), dv(v.ActiveBatchSize, "%.0f"), dv(v.KVCacheUsagePercent, "%.1f%%"),
		dq(v.ServerTTFTP50MS, v.ServerTTFTP50LowerBoundMS), dq(v.ServerTTFTP99MS, v.ServerTTFTP99LowerBoundMS))
}

// replicaLabel is how a replica's row is labelled: "·" and its name, cut at 12 characters.
func replicaLabel(name string) string {
	if len(name) > 12 {
		name = name[:11] + "…"
	}
	return "·" + name
}

// nodeKeys returns the server nodes' names, sorted.
func nodeKeys(m map[string]snapshot.Node) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// perMB is bytes/s in MB/s (10^6 bytes); nil stays nil.
func perMB(v *float64) *float64 {
	if v == nil {
		return nil
	}
	x := *v / 1e6
	return &x
}

func sortedSources(m map[string]string) []string {
	srcs := make([]string, 0, len(m))
	for src := range m {
		srcs = append(srcs, src)
	}
	slices.Sort(srcs)
	return srcs
}

// compact is the frame as one line, for a log: the progress, the GPUs together (mean utilization, memory,
// hottest, total power), the server, the client, the host, and each source's error when it differs from the
// one on the previous line (prev, updated).
func (f *frame) compact(prev map[string]string) string {
	s := f.snap
	var b strings.Builder
	fmt.Fprintf(&b, "vmtest %s +%.1fs", s.ConfigID, s.ElapsedS)
	if f.last {
		b.WriteString(" (final)")
	}
	if p := f.progress(); f.goal.Bounded() {
		fr, _ := p.Fraction()
		fmt.Fprintf(&b, " %.0f%% %s", fr*100, p.String())
	}
	if len(s.GPUMetrics) > 0 {
		util, used, free, temp, power := gpuTotals(s.GPUMetrics)
		fmt.Fprintf(&b, " | %d GPU util %s mem %s MiB used %s free max %s power %s", len(s.GPUMetrics), dv(util, "%.0f%%"),
			dv(used, "%.0f"), dv(free, "%.0f"), dv(temp, "%.0f°C"), dv(power, "%.0f W"))
	}
	v := &s.VLLMMetrics
	fmt.Fprintf(&b, " | server %s tok/s queue %s batch %s KV %s TTFT p50 %s p99 %s ms", dv(v.TokensPerSecond, "%.1f"),
		dv(v.RequestQueueSize, "%.0f"), dv(v.ActiveBatchSize, "%.0f"), dv(v.KVCacheUsagePercent, "%.1f%%"),
		dq(v.ServerTTFTP50MS, v.ServerTTFTP50LowerBoundMS), dq(v.ServerTTFTP99MS, v.ServerTTFTP99LowerBoundMS))
	for _, name := range slices.Sorted(maps.Keys(v.Replicas)) {
		r := v.Replicas[name]
		fmt.Fprintf(&b, " | %s %s tok/s queue %s batch %s KV %s", replicaLabel(name), dv(r.TokensPerSecond, "%.1f"),
			dv(r.RequestQueueSize, "%.0f"), dv(r.ActiveBatchSize, "%.0f"), dv(r.KVCacheUsagePercent, "%.1f%%"))
	}
	c := &f.client
	fmt.Fprintf(&b, " | client %d ok %d not ok, %s req/s TTFT p50 %s p99 %s ms E2E p50 %s p99 %s ms", f.counts.OK,
		f.counts.Total-f.counts.OK, dv(f.rate(float64(c.OK)), "%.2f"), dv(c.TTFT.P50, "%.1f"), dv(c.TTFT.P99, "%.1f"),
		dv(c.E2E.P50, "%.1f"), dv(c.E2E.P99, "%.1f"))
	y := &s.SystemMetrics
	fmt.Fprintf(&b, " | host CPU %s mem %s GiB", dv(y.CPUPercent, "%.1f%%"), dv(y.MemoryGB, "%.2f"))
	for _, k := range nodeKeys(s.NodeMetrics) {
		n := s.NodeMetrics[k]
		fmt.Fprintf(&b, " | node %s CPU %s mem %s GiB", k, dv(n.CPUPercent, "%.1f%%"), dv(n.MemoryGB, "%.2f"))
	}
	for _, src := range sortedSources(s.Errors) {
		if e := s.Errors[src]; prev[src] != e {
			fmt.Fprintf(&b, " | ! %s: %s", src, e)
		}
	}
	clear(prev)
	for src, e := range s.Errors {
		prev[src] = e
	}
	return b.String()
}

// gpuTotals returns, over the GPUs' known readings, the mean utilization (%), the memory used and free
// (MiB, summed), the hottest temperature (°C) and the power drawn (W, summed); nil where no GPU gave one.
func gpuTotals(m map[string]snapshot.GPU) (util, used, free, temp, power *float64) {
	var utilSum float64
	var utilN int
	add := func(dst **float64, v *float64, f func(a, b float64) float64) {
		if v == nil {
			return
		}
		if *dst == nil {
			x := *v
			*dst = &x
			return
		}
		**dst = f(**dst, *v)
	}
	sum := func(a, b float64) float64 { return a + b }
	for _, g := range m {
		if g.Utilization != nil {
			utilSum += *g.Utilization
			utilN++
		}
		add(&used, g.MemoryUsedMB, sum)
		add(&free, g.MemoryFreeMB, sum)
		add(&temp, g.TempC, func(a, b float64) float64 { return max(a, b) })
		add(&power, g.PowerW, sum)
	}
	if utilN > 0 {
		u := utilSum / float64(utilN)
		util = &u
	}
	return util, used, free, temp, power
}
