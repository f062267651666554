package samplers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vmtest/vmtest/snapshot"
)

// DefaultVLLMMaxBodyBytes is the default cap on a /metrics body, bytes (8 MiB). A vLLM scrape is typically
// 25–60 KB for one engine; the cap protects the test process from a runaway or wrong endpoint.
const DefaultVLLMMaxBodyBytes = 8 << 20

// DefaultVLLMTimeout bounds one scrape when Sample's context carries no deadline of its own.
const DefaultVLLMTimeout = 10 * time.Second

// vllmKeepBufferBytes is the largest read buffer kept between scrapes; a larger one is dropped after use.
const vllmKeepBufferBytes = 2 << 20

// Logical fields of the vLLM scrape. Each is read from the first metric name in VLLMCandidates(field) that the
// server exposes; NamesUsed and VLLMScrape.NamesUsed map these keys to the name that was found. The scalar
// keys are the JSON names of the snapshot.VLLM fields they fill.
const (
	// VLLMRequestQueueSize: requests waiting to be scheduled, from the gauge vllm:num_requests_waiting (summed
	// over engines) → snapshot.VLLM.RequestQueueSize.
	VLLMRequestQueueSize = "request_queue_size"
	// VLLMActiveBatchSize: requests in the running batch, from the gauge vllm:num_requests_running (summed over
	// engines) → snapshot.VLLM.ActiveBatchSize.
	VLLMActiveBatchSize = "active_batch_size"
	// VLLMKVCacheUsagePercent: KV-cache usage, from the gauge vllm:kv_cache_usage_perc (V1, vLLM ≥ 0.9) or
	// vllm:gpu_cache_usage_perc (V0 and vLLM < 0.9), a 0–1 fraction averaged over engines and reported ×100
	// → snapshot.VLLM.KVCacheUsagePercent.
	VLLMKVCacheUsagePercent = "kv_cache_usage_percent"
	// VLLMGenerationTokensTotal: the counter vllm:generation_tokens_total (tokens, summed over engines) →
	// snapshot.VLLM.GenerationTokensTotal, and its rate → TokensPerSecond.
	VLLMGenerationTokensTotal = "generation_tokens_total"
	// VLLMPromptTokensTotal: the counter vllm:prompt_tokens_total (tokens, summed over engines) →
	// snapshot.VLLM.PromptTokensTotal, and its rate → PromptTokensPerSecond.
	VLLMPromptTokensTotal = "prompt_tokens_total"
	// VLLMRequestSuccessTotal: the counter vllm:request_success_total (requests, summed over engines and over
	// the finish-reason label, `finished_reason` in vLLM, `finish_reason` in llm-d-inference-sim) →
	// snapshot.VLLM.RequestSuccessTotal, and its rate → RequestsPerSecond.
	VLLMRequestSuccessTotal = "request_success_total"

	// VLLMTTFTSeconds: the histogram vllm:time_to_first_token_seconds (seconds). Kept in VLLMScrape for
	// server-side quantiles; the sampler fills no snapshot field from it (serverstats.Window.SetInterval turns
	// the four histograms' bucket increases into snapshot.VLLM's Server*MS fields).
	VLLMTTFTSeconds = "ttft_seconds"
	// VLLME2ELatencySeconds: the histogram vllm:e2e_request_latency_seconds (seconds). Kept in VLLMScrape.
	VLLME2ELatencySeconds = "e2e_latency_seconds"
	// VLLMITLSeconds: the inter-token latency histogram (seconds), vllm:inter_token_latency_seconds, or before
	// vLLM 0.11 vllm:time_per_output_token_seconds. Never vllm:request_time_per_output_token_seconds, which is
	// per-request TPOT, another metric. Kept in VLLMScrape.
	VLLMITLSeconds = "itl_seconds"
	// VLLMQueueTimeSeconds: the histogram vllm:request_queue_time_seconds (seconds). Kept in VLLMScrape.
	VLLMQueueTimeSeconds = "queue_time_seconds"
)

type vllmAgg int

