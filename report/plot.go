package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
)

// Run is what a run's pictures are drawn from.
type Run struct {
	// Title heads the pictures (the configuration id).
	Title string
	// IntervalS is the sampling interval, s.
	IntervalS float64
	// Snapshots are the run's snapshots, oldest first.
	Snapshots []snapshot.Snapshot
	// Records are the run's request records (recorder.Record: StartS and EndS on the snapshots' clock); nil
	// when unknown, and the per-interval client TTFT percentiles are then left out, with a note.
	Records []recorder.Record
}

// palette are the series colours, in order: distinct hues that stay apart in print.
var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, {R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, {R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

func colour(i int) color.RGBA { return palette[i%len(palette)] }

// series collects the (elapsed s, value) points of one field over the snapshots, skipping unknown values (a
// gap in the data is drawn as a straight segment between the known neighbours, never as a drop to 0).
func series(snaps []snapshot.Snapshot, get func(*snapshot.Snapshot) *float64) plotter.XYs {
	return rateSeries(snaps, nil, 0, get)
}

// rateSeries is series for a rate computed over the interval ending at each snapshot, covers[i] s long
// (snapshot.VLLMRateIntervalsS, snapshot.SystemRateIntervalsS; 0 when unknown): points whose interval is known
// to be shorter than minDT s (the last snapshot, taken when collection stops, unless the reading before it
// failed) are left out, as the summary leaves them out of maxima. covers nil means no point is left out.
func rateSeries(snaps []snapshot.Snapshot, covers []float64, minDT float64, get func(*snapshot.Snapshot) *float64) plotter.XYs {
	var xy plotter.XYs
	for i := range snaps {
		if covers != nil && covers[i] > 0 && covers[i] < minDT {
			continue
		}
		if v := get(&snaps[i]); v != nil {
			xy = append(xy, plotter.XY{X: snaps[i].ElapsedS, Y: *v})
		}
	}
	return xy
}

// maxPoints bounds the points drawn per series (a chart is about 600 px wide); markers are drawn only on series
// of at most maxMarked points: 5 px circles at least 9 px apart across a data area of about 450 px (DESIGN.md).
const maxPoints, maxMarked = 1200, 50

// thin returns xy with at most maxPoints points: beyond that, the points are cut into maxPoints/2 runs of
// consecutive points and each run keeps its lowest and its highest point (in x order), so every peak and
// trough is still drawn.
func thin(xy plotter.XYs) plotter.XYs {
	if len(xy) <= maxPoints {
		return xy
	}
	runs := maxPoints / 2
	out := make(plotter.XYs, 0, maxPoints)
	for r := 0; r < runs; r++ {
		lo, hi := r*len(xy)/runs, (r+1)*len(xy)/runs
		mn, mx := lo, lo
		for j := lo; j < hi; j++ {
			if xy[j].Y < xy[mn].Y {
				mn = j
			}
			if xy[j].Y > xy[mx].Y {
				mx = j
			}
		}
		out = append(out, xy[min(mn, mx)])
		if mn != mx {
			out = append(out, xy[max(mn, mx)])
		}
	}
	return out
}

// line adds a line for xy (thinned, with a marker at each reading when there are few) in colour i, dashed
// when dashed; a series with no point is left out and reported false.
func (c *chart) line(label string, xy plotter.XYs, i int, dashed bool) bool {
	if len(xy) == 0 {
		return false
	}
	marked := len(xy) <= maxMarked
	l, err := plotter.NewLine(thin(xy))
	if err != nil {
		c.note("%s: %v", label, err)
		return false
	}
	l.Color, l.Width = colour(i), vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	if !marked {
		c.add(label, l, l)
		return true
	}
	s, err := newMarkers(xy, i, vg.Points(2))
	if err != nil {
		c.note("%s: %v", label, err)
		return false
	}
	c.add("", l)
	c.add(label, s, l, s)
	return true
}

// lastError is the last error a source recorded in the snapshots, "" when none.
func lastError(snaps []snapshot.Snapshot, source string) string {
	for i := len(snaps) - 1; i >= 0; i-- {
		if e := snaps[i].Errors[source]; e != "" {
			return e
		}
	}
	return ""
}

// absent notes on c that source gave no data, with its last error.
func (c *chart) absent(snaps []snapshot.Snapshot, what, source string) {
	if e := lastError(snaps, source); e != "" {
		c.note("no %s data: %s", what, e)
		return
	}
	c.note("no %s data in this run", what)
}

// xmax is the last snapshot's elapsed time, s.
func xmax(snaps []snapshot.Snapshot) float64 {
	if len(snaps) == 0 {
		return 0
	}
	return snaps[len(snaps)-1].ElapsedS
}

// topY sets the y axis to [0, a little above the largest value drawn], at least 1.
func topY(c *chart, largest float64) {
	c.plot.Y.Min = 0
	c.plot.Y.Max = max(largest*1.08, 1)
}

// largestY is the largest y of the series.
func largestY(xys ...plotter.XYs) float64 {
	m := 0.0
	for _, xy := range xys {
		for _, p := range xy {
			m = max(m, p.Y)
		}
	}
	return m
}

// gpuChart is the original tool's first picture: each GPU's utilization over time, one line per GPU, on an
// axis from 0 to 100 % (a reading above 100 is drawn at 100).
func gpuChart(r Run) *chart {
	c := newChart("gpu_utilization", r.Title+": GPU utilization", "", "utilization (%)")
	timeAxis(c.plot, xmax(r.Snapshots))
	drawn := false
	for i, k := range gpuKeys(r.Snapshots) {
		xy := series(r.Snapshots, func(s *snapshot.Snapshot) *float64 {
			if g, ok := s.GPUMetrics[k]; ok && g.Utilization != nil {
				return snapshot.F(min(*g.Utilization, 100))
			}
			return nil
		})
		label := k
		if n := gpuName(r.Snapshots, k); n != "" {
			label += " " + n
		}
		if c.line(label, xy, i, false) {
			drawn = true
		}
	}
	c.plot.Y.Min, c.plot.Y.Max = 0, 100
	if !drawn {
		c.absent(r.Snapshots, "GPU", "gpu")
	}
	return c
}

// gpuKeys are the GPU keys of every snapshot, in natural order ("gpu_2" before "gpu_10").
func gpuKeys(snaps []snapshot.Snapshot) []string {
	set := map[string]bool{}
	for i := range snaps {
		for k := range snaps[i].GPUMetrics {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	return keys
}

// gpuName is GPU k's name from its last reading that had one.
func gpuName(snaps []snapshot.Snapshot, k string) string {
	for i := len(snaps) - 1; i >= 0; i-- {
		if g, ok := snaps[i].GPUMetrics[k]; ok && g.Name != "" {
			return g.Name
		}
	}
	return ""
}

// tradeoffChart is the original tool's second picture: per interval, the server's generation throughput
// (tok/s) against the client's mean E2E latency (ms), one point per interval that has both.
func tradeoffChart(r Run) *chart {
	c := newChart("throughput_vs_latency", r.Title+": throughput vs latency", "generation throughput (tokens/s)",
		"mean E2E latency (ms)")
	c.plot.X.Tick.Marker = niceTicks{n: 6}
	covers := snapshot.VLLMRateIntervalsS(r.Snapshots)
	var xy plotter.XYs
	anyTPS, anyLat := false, false
	for i := range r.Snapshots {
		v := &r.Snapshots[i].VLLMMetrics
		if v.TokensPerSecond != nil && covers[i] > 0 && covers[i] >= r.IntervalS/2 {
			anyTPS = true
		} else {
			continue
		}
		if v.MeanLatencyMS != nil {
			anyLat = true
			xy = append(xy, plotter.XY{X: *v.TokensPerSecond, Y: *v.MeanLatencyMS})
		}
	}
	if len(xy) > 0 {
		if s, err := newMarkers(onePerCell(xy), 0, vg.Points(3)); err == nil {
			c.add("one sampling interval", s, s)
		}
	}
	c.plot.X.Min, c.plot.X.Max = 0, max(largestX(xy)*1.08, 1)
	topY(c, largestY(xy))
	switch {
	case !anyTPS:
		c.absent(r.Snapshots, "server throughput", "vllm")
	case !anyLat:
		c.note("no request ended in any interval with a server throughput: no client latency to draw")
	}
	return c
}

// onePerCell keeps, of points that fall in the same cell of a 600 × 400 grid over their range (less than a
// marker apart once drawn), the first: a long run's scatter stays bounded and looks the same.
func onePerCell(xy plotter.XYs) plotter.XYs {
	if len(xy) <= maxPoints {
		return xy
	}
	xm, ym := max(largestX(xy), 1e-9), max(largestY(xy), 1e-9)
	seen := map[[2]int]bool{}
	var out plotter.XYs
	for _, p := range xy {
		cell := [2]int{int(p.X / xm * 600), int(p.Y / ym * 400)}
		if !seen[cell] {
			seen[cell] = true
			out = append(out, p)
		}
	}
	return out
}

func largestX(xy plotter.XYs) float64 {
	m := 0.0
	for _, p := range xy {
		m = max(m, p.X)
	}
	return m
}

// serverRange is where a per-interval server quantile is known to lie: [lo, hi] ms; hi is +Inf when the
// quantile is in the +Inf bucket with no upper bound known.
type serverRange struct {
	from, to float64 // the interval it covers, elapsed s
	lo, hi   float64
}

// serverRanges collects, per snapshot, the range one server quantile lies in (its bucket's lower bound to the
// smallest upper bound known) over the scrape interval it covers.
func serverRanges(snaps []snapshot.Snapshot, lower, atMost func(*snapshot.VLLM) *float64) []serverRange {
	var out []serverRange
	for i := range snaps {
		v := &snaps[i].VLLMMetrics
		lo := lower(v)
		if lo == nil {
			continue
		}
		hi := math.Inf(1)
		if h := atMost(v); h != nil {
			hi = *h
		}
		from := snaps[i].ElapsedS
		switch {
		case v.ScrapeIntervalS != nil:
			from -= *v.ScrapeIntervalS
		case i > 0:
			from = snaps[i-1].ElapsedS
		}
		out = append(out, serverRange{from: max(from, 0), to: snaps[i].ElapsedS, lo: *lo, hi: hi})
	}
	return out
}

// mergeRanges joins ranges into at most maxPoints/2 boxes: neighbours with the same bounds always (buckets are
// few, so a steady run is a few boxes), and beyond that consecutive ranges into the box that holds them all
// (the lowest lower bound to the highest upper bound), which is still true of every interval in it.
func mergeRanges(rs []serverRange) []serverRange {
	var out []serverRange
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].lo == r.lo && out[n-1].hi == r.hi && r.from <= out[n-1].to+1e-9 {
			out[n-1].to = r.to
			continue
		}
		out = append(out, r)
	}
	limit := maxPoints / 2
	if len(out) <= limit {
		return out
	}
	merged := make([]serverRange, 0, limit)
	for g := 0; g < limit; g++ {
		part := out[g*len(out)/limit : (g+1)*len(out)/limit]
		box := part[0]
		for _, r := range part[1:] {
			box.to, box.lo, box.hi = r.to, min(box.lo, r.lo), max(box.hi, r.hi)
		}
		merged = append(merged, box)
	}
	return merged
}

// band draws ranges as translucent boxes in colour i (one box per interval, or per run of intervals
// mergeRanges joins, from its bucket's lower bound to its upper bound, or to the top of the chart, top, where
// none is known) and returns a legend thumbnail; nil when there is no range.
func (c *chart) band(rs []serverRange, i int, top float64) plot.Thumbnailer {
	line := colour(i)
	fill := color.NRGBA{R: line.R, G: line.G, B: line.B, A: 0x50}
	var first *plotter.Polygon
	for _, r := range mergeRanges(rs) {
		hi := min(r.hi, top)
		pg, err := plotter.NewPolygon(plotter.XYs{{X: r.from, Y: r.lo}, {X: r.to, Y: r.lo}, {X: r.to, Y: hi}, {X: r.from, Y: hi}})
		if err != nil {
			continue
		}
		pg.Color = fill
		pg.LineStyle.Width = 0
		c.add("", pg)
		if first == nil {
			first = pg
		}
	}
	if first == nil {
		return nil
	}
	return first
}

// openRanges counts the ranges with no upper bound (the +Inf bucket).
func openRanges(rs []serverRange) int {
	n := 0
	for _, r := range rs {
		if math.IsInf(r.hi, 1) {
			n++
		}
	}
	return n
}

// largestFinite is the largest finite bound among the ranges (their hi, or lo when hi is +Inf).
func largestFinite(rss ...[]serverRange) float64 {
	m := 0.0
	for _, rs := range rss {
		for _, r := range rs {
			if math.IsInf(r.hi, 1) {
				m = max(m, r.lo*1.25)
			} else {
				m = max(m, r.hi)
			}
		}
	}
	return m
}

// latencyChart draws one latency over time, ms: the client's per-interval percentiles as lines and the
// server's per-interval p50 and p99 as the bucket ranges they are known to lie in (bands), on its own axis.
func latencyChart(name, title string, r Run, client []namedSeries, p50, p99 []serverRange, missing string) *chart {
	c := newChart(name, r.Title+": "+title, "", "latency (ms)")
	timeAxis(c.plot, xmax(r.Snapshots))
	var lines []plotter.XYs
	for _, s := range client {
		lines = append(lines, s.xy)
	}
	top := max(largestY(lines...), largestFinite(p50, p99)) * 1.08
	t99 := c.band(p99, 1, top) // under p50's, which is the narrower and lower
	if t50 := c.band(p50, 0, top); t50 != nil {
		c.legend.Add("p50, server (bucket range)", t50)
	}
	if t99 != nil {
		c.legend.Add("p99, server (bucket range)", t99)
	}
	drawn := false
	for i, s := range client {
		if c.line(s.label, s.xy, i, i%2 == 1) {
			drawn = true
		}
	}
	c.plot.Y.Min, c.plot.Y.Max = 0, max(top, 1)
	for _, b := range []struct {
		name string
		rs   []serverRange
	}{{"p50", p50}, {"p99", p99}} {
		if n := openRanges(b.rs); n > 0 {
			c.note("server %s above its highest finite bucket in %d interval(s): drawn to the top", b.name, n)
		}
	}
	if !drawn {
		c.note("%s", missing)
	}
	if len(p50)+len(p99) == 0 {
		c.absent(r.Snapshots, "server histogram", "vllm")
	}
	return c
}

// namedSeries is one line of a chart.
type namedSeries struct {
	label string
	xy    plotter.XYs
}

// intervalTTFT computes, per snapshot interval (the previous snapshot's elapsed time, exclusive, to this
// one's, inclusive), the p50 and p99 of the TTFT of the successful requests that ended in it, ms, as
// recorder.ComputeStats computes percentiles (numpy's linear); an interval with no such request has no point.
func intervalTTFT(snaps []snapshot.Snapshot, recs []recorder.Record) (p50, p99 plotter.XYs) {
	ends := make([]float64, len(snaps))
	for i := range snaps {
		ends[i] = snaps[i].ElapsedS
	}
	per := make([][]float64, len(snaps))
	for i := range recs {
		rec := &recs[i]
		if rec.Outcome != recorder.OutcomeOK {
			continue
		}
		j := sort.SearchFloat64s(ends, rec.EndS) // the first snapshot at or after the request's end
		if j < len(snaps) {
			per[j] = append(per[j], rec.TTFTMS)
		}
	}
	for i, vs := range per {
		if len(vs) == 0 {
			continue
		}
		st := recorder.ComputeStats(vs)
		if st.P50 != nil && st.P99 != nil {
			p50 = append(p50, plotter.XY{X: ends[i], Y: *st.P50})
			p99 = append(p99, plotter.XY{X: ends[i], Y: *st.P99})
		}
	}
	return p50, p99
}

// ttftChart is TTFT over time: the client's p50 and p99 per interval (from the request records) and the
// server's TTFT p50 and p99 bands.
func ttftChart(r Run) *chart {
	v := func(f func(*snapshot.VLLM) *float64) func(*snapshot.Snapshot) *float64 {
		return func(s *snapshot.Snapshot) *float64 { return f(&s.VLLMMetrics) }
	}
	var client []namedSeries
	missing := "no request ended in this run: no client TTFT to draw"
	if r.Records != nil {
		p50, p99 := intervalTTFT(r.Snapshots, r.Records)
		client = []namedSeries{{"p50, client", p50}, {"p99, client", p99}}
	} else {
		client = []namedSeries{{"mean, client", series(r.Snapshots, v(func(x *snapshot.VLLM) *float64 { return x.FirstTokenLatencyMS }))}}
		missing = "no client TTFT: the request records were not given"
	}
	c := latencyChart("ttft", "TTFT per interval", r, client,
		serverRanges(r.Snapshots, func(x *snapshot.VLLM) *float64 { return x.ServerTTFTP50BucketLowerMS },
			func(x *snapshot.VLLM) *float64 { return x.ServerTTFTP50AtMostMS }),
		serverRanges(r.Snapshots, func(x *snapshot.VLLM) *float64 { return x.ServerTTFTP99BucketLowerMS },
			func(x *snapshot.VLLM) *float64 { return x.ServerTTFTP99AtMostMS }), missing)
	if r.Records == nil {
		c.note("client p50 and p99 need the request records: the per-interval mean is drawn")
	}
	return c
}

// e2eChart is E2E latency over time: the client's p50 and p99 per interval (the snapshots' p50_latency_ms
// and p99_latency_ms) and the server's E2E p50 and p99 bands.
func e2eChart(r Run) *chart {
	v := func(f func(*snapshot.VLLM) *float64) plotter.XYs {
		return series(r.Snapshots, func(s *snapshot.Snapshot) *float64 { return f(&s.VLLMMetrics) })
	}
	return latencyChart("e2e", "E2E latency per interval", r, []namedSeries{
		{"p50, client", v(func(x *snapshot.VLLM) *float64 { return x.P50LatencyMS })},
		{"p99, client", v(func(x *snapshot.VLLM) *float64 { return x.P99LatencyMS })}},
		serverRanges(r.Snapshots, func(x *snapshot.VLLM) *float64 { return x.ServerE2EP50BucketLowerMS },
			func(x *snapshot.VLLM) *float64 { return x.ServerE2EP50AtMostMS }),
		serverRanges(r.Snapshots, func(x *snapshot.VLLM) *float64 { return x.ServerE2EP99BucketLowerMS },
			func(x *snapshot.VLLM) *float64 { return x.ServerE2EP99AtMostMS }),
		"no request ended in this run: no client E2E latency to draw")
}

// timeChart draws plain series over time on an axis from 0; the note says why none was drawn.
func timeChart(name, title, ylabel string, r Run, ss []namedSeries, what, source string) *chart {
	c := newChart(name, r.Title+": "+title, "", ylabel)
	timeAxis(c.plot, xmax(r.Snapshots))
	var xys []plotter.XYs
	drawn := false
	for i, s := range ss {
		xys = append(xys, s.xy)
		if c.line(s.label, s.xy, i, i%2 == 1) { // dashed every other, so a series under another still shows
			drawn = true
		}
	}
	topY(c, largestY(xys...))
	if !drawn {
		c.absent(r.Snapshots, what, source)
	}
	return c
}

// runCharts are a run's pictures, in the order the report shows them.
func runCharts(r Run) []*chart {
	s := r.Snapshots
	v := func(f func(*snapshot.VLLM) *float64) plotter.XYs {
		return series(s, func(x *snapshot.Snapshot) *float64 { return f(&x.VLLMMetrics) })
	}
	covers := snapshot.VLLMRateIntervalsS(s)
	rate := func(f func(*snapshot.VLLM) *float64) plotter.XYs {
		return rateSeries(s, covers, r.IntervalS/2, func(x *snapshot.Snapshot) *float64 { return f(&x.VLLMMetrics) })
	}
	thr := timeChart("throughput", "server throughput", "tokens per second", r, []namedSeries{
		{"generation tokens/s", rate(func(x *snapshot.VLLM) *float64 { return x.TokensPerSecond })},
		{"prompt tokens/s", rate(func(x *snapshot.VLLM) *float64 { return x.PromptTokensPerSecond })}}, "server", "vllm")
	sched := timeChart("scheduler", "server scheduler", "requests", r, []namedSeries{
		{"queue (waiting)", v(func(x *snapshot.VLLM) *float64 { return x.RequestQueueSize })},
		{"batch (running)", v(func(x *snapshot.VLLM) *float64 { return x.ActiveBatchSize })}}, "server", "vllm")
	host := timeChart("host_kv", "host CPU and KV cache", "usage (%)", r, []namedSeries{
		{"host CPU", rateSeries(s, snapshot.SystemRateIntervalsS(s), r.IntervalS/2,
			func(x *snapshot.Snapshot) *float64 { return x.SystemMetrics.CPUPercent })},
		{"KV cache", v(func(x *snapshot.VLLM) *float64 { return x.KVCacheUsagePercent })}}, "host or KV-cache", "system")
	host.plot.Y.Max = 100
	return []*chart{gpuChart(r), tradeoffChart(r), ttftChart(r), e2eChart(r), thr, sched, host}
}

// PlotPNG draws the run's pictures as one PNG, two per row: GPU utilization over time (one line per GPU,
// 0–100 %), throughput versus latency (per interval: the server's generation tokens/s against the client's
// mean E2E latency), TTFT and E2E latency over time on their own axes (the client's p50 and p99 per interval
// as lines, the server's p50 and p99 as the bucket ranges they are known to lie in), the server's throughput,
// its queue and batch, and host CPU and KV-cache usage (%). Rate points over less than half of r.IntervalS
// (the stopping snapshot) are left out. A chart with nothing to draw is not drawn: a line under the others
// gives its title and says why.
func PlotPNG(r Run) ([]byte, error) {
	return gridPNG(runCharts(r), 2)
}

// SVG is one picture as an inline SVG element.
type SVG struct {
	// Name is a short id ("gpu_utilization", "ttft"); Title the picture's title.
	Name, Title string
	// Markup is the <svg> element, without XML prolog or namespace attributes, for inline use in HTML.
	Markup string
}

// PlotSVGs draws the pictures PlotPNG draws, each as its own SVG.
func PlotSVGs(r Run) ([]SVG, error) {
	return chartSVGs(runCharts(r))
}

func chartSVGs(cs []*chart) ([]SVG, error) {
	out := make([]SVG, 0, len(cs))
	for _, c := range cs {
		b, err := c.inlineSVG()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		out = append(out, SVG{Name: c.name, Title: c.plot.Title.Text, Markup: string(b)})
	}
	return out, nil
}

// CDFSeries is one configuration's latencies for a comparison's CDF pictures.
type CDFSeries struct {
	// ID names the configuration.
	ID string
	// TTFTMS and E2EMS are the TTFT and E2E latency of each successful request, ms, in any order.
	TTFTMS, E2EMS []float64
}

// cdfChart draws the empirical CDF of one latency per configuration: the fraction of requests at or below x
// ms, a step at each request.
func cdfChart(name, title string, ss []CDFSeries, get func(CDFSeries) []float64) *chart {
	c := newChart(name, title, "latency (ms)", "fraction of requests ≤ x")
	c.plot.X.Tick.Marker = niceTicks{n: 6}
	largest := 0.0
	drawn := 0
	var empty []string
	for i, s := range ss {
		vs := append([]float64(nil), get(s)...)
		if len(vs) == 0 {
			empty = append(empty, s.ID)
			continue
		}
		sort.Float64s(vs)
		xy := make(plotter.XYs, 0, 2*len(vs)+1)
		xy = append(xy, plotter.XY{X: vs[0], Y: 0})
		for j, x := range vs {
			xy = append(xy, plotter.XY{X: x, Y: float64(j+1) / float64(len(vs))})
		}
		largest = max(largest, vs[len(vs)-1])
		l, err := plotter.NewLine(thin(xy))
		if err != nil {
			continue
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Width = colour(i), vg.Points(1.5)
		c.add(fmt.Sprintf("%s (n=%d)", s.ID, len(vs)), l, l)
		drawn++
	}
	c.plot.X.Min, c.plot.X.Max = 0, max(largest*1.05, 1)
	c.plot.Y.Min, c.plot.Y.Max = 0, 1
	if len(empty) > 0 {
		c.note("no successful request in %s", strings.Join(empty, ", "))
	}
	if drawn == 0 && len(empty) == 0 {
		c.note("no configuration to draw")
	}
	return c
}

// comparisonCharts are a comparison's pictures: the TTFT and E2E latency CDFs of every configuration.
func comparisonCharts(ss []CDFSeries) []*chart {
	return []*chart{
		cdfChart("ttft_cdf", "TTFT CDF per configuration", ss, func(s CDFSeries) []float64 { return s.TTFTMS }),
		cdfChart("e2e_cdf", "E2E latency CDF per configuration", ss, func(s CDFSeries) []float64 { return s.E2EMS }),
	}
}

// ComparisonSVGs draws a comparison's pictures, each as its own SVG: the empirical CDF of TTFT and of E2E
// latency (ms) of each configuration's successful requests.
func ComparisonSVGs(ss []CDFSeries) ([]SVG, error) { return chartSVGs(comparisonCharts(ss)) }
