// Package serverstats is vmtest's one road for a vLLM server's metrics: the catalogue of the metrics read
// (every name across vLLM versions, kind, unit, scale: Catalogue, Candidates), the parsed scrape (Parse,
// Scrape) and one tracker of every series over a test (Window) with two views of it:
//
//   - per interval, strict (Window.FillInterval fills a snapshot.VLLM: rates, totals, gauges, latency
//     quantiles of the last step): a reset, a gap or a restart inside the interval makes the figure unknown;
//   - over the whole window (Window.Summary): Prometheus increase() semantics, resets survived, a series
//     that appears mid-run counted from zero; histogram quantiles computed as Prometheus's
//     histogram_quantile does (DESIGN.md, Definitions, "Server histograms"); gauges averaged over the window,
//     per `engine` and over engines; and a cross-check of the server's counts against the client's (CrossCheck).
//
// The vLLM sampler (samplers.VLLM) fetches the body and calls Parse; when the collector keeps the reading it
// calls Add and FillInterval. The summary takes Window.Summary().
package serverstats

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vmtest/vmtest/snapshot"
)

// Source is the snapshot.Event Source of the events Add returns: the vLLM sampler's name.
const Source = "vllm"

// UnlabelledReason is the key of Figures.RequestSuccessByReason for request_success_total series that carry
// neither a `finished_reason` nor a `finish_reason` label.
const UnlabelledReason = "unlabelled"

// maxResetEvents is the largest number of per-series reset events one Add returns; the rest are counted in one
// more event.
const maxResetEvents = 8

// Window is the one tracker of a server's series over a test: it accumulates the increases of every series
// from successive successful scrapes. Create it with NewWindow, call Add after each scrape in order, then
// FillInterval (the last step, strict) or Summary (the whole window) at any time. A Window is not safe for
// concurrent use: its owner (the vLLM sampler) guards it with its own lock.
//
// Increases are taken per series (metric name and full label set, `engine` included) between consecutive
// scrapes that have it, and added up, as Prometheus's increase() does, for every vllm:* counter family and the
// four latency histograms of Figures, with these rules:
//
//   - Reset: a counter that goes down, or a histogram whose _count or any bucket goes down, restarted from 0:
//     the increase for that step is its new value, never negative (Prometheus's counter-reset rule). An Event
//     names the series and the values seen. A histogram's _sum that goes down while its counts do not is not a
//     reset (float rounding: a multiprocess server adds its processes' sums in varying order); its increase
//     for that step is 0.
//   - Restart: when process_start_time_seconds changes between two scrapes the server restarted; every series
//     counts from 0 for that step, and one Event says so.
//   - Bucket set: a histogram series whose bucket bounds change between two scrapes is treated as reset (its
//     increase for that step is its new cumulative counts, under the new bounds), with an Event.
//   - New series: a series that appears after the first scrape counts from 0 (its first value is all
//     increase). vLLM creates a labelled series on first use, at 0 (V0: a request_success_total
//     finished_reason seen for the first time, a histogram before its first observation; a data-parallel
//     engine that starts late), so its first value happened inside the window; Prometheus's increase() would
//     miss it by counting from the first sample. The one exception: a series of the name a field switched to
//     (the previous scrape read that field from another candidate name) counts from its first value, since its
//     history predates the window. After a restart every series counts from 0.
//   - A series that vanishes keeps its last value; if it comes back, its increase is taken from that value (or
//     from 0 if it came back lower). If the server restarted while it was away (it was missing from the
//     scrape that showed the restart), it counts from 0: its value is the new process's (a counter created on
//     first use, as llm-d-inference-sim does after a restart and vLLM V0 does for finished_reason series).
//   - A counter field's figure (Figures.GenerationTokens, ...) takes each step from the one name the field is
//     read from in that step's scrape: a counter exposed under two candidate names at once counts once.
//     CounterIncreases has every name's own increase.
//
// Series are filtered by the scrape's Model (model_name label) as the sampler does. Results never depend on the
// order of series in a scrape: sums across series are taken in the order of their sorted label sets.
type Window struct {
	// MinRateInterval is the shortest step (the time between its two scrapes) whose rates FillInterval gives;
	// a shorter one's are nil. The collector sets half its Interval, so the run's last, short step (a final
	// scrape a few ms after the last tick: 7.6 tokens in 7 ms read 1083 tok/s) has none, while a tick a few
	// ms late keeps its rates. 0: every step's.
	MinRateInterval time.Duration

	scrapes       int       // successful scrapes added
	first, prevAt time.Time // first scrape's time; the scrape before the last
	last          time.Time // last scrape's time
	start         float64   // process_start_time_seconds of the last scrape that had it; NaN when none
	restarts      int
	restartTimes  []time.Time // when the first MaxRestartTimes restarts were seen
	resets        int

	restartAt  int               // the scrape (w.scrapes) at which the last restart was seen
	lastNames  map[string]string // Scrape.NamesUsed of the last scrape
	notExposed []string          // catalogue fields the last scrape did not expose, sorted
	missing    []string          // scratch for notExposed
	warnedMany bool              // the several-models event was given

	names     map[string]string // field → name in the last scrape that exposed it
	prevNames map[string]string // field → name in the scrape before the last one added (no entry: not exposed)
	curNames  map[string]string // field → name in the last scrape added (during Add: the one being added)

	counterNames [gQueue]string // curNames of the counter fields (cGen...cPreempt), "" when not exposed

	usedNames map[string][]string // field → every name it was read from in the window, in order of first use

	counters map[string]*counterSeries
	cByName  map[string][]*counterSeries // per vllm:* counter name, sorted by id
	hists    map[string]*histSeries
	hList    [nHist][]*histSeries // per histogram field, sorted by id

	gAll [nScalar]gaugeAcc             // per gauge field, over all series
	gEng [nScalar]map[string]*gaugeAcc // per gauge field, per engine

	// Scratch, reused between calls.
	engs    []string
	buf     []byte
	bounds  []float64
	cum     []float64
	pairs   []engineValue
	vals    []float64
	buckets []Bucket
	parts   []histSeg
	events  eventSink
	lim     limits
}