const (
	vllmAggSum  vllmAgg = iota // sum over series (engines, label values)
	vllmAggMean                // mean over series
)

type vllmScalarSpec struct {
	field   string
	names   []string
	agg     vllmAgg
	scale   float64
	counter bool
}

type vllmHistSpec struct {
	field string
	names []string
}

// Candidate names in order of preference (../shared/testdata/vllm/METRIC_NAMES.md has the rename history).
var vllmScalars = []vllmScalarSpec{
	{field: VLLMRequestQueueSize, names: []string{"vllm:num_requests_waiting"}, agg: vllmAggSum, scale: 1},
	{field: VLLMActiveBatchSize, names: []string{"vllm:num_requests_running"}, agg: vllmAggSum, scale: 1},
	{field: VLLMKVCacheUsagePercent, names: []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}, agg: vllmAggMean, scale: 100},
	{field: VLLMGenerationTokensTotal, names: []string{"vllm:generation_tokens_total"}, agg: vllmAggSum, scale: 1, counter: true},
	{field: VLLMPromptTokensTotal, names: []string{"vllm:prompt_tokens_total"}, agg: vllmAggSum, scale: 1, counter: true},
	{field: VLLMRequestSuccessTotal, names: []string{"vllm:request_success_total"}, agg: vllmAggSum, scale: 1, counter: true},
}

var vllmHists = []vllmHistSpec{
	{field: VLLMTTFTSeconds, names: []string{"vllm:time_to_first_token_seconds"}},
	{field: VLLME2ELatencySeconds, names: []string{"vllm:e2e_request_latency_seconds"}},
	{field: VLLMITLSeconds, names: []string{"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"}},
	{field: VLLMQueueTimeSeconds, names: []string{"vllm:request_queue_time_seconds"}},
}

// vllmProcessStart is the standard process collector's start time (Unix seconds); a change means the server
// process restarted between scrapes.
const vllmProcessStart = "process_start_time_seconds"

// VLLMCandidates returns the metric names a logical field (VLLMRequestQueueSize, VLLMITLSeconds, ...) is read
// from, most preferred first, or nil for an unknown field. The slice is a copy.
func VLLMCandidates(field string) []string {
	for _, s := range vllmScalars {
		if s.field == field {
			return slices.Clone(s.names)
		}
	}
	for _, h := range vllmHists {
		if h.field == field {
			return slices.Clone(h.names)
		}
	}
	return nil
}

// VLLMConfig configures the vLLM /metrics sampler. Only BaseURL (or MetricsURL) is required.
type VLLMConfig struct {
	// BaseURL is the server's base URL, e.g. "http://localhost:8000". Metrics are read from BaseURL+"/metrics";
	// a trailing "/" or "/v1" (the OpenAI API base often given for the same server) is dropped first, since
	// vLLM serves /metrics at the root. Must be http or https with a host.
	BaseURL string
	// MetricsURL, when set, is the full metrics URL and BaseURL is ignored (e.g. a separate metrics port).
	MetricsURL string
	// Client is the HTTP client used; nil means a client with its own transport (cloned from
	// http.DefaultTransport) and no Client.Timeout: each scrape is bounded by Sample's context instead.
	Client *http.Client
	// MaxBodyBytes caps the /metrics body, bytes; 0 means DefaultVLLMMaxBodyBytes. A larger body is not read
	// past the cap and the scrape fails with "body exceeds N bytes". Negative is invalid.
	MaxBodyBytes int64
	// Model, when set, keeps only series whose model_name label equals it (several models, e.g. LoRA adapters,
	// on one server). Empty means all series are summed. A Model no series carries makes the scrape fail,
	// naming the model_name values the server has.
	Model string
	// Timeout bounds one scrape when Sample's context has no deadline; 0 means DefaultVLLMTimeout.
	// Negative is invalid.
	Timeout time.Duration
	// Now returns the current time; nil means time.Now. Rates are computed from the difference of two of its
	// values (time.Now carries the monotonic clock, so wall-clock steps do not skew them). Tests inject a fake.
	Now func() time.Time
}

