package serverstats

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func crossStats(ttftCount, gen float64) Stats {
	return Stats{
		Scrapes:   10,
		Figures:   Figures{TTFT: &Histogram{Metric: "vllm:time_to_first_token_seconds", Count: ttftCount}, GenerationTokens: &gen},
		NamesUsed: map[string]string{FieldGenerationTokensTotal: "vllm:generation_tokens_total"},
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

	// A tolerance that is not a whole number prints rounded: 5 % of 1926 is 96.3, not 96.30000000000001.
	w = CrossCheck(crossStats(12, 1926), 12, 1536)
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "differ by 390 (+25.4% of the client's), beyond the tolerance of 96.3 (max(64, 5% of the larger))")

	// Not exposed: said, not silently skipped.
	st := crossStats(0, 0)
	st.TTFT, st.GenerationTokens = nil, nil
	st.NotExposed = map[string]string{FieldTTFTSeconds: "not exposed (looked for vllm:time_to_first_token_seconds)"}
	w = CrossCheck(st, 5, 50)
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "cross-check of requests not done")
	assert.Contains(t, w[0], "looked for vllm:time_to_first_token_seconds")
	assert.Contains(t, w[1], "cross-check of output tokens not done")

	// Fewer than two scrapes: nothing to compare.
	assert.Nil(t, CrossCheck(Stats{Scrapes: 1}, 5, 50))
}