type counterSeries struct {
	id        string
	engine    string
	reason    string
	prev      float64 // the value in the last scrape that had the series
	total     float64 // increase over the window
	step      float64 // increase over the last step; valid when stepAt == Window.scrapes
	stepAt    int
	stepReset bool    // the last step was counted from 0 (the value went down)
	stepGap   bool    // the last step spans scrapes that lacked the series
	seenAt    int     // the last scrape (Window.scrapes) that had the series
	has       bool    // at least one step contributed to total
	read      float64 // the part of total from steps whose scrape read a counter field from this series' name
	readHas   bool    // at least one step contributed to read
}

type histSeries struct {
	id        string
	engine    string
	bounds    []float64 // current bounds, sorted, +Inf last
	prev      []float64 // cumulative counts at the last scrape that had the series
	prevCount float64
	prevSum   float64
	segs      []histSeg // increases over the window; the last segment has the current bounds
	count     float64   // increase of _count over the window
	sum       float64   // increase of _sum over the window
	sumErr    float64   // bound on the float rounding in sum, s (sumStepErr per step, plus adding the steps up)
	stepIncs  []float64 // increases over the last step (current bounds); valid when stepAt == Window.scrapes
	stepCount float64
	stepSum   float64
	stepErr   float64 // bound on the float rounding in stepSum, s (sumStepErr)
	stepAt    int
	stepReset bool // the last step was counted from 0 (reset, bucket-set change or restart)
	stepGap   bool // the last step spans scrapes that lacked the series: it holds more than one interval
	seenAt    int  // the last scrape (Window.scrapes) that had the series
	has       bool
}

type histSeg struct {
	bounds []float64
	incs   []float64
}