// VLLM samples a vLLM server's Prometheus /metrics endpoint (V0 and V1 engines, old and new metric names,
// data-parallel engines). It implements Sampler with Name "vllm". Create it with NewVLLM.
//
// Sample must not be called concurrently with itself (the collector never does); NamesUsed, NotExposed and
// LastScrape may be called from any goroutine at any time.
type VLLM struct {
	url     string
	client  *http.Client
	ownTr   *http.Transport // the transport NewVLLM made (nil when the caller gave a Client); closed by Close
	max     int64
	model   string
	timeout time.Duration
	now     func() time.Time

	// Owned by Sample (never concurrent with itself).
	body        []byte // read buffer, reused between scrapes while small
	prev        *vllmCounters
	warnedMulti bool

	mu         sync.Mutex
	last       VLLMScrape
	namesUsed  map[string]string
	notExposed []string
}

// vllmCounters is the counter state of the previous successful scrape, for rates.
type vllmCounters struct {
	at       time.Time
	start    float64 // process_start_time_seconds; NaN when not exposed
	series   map[string]map[string]float64
	namesKey map[string]string
}

// VLLMScrape is one successful scrape, kept so that later code can compute deltas of any counter or histogram
// between two scrapes (server-side quantiles over a test window). Its maps must be treated as read-only.
type VLLMScrape struct {
	// At is when the response arrived (from VLLMConfig.Now; carries the monotonic clock when it is time.Now).
	At time.Time
	// Families is every metric family parsed from the body, keyed by name as exposed (counters keep their
	// "_total" suffix; every vllm:* family, not only those extracted). Series are not filtered by Model.
	Families map[string]*dto.MetricFamily
	// Model is the VLLMConfig.Model filter in force ("" for none).
	Model string
	// NamesUsed maps each logical field exposed in this scrape (VLLMRequestQueueSize, VLLMITLSeconds, ...)
	// to the metric name it was read from.
	NamesUsed map[string]string
}

// Histogram returns a logical histogram field's series in this scrape (VLLMTTFTSeconds, VLLME2ELatencySeconds,
// VLLMITLSeconds, VLLMQueueTimeSeconds), one per label set (engine, model_name), filtered by Model, and the
// metric name they came from. It returns "", nil when the field was not exposed or the scrape is the zero value.
// Bucket bounds are whatever the server uses (vLLM allows custom buckets); nothing is assumed about them.
func (s VLLMScrape) Histogram(field string) (name string, series []*dto.Metric) {
	name = s.NamesUsed[field]
	if name == "" {
		return "", nil
	}
	for _, m := range s.Families[name].GetMetric() {
		if m.GetHistogram() != nil && vllmModelMatches(m, s.Model) {
			series = append(series, m)
		}
	}
	return name, series
}

