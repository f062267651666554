// Package promsource reads a vLLM server's metrics from the HTTP API of a Prometheus-compatible server
// (Prometheus, Thanos, Mimir, VictoriaMetrics) instead of scraping its /metrics: it fetches the raw samples
// of the test window with range selectors (`{__name__=~"vllm:.*", <selectors>}[W]`), groups them per target
// and per scrape timestamp, rebuilds each scrape's metric families (counters, gauges, classic histograms from
// `_bucket{le}`, `_sum`, `_count`) and hands them to serverstats (NewScrape, Window.Add), so per-interval and
// whole-window figures come from the same code as direct scrapes (DESIGN.md, "Prometheus as a source").
package promsource

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/auth"
)

// Config says which Prometheus to ask and which series to read. The zero value of every field but URL is
// usable.
type Config struct {
	// URL is the base URL of the Prometheus HTTP API, without /api/v1 (http or https, with a host):
	// "http://prometheus:9090", or a path prefix for Thanos, Mimir ("http://mimir/prometheus").
	URL string
	// Auth is what each request sends (bearer token, basic auth, headers), as for a scrape.
	Auth auth.Config
	// Namespace, Pod and Job, when set, select series whose `namespace`, `pod` and `job` labels equal them.
	Namespace, Pod, Job string
	// Matchers are more PromQL label matchers, each `name op "value"` with op one of = != =~ !~
	// (e.g. `cluster="eu-1"`, `pod=~"vllm-.*"`); the value is a double-quoted, single-quoted or back-quoted
	// PromQL string, and a regular expression must compile (RE2, as Prometheus's).
	Matchers []string
	// TargetLabels are the labels that tell targets (replicas) apart: series that share their values form one
	// target with its own serverstats.Window, and the labels are removed from its series. Empty:
	// DefaultTargetLabels.
	TargetLabels []string
	// Model is the model_name filter (serverstats.NewScrape): empty sums every model's series.
	Model string
	// MaxBodyBytes caps one API response (bytes); a larger one is an error. Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Chunk is the longest range one query asks for; a longer window is read in several queries. Zero:
	// DefaultChunk.
	Chunk time.Duration
	// Timeout bounds one query (the request and Prometheus's evaluation). Zero: DefaultTimeout.
	Timeout time.Duration
}

// Defaults of Config's zero fields.
const (
	// DefaultMaxBodyBytes is Config.MaxBodyBytes's default: 256 MiB, about an hour of 1 s samples of 2,000
	// series in the API's JSON.
	DefaultMaxBodyBytes = 256 << 20
	// DefaultChunk is Config.Chunk's default: 10 minutes of samples per query.
	DefaultChunk = 10 * time.Minute
	// DefaultTimeout is Config.Timeout's default for one query.
	DefaultTimeout = 60 * time.Second
)

// DefaultTargetLabels are the labels that tell targets apart when Config.TargetLabels is empty: the
// Prometheus scrape's own (`job`, `instance`) and the Kubernetes ones service discovery usually adds.
var DefaultTargetLabels = []string{"namespace", "pod", "job", "instance"}

// seriesNames is the __name__ matcher of every query: the vLLM series and the process start time a Window
// reads to see restarts.
const seriesNames = `__name__=~"vllm:.*|process_start_time_seconds"`

// dcgmNames is the __name__ matcher of the dcgm-exporter queries.
const dcgmNames = `__name__=~"DCGM_FI_.*"`

