package samplers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// DefaultVLLMMaxBodyBytes is the default cap on a /metrics body, bytes (8 MiB). A vLLM scrape is typically
// 25–60 KB for one engine; the cap protects the test process from a runaway or wrong endpoint.
const DefaultVLLMMaxBodyBytes = 8 << 20

// DefaultVLLMTimeout bounds one scrape when Sample's context carries no deadline of its own.
const DefaultVLLMTimeout = 10 * time.Second

// vllmReadBufferBytes is the read buffer of the connection NewVLLM's transport makes: a chunked 25–60 KB
// /metrics body then arrives in one or two reads, not one per 4 KiB (net/http's default).
const vllmReadBufferBytes = 64 << 10

// vllmKeepBufferBytes is the largest read buffer kept between scrapes; a larger one is dropped after use.
const vllmKeepBufferBytes = 2 << 20

// VLLMConfig configures the vLLM /metrics sampler. Only BaseURL (or MetricsURL) is required.
type VLLMConfig struct {
	// BaseURL is the server's base URL, e.g. "http://localhost:8000". Metrics are read from BaseURL+"/metrics";
	// a trailing "/" or "/v1" (the OpenAI API base often given for the same server) is dropped first, since
	// vLLM serves /metrics at the root. Must be http or https with a host.
	BaseURL string
	// MetricsURL, when set, is the full metrics URL and BaseURL is ignored (e.g. a separate metrics port).
	MetricsURL string
	// Client is the HTTP client used; nil means a client with its own transport (cloned from
	// http.DefaultTransport, asking for no gzip, reading through a 64 KiB buffer, on Linux reading and writing its
	// TCP connections with raw system calls: DESIGN.md, "One tick") and no Client.Timeout: each scrape is
	// bounded by Sample's context instead.
	Client *http.Client
	// MaxBodyBytes caps the /metrics body, bytes; 0 means DefaultVLLMMaxBodyBytes. A larger body is not read
	// past the cap and the scrape fails with "body exceeds N bytes". Negative is invalid.
	MaxBodyBytes int64
	// Model, when set, keeps only series whose model_name label equals it (several models, e.g. LoRA adapters,
	// on one server). Empty means all series are summed. A Model no series carries makes the scrape fail,
	// naming the model_name values the server has.
	Model string
	// Auth is sent with every scrape (bearer token, basic auth, headers); credentials in the URL are sent too.
	// Neither ever appears in an error: URLs are shown through auth.Redact.
	Auth auth.Config
	// Timeout bounds one scrape when Sample's context has no deadline; 0 means DefaultVLLMTimeout.
	// Negative is invalid.
	Timeout time.Duration
	// MinRateInterval is the shortest time between two scrapes whose rates a snapshot gets
	// (serverstats.Window.MinRateInterval); the collector gives half its Interval. 0: every step's.
	MinRateInterval time.Duration
	// Now returns the current time; nil means time.Now. Rates are computed from the difference of two of its
	// values (time.Now carries the monotonic clock, so wall-clock steps do not skew them). Tests inject a fake.
	Now func() time.Time
}

// VLLM samples a vLLM server's Prometheus /metrics endpoint (V0 and V1 engines, old and new metric names,
// data-parallel engines). It implements ServerSource with Name "vllm". Create it with NewVLLM.
//
// It is the thin HTTP end of the server road: Sample fetches and parses (serverstats.Parser), and the reading's
// Commit hands the scrape to the one tracker (serverstats.Window), which fills every VLLM field. Sample must
// not be called concurrently with itself (the collector never does); the other methods may be called from
// any goroutine at any time.
type VLLM struct {
	url     string
	shown   string // url as errors show it (auth.Redact)
	auth    auth.Config
	client  *http.Client
	ownTr   *http.Transport // the transport NewVLLM made (nil when the caller gave a Client); closed by Close
	max     int64
	model   string
	timeout time.Duration
	now     func() time.Time
	req     *http.Request // the scrape's GET, headers set, built once: fetch sends a copy under its ctx

	body   []byte              // read buffer, reused between scrapes while small; owned by Sample
	parser *serverstats.Parser // owned by Sample: reuses the last parse while the lines read are unchanged

	mu   sync.Mutex
	win  *serverstats.Window // every committed scrape
	last serverstats.Scrape  // the last committed scrape
}

