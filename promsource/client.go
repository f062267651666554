package promsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vmtest/vmtest/auth"
)

// Client reads raw samples from one Prometheus-compatible HTTP API. Create it with New; it is safe for
// concurrent use.
type Client struct {
	cfg Config
	api v1.API
	hc  *http.Client
}

// New returns a Client for cfg (validated: Config.Validate's errors). It sends no request.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &transport{auth: cfg.Auth, max: cfg.MaxBodyBytes, next: http.DefaultTransport}}
	c, err := api.NewClient(api.Config{Address: cfg.URL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("promsource: %s", auth.Redact(err.Error(), cfg.Auth.Secrets()...))
	}
	return &Client{cfg: cfg, api: v1.NewAPI(c), hc: hc}, nil
}

// Config returns the client's configuration with defaults filled.
func (c *Client) Config() Config { return c.cfg }

// Close closes the client's idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Samples returns the raw samples of every selected series (Config.Selector) with a timestamp in (from, to],
// at most one per series and timestamp, ordered by time within each series. A window longer than
// Config.Chunk is read in several queries, each a range selector evaluated at its end. Errors name the query
// and say what Prometheus answered (credentials redacted); a response over Config.MaxBodyBytes is an error.
func (c *Client) Samples(ctx context.Context, from, to time.Time) (model.Matrix, error) {
	return c.samples(ctx, c.cfg.Selector(), from, to)
}

// samples is Samples for the series selector sel.
func (c *Client) samples(ctx context.Context, sel string, from, to time.Time) (model.Matrix, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("promsource: empty window: %s to %s", from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
	byKey := map[model.Fingerprint]*model.SampleStream{}
	var order []model.Fingerprint
	for lo := from; lo.Before(to); {
		hi := lo.Add(c.cfg.Chunk)
		if hi.After(to) {
			hi = to
		}
		m, err := c.rangeQuery(ctx, sel, lo, hi)
		if err != nil {
			return nil, err
		}
		for _, s := range m {
			fp := s.Metric.Fingerprint()
			dst := byKey[fp]
			if dst == nil {
				dst = &model.SampleStream{Metric: s.Metric}
				byKey[fp] = dst
				order = append(order, fp)
			}
			for _, p := range s.Values {
				if !p.Timestamp.Time().After(from) {
					continue
				}
				if n := len(dst.Values); n > 0 && p.Timestamp <= dst.Values[n-1].Timestamp {
					continue // a chunk's closed left edge (Prometheus 2) repeats the previous chunk's last sample
				}
				dst.Values = append(dst.Values, p)
			}
		}
		lo = hi
	}
	out := make(model.Matrix, 0, len(order))
	for _, fp := range order {
		if s := byKey[fp]; len(s.Values) > 0 {
			out = append(out, s)
		}
	}
	return out, nil
}

// rangeQuery evaluates sel[hi-lo] at hi and returns its matrix.
func (c *Client) rangeQuery(ctx context.Context, sel string, lo, hi time.Time) (model.Matrix, error) {
	ms := int64(math.Ceil(float64(hi.Sub(lo)) / float64(time.Millisecond)))
	q := fmt.Sprintf("%s[%dms]", sel, max(ms, 1))
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	v, _, _, err := c.api.Query(ctx, q, hi, v1.WithTimeout(c.cfg.Timeout))
	if err != nil {
		return nil, fmt.Errorf("promsource: query %s at %s on %s: %s", q, hi.UTC().Format(time.RFC3339Nano),
			auth.Redact(c.cfg.URL), auth.Redact(err.Error(), c.cfg.Auth.Secrets()...))
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("promsource: query %s on %s returned a %s, want a matrix (is this a Prometheus-compatible API?)", q, auth.Redact(c.cfg.URL), v.Type())
	}
	return m, nil
}

// transport applies auth to every request and caps every response body.
type transport struct {
	auth auth.Config
	max  int64
	next http.RoundTripper
}

// RoundTrip sends r with the credentials and wraps the body in a reader that fails past the cap.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	t.auth.Apply(r.Header)
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &capped{rc: resp.Body, left: t.max, max: t.max}
	return resp, nil
}

// errTooLarge is the error of a response body over Config.MaxBodyBytes.
var errTooLarge = errors.New("response body over the limit (promsource.Config.MaxBodyBytes): narrow the selectors or shorten Config.Chunk")

type capped struct {
	rc        io.ReadCloser
	left, max int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One more byte tells a body of exactly max bytes from a longer one.
		var one [1]byte
		n, err := c.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w (%d bytes)", errTooLarge, c.max)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capped) Close() error { return c.rc.Close() }

// shownURL is the API's URL with any password redacted.
func (c *Client) shownURL() string { return auth.Redact(c.cfg.URL) }