type gaugeAcc struct {
	n      int
	sum    float64 // sum over scrapes of the per-scrape aggregate
	max    float64
	last   float64 // per-scrape aggregate of the last scrape that had it
	lastAt int
}

type engineValue struct {
	engine string
	v      float64
}

// NewWindow returns an empty window.
func NewWindow() *Window {
	return &Window{
		start:     math.NaN(),
		names:     map[string]string{},
		prevNames: map[string]string{},
		curNames:  map[string]string{},
		usedNames: map[string][]string{},
		counters:  map[string]*counterSeries{},
		cByName:   map[string][]*counterSeries{},
		hists:     map[string]*histSeries{},
	}
}

// Add takes in one successful scrape, which must come after every scrape added before. The first scrape is the
// window's baseline; each later one adds its increases since the previous one. A Scrape without families is
// ignored.
//
// It returns the events a reader of the summary must know about (Source "vllm", Time s.At): a server restart
// (process_start_time_seconds changed); each series reset (value went down, bucket set changed) and each
// series of a counter field gone since the previous scrape, naming the series and the values seen; the
// catalogue fields not exposed, whenever that set changes; a field read from another name than before; and,
// once, several model_name values summed over. Nil when there is nothing to report.
func (w *Window) Add(s Scrape) []snapshot.Event {
	if s.Families == nil {
		return nil
	}
	w.scrapes++
	if w.scrapes == 1 {
		w.first = s.At
	} else {
		w.prevAt = w.last
	}
	w.last = s.At
	w.events = eventSink{at: s.At}
	w.prevNames, w.curNames = w.curNames, w.prevNames

	restarted := false
	if ms := s.Families[processStart].GetMetric(); len(ms) > 0 {
		if x, ok := scalarValue(ms[0]); ok {
			if !math.IsNaN(w.start) && x != w.start && w.scrapes > 1 {
				restarted = true
				w.restarts++
				if len(w.restartTimes) < MaxRestartTimes {
					w.restartTimes = append(w.restartTimes, s.At)
				}
				w.restartAt = w.scrapes
				w.events.add("server restarted: " + processStart + " changed from " + fmtF(w.start) + " to " + fmtF(x) +
					"; this interval's rates and quantiles are null, and the window counts every increase in it from 0")
			}
			w.start = x
		}
	}

	clear(w.curNames)
	for fi := range scalarFields {
		w.addScalar(fi, s)
	}
	for ci := range w.counterNames {
		w.counterNames[ci] = w.curNames[scalarFields[ci].Field]
	}
	for name, fam := range s.Families {
		w.addCounterFamily(name, fam, s.Model, restarted)
	}
	w.goneCounters()
	for hi := range histFields {
		w.addHist(hi, s, restarted)
	}
	w.exposureEvents(s)
	w.limitEvents()
	w.lastNames = s.NamesUsed
	return w.capEvents(w.events.done())
}

// addScalar records the metric name a counter or gauge field is read from in this scrape and folds a gauge's
// values into its accumulators. Counters are read by addCounterFamily.
func (w *Window) addScalar(fi int, s Scrape) {
	f := &scalarFields[fi]
	name := s.NamesUsed[f.Field]
	if name == "" {
		return
	}
	w.useName(f.Field, name)
	if f.Kind == KindCounter {
		return
	}
	w.pairs = w.pairs[:0]
	for _, m := range s.Families[name].GetMetric() {
		if !modelMatches(m, s.Model) {
			continue
		}
		x, ok := w.usable(name, m, "gauge", "negative gauge value (a count or a usage cannot be)")
		if !ok {
			continue
		}
		w.pairs = append(w.pairs, engineValue{w.engineOf(label(m, "engine")), x * f.Scale})
	}
	w.addGauge(fi, f.Kind)
}

// useName records that field is read from name in the scrape being added.
func (w *Window) useName(field, name string) {
	w.curNames[field] = name
	w.names[field] = name
	if !slices.Contains(w.usedNames[field], name) {
		w.usedNames[field] = append(w.usedNames[field], name)
	}
}

