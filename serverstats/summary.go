package serverstats

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vmtest/vmtest/snapshot"
)

// notIncreased is the NotExposed text of a counter or histogram field that was exposed, but whose series were
// all baselines.
const notIncreased = "exposed, but no increase: its series were only in the first scrape, or under a name just switched to"

// quantileLevels are the quantiles every Histogram carries (P50MS, P90MS, P95MS, P99MS).
var quantileLevels = [...]float64{0.50, 0.90, 0.95, 0.99}

// Summary returns the statistics over the whole window: from the first scrape added to the last. A counter or
// histogram figure is nil until one of its series has an increase: a series has one once a second scrape has
// it, or as soon as it appears after the first scrape (counted from 0, see Window); only a series first seen
// in the window's first scrape, or under the name a field switched to, is a baseline without one. Gauges are
// over every scrape. The result is a fresh value; the Window can go on taking scrapes.
//
// It is the window view of the tracker: Prometheus increase() semantics per series (see Window: resets and
// restarts survived, a series appearing mid-run counted from 0). The per-interval view is FillInterval.
func (w *Window) Summary() Stats {
	st := Stats{NamesUsed: maps.Clone(w.names), Restarts: w.restarts, RestartTimes: slices.Clone(w.restartTimes),
		CounterResets: w.resets, Limits: w.lim.notes()}
	if w.scrapes == 0 {
		st.NotExposed = map[string]string{}
		for _, f := range allFields() {
			st.NotExposed[f] = "no successful scrape"
		}
		return st
	}
	st.Scrapes = w.scrapes
	span := &[2]time.Time{w.first, w.last}
	st.Start, st.End = &span[0], &span[1]
	engs := w.engines()
	fb := floatBlock{size: 1 + 4*(1+len(engs))}
	if w.scrapes > 1 {
		st.DurationS = fb.f(w.last.Sub(w.first).Seconds())
	}

	st.Figures = w.figures("", false, &fb)
	st.CounterIncreases = w.counterIncreases()
	st.PrefixCacheHitRate = PrefixCacheHitRate(st.CounterIncreases)
	for _, e := range engs {
		if st.PerEngine == nil {
			st.PerEngine = map[string]Figures{}
		}
		st.PerEngine[e] = w.figures(e, true, &fb)
	}

	// Why each nil field is nil.
	notExposed := func(field string, exposedOnce bool) {
		if st.NotExposed == nil {
			st.NotExposed = map[string]string{}
		}
		switch {
		case !exposedOnce:
			st.NotExposed[field] = "not exposed (looked for " + strings.Join(Candidates(field), ", ") + ")"
		default:
			st.NotExposed[field] = notIncreased
		}
	}
	hists := [nHist]*Histogram{st.TTFT, st.E2ELatency, st.QueueTime, st.ITL}
	for hi, h := range hists {
		if h == nil {
			notExposed(histFields[hi], w.names[histFields[hi]] != "")
		}
	}
	counters := [...]*float64{st.GenerationTokens, st.PromptTokens, st.RequestSuccess, st.Preemptions}
	for ci, c := range counters {
		if c == nil {
			notExposed(scalarFields[ci].Field, w.names[scalarFields[ci].Field] != "")
		}
	}
	gauges := [...]*Gauge{st.RequestQueueSize, st.ActiveBatchSize, st.KVCacheUsagePercent}
	for i, g := range gauges {
		if g == nil {
			f := scalarFields[gQueue+i].Field
			if w.names[f] == "" {
				notExposed(f, false)
			} else {
				if st.NotExposed == nil {
					st.NotExposed = map[string]string{}
				}
				st.NotExposed[f] = "not exposed in the last scrape"
			}
		}
	}
	return st
}

// figures computes the figures over every series (filter false) or over one engine's.
func (w *Window) figures(engine string, filter bool, fb *floatBlock) Figures {
	var f Figures
	f.TTFT = w.histogram(hTTFT, false, engine, filter)
	f.E2ELatency = w.histogram(hE2E, false, engine, filter)
	f.QueueTime = w.histogram(hQueue, false, engine, filter)
	f.ITL = w.histogram(hITL, false, engine, filter)
	f.GenerationTokens, _ = w.counter(cGen, engine, filter, false, fb)
	f.PromptTokens, _ = w.counter(cPrompt, engine, filter, false, fb)
	f.RequestSuccess, f.RequestSuccessByReason = w.counter(cSuccess, engine, filter, true, fb)
	f.Preemptions, _ = w.counter(cPreempt, engine, filter, false, fb)
	f.RequestQueueSize = w.gauge(gQueue, engine, filter)
	f.ActiveBatchSize = w.gauge(gRunning, engine, filter)
	f.KVCacheUsagePercent = w.gauge(gKV, engine, filter)
	return f
}