// NewVLLM returns a sampler for the server cfg describes. It makes no request. The error names the invalid
// VLLMConfig field: BaseURL/MetricsURL empty, unparseable, not http(s) or without a host; MaxBodyBytes or
// Timeout negative.
func NewVLLM(cfg VLLMConfig) (*VLLM, error) {
	var target string
	switch {
	case cfg.MetricsURL != "":
		if err := vllmCheckURL(cfg.MetricsURL); err != nil {
			return nil, fmt.Errorf("VLLMConfig.MetricsURL %q: %w", cfg.MetricsURL, err)
		}
		target = cfg.MetricsURL
	case cfg.BaseURL != "":
		if err := vllmCheckURL(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("VLLMConfig.BaseURL %q: %w", cfg.BaseURL, err)
		}
		u, _ := url.Parse(cfg.BaseURL)
		p := strings.TrimRight(u.Path, "/")
		p = strings.TrimSuffix(p, "/v1")
		u.Path = strings.TrimRight(p, "/") + "/metrics"
		u.RawPath = ""
		target = u.String()
	default:
		return nil, errors.New("VLLMConfig.BaseURL: empty (set BaseURL or MetricsURL)")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("VLLMConfig.MaxBodyBytes: %d is negative", cfg.MaxBodyBytes)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("VLLMConfig.Timeout: %v is negative", cfg.Timeout)
	}
	v := &VLLM{
		url:     target,
		client:  cfg.Client,
		max:     cfg.MaxBodyBytes,
		model:   cfg.Model,
		timeout: cfg.Timeout,
		now:     cfg.Now,
	}
	if v.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 2
		v.client, v.ownTr = &http.Client{Transport: tr}, tr
	}
	if v.max == 0 {
		v.max = DefaultVLLMMaxBodyBytes
	}
	if v.timeout == 0 {
		v.timeout = DefaultVLLMTimeout
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

func vllmCheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

// Close closes the idle connections of the transport NewVLLM made, so no connection (and its goroutines)
// outlives the collector; a Client given in VLLMConfig is the caller's and is left alone. It returns nil.
func (v *VLLM) Close() error {
	if v.ownTr != nil {
		v.ownTr.CloseIdleConnections()
	}
	return nil
}

// Name returns "vllm", the key of this source in snapshot.Snapshot.Errors.
func (v *VLLM) Name() string { return "vllm" }

// URL returns the metrics URL scraped.
func (v *VLLM) URL() string { return v.url }

// NamesUsed returns, for the last successful scrape, each exposed logical field (VLLMRequestQueueSize, ...,
// VLLMITLSeconds) mapped to the vLLM metric name it was read from, e.g. VLLMKVCacheUsagePercent →
// "vllm:gpu_cache_usage_perc" on a V0 server. Empty before the first successful scrape. The map is a copy.
func (v *VLLM) NamesUsed() map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]string, len(v.namesUsed))
	for k, n := range v.namesUsed {
		out[k] = n
	}
	return out
}

// NotExposed returns the logical fields the last successful scrape did not find under any candidate name
// (sorted); their snapshot fields are nil. A field missing is not a failed scrape: the reading's Err stays nil
// and an Event says so whenever this set changes. Nil before the first successful scrape.
func (v *VLLM) NotExposed() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.notExposed)
}

// LastScrape returns the last successful scrape (parsed families, time, names used), or the zero VLLMScrape
// before the first one. A failed scrape never replaces it.
func (v *VLLM) LastScrape() VLLMScrape {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last
}

// Sample scrapes /metrics once and returns a Reading whose VLLM part holds RequestQueueSize, ActiveBatchSize,
// KVCacheUsagePercent, the three raw totals, their rates and ScrapeIntervalS (the client-side latency fields
// are left nil).
//
// Rates are the counter's increase since the previous successful scrape divided by the time between the two
// (from VLLMConfig.Now; that time is ScrapeIntervalS), per second; they are nil on the first successful scrape, when the counter was not
// exposed in both scrapes, and for an interval over which any series of the counter went down or vanished or
// process_start_time_seconds changed (a server restart; an Event says so). Rates are never negative.
//
// The scrape fails, with Reading.Err set and every VLLM field nil (no stale values), when: ctx's deadline
// passes (or VLLMConfig.Timeout when ctx has none), the server is unreachable, the status is not 200, the body
// is HTML, exceeds MaxBodyBytes, is cut short or does not parse as Prometheus text (the parser's message is
// kept), the body has no vllm:* metric at all, or Model matches no series. A failed scrape leaves the
// previous successful one as the base of the next rate.
func (v *VLLM) Sample(ctx context.Context) Reading {
	r, err := v.sample(ctx)
	if err != nil {
		return Reading{VLLM: &snapshot.VLLM{}, Err: err}
	}
	return r
}

func (v *VLLM) sample(ctx context.Context) (Reading, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.timeout)
		defer cancel()
	}
	body, at, err := v.fetch(ctx)
	if err != nil {
		return Reading{}, err
	}
	return v.parseExtract(body, at)
}