// newSeriesFrom0 says whether a series of metric name first seen in the scrape being added (not the first)
// counts from 0: yes, unless name is read for a field that the previous scrape read from another candidate
// name (the field switched names: the new name's history predates the window).
func (w *Window) newSeriesFrom0(name string, restarted bool) bool {
	if w.scrapes == 1 {
		return false
	}
	if restarted {
		return true
	}
	for field, cur := range w.curNames {
		if cur == name {
			if prev := w.prevNames[field]; prev != "" && prev != name {
				return false
			}
		}
	}
	return true
}

// isCounterFieldName says whether name is the name a counter field is read from in the scrape being added.
func (w *Window) isCounterFieldName(name string) bool {
	return slices.Contains(w.counterNames[:], name)
}

// addCounterFamily takes the increases of every series of one family if it is a vllm:* counter (or an
// untyped or gauge-typed family a counter field is read from).
func (w *Window) addCounterFamily(name string, fam *dto.MetricFamily, model string, restarted bool) {
	if !strings.HasPrefix(name, "vllm:") {
		return
	}
	name = w.label(name)
	read := w.isCounterFieldName(name) // a counter field is read from this family in this scrape
	switch fam.GetType() {
	case dto.MetricType_COUNTER:
	case dto.MetricType_UNTYPED, dto.MetricType_GAUGE: // a counter field exposed without its type
		if !read {
			return
		}
	default:
		return
	}
	from0 := -1 // computed on the first new series
	for _, m := range fam.GetMetric() {
		if !modelMatches(m, model) {
			continue
		}
		x, ok := w.usable(name, m, "counter", "negative counter value")
		if !ok {
			continue
		}
		id := w.seriesID(name, m)
		cs := w.counters[string(id)]
		if cs == nil && !w.room() {
			continue
		}
		// Back after missing the scrape that showed a restart: its value is the new process's.
		afterRestart := cs != nil && cs.seenAt < w.restartAt
		if cs == nil {
			cs = &counterSeries{id: string(id), prev: x}
			cs.engine = w.engineOf(label(m, "engine"))
			if r, ok := label(m, "finished_reason"); ok {
				cs.reason = w.label(r)
			} else if r, ok := label(m, "finish_reason"); ok {
				cs.reason = w.label(r)
			} else {
				cs.reason = UnlabelledReason
			}
			w.counters[cs.id] = cs
			w.cByName[name] = insertSorted(w.cByName[name], cs, func(c *counterSeries) string { return c.id })
			if from0 < 0 {
				from0 = 0
				if w.newSeriesFrom0(name, restarted) {
					from0 = 1
				}
			}
			if from0 == 0 {
				cs.seenAt = w.scrapes
				continue // baseline
			}
			cs.prev = 0
		}
		inc := x - cs.prev
		gap := cs.seenAt < w.scrapes-1 && cs.seenAt > 0
		cs.stepReset = false
		switch {
		case restarted || afterRestart:
			inc = x
		case x < cs.prev:
			inc = x
			cs.stepReset = true
			w.resets++
			w.events.reset(cs.id + " went down from " + fmtF(cs.prev) + " to " + fmtF(x) +
				" with no process restart seen: counter reset; its rate for this interval is null, and in the window its increase for this interval is counted from 0")
		}
		cs.total += inc
		cs.step = inc
		cs.stepAt, cs.seenAt = w.scrapes, w.scrapes
		cs.stepGap = gap
		cs.has = true
		if read {
			cs.read += inc
			cs.readHas = true
		}
		cs.prev = x
	}
}