// counter sums a counter field's increases over its series, in id order: of each name, only the steps whose
// scrape read the field from that name (two names exposed at once count once).
func (w *Window) counter(ci int, engine string, filter, byReason bool, fb *floatBlock) (*float64, map[string]float64) {
	var (
		total   float64
		any     bool
		reasons map[string]float64
	)
	for _, cs := range w.counterSeriesOf(scalarFields[ci].Field) {
		if filter && cs.engine != engine {
			continue
		}
		if !cs.readHas {
			continue
		}
		inc := cs.read
		any = true
		total += inc
		if byReason {
			if reasons == nil {
				reasons = map[string]float64{}
			}
			reasons[cs.reason] += inc
		}
	}
	if !any {
		return nil, nil
	}
	return fb.f(total), reasons
}

// counterSeriesOf returns the series of every name a counter field was read from in the window; each series'
// read holds only the steps in which the field was read from its name.
func (w *Window) counterSeriesOf(field string) []*counterSeries {
	names := w.usedNames[field]
	if len(names) == 1 {
		return w.cByName[names[0]]
	}
	var out []*counterSeries
	for _, n := range names {
		out = append(out, w.cByName[n]...)
	}
	return out
}

// counterIncreases returns the increase of every vllm:* counter over the window, summed over its series in id
// order; nil when none has one.
func (w *Window) counterIncreases() map[string]float64 {
	var out map[string]float64
	for name, list := range w.cByName {
		var total float64
		any := false
		for _, cs := range list {
			if cs.has {
				total += cs.total
				any = true
			}
		}
		if any {
			if out == nil {
				out = make(map[string]float64, len(w.cByName))
			}
			out[name] = total
		}
	}
	return out
}

// gauge returns a gauge field's figure over the window.
func (w *Window) gauge(gi int, engine string, filter bool) *Gauge {
	a := &w.gAll[gi]
	if filter {
		a = w.gEng[gi][engine]
		if a == nil {
			return nil
		}
	}
	if a.n == 0 {
		return nil
	}
	blk := new(struct {
		g    Gauge
		vals [2]float64
	})
	fb := floatBlock{vals: blk.vals[:0]}
	blk.g = Gauge{Mean: fb.f(a.sum / float64(a.n)), Max: fb.f(a.max), Samples: a.n}
	return &blk.g
}

// histogram sums a histogram field's bucket increases per bound over its series (in id order) and computes
// its figures, converting seconds to ms.
func (w *Window) histogram(hi int, step bool, engine string, filter bool) *Histogram {
	var acc histAcc
	acc.parts = w.parts[:0]
	w.histParts(&acc, hi, step, engine, filter)
	w.parts = acc.parts
	var h *Histogram
	h, w.buckets = acc.histogram(w.names[histFields[hi]], w.buckets)
	return h
}

// histAcc accumulates the bucket increases of histogram series, from one window or several (Fleet).
type histAcc struct {
	parts      []histSeg
	count, sum float64
	sumErr     float64 // bound on the float rounding in sum, s
	nSeries    int
}

// histParts adds the increases of histogram field hi's series (over the last step, or the whole window) to acc.
func (w *Window) histParts(acc *histAcc, hi int, step bool, engine string, filter bool) {
	for _, hs := range w.hList[hi] {
		if filter && hs.engine != engine {
			continue
		}
		switch {
		case step && hs.stepAt == w.scrapes:
			acc.parts = append(acc.parts, histSeg{bounds: hs.bounds, incs: hs.stepIncs})
			acc.count += hs.stepCount
			acc.sum += hs.stepSum
			acc.sumErr += hs.stepErr
		case !step && hs.has:
			acc.parts = append(acc.parts, hs.segs...)
			acc.count += hs.count
			acc.sum += hs.sum
			acc.sumErr += hs.sumErr
		default:
			continue
		}
		acc.nSeries++
	}
}

// histogram computes the figures of the accumulated series (nil when there are none), ms; buf is scratch for
// the merged buckets, returned for reuse.
func (acc *histAcc) histogram(metric string, buf []Bucket) (*Histogram, []Bucket) {
	if acc.nSeries == 0 {
		return nil, buf
	}
	count, sum := acc.count, acc.sum
	// Adding the series up rounds by ≤ ½ulp of the (non-negative) total per addition.
	sumErr := acc.sumErr + float64(acc.nSeries)*ulp(sum)
	hb := new(struct {
		h    Histogram
		mean [1]float64
	})
	h, fb := &hb.h, floatBlock{vals: hb.mean[:0]}
	*h = Histogram{Metric: metric, Count: count, SumMS: sum * 1000}
	if count > 0 {
		h.MeanMS = fb.f(sum / count * 1000)
	}
	bk, note := mergeBuckets(buf, acc.parts)
	h.Note = note
	if bk == nil {
		return h, buf
	}
	norm, forced, ok := normalize(bk)
	h.MonotonicityForced = forced
	if !ok {
		return h, bk
	}
	qb := new(quantileBlock)
	fb = floatBlock{vals: qb.vals[:0]}
	dst := [...]**Quantile{&h.P50MS, &h.P90MS, &h.P95MS, &h.P99MS}
	for i, q := range quantileLevels {
		v, lower, ok := quantileOfNormalized(q, norm)
		if !ok {
			continue
		}
		ms := fb.f(v * 1000)
		if ms == nil {
			continue
		}
		qu := &qb.q[i]
		*qu = Quantile{ValueMS: ms}
		if lower {
			*qu = Quantile{LowerBoundMS: ms, IsLowerBound: true}
		}
		lo, up, most := quantileRange(q, norm, sum, sumErr, count, forced)
		qu.BucketLowerMS, qu.BucketUpperMS, qu.AtMostMS = fb.toMS(lo), fb.toMS(up), fb.toMS(most)
		if qu.ValueMS != nil && qu.AtMostMS != nil && *qu.ValueMS > *qu.AtMostMS {
			qu.InterpolatedMS, qu.ValueMS = qu.ValueMS, fb.f(*qu.AtMostMS)
		}
		*dst[i] = qu
	}
	return h, bk
}

