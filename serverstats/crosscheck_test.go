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
	assert.Empty(t, CrossCheck(crossStats(100, 10000), ClientTally{OK: 96, OutputTokens: 9600}))
	// A small run: |3 − 1| = 2 ≤ the floor of 2 requests; |40 − 0| ≤ 64 tokens.
	assert.Empty(t, CrossCheck(crossStats(3, 40), ClientTally{OK: 1, OutputTokens: 0}))

	// Beyond: 120 observations for 100 requests (tolerance max(2, 6) = 6); 8000 tokens for 10000 (tolerance 500).
	w := CrossCheck(crossStats(120, 8000), ClientTally{OK: 100, OutputTokens: 10000})
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "server TTFT observations over the window (120 from vllm:time_to_first_token_seconds) and requests the client completed (100) differ by 20 (+20.0% of the client's), beyond the tolerance of 6")
	assert.Contains(t, w[0], "other clients or warm-up")
	assert.Contains(t, w[1], "server generation tokens over the window (8000 from vllm:generation_tokens_total) and the client's output tokens (10000) differ by -2000 (-20.0% of the client's), beyond the tolerance of 500")

	// A tolerance that is not a whole number prints rounded: 5 % of 1926 is 96.3, not 96.30000000000001.
	w = CrossCheck(crossStats(12, 1926), ClientTally{OK: 12, OutputTokens: 1536})
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "differ by 390 (+25.4% of the client's), beyond the tolerance of 96.3 (max(64, 5% of the larger))")

	// Not exposed: said, not silently skipped.
	st := crossStats(0, 0)
	st.TTFT, st.GenerationTokens = nil, nil
	st.NotExposed = map[string]string{FieldTTFTSeconds: "not exposed (looked for vllm:time_to_first_token_seconds)"}
	w = CrossCheck(st, ClientTally{OK: 5, OutputTokens: 50})
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "cross-check of requests not done")
	assert.Contains(t, w[0], "looked for vllm:time_to_first_token_seconds")
	assert.Contains(t, w[1], "cross-check of output tokens not done")

	// The example's own warm-up: 36 TTFT observations and 36 × 64 = 2304 tokens for 32 measured requests of
	// 64 tokens (2048) and 4 warm-up (256). Without the warm-up they differ by 4 (> the floor of 2) and 256
	// tokens (> max(64, 5 % of 2304 = 115.2)); with it, by 0.
	assert.Len(t, CrossCheck(crossStats(36, 2304), ClientTally{OK: 32, OutputTokens: 2048}), 2)
	assert.Empty(t, CrossCheck(crossStats(36, 2304), ClientTally{OK: 32, OutputTokens: 2048, WarmupOK: 4, WarmupOutputTokens: 256}))
	// Another client's 10 requests beside them still show: 46 against 32 + 4, 2944 tokens against 2048 + 256
	// (tolerance max(64, 5 % of 2944 = 147.2)).
	w = CrossCheck(crossStats(46, 2944), ClientTally{OK: 32, OutputTokens: 2048, WarmupOK: 4, WarmupOutputTokens: 256})
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "and requests the client completed (32 + 4 warm-up) differ by 10 (+27.8% of the client's), beyond the tolerance of 2.3 (max(2, 5% of the larger))")
	assert.Contains(t, w[1], "and the client's output tokens (2048 + 256 warm-up) differ by 640 (+27.8% of the client's), beyond the tolerance of 147.2")

	// Fewer than two scrapes: nothing to compare.
	assert.Nil(t, CrossCheck(Stats{Scrapes: 1}, ClientTally{OK: 5, OutputTokens: 50}))
}
