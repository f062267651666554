package vllmsim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With APIKey set, /v1 routes need the bearer token and /metrics the basic auth; /health stays open; each
// refusal is counted.
func TestRequiredCredentials(t *testing.T) {
	s := New(t, Config{APIKey: "sk-sim-123456", MetricsUsername: "prom", MetricsPassword: "pw-123456"})
	get := func(path string, set func(*http.Request)) int {
		req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
		require.NoError(t, err)
		set(req)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	none := func(*http.Request) {}
	bearer := func(k string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+k) }
	}
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	assert.Equal(t, 401, get("/v1/models", none))
	assert.Equal(t, 401, get("/v1/models", bearer("sk-sim-wrong")))
	assert.Equal(t, 200, get("/v1/models", bearer("sk-sim-123456")))
	assert.Equal(t, 401, get("/metrics", none))
	assert.Equal(t, 401, get("/metrics", basic("prom", "wrong")))
	assert.Equal(t, 200, get("/metrics", basic("prom", "pw-123456")))
	assert.Equal(t, 200, get("/health", none))
	assert.Equal(t, int64(4), s.Unauthorized())

	resp, err := http.Post(s.URL+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
}