// addGauge folds the (engine, value) pairs of one gauge field in w.pairs into its accumulators.
func (w *Window) addGauge(fi int, kind Kind) {
	if len(w.pairs) == 0 {
		return
	}
	slices.SortFunc(w.pairs, func(a, b engineValue) int {
		if c := strings.Compare(a.engine, b.engine); c != 0 {
			return c
		}
		return cmp.Compare(a.v, b.v)
	})
	// Over all series: values sorted by value, so that the sum does not depend on series order.
	all := w.vals[:0]
	for _, p := range w.pairs {
		all = append(all, p.v)
	}
	w.vals = all
	sort.Float64s(all)
	agg, mx := aggregate(all, kind)
	w.gAll[fi].add(agg, mx, w.scrapes)
	// Per engine.
	for i := 0; i < len(w.pairs); {
		j := i
		for j < len(w.pairs) && w.pairs[j].engine == w.pairs[i].engine {
			j++
		}
		if e := w.pairs[i].engine; e != "" {
			vals := all[:0]
			for _, p := range w.pairs[i:j] {
				vals = append(vals, p.v)
			}
			agg, mx := aggregate(vals, kind)
			if w.gEng[fi] == nil {
				w.gEng[fi] = map[string]*gaugeAcc{}
			}
			a := w.gEng[fi][e]
			if a == nil {
				a = &gaugeAcc{}
				w.gEng[fi][e] = a
			}
			a.add(agg, mx, w.scrapes)
		}
		i = j
	}
}

// aggregate returns a gauge's per-scrape figure over series (sum or mean) and the largest figure of a single
// series for KindGaugeMean (of the sum for KindGaugeSum). vals must be sorted.
func aggregate(vals []float64, kind Kind) (agg, mx float64) {
	var s float64
	for _, v := range vals {
		s += v
	}
	if kind == KindGaugeMean {
		return s / float64(len(vals)), vals[len(vals)-1]
	}
	return s, s
}

func (a *gaugeAcc) add(agg, mx float64, scrape int) {
	if a.n == 0 || mx > a.max {
		a.max = mx
	}
	a.n++
	a.sum += agg
	a.last, a.lastAt = agg, scrape
}

// addHist reads one histogram field from the scrape.
func (w *Window) addHist(hi int, s Scrape, restarted bool) {
	field := histFields[hi]
	name := s.NamesUsed[field]
	if name == "" {
		return
	}
	w.useName(field, name)
	countFrom0 := -1 // computed on the first new series

	for m := range s.histSeries(name) {
		count, sum, bad, detail := w.readHist(m.GetHistogram())
		if bad != "" {
			w.refuse(name, string(w.seriesID(name, m)), bad, detail)
			continue
		}
		id := w.seriesID(name, m)
		hs := w.hists[string(id)]
		if hs == nil && !w.room() {
			continue
		}
		gap := hs != nil && hs.seenAt < w.scrapes-1 // back after scrapes without it
		// Back after missing the scrape that showed a restart: its counts are the new process's.
		afterRestart := hs != nil && hs.seenAt < w.restartAt
		if hs == nil {
			hs = &histSeries{id: string(id)}
			hs.engine = w.engineOf(label(m, "engine"))
			w.hists[hs.id] = hs
			w.hList[hi] = insertSorted(w.hList[hi], hs, func(h *histSeries) string { return h.id })
			hs.setBounds(w.bounds)
			if countFrom0 < 0 {
				countFrom0 = 0
				if w.newSeriesFrom0(name, restarted) {
					countFrom0 = 1
				}
			}
			if countFrom0 == 0 {
				hs.remember(w.cum, count, sum)
				hs.seenAt = w.scrapes
				continue // baseline
			}
			clear(hs.prev)
			hs.prevCount, hs.prevSum = 0, 0
		}
		fromZero := restarted || afterRestart
		switch {
		case !slices.Equal(hs.bounds, w.bounds):
			fromZero = true
			if !restarted && !afterRestart {
				w.resets++
				w.events.reset(hs.id + ": bucket bounds changed (" + strconv.Itoa(len(hs.bounds)) + " → " +
					strconv.Itoa(len(w.bounds)) + " buckets): treated as a reset, its increase for this interval is counted from 0")
			}
			hs.setBounds(w.bounds)
		case restarted || afterRestart:
		case count < hs.prevCount || anyBelow(w.cum, hs.prev):
			fromZero = true
			w.resets++
			w.events.reset(hs.id + " went down (_count " + fmtF(hs.prevCount) + " → " + fmtF(count) + ", _sum " +
				fmtF(hs.prevSum) + " → " + fmtF(sum) + ") with no process restart seen: histogram reset, its increase for this interval is counted from 0")
		}
		seg := &hs.segs[len(hs.segs)-1]
		for i, c := range w.cum {
			inc := c
			if !fromZero {
				inc -= hs.prev[i]
			}
			seg.incs[i] += inc
			hs.stepIncs[i] = inc
		}
		hs.stepCount, hs.stepSum = count, sum
		top := math.Abs(sum) // the largest cumulative _sum of the step
		if !fromZero {
			hs.stepCount -= hs.prevCount
			// A _sum can come back a rounding lower with no new observation (a multiprocess server adds its
			// processes' sums in varying order); that is no reset and no negative increase.
			hs.stepSum = max(0, hs.stepSum-hs.prevSum)
			top = max(top, math.Abs(hs.prevSum))
		}
		hs.stepErr = sumStepErr(hs.stepCount, top)
		hs.count += hs.stepCount
		hs.sum += hs.stepSum
		// Adding the step into the window's total rounds by ≤ ½ulp of the (non-negative, growing) total.
		hs.sumErr += hs.stepErr + ulp(hs.sum)
		hs.stepAt, hs.seenAt = w.scrapes, w.scrapes
		hs.stepReset, hs.stepGap = fromZero, gap
		hs.has = true
		hs.remember(w.cum, count, sum)
	}
}

