package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

func TestModelsListsTheServersModels(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{Model: "m-one"})
	for _, base := range []string{sim.URL, sim.URL + "/", sim.URL + "/v1"} {
		c, err := NewClient(ClientConfig{BaseURL: base})
		require.NoError(t, err)
		ids, err := c.Models(context.Background())
		require.NoError(t, err, base)
		assert.Equal(t, []string{"m-one"}, ids, base)
	}
}

func TestModelsSendsAuthAndReportsBadAnswers(t *testing.T) {
	var body, auth string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/v1/models", r.URL.Path)
		assert.Equal(t, "yes", r.Header.Get("X-Test"))
		auth = r.Header.Get("Authorization")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(ClientConfig{BaseURL: srv.URL, APIKey: "k", Header: http.Header{"X-Test": {"yes"}}})
	require.NoError(t, err)

	body = `{"object":"list","data":[{"id":"a"},{"id":""},{"id":"b"}]}`
	ids, err := c.Models(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ids)
	assert.Equal(t, "Bearer k", auth)

	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{http.StatusUnauthorized, `{"error":"no"}`, "401"},
		{http.StatusOK, `not json`, "not a model list"},
		{http.StatusOK, `{"data":[]}`, "no model"},
	} {
		status, body = tc.status, tc.body
		_, err := c.Models(context.Background())
		require.Error(t, err, tc.body)
		assert.Contains(t, err.Error(), tc.want)
		assert.Contains(t, err.Error(), srv.URL+"/v1/models")
	}
}

func TestValidateMatchesRun(t *testing.T) {
	ok := LoadConfig{Client: ClientConfig{BaseURL: "http://127.0.0.1:1"}, Prompts: TextPrompts("p"), Requests: 1, Sink: &sliceSink{}}
	require.NoError(t, ok.Validate())
	for name, mut := range map[string]func(*LoadConfig){
		"Prompts":        func(c *LoadConfig) { c.Prompts = nil },
		"Requests":       func(c *LoadConfig) { c.Requests = 0 },
		"MaxConcurrency": func(c *LoadConfig) { c.Rate, c.Concurrency = 1, 2 },
		"BaseURL":        func(c *LoadConfig) { c.Client.BaseURL = "ftp://x" },
		"Extra":          func(c *LoadConfig) { c.Params.Extra = map[string]any{"model": "x"} },
		"Prompts[0]":     func(c *LoadConfig) { c.Prompts = []Prompt{{}} },
	} {
		c := ok
		mut(&c)
		verr := c.Validate()
		_, rerr := Run(context.Background(), c)
		require.Error(t, verr, name)
		assert.Equal(t, rerr.Error(), verr.Error(), name)
		assert.True(t, strings.Contains(verr.Error(), strings.TrimSuffix(name, "[0]")), "%s: %v", name, verr)
	}
}
