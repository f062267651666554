package promsource

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/vmtest/vmtest/serverstats"
)

// Target is one scrape target's series over a window: what one direct /metrics scrape loop would have read.
type Target struct {
	// Labels are the target's values of Config.TargetLabels (only those its series carry), e.g.
	// {job="vllm", instance="10.0.0.7:8000"}. They are removed from the series in Scrapes.
	Labels map[string]string
	// Scrapes has one Scrape per sample timestamp of the target (Prometheus stamps every sample of one
	// scrape with the scrape's time), in time order, with the families rebuilt from the samples.
	Scrapes []serverstats.Scrape
}

// Name is the target's labels as PromQL writes them, sorted by name: `instance="a:1", job="vllm"`.
func (t Target) Name() string {
	return toLabelSet(t.Labels).String()
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// Targets groups a matrix's series by target (the values of targetLabels on each series) and rebuilds, per
// target and per sample timestamp, the metric families a scrape at that time would have parsed to:
//
//   - a name with `_bucket` series carrying `le` is a classic histogram: its `_bucket`, `_sum` and `_count`
//     samples of one label set (without `le`) and timestamp make one dto.Histogram (float counts; a missing
//     _count is the +Inf bucket's; a missing _sum is NaN, which the Window reports as a bad series);
//   - any other name is a counter when the vLLM catalogue says so or it ends in `_total`, else a gauge.
//
// Each timestamp becomes serverstats.NewScrape(families, time, modelName). Targets without any vllm:* series
// (another job's process_start_time_seconds) are left out; targets are sorted by Name.
func Targets(m model.Matrix, targetLabels []string, modelName string) []Target {
	var out []Target
	for _, t := range families(m, targetLabels) {
		if !t.has("vllm:") {
			continue
		}
		tg := Target{Labels: t.labels, Scrapes: make([]serverstats.Scrape, 0, len(t.times))}
		for i, ts := range t.times {
			tg.Scrapes = append(tg.Scrapes, serverstats.NewScrape(t.fams[i], ts.Time(), modelName))
		}
		out = append(out, tg)
	}
	return out
}

// rebuilt is one target's families per sample timestamp.
type rebuilt struct {
	labels map[string]string
	name   string                         // the labels' PromQL text
	times  []model.Time                   // sorted
	fams   []map[string]*dto.MetricFamily // per time
	names  map[string]bool                // every metric name of the target's series
}

// has says whether a metric name of the target starts with prefix.
func (r rebuilt) has(prefix string) bool {
	for n := range r.names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// families groups a matrix's series by target and rebuilds each timestamp's families (Targets' rules),
// sorted by target name.
func families(m model.Matrix, targetLabels []string) []rebuilt {
	type tgt struct {
		labels map[string]string
		points map[model.Time]*point
		names  map[string]bool
	}
	byKey := map[string]*tgt{}
	hist := histogramNames(m, targetLabels)
	for _, s := range m {
		tl, rest := split(s.Metric, targetLabels)
		key := toLabelSet(tl).String()
		t := byKey[key]
		if t == nil {
			t = &tgt{labels: tl, points: map[model.Time]*point{}, names: map[string]bool{}}
			byKey[key] = t
		}
		name := string(s.Metric[model.MetricNameLabel])
		t.names[name] = true
		for _, v := range s.Values {
			p := t.points[v.Timestamp]
			if p == nil {
				p = &point{fams: map[string]*dto.MetricFamily{}, hists: map[string]*dto.Metric{}}
				t.points[v.Timestamp] = p
			}
			p.add(name, rest, float64(v.Value), hist[key])
		}
	}
	out := make([]rebuilt, 0, len(byKey))
	for key, t := range byKey {
		r := rebuilt{labels: t.labels, name: key, names: t.names}
		for ts := range t.points {
			r.times = append(r.times, ts)
		}
		slices.Sort(r.times)
		for _, ts := range r.times {
			p := t.points[ts]
			p.finish()
			r.fams = append(r.fams, p.fams)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b rebuilt) int { return cmp.Compare(a.name, b.name) })
	return out
}

// histogramNames returns, per target key (as in Targets), the base names that have `_bucket` series with an
// `le` label.
func histogramNames(m model.Matrix, targetLabels []string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, s := range m {
		base, ok := strings.CutSuffix(string(s.Metric[model.MetricNameLabel]), "_bucket")
		if _, le := s.Metric[model.BucketLabel]; !ok || !le {
			continue
		}
		tl, _ := split(s.Metric, targetLabels)
		key := toLabelSet(tl).String()
		if out[key] == nil {
			out[key] = map[string]bool{}
		}
		out[key][base] = true
	}
	return out
}

// split separates a series' labels into the target's (those of targetLabels it has) and the rest (without
// __name__), sorted by name.
func split(ls model.Metric, targetLabels []string) (map[string]string, []*dto.LabelPair) {
	tl := map[string]string{}
	var rest []*dto.LabelPair
	for k, v := range ls {
		switch {
		case k == model.MetricNameLabel:
		case slices.Contains(targetLabels, string(k)):
			tl[string(k)] = string(v)
		default:
			rest = append(rest, &dto.LabelPair{Name: new(string(k)), Value: new(string(v))})
		}
	}
	slices.SortFunc(rest, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return tl, rest
}

// point is the families of one target at one timestamp being rebuilt.
type point struct {
	fams  map[string]*dto.MetricFamily
	hists map[string]*dto.Metric // histogram series by base name and labels without le
}

// add puts one sample into the point's families.
func (p *point) add(name string, labels []*dto.LabelPair, v float64, hist map[string]bool) {
	if base, part, ok := histPart(name, hist); ok {
		h := p.histogram(base, labels)
		switch part {
		case "_bucket":
			le, ok := leOf(labels)
			if !ok {
				return
			}
			h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: new(le), CumulativeCountFloat: new(v)})
		case "_sum":
			h.SampleSum = new(v)
		case "_count":
			h.SampleCountFloat = new(v)
		}
		return
	}
	typ := dto.MetricType_GAUGE
	if isCounter(name) {
		typ = dto.MetricType_COUNTER
	}
	f := p.family(name, typ)
	sm := &dto.Metric{Label: labels}
	if typ == dto.MetricType_COUNTER {
		sm.Counter = &dto.Counter{Value: new(v)}
	} else {
		sm.Gauge = &dto.Gauge{Value: new(v)}
	}
	f.Metric = append(f.Metric, sm)
}

func (p *point) family(name string, typ dto.MetricType) *dto.MetricFamily {
	f := p.fams[name]
	if f == nil {
		f = &dto.MetricFamily{Name: new(name), Type: typ.Enum()}
		p.fams[name] = f
	}
	return f
}

// histogram returns the histogram series of base with labels (le removed), creating it.
func (p *point) histogram(base string, labels []*dto.LabelPair) *dto.Histogram {
	var b strings.Builder
	b.WriteString(base)
	var keep []*dto.LabelPair
	for _, l := range labels {
		if l.GetName() == model.BucketLabel {
			continue
		}
		keep = append(keep, l)
		b.WriteString("\xff" + l.GetName() + "\xfe" + l.GetValue())
	}
	m := p.hists[b.String()]
	if m == nil {
		m = &dto.Metric{Label: keep, Histogram: &dto.Histogram{}}
		p.hists[b.String()] = m
		f := p.family(base, dto.MetricType_HISTOGRAM)
		f.Metric = append(f.Metric, m)
	}
	return m.Histogram
}

// finish fills each histogram's missing _count from its +Inf bucket and marks a missing _sum NaN.
func (p *point) finish() {
	for _, m := range p.hists {
		h := m.Histogram
		if h.SampleCountFloat == nil {
			for _, b := range h.Bucket {
				if math.IsInf(b.GetUpperBound(), +1) {
					h.SampleCountFloat = new(b.GetCumulativeCountFloat())
				}
			}
		}
		if h.SampleSum == nil {
			h.SampleSum = new(math.NaN())
		}
	}
}

// histPart says whether name is a part of one of the histograms in hist, returning the base name and the
// suffix (_bucket, _sum, _count).
func histPart(name string, hist map[string]bool) (base, part string, ok bool) {
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if b, found := strings.CutSuffix(name, suf); found && hist[b] {
			return b, suf, true
		}
	}
	return "", "", false
}

func leOf(labels []*dto.LabelPair) (float64, bool) {
	for _, l := range labels {
		if l.GetName() == model.BucketLabel {
			le, err := strconv.ParseFloat(l.GetValue(), 64)
			return le, err == nil
		}
	}
	return 0, false
}

// catalogueCounter maps each scalar name of the vLLM catalogue to whether it is a counter.
var catalogueCounter = func() map[string]bool {
	out := map[string]bool{}
	for _, m := range serverstats.Catalogue() {
		if m.Kind != serverstats.KindHistogram {
			for _, n := range m.Names {
				out[n] = m.Kind == serverstats.KindCounter
			}
		}
	}
	return out
}()

// isCounter says whether a scalar series of this name is a counter: the catalogue's word, else the
// OpenMetrics `_total` suffix.
func isCounter(name string) bool {
	if c, ok := catalogueCounter[name]; ok {
		return c
	}
	return strings.HasSuffix(name, "_total")
}