// setBounds starts a new segment with bounds (copied).
func (h *histSeries) setBounds(bounds []float64) {
	h.bounds = slices.Clone(bounds)
	h.prev = make([]float64, len(bounds))
	h.stepIncs = make([]float64, len(bounds))
	h.segs = append(h.segs, histSeg{bounds: h.bounds, incs: make([]float64, len(bounds))})
}

func (h *histSeries) remember(cum []float64, count, sum float64) {
	copy(h.prev, cum)
	h.prevCount, h.prevSum = count, sum
}

func anyBelow(cur, prev []float64) bool {
	for i := range cur {
		if cur[i] < prev[i] {
			return true
		}
	}
	return false
}

// readHist reads a histogram's buckets into w.bounds and w.cum (sorted by bound, +Inf last: an exposition
// without an explicit +Inf bucket, as client_golang's protobuf, gets one with the _count, as Prometheus's scrape
// does) and returns its _count and _sum. bad says why a histogram is invalid and skipped for this scrape (detail
// gives the values): a count or a sum that is negative or not finite, a bound that is NaN,
// negative or -Inf (the histograms read are of latencies, ≥ 0).
func (w *Window) readHist(h *dto.Histogram) (count, sum float64, bad, detail string) {
	count = float64(h.GetSampleCount())
	if h.SampleCountFloat != nil {
		count = h.GetSampleCountFloat()
	}
	sum = h.GetSampleSum()
	if !validCount(count) {
		return 0, 0, "histogram _count negative or not finite", fmtF(count)
	}
	if !validCount(sum) {
		return 0, 0, "histogram _sum negative or not finite", fmtF(sum)
	}
	w.bounds, w.cum = w.bounds[:0], w.cum[:0]
	sorted := true
	for _, b := range h.GetBucket() {
		ub := b.GetUpperBound()
		c := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil {
			c = b.GetCumulativeCountFloat()
		}
		switch {
		case math.IsNaN(ub) || ub < 0:
			return 0, 0, "bucket bound NaN or negative", "le=" + fmtF(ub)
		case !validCount(c):
			return 0, 0, "bucket count negative or not finite", "le=" + fmtF(ub) + ": " + fmtF(c)
		}
		if n := len(w.bounds); n > 0 && ub < w.bounds[n-1] {
			sorted = false
		}
		w.bounds = append(w.bounds, ub)
		w.cum = append(w.cum, c)
	}
	if !sorted {
		idx := make([]int, len(w.bounds))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return w.bounds[idx[a]] < w.bounds[idx[b]] })
		nb, nc := make([]float64, len(idx)), make([]float64, len(idx))
		for i, j := range idx {
			nb[i], nc[i] = w.bounds[j], w.cum[j]
		}
		w.bounds, w.cum = nb, nc
	}
	if n := len(w.bounds); n == 0 || !math.IsInf(w.bounds[n-1], +1) {
		w.bounds = append(w.bounds, math.Inf(+1))
		w.cum = append(w.cum, count)
	}
	return count, sum, "", ""
}

