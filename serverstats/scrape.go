package serverstats

import (
	"bytes"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is one successful, parsed /metrics scrape: what a Window takes in. Its maps must be treated as
// read-only.
type Scrape struct {
	// At is when the response arrived (carries the monotonic clock when it comes from time.Now).
	At time.Time
	// Families holds the metric families a Window reads (vllm:*, process_start_time_seconds) keyed by name
	// as exposed (counters keep their "_total" suffix); from Parse, only those (other families' sample lines
	// are skipped unparsed); from NewScrape, whatever the caller gave. Series are not filtered by Model.
	Families map[string]*dto.MetricFamily
	// Model is the model_name filter in force ("" for none): only series with that model_name label are read.
	Model string
	// NamesUsed maps each catalogue field exposed in this scrape (FieldRequestQueueSize, FieldITLSeconds, ...)
	// to the metric name it is read from: the first of Candidates(field) with a series of the field's kind
	// (a finite counter, gauge or untyped value; a histogram) that Model keeps.
	NamesUsed map[string]string
	// Models is every model_name label value on the catalogue's counters and gauges, sorted (unfiltered):
	// at most MaxModels of them (ModelsCut says more were seen), each capped at MaxLabelValue bytes.
	Models []string
	// ModelsCut is true when the body had more model_name values than Models lists.
	ModelsCut bool
	// hasModel is true when a series of the catalogue's counters and gauges carries model_name = Model.
	hasModel bool
}

// MaxErrorText caps the parser's message in Parse's error (bytes): the parser quotes the text it failed on,
// which a hostile body can make megabytes long. A cut message ends in "…".
const MaxErrorText = 512

// capError is an error whose message is capped; it unwraps to the error it was made from.
type capError struct {
	msg string
	err error
}

func (e *capError) Error() string { return e.msg }
func (e *capError) Unwrap() error { return e.err }

// Parse parses a Prometheus text exposition (format 0.0.4) received at `at` into a Scrape whose series are
// filtered by model (empty: all). It reads the families a Window reads (vllm:*, process_start_time_seconds)
// and every comment line, with expfmt's TextParser's semantics, and skips the sample lines of other families
// without checking them. Errors: those lines do not parse (expfmt's message, with the body's size); model is set and no series carries it (naming the model_name values the body has); the body has no
// metric of the catalogue at all (not a vLLM server's metrics).
func Parse(body []byte, at time.Time, model string) (Scrape, error) {
	s, _, err := parseWith(newScanner(), body, at, model)
	return s, err
}

// parseWith is Parse with a scanner whose interned labels may come from earlier parses; scanned says the
// scanner read the body (its readLines are the body's), not expfmt.
func parseWith(sc *scanner, body []byte, at time.Time, model string) (_ Scrape, scanned bool, _ error) {
	fams, scanned := sc.parse(body)
	if !scanned {
		p := expfmt.NewTextParser(modelValidation)
		all, err := p.TextToMetricFamilies(bytes.NewReader(body))
		if err != nil {
			return Scrape{}, false, &capError{msg: fmt.Sprintf("parsing %d-byte body: %s", len(body), capLabelText(err.Error(), MaxErrorText)), err: err}
		}
		fams = readFamilies(all)
	}
	s := NewScrape(fams, at, model)
	if model != "" && len(s.Models) > 0 && !s.hasModel {
		return Scrape{}, scanned, fmt.Errorf("no series with model_name=%q (the model: vmtest Options.Model, or the command's -metrics-model); the server has %s", model, s.modelList())
	}
	if len(s.NamesUsed) == 0 {
		return Scrape{}, scanned, fmt.Errorf("no vllm:* metric this sampler reads (%d of its families parsed): is this a vLLM server's metrics URL?", len(fams))
	}
	return s, scanned, nil
}

// readFamilies keeps the families a Window reads: vllm:* and process_start_time_seconds.
func readFamilies(all map[string]*dto.MetricFamily) map[string]*dto.MetricFamily {
	maps.DeleteFunc(all, func(name string, _ *dto.MetricFamily) bool {
		return !strings.HasPrefix(name, "vllm:") && name != processStart
	})
	return all
}

// modelValidation is the metric-name validation Parse uses: the classic Prometheus character set.
var modelValidation = model.LegacyValidation

// NewScrape makes a Scrape of already parsed families: it fills NamesUsed and Models. It never fails; a
// Scrape with an empty NamesUsed has nothing a Window reads.
func NewScrape(fams map[string]*dto.MetricFamily, at time.Time, model string) Scrape {
	s := Scrape{At: at, Families: fams, Model: model, NamesUsed: make(map[string]string, len(catalogue))}
	models := map[string]bool{}
	for _, m := range catalogue {
		for _, name := range m.Names {
			if m.Kind == KindHistogram {
				continue
			}
			for _, sr := range fams[name].GetMetric() {
				mn, ok := label(sr, "model_name")
				if !ok {
					continue
				}
				s.hasModel = s.hasModel || (model != "" && mn == model)
				switch mn = capLabel(mn); {
				case models[mn]:
				case len(models) < MaxModels:
					models[mn] = true
				default:
					s.ModelsCut = true
				}
			}
		}
		if name := s.firstName(m); name != "" {
			s.NamesUsed[m.Field] = name
		}
	}
	if len(models) > 0 {
		s.Models = slices.Sorted(maps.Keys(models))
	}
	return s
}

// firstName returns the first of m's names with a series of m's kind that Model keeps, "" when none.
func (s Scrape) firstName(m Metric) string {
	for _, name := range m.Names {
		for _, sr := range s.Families[name].GetMetric() {
			if !modelMatches(sr, s.Model) {
				continue
			}
			if m.Kind == KindHistogram {
				if sr.GetHistogram() != nil {
					return name
				}
			} else if _, ok := scalarValue(sr); ok {
				return name
			}
		}
	}
	return ""
}

// Histogram returns a histogram field's series in this scrape (FieldTTFTSeconds, ...), one per label set
// (engine, model_name), filtered by Model, and the metric name they came from; "", nil when the field is not
// exposed. Bucket bounds are whatever the server uses (vLLM allows custom buckets).
func (s Scrape) Histogram(field string) (name string, series []*dto.Metric) {
	name = s.NamesUsed[field]
	if name == "" {
		return "", nil
	}
	for m := range s.histSeries(name) {
		series = append(series, m)
	}
	return name, series
}

// histSeries yields the series of family name that Histogram returns: the histograms of the model the scrape
// reads (Model; every one when Model is empty), in the family's order. It allocates nothing.
func (s *Scrape) histSeries(name string) iter.Seq[*dto.Metric] {
	return func(yield func(*dto.Metric) bool) {
		for _, m := range s.Families[name].GetMetric() {
			if m.GetHistogram() != nil && modelMatches(m, s.Model) && !yield(m) {
				return
			}
		}
	}
}

// rawScalar is a counter's, gauge's or untyped sample's value, finite or not; false for other types.
func rawScalar(m *dto.Metric) (float64, bool) {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue(), true
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

// scalarValue is a counter's, gauge's or untyped sample's value; false for other types and non-finite values.
func scalarValue(m *dto.Metric) (float64, bool) {
	var x float64
	switch {
	case m.GetCounter() != nil:
		x = m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		x = m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		x = m.GetUntyped().GetValue()
	default:
		return 0, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

func label(m *dto.Metric, name string) (string, bool) {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue(), true
		}
	}
	return "", false
}

func modelMatches(m *dto.Metric, model string) bool {
	if model == "" {
		return true
	}
	v, _ := label(m, "model_name")
	return v == model
}

// modelList quotes Models, saying when there were more.
func (s Scrape) modelList() string {
	if s.ModelsCut {
		return quoted(s.Models) + " and more (only " + fmt.Sprint(MaxModels) + " listed)"
	}
	return quoted(s.Models)
}

func quoted(ks []string) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(out, ", ")
}