var (
	labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$`)
)

// Validate checks c and returns it with defaults filled. Errors name the field and what is wrong with it: a
// URL that is not http(s) with a host, a matcher that does not parse, a regular expression that does not
// compile, a matcher on __name__, a target label that is not a label name, contradictory auth, a negative
// limit.
func (c Config) Validate() (Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("promsource: Config.URL %q: want the Prometheus HTTP API's base URL, http or https with a host (e.g. http://localhost:9090)", auth.Redact(c.URL))
	}
	if err := c.Auth.Validate(); err != nil {
		return c, fmt.Errorf("promsource: Config.Auth: %w", err)
	}
	for i, m := range c.Matchers {
		if _, err := parseMatcher(m); err != nil {
			return c, fmt.Errorf("promsource: Config.Matchers[%d] %q: %w", i, m, err)
		}
	}
	for i, l := range c.TargetLabels {
		if !labelName.MatchString(l) || l == "__name__" {
			return c, fmt.Errorf("promsource: Config.TargetLabels[%d] %q: not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not __name__)", i, l)
		}
	}
	if len(c.TargetLabels) == 0 {
		c.TargetLabels = DefaultTargetLabels
	}
	switch {
	case c.MaxBodyBytes < 0:
		return c, fmt.Errorf("promsource: Config.MaxBodyBytes %d is negative", c.MaxBodyBytes)
	case c.Chunk < 0:
		return c, fmt.Errorf("promsource: Config.Chunk %v is negative", c.Chunk)
	case c.Timeout < 0:
		return c, fmt.Errorf("promsource: Config.Timeout %v is negative", c.Timeout)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Chunk == 0 {
		c.Chunk = DefaultChunk
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c, nil
}

// Selector returns the series selector of the vLLM queries, without its range: `{__name__=~"...", ...}`.
// c must be valid (Validate).
func (c Config) Selector() string { return c.selector(seriesNames) }

// DCGMSelector returns the series selector of the dcgm-exporter queries (DCGMSampler):
// `{__name__=~"DCGM_FI_.*", ...}` with c's selectors. c must be valid (Validate).
func (c Config) DCGMSelector() string { return c.selector(dcgmNames) }

// selector joins the __name__ matcher names with c's selectors.
func (c Config) selector(names string) string {
	parts := []string{names}
	for _, eq := range [][2]string{{"namespace", c.Namespace}, {"pod", c.Pod}, {"job", c.Job}} {
		if eq[1] != "" {
			parts = append(parts, eq[0]+"="+strconv.Quote(eq[1]))
		}
	}
	for _, m := range c.Matchers {
		pm, _ := parseMatcher(m)
		parts = append(parts, pm)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// parseMatcher checks one label matcher and returns it in canonical form (the value double-quoted).
func parseMatcher(m string) (string, error) {
	sub := matcherRE.FindStringSubmatch(m)
	if sub == nil {
		return "", fmt.Errorf(`want name op "value", op one of = != =~ !~`)
	}
	name, op, raw := sub[1], sub[2], sub[3]
	if name == "__name__" {
		return "", fmt.Errorf("__name__ is set by vmtest (vllm:* and process_start_time_seconds)")
	}
	val, err := unquote(raw)
	if err != nil {
		return "", err
	}
	if op == "=~" || op == "!~" {
		if _, err := regexp.Compile("^(?:" + val + ")$"); err != nil {
			return "", fmt.Errorf("regular expression: %w", err)
		}
	}
	return name + op + strconv.Quote(val), nil
}

// unquote reads a PromQL string literal: double-quoted or single-quoted with Go's escapes, or back-quoted
// raw.
func unquote(s string) (string, error) {
	bad := fmt.Errorf("value %s: want a quoted string (\"...\", '...' or `...`)", s)
	if len(s) < 2 || s[0] != s[len(s)-1] {
		return "", bad
	}
	q := s[0]
	if q == '\'' {
		s = singleToDouble(s[1 : len(s)-1])
	} else if q != '"' && q != '`' {
		return "", bad
	}
	v, err := strconv.Unquote(s)
	if err != nil {
		return "", bad
	}
	return v, nil
}

// singleToDouble rewrites the inside of a single-quoted string as a double-quoted Go literal: \' becomes ',
// a bare " is escaped, other escapes are kept.
func singleToDouble(in string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(in); i++ {
		switch c := in[i]; {
		case c == '\\' && i+1 < len(in) && in[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(in):
			b.WriteString(in[i : i+2])
			i++
		case c == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