func validCount(c float64) bool { return c >= 0 && !math.IsInf(c, 0) }

// seriesID writes the series' identity, name{label="value",...} with labels sorted by name, into w.buf.
func (w *Window) seriesID(name string, m *dto.Metric) []byte {
	b := append(w.buf[:0], w.label(name)...)
	b = append(b, '{')
	ls := m.GetLabel()
	sorted := slices.IsSortedFunc(ls, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	if !sorted {
		ls = slices.Clone(ls)
		slices.SortFunc(ls, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	}
	for i, lp := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, lp.GetName()...)
		b = append(b, '=')
		b = appendQuoted(b, w.label(lp.GetValue()))
	}
	b = append(b, '}')
	if len(b) > MaxSeriesID {
		b = append(b[:0], capID(string(b))...)
	}
	w.buf = b
	return b
}

// appendQuoted is strconv.AppendQuote, without its rune by rune walk for printable ASCII without '"' and '\\'.
func appendQuoted(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, v)
		}
	}
	return append(append(append(b, '"'), v...), '"')
}

func insertSorted[T any](list []T, x T, key func(T) string) []T {
	i := sort.Search(len(list), func(i int) bool { return key(list[i]) >= key(x) })
	return slices.Insert(list, i, x)
}

// fmtF formats x without an exponent in the usual range (a Unix time reads 1774011384.6, not 1.7740113846e+09).
func fmtF(x float64) string {
	if a := math.Abs(x); a == 0 || (a >= 1e-4 && a < 1e15) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// eventSink collects one Add's events: restarts first, then the per-series resets sorted (so that the events
// do not depend on the order of families and series in the scrape) and capped at maxResetEvents.
type eventSink struct {
	at     time.Time
	list   []snapshot.Event
	resets []string
}

func (e *eventSink) add(msg string) {
	e.list = append(e.list, snapshot.Event{Time: e.at, Source: Source, Message: capLabelText(msg, MaxEventText)})
}

func (e *eventSink) reset(msg string) { e.resets = append(e.resets, msg) }

func (e *eventSink) done() []snapshot.Event {
	slices.Sort(e.resets)
	for i, msg := range e.resets {
		if i == maxResetEvents {
			e.add(strconv.Itoa(len(e.resets)-i) + " more series reset in this scrape (not listed); their increases for this interval are counted from 0")
			break
		}
		e.add(msg)
	}
	return e.list
}

// usable returns m's value when it is a finite number ≥ 0 (every gauge and counter read is a count, a usage
// or a total); otherwise false, and a value that is there but invalid is refused with its reason (kind:
// "gauge" or "counter"; negative: the reason for a negative value).
func (w *Window) usable(name string, m *dto.Metric, kind, negative string) (float64, bool) {
	x, ok := rawScalar(m)
	switch {
	case !ok:
		return 0, false
	case math.IsNaN(x) || math.IsInf(x, 0):
		w.refuse(name, string(w.seriesID(name, m)), "non-finite "+kind+" value", fmtF(x))
		return 0, false
	case x < 0:
		w.refuse(name, string(w.seriesID(name, m)), negative, fmtF(x))
		return 0, false
	}
	return x, true
}
