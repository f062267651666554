package serverstats

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/samplers"
)

func crossStats(ttftCount, gen float64) Stats {
	return Stats{
		Scrapes:   10,
		Figures:   Figures{TTFT: &Histogram{Metric: "vllm:time_to_first_token_seconds", Count: ttftCount}, GenerationTokens: &gen},
		NamesUsed: map[string]string{samplers.VLLMGenerationTokensTotal: "vllm:generation_tokens_total"},
	}
}

func TestCrossCheck(t *testing.T) {
	// Within tolerance: requests |100 − 96| = 4 ≤ max(2, 5 % of 100) = 5; tokens |10000 − 9600| = 400 ≤ 500.
	assert.Empty(t, CrossCheck(crossStats(100, 10000), 96, 9600))
	// A small run: |3 − 1| = 2 ≤ the floor of 2 requests; |40 − 0| ≤ 64 tokens.
	assert.Empty(t, CrossCheck(crossStats(3, 40), 1, 0))

	// Beyond: 120 observations for 100 requests (tolerance max(2, 6) = 6); 8000 tokens for 10000 (tolerance 500).
	w := CrossCheck(crossStats(120, 8000), 100, 10000)
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "server TTFT observations over the window (120 from vllm:time_to_first_token_seconds) and requests the client completed (100) differ by 20 (+20.0% of the client's), beyond the tolerance of 6")
	assert.Contains(t, w[0], "other clients or warm-up")
	assert.Contains(t, w[1], "server generation tokens over the window (8000 from vllm:generation_tokens_total) and the client's output tokens (10000) differ by -2000 (-20.0% of the client's), beyond the tolerance of 500")

	// Not exposed: said, not silently skipped.
	st := crossStats(0, 0)
	st.TTFT, st.GenerationTokens = nil, nil
	st.NotExposed = map[string]string{samplers.VLLMTTFTSeconds: "not exposed (looked for vllm:time_to_first_token_seconds)"}
	w = CrossCheck(st, 5, 50)
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "cross-check of requests not done")
	assert.Contains(t, w[0], "looked for vllm:time_to_first_token_seconds")
	assert.Contains(t, w[1], "cross-check of output tokens not done")

	// Fewer than two scrapes: nothing to compare.
	assert.Nil(t, CrossCheck(Stats{Scrapes: 1}, 5, 50))
}

// End to end through the real vLLM sampler: Sample, then LastScrape into Add, as the collector does.
func TestWindowWithSampler(t *testing.T) {
	base := capture(t, v0)
	busier := v0Busier(t, base)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		if n.Add(1) == 1 {
			_, _ = w.Write([]byte(base))
		} else {
			_, _ = w.Write([]byte(busier))
		}
	}))
	defer srv.Close()
	now := t0
	v, err := samplers.NewVLLM(samplers.VLLMConfig{BaseURL: srv.URL, Now: func() time.Time { now = now.Add(time.Second); return now }})
	require.NoError(t, err)

	win := NewWindow()
	for range 2 {
		r := v.Sample(context.Background())
		require.NoError(t, r.Err)
		win.Add(v.LastScrape())
	}
	st := win.Summary()
	assert.Equal(t, 16.0, st.TTFT.Count)
	assert.InDelta(t, 220, ms(st.TTFT.P50MS), 1e-9)
	assert.Equal(t, 1234.0, deref(st.GenerationTokens))
	assert.Equal(t, v.NamesUsed()[samplers.VLLMITLSeconds], st.NamesUsed[samplers.VLLMITLSeconds])
	assert.Empty(t, CrossCheck(st, 16, 1234))
	assert.Len(t, CrossCheck(st, 10, 1234), 1)
}