// quantileBlock is a Histogram's quantiles and the values they point at, allocated at once.
type quantileBlock struct {
	q    [len(quantileLevels)]Quantile
	vals [5 * len(quantileLevels)]float64 // per quantile: its value, three bounds and InterpolatedMS
}

// floatBlock hands out pointers to the free elements of vals (never past its capacity, so that no pointer
// handed out moves), then to fresh floats: snapshot.F with fewer allocations. A nil vals is allocated with
// capacity size on first use.
type floatBlock struct {
	vals []float64
	size int
}

// f is snapshot.F(x) from the block: nil when x is NaN or ±Inf.
func (b *floatBlock) f(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	if b.vals == nil && b.size > 0 {
		b.vals = make([]float64, 0, b.size)
	}
	if len(b.vals) == cap(b.vals) {
		return snapshot.F(x)
	}
	b.vals = append(b.vals, x)
	return &b.vals[len(b.vals)-1]
}

// ok is f(x) when known, else nil.
func (b *floatBlock) ok(x float64, known bool) *float64 {
	if !known {
		return nil
	}
	return b.f(x)
}

// toMS converts a value in seconds to ms; nil stays nil, and a non-finite result is nil.
func (b *floatBlock) toMS(s *float64) *float64 {
	if s == nil {
		return nil
	}
	return b.f(*s * 1000)
}

// engines returns the `engine` label values seen in any series, sorted.
func (w *Window) engines() []string {
	out := w.engs[:0]
	add := func(e string) {
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	for _, l := range w.cByName {
		for _, cs := range l {
			add(cs.engine)
		}
	}
	for _, l := range w.hList {
		for _, hs := range l {
			add(hs.engine)
		}
	}
	for _, m := range w.gEng {
		for e := range m {
			add(e)
		}
	}
	slices.Sort(out)
	w.engs = out
	return out
}

func allFields() []string {
	out := make([]string, 0, nScalar+nHist)
	for _, f := range scalarFields {
		out = append(out, f.Field)
	}
	return append(out, histFields[:]...)
}

// mergeBuckets adds up the cumulative bucket increases of parts (series, or a series' segments between bucket
// layout changes) per upper bound, into buf (reused). A part without observations has 0 at every bound and is
// not asked. Where the other parts' bounds differ, each part's cumulative count is taken only at the bounds
// every part has (exact there), and note says so; nil buckets, with note saying why, when no finite bound is
// common. Nil buckets and no note when no part has an observation.
func mergeBuckets(buf []Bucket, parts []histSeg) ([]Bucket, string) {
	bk := buf[:0]
	var common []float64
	layouts, same := 0, true
	for _, p := range parts {
		if empty(p.incs) {
			continue
		}
		layouts++
		switch {
		case common == nil:
			common = p.bounds
		case !slices.Equal(common, p.bounds):
			same = false
			common = intersect(common, p.bounds)
		}
	}
	if layouts == 0 {
		return nil, "" // no observation: no quantile
	}
	if same {
		for _, p := range parts {
			if empty(p.incs) {
				continue
			}
			for i, ub := range p.bounds {
				bk = append(bk, Bucket{UpperBound: ub, Count: p.incs[i]})
			}
		}
		return bk, ""
	}
	if len(common) < 2 {
		return nil, fmt.Sprintf("bucket bounds differ across the %d series or restarts merged and have no finite bound in common: quantiles unknown", layouts)
	}
	for _, ub := range common {
		bk = append(bk, Bucket{UpperBound: ub})
	}
	for _, p := range parts {
		if empty(p.incs) {
			continue
		}
		j := 0
		for i, ub := range p.bounds {
			if j < len(common) && ub == common[j] {
				bk[j].Count += p.incs[i]
				j++
			}
		}
	}
	return bk, fmt.Sprintf("bucket bounds differ across the %d series or restarts merged: merged onto the %d bounds all of them have", layouts, len(common))
}

// intersect returns the values in both sorted slices a and b, sorted (a new slice).
func intersect(a, b []float64) []float64 {
	var out []float64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

func empty(incs []float64) bool {
	for _, x := range incs {
		if x != 0 {
			return false
		}
	}
	return true
}