// parseExtract parses a Prometheus text body and extracts the reading from it.
func (v *VLLM) parseExtract(body []byte, at time.Time) (Reading, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return Reading{}, fmt.Errorf("GET %s: parsing %d-byte body: %w", v.url, len(body), err)
	}
	return v.extract(fams, at)
}

// fetch GETs the metrics URL and returns the body (valid until the next call) and when the response arrived.
func (v *VLLM) fetch(ctx context.Context) ([]byte, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	// Ask for the classic text format (never protobuf or OpenMetrics).
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1.0,*/*;q=0.1")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer resp.Body.Close()
	at := v.now()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		msg := strings.Join(strings.Fields(string(snippet)), " ")
		if msg != "" {
			msg = ": " + msg
		}
		return nil, at, fmt.Errorf("GET %s: status %s%s", v.url, resp.Status, msg)
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "text/html") {
		return nil, at, fmt.Errorf("GET %s: body is HTML (Content-Type %q), not Prometheus text: is this the server's metrics URL?", v.url, ct)
	}
	if resp.ContentLength > v.max {
		return nil, at, fmt.Errorf("GET %s: body exceeds %d bytes (Content-Length %d; VLLMConfig.MaxBodyBytes)", v.url, v.max, resp.ContentLength)
	}
	body, err := v.readBody(resp.Body, resp.ContentLength)
	if errors.Is(err, errVLLMBodyTooLarge) {
		return nil, at, fmt.Errorf("GET %s: body exceeds %d bytes (VLLMConfig.MaxBodyBytes)", v.url, v.max)
	}
	if err != nil {
		return nil, at, fmt.Errorf("GET %s: reading body after %d bytes: %w", v.url, len(body), err)
	}
	if t := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '<' {
		return nil, at, fmt.Errorf("GET %s: body is HTML (starts with %q), not Prometheus text: is this the server's metrics URL?", v.url, vllmFirstLine(t, 40))
	}
	return body, at, nil
}

var errVLLMBodyTooLarge = errors.New("body too large")

// readBody reads r to EOF into a buffer reused between scrapes, never holding more than MaxBodyBytes: it
// returns errVLLMBodyTooLarge as soon as one byte more arrives. The buffer grows by doubling from the
// Content-Length hint (or 64 KiB) up to MaxBodyBytes, so a refused body costs at most about 2×MaxBodyBytes
// of transient allocation. A buffer over vllmKeepBufferBytes is not kept.
func (v *VLLM) readBody(r io.Reader, hint int64) ([]byte, error) {
	buf := v.body[:0]
	if want := min(max(hint+1, 64<<10), v.max); int64(cap(buf)) < want {
		buf = make([]byte, 0, want)
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= v.max {
				var one [1]byte
				n, err := io.ReadFull(r, one[:])
				switch {
				case n > 0:
					return nil, errVLLMBodyTooLarge
				case err == io.EOF:
					v.keep(buf)
					return buf, nil
				default:
					return buf, err
				}
			}
			nb := make([]byte, len(buf), min(2*int64(cap(buf)), v.max))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			v.keep(buf)
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (v *VLLM) keep(buf []byte) {
	if cap(buf) <= vllmKeepBufferBytes {
		v.body = buf
	} else {
		v.body = nil
	}
}

func vllmFirstLine(b []byte, max int) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// extract fills the reading from parsed families and, on success, makes this scrape the base of the next rate.
func (v *VLLM) extract(fams map[string]*dto.MetricFamily, at time.Time) (Reading, error) {
	var (
		out        snapshot.VLLM
		events     []Event
		used       = make(map[string]string, len(vllmScalars)+len(vllmHists))
		notExposed []string
		models     = map[string]bool{}
		cur        = &vllmCounters{at: at, start: math.NaN(), series: map[string]map[string]float64{}}
	)
	event := func(format string, args ...any) {
		events = append(events, Event{Time: at, Source: v.Name(), Message: fmt.Sprintf(format, args...)})
	}

	// Model names present, for the Model filter's sanity check and the several-models note.
	for _, s := range vllmScalars {
		for _, name := range s.names {
			for _, m := range fams[name].GetMetric() {
				if mn, ok := vllmLabel(m, "model_name"); ok {
					models[mn] = true
				}
			}
		}
	}
	if v.model != "" && len(models) > 0 && !models[v.model] {
		return Reading{}, fmt.Errorf("GET %s: no series with model_name=%q (VLLMConfig.Model); the server has %s",
			v.url, v.model, vllmQuotedKeys(models))
	}

	vals := make([]float64, 0, 8)
	for _, s := range vllmScalars {
		var (
			name   string
			series map[string]float64
		)
		vals = vals[:0]
		for _, cand := range s.names {
			for _, m := range fams[cand].GetMetric() {
				if !vllmModelMatches(m, v.model) {
					continue
				}
				x, ok := vllmScalarValue(m)
				if !ok {
					continue
				}
				vals = append(vals, x)
				if s.counter {
					if series == nil {
						series = map[string]float64{}
					}
					series[vllmSeriesKey(m)] = x
				}
			}
			if len(vals) > 0 {
				name = cand
				break
			}
		}
		if name == "" {
			notExposed = append(notExposed, s.field)
			continue
		}
		used[s.field] = name
		x := vllmSortedSum(vals)
		if s.agg == vllmAggMean {
			x /= float64(len(vals))
		}
		p := snapshot.F(x * s.scale)
		switch s.field {
		case VLLMRequestQueueSize:
			out.RequestQueueSize = p
		case VLLMActiveBatchSize:
			out.ActiveBatchSize = p
		case VLLMKVCacheUsagePercent:
			out.KVCacheUsagePercent = p
		case VLLMGenerationTokensTotal:
			out.GenerationTokensTotal = p
		case VLLMPromptTokensTotal:
			out.PromptTokensTotal = p
		case VLLMRequestSuccessTotal:
			out.RequestSuccessTotal = p
		}
		if s.counter {
			cur.series[s.field] = series
		}
	}
	for _, h := range vllmHists {
		found := false
		for _, cand := range h.names {
			for _, m := range fams[cand].GetMetric() {
				if m.GetHistogram() != nil && vllmModelMatches(m, v.model) {
					found = true
					break
				}
			}
			if found {
				used[h.field] = cand
				break
			}
		}
		if !found {
			notExposed = append(notExposed, h.field)
		}
	}
	if len(used) == 0 {
		return Reading{}, fmt.Errorf("GET %s: no vllm:* metric this sampler reads (%d families parsed): is this a vLLM server's metrics URL?", v.url, len(fams))
	}
	sort.Strings(notExposed)

	if ms := fams[vllmProcessStart].GetMetric(); len(ms) > 0 {
		if x, ok := vllmScalarValue(ms[0]); ok {
			cur.start = x
		}
	}
	cur.namesKey = used

	// Rates over the interval since the previous successful scrape.
	restarted := false
	if prev := v.prev; prev != nil {
		if !math.IsNaN(prev.start) && !math.IsNaN(cur.start) && prev.start != cur.start {
			restarted = true
			event("server restarted: %s changed from %s to %s; rates are null for this interval",
				vllmProcessStart, vllmFmt(prev.start), vllmFmt(cur.start))
		}
		dt := at.Sub(prev.at).Seconds()
		if dt > 0 {
			out.ScrapeIntervalS = snapshot.F(dt)
		}
		for _, r := range []struct {
			field, rateField string
			dst              **float64
		}{
			{VLLMGenerationTokensTotal, "tokens_per_second", &out.TokensPerSecond},
			{VLLMPromptTokensTotal, "prompt_tokens_per_second", &out.PromptTokensPerSecond},
			{VLLMRequestSuccessTotal, "requests_per_second", &out.RequestsPerSecond},
		} {
			if restarted || dt <= 0 {
				continue
			}
			c, p := cur.series[r.field], prev.series[r.field]
			if c == nil || p == nil || used[r.field] != prev.namesKey[r.field] {
				continue
			}
			delta, reset := vllmCounterDelta(p, c)
			if reset != "" {
				event("%s went down (%s): counter reset, server restart?; %s is null for this interval",
					used[r.field], reset, r.rateField)
				continue
			}
			*r.dst = snapshot.F(delta / dt)
		}
	}

	// Notes on what was read, only when they change.
	v.mu.Lock()
	prevUsed, prevNot, first := v.namesUsed, v.notExposed, v.namesUsed == nil
	v.mu.Unlock()
	if !slices.Equal(prevNot, notExposed) && (len(notExposed) > 0 || !first) {
		if len(notExposed) == 0 {
			event("every field is exposed again")
		} else {
			parts := make([]string, len(notExposed))
			for i, f := range notExposed {
				parts[i] = fmt.Sprintf("%s (looked for %s)", f, strings.Join(VLLMCandidates(f), ", "))
			}
			event("not exposed by the server, left null: %s", strings.Join(parts, "; "))
		}
	}
	if !first {
		for _, f := range slices.Sorted(maps.Keys(used)) {
			if was := prevUsed[f]; was != "" && was != used[f] {
				event("%s now read from %s (was %s)", f, used[f], was)
			}
		}
	}
	if v.model == "" && len(models) > 1 && !v.warnedMulti {
		v.warnedMulti = true
		event("several model_name values (%s): summing over them; set VLLMConfig.Model to read one", vllmQuotedKeys(models))
	}

	v.prev = cur
	v.mu.Lock()
	v.namesUsed = used
	v.notExposed = notExposed
	v.last = VLLMScrape{At: at, Families: fams, Model: v.model, NamesUsed: used}
	v.mu.Unlock()
	return Reading{VLLM: &out, Events: events}, nil
}

// vllmCounterDelta sums the per-series increases of a counter. A series that went down or vanished is a reset,
// described in the returned string; a series new since prev counts from 0 (vLLM creates labelled series on
// first use, e.g. a finished_reason seen for the first time).
func vllmCounterDelta(prev, cur map[string]float64) (float64, string) {
	deltas := make([]float64, 0, len(cur))
	for k, c := range cur {
		p := prev[k]
		if c < p {
			return 0, fmt.Sprintf("%s: %s → %s", k, vllmFmt(p), vllmFmt(c))
		}
		deltas = append(deltas, c-p)
	}
	for k, p := range prev {
		if _, ok := cur[k]; !ok {
			return 0, fmt.Sprintf("%s: %s → gone", k, vllmFmt(p))
		}
	}
	return vllmSortedSum(deltas), ""
}

// vllmSortedSum adds vals in ascending order, so that the result does not depend on the order of the series.
// It sorts vals in place.
func vllmSortedSum(vals []float64) float64 {
	sort.Float64s(vals)
	var s float64
	for _, x := range vals {
		s += x
	}
	return s
}

// vllmScalarValue is a gauge's, counter's or untyped sample's value.
func vllmScalarValue(m *dto.Metric) (float64, bool) {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue(), true
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

func vllmLabel(m *dto.Metric, name string) (string, bool) {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue(), true
		}
	}
	return "", false
}

func vllmModelMatches(m *dto.Metric, want string) bool {
	if want == "" {
		return true
	}
	got, _ := vllmLabel(m, "model_name")
	return got == want
}

// vllmSeriesKey is the series' label set in a canonical form: {a="x",b="y"} with names sorted.
func vllmSeriesKey(m *dto.Metric) string {
	ls := m.GetLabel()
	idx := make([]int, len(ls))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return ls[idx[a]].GetName() < ls[idx[b]].GetName() })
	var b strings.Builder
	b.WriteByte('{')
	for i, j := range idx {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", ls[j].GetName(), ls[j].GetValue())
	}
	b.WriteByte('}')
	return b.String()
}

func vllmFmt(x float64) string { return fmt.Sprintf("%g", x) }

func vllmQuotedKeys(m map[string]bool) string {
	ks := slices.Sorted(maps.Keys(m))
	for i, k := range ks {
		ks[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(ks, ", ")
}
