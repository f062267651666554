package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

// countingSim serves a simulator and counts the generation requests it gets.
func countingSim(t *testing.T, seed uint64) (string, *atomic.Int64) {
	sim := vllmsim.New(t, vllmsim.Config{Seed: seed})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// Requests go round robin over BaseURL and MoreBaseURLs: 7 requests to three replicas are 3, 2 and 2.
func TestClientRoundRobin(t *testing.T) {
	a, na := countingSim(t, 1)
	b, nb := countingSim(t, 2)
	c, nc := countingSim(t, 3)
	cl, err := NewClient(ClientConfig{BaseURL: a, MoreBaseURLs: []string{b + "/v1", c + "/"}})
	require.NoError(t, err)
	for range 7 {
		r := cl.Do(context.Background(), TextPrompts("hi")[0], Params{MaxTokens: 2})
		require.Equal(t, recorder.OutcomeOK, r.Outcome, "%v", r.Err)
	}
	assert.Equal(t, []int64{3, 2, 2}, []int64{na.Load(), nb.Load(), nc.Load()})
	_, err = NewClient(ClientConfig{BaseURL: a, MoreBaseURLs: []string{"localhost:1"}})
	assert.ErrorContains(t, err, "ClientConfig.MoreBaseURLs[0]")
}