// NewVLLM returns a sampler for the server cfg describes. It makes no request. The error names the invalid
// VLLMConfig field: BaseURL/MetricsURL empty, unparseable, not http(s) or without a host; MaxBodyBytes or
// Timeout negative.
func NewVLLM(cfg VLLMConfig) (*VLLM, error) {
	var target string
	switch {
	case cfg.MetricsURL != "":
		if err := vllmCheckURL(cfg.MetricsURL); err != nil {
			return nil, fmt.Errorf("VLLMConfig.MetricsURL %q: %w", auth.Redact(cfg.MetricsURL), auth.Error(err, auth.URLSecrets(cfg.MetricsURL)...))
		}
		target = cfg.MetricsURL
	case cfg.BaseURL != "":
		if err := vllmCheckURL(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("VLLMConfig.BaseURL %q: %w", auth.Redact(cfg.BaseURL), auth.Error(err, auth.URLSecrets(cfg.BaseURL)...))
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
		shown:   auth.Redact(target),
		auth:    cfg.Auth,
		client:  cfg.Client,
		max:     cfg.MaxBodyBytes,
		model:   cfg.Model,
		timeout: cfg.Timeout,
		now:     cfg.Now,
		win:     serverstats.NewWindow(),
		parser:  serverstats.NewParser(cfg.Model),
	}
	if cfg.MinRateInterval < 0 {
		return nil, fmt.Errorf("VLLMConfig.MinRateInterval: %v is negative", cfg.MinRateInterval)
	}
	v.win.MinRateInterval = cfg.MinRateInterval
	if v.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 2
		tr.DisableCompression = true // a gzip body costs both ends more CPU than its bytes cost a link
		tr.ReadBufferSize = vllmReadBufferBytes
		tr.DialContext = dialRaw(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}) // DefaultTransport's dialer
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
	req, err := http.NewRequest(http.MethodGet, v.url, nil)
	if err != nil {
		return nil, fmt.Errorf("VLLMConfig: metrics URL %q: %w", v.shown, auth.Error(err, auth.URLSecrets(v.url)...))
	}
	// Ask for the classic text format (never protobuf or OpenMetrics).
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1.0,*/*;q=0.1")
	v.auth.Apply(req.Header)
	v.req = req
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

// URL returns the metrics URL scraped, its credentials redacted (auth.Redact).
func (v *VLLM) URL() string { return v.shown }

// NamesUsed returns, for the last committed scrape, each exposed catalogue field (serverstats.FieldTTFTSeconds,
// ...) mapped to the vLLM metric name it was read from, e.g. serverstats.FieldKVCacheUsagePercent →
// "vllm:gpu_cache_usage_perc" on a V0 server. Empty before the first. The map is a copy.
func (v *VLLM) NamesUsed() map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.win.NamesUsed()
}

// NotExposed returns the catalogue fields the last committed scrape did not find under any candidate name
// (sorted); their snapshot fields are nil. A field missing is not a failed scrape: an Event says so whenever
// this set changes. Nil before the first committed scrape.
func (v *VLLM) NotExposed() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.win.NotExposed()
}

// LastScrape returns the last committed scrape (parsed families, time, names used; see serverstats.Parser for
// the families of an idle server's scrape), or the zero Scrape before the first one. A failed or discarded scrape never replaces it.
func (v *VLLM) LastScrape() serverstats.Scrape {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last
}

// ServerStats returns the server-side statistics over every committed scrape (serverstats.Window.Summary),
// and false before the first one.
func (v *VLLM) ServerStats() (serverstats.Stats, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := v.win.Summary()
	return st, st.Scrapes > 0
}

// Sample scrapes /metrics once and parses it. It changes no state: the Reading's Commit takes the scrape into
// the tracker and fills the VLLM part (serverstats.Window.FillInterval: RequestQueueSize, ActiveBatchSize,
// KVCacheUsagePercent, the three totals, their rates over the interval since the previous committed scrape,
// ScrapeIntervalS and the server-side latency quantiles; the client-side latency fields are left nil) and the
// Events (restarts, resets, fields not exposed). Until Commit every VLLM field is nil.
//
// The scrape fails, with Reading.Err set, every VLLM field nil and no Commit, when: ctx's deadline passes (or
// VLLMConfig.Timeout when ctx has none), the server is unreachable, the status is not 200, the body is HTML,
// exceeds MaxBodyBytes, is cut short or does not parse as Prometheus text (the parser's message is kept), the
// body has no metric of the catalogue at all, or Model matches no series. A failed scrape leaves the previous
// committed one as the base of the next rate.
func (v *VLLM) Sample(ctx context.Context) Reading {
	sc, err := v.scrape(ctx)
	if err != nil {
		return Reading{VLLM: &snapshot.VLLM{}, Err: err}
	}
	return Reading{VLLM: &snapshot.VLLM{}, Commit: func(r *Reading) { r.Events = append(r.Events, v.commit(sc, r.VLLM)...) }}
}

// Scrape fetches and parses /metrics once, as Sample does, and returns the scrape without taking it into this
// sampler's tracker (ReplicaScraper: a Fleet tracks it). Errors as Sample's. Not concurrently with itself or
// Sample.
func (v *VLLM) Scrape(ctx context.Context) (serverstats.Scrape, error) { return v.scrape(ctx) }

// commit takes a scrape the collector keeps into the tracker and fills out from it.
func (v *VLLM) commit(sc serverstats.Scrape, out *snapshot.VLLM) []Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	ev := v.win.Add(sc)
	v.win.FillInterval(out)
	v.last = sc
	return ev
}

func (v *VLLM) scrape(ctx context.Context) (serverstats.Scrape, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.timeout)
		defer cancel()
	}
	body, at, err := v.fetch(ctx)
	if err != nil {
		return serverstats.Scrape{}, err
	}
	return v.parse(body, at)
}

// parse parses a Prometheus text body received at `at`.
func (v *VLLM) parse(body []byte, at time.Time) (serverstats.Scrape, error) {
	sc, err := v.parser.Parse(body, at)
	if err != nil {
		return serverstats.Scrape{}, fmt.Errorf("GET %s: %w", v.shown, err)
	}
	return sc, nil
}

// fetch GETs the metrics URL and returns the body (valid until the next call) and when the response arrived.
func (v *VLLM) fetch(ctx context.Context) ([]byte, time.Time, error) {
	resp, err := v.client.Do(v.req.WithContext(ctx)) // the headers are shared: neither the client nor its transport writes them
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
		status := resp.Status // the server's reason phrase, capped
		if len(status) > 64 {
			status = strings.ToValidUTF8(status[:64], "") + "…"
		}
		return nil, at, fmt.Errorf("GET %s: status %s%s", v.shown, status, msg)
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "text/html") {
		return nil, at, fmt.Errorf("GET %s: body is HTML (Content-Type %q), not Prometheus text: is this the server's metrics URL?", v.shown, ct)
	}
	if resp.ContentLength > v.max {
		return nil, at, fmt.Errorf("GET %s: body exceeds %d bytes (Content-Length %d; VLLMConfig.MaxBodyBytes)", v.shown, v.max, resp.ContentLength)
	}
	body, err := v.readBody(resp.Body, resp.ContentLength)
	if errors.Is(err, errVLLMBodyTooLarge) {
		return nil, at, fmt.Errorf("GET %s: body exceeds %d bytes (VLLMConfig.MaxBodyBytes)", v.shown, v.max)
	}
	if err != nil {
		return nil, at, fmt.Errorf("GET %s: reading body after %d bytes: %w", v.shown, len(body), err)
	}
	if t := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '<' {
		return nil, at, fmt.Errorf("GET %s: body is HTML (starts with %q), not Prometheus text: is this the server's metrics URL?", v.shown, vllmFirstLine(t, 40))
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
