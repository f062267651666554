package loadgen

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/recorder"
)

// clientSecrets lists what the client must never show: its API key, its extra header values and the
// credentials in its base URL.
func clientSecrets(cfg ClientConfig) []string {
	s := auth.URLSecrets(cfg.BaseURL)
	for _, u := range cfg.MoreBaseURLs {
		s = append(s, auth.URLSecrets(u)...)
	}
	if cfg.APIKey != "" {
		s = append(s, cfg.APIKey)
	}
	for _, vs := range cfg.Header {
		s = append(s, vs...)
	}
	return s
}

// redactErr passes err through auth.Error with the client's secrets.
func (c *Client) redactErr(err error) error { return auth.Error(err, c.secrets...) }

// redact hides the client's secrets in rec's error.
func (c *Client) redact(rec *recorder.Request) {
	if rec.Err != nil {
		rec.Err = c.redactErr(rec.Err)
	}
}

// httpError describes a non-2xx response whose body starts with head and which arrived at `at`.
func (c *Client) httpError(resp *http.Response, head []byte, at time.Time) *HTTPError {
	return &HTTPError{
		StatusCode: resp.StatusCode,
		Body:       auth.Redact(excerpt(head, MaxErrorText), c.secrets...),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), at),
	}
}

// maxRetryAfterSeconds bounds the seconds parseRetryAfter reads, so that no value overflows a Duration.
const maxRetryAfterSeconds = 1 << 32

// parseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): a number of seconds, or an HTTP date, taken
// relative to now. It returns 0 for an empty, malformed or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		return time.Duration(min(n, maxRetryAfterSeconds)) * time.Second
	} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return maxRetryAfterSeconds * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return max(t.Sub(now), 0)
}
