package serverstats

import (
	"strings"
	"testing"
	"time"

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

// latencyStats is crossStats(count, 100 × count) with TTFT and E2E latency means (ms) over count observations.
func latencyStats(count, ttftMS, e2eMS float64) Stats {
	st := crossStats(count, 100*count)
	st.TTFT.MeanMS, st.TTFT.SumMS = &ttftMS, ttftMS*count
	st.E2ELatency = &Histogram{Metric: "vllm:e2e_request_latency_seconds", Count: count, SumMS: e2eMS * count, MeanMS: &e2eMS}
	return st
}

// The means are compared when the counts agree, with a tolerance of max(20 ms, 20 % of the larger mean).
func TestCrossCheckLatencyMeans(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tally := func(ok int, ttft, e2e *float64) ClientTally {
		return ClientTally{OK: ok, OutputTokens: int64(100 * ok), TTFTMeanMS: ttft, E2EMeanMS: e2e}
	}
	// TTFT: server 100, client 130: |−30| > max(20, 26) = 26. E2E: server 1000, client 1100: 100 ≤ 220.
	w := CrossCheck(latencyStats(100, 100, 1000), tally(100, f(130), f(1100)))
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "server and client disagree on mean TTFT: 100 ms on the server (vllm:time_to_first_token_seconds over 100 observations) "+
		"against 130 ms on the client, -30.0 ms (-23.1% of the client's), beyond the tolerance of 26 ms (max(20 ms, 20% of the larger))")
	assert.Contains(t, w[0], "see client_statistics")
	// Within: 100 against 125 is |25| ≤ max(20, 25) = 25.
	assert.Empty(t, CrossCheck(latencyStats(100, 100, 1000), tally(100, f(125), f(1100))))
	// Short latencies: the 20 ms floor. Server 5, client 24: 19 ≤ 20; 26: 21 > 20.
	assert.Empty(t, CrossCheck(latencyStats(100, 5, 50), tally(100, f(24), f(60))))
	w = CrossCheck(latencyStats(100, 5, 50), tally(100, f(26), f(60)))
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "beyond the tolerance of 20 ms")
	// E2E: server 1000, client 700: 300 > max(20, 200).
	w = CrossCheck(latencyStats(100, 100, 1000), tally(100, f(100), f(700)))
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "mean E2E latency: 1000 ms on the server (vllm:e2e_request_latency_seconds over 100 observations) against 700 ms on the client, +300.0 ms")
	// Counts that disagree (120 against 100): the means are of different requests, so only the count warns.
	w = CrossCheck(latencyStats(120, 100, 1000), tally(100, f(300), f(3000)))
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "server TTFT observations")
	assert.Contains(t, w[1], "server generation tokens")
	// With warm-up in the window (4 of the server's 104 observations), a server mean over the client's may be
	// the warm-up's cold start: not judged. One under it still is.
	warm := func(ttft, e2e *float64) ClientTally {
		c := tally(100, ttft, e2e)
		c.WarmupOK, c.WarmupOutputTokens = 4, 400
		return c
	}
	assert.Empty(t, CrossCheck(latencyStats(104, 300, 3000), warm(f(100), f(1000))))
	w = CrossCheck(latencyStats(104, 100, 1000), warm(f(300), f(1000)))
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "server and client disagree on mean TTFT: 100 ms on the server (vllm:time_to_first_token_seconds over 104 observations) against 300 ms")
	// A mean unknown on either side is not compared.
	assert.Empty(t, CrossCheck(latencyStats(100, 100, 1000), tally(100, nil, nil)))
	st := latencyStats(100, 100, 1000)
	st.E2ELatency = nil
	assert.Empty(t, CrossCheck(st, tally(100, f(100), f(5000))))
}

// The restart text reads the restart times from the statistics, not the events' text (a Fleet's start
// "replica <name>: ", and events past MaxSourceEvents are not kept): restarts 2 s and 6.5 s after the start are
// named; with a third past RestartTimes' bound the text says how many it lists.
func TestRestartText(t *testing.T) {
	start := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	s := &Stats{Restarts: 2, RestartTimes: []time.Time{start.Add(2 * time.Second), start.Add(6500 * time.Millisecond)}}
	want := "the server restarted 2 times in the window (seen at 2.0 s, 6.5 s): what it generated between its last scrape and each restart is in none of its counters"
	assert.Equal(t, want, s.RestartText(start))
	s.Restarts = 3
	assert.Equal(t, "the server restarted 3 times in the window (seen at 2.0 s, 6.5 s, the first 2 of them): what it generated between its last scrape and each restart is in none of its counters", s.RestartText(start))
	assert.Equal(t, "the server restarted 3 times in the window: what it generated between its last scrape and each restart is in none of its counters", s.RestartText(time.Time{}), "no start, no times")
	assert.Empty(t, (&Stats{}).RestartText(start))
	assert.Empty(t, (*Stats)(nil).RestartText(start))
}

// A count that differs while the server restarted says so, with the restart's time from the run's start (or,
// without one, from the window's first scrape); a latency difference does not (a restart loses counts, not
// time). 80 observations and 6000 tokens for 100 requests of 10000 tokens; means 100 ms against 200 ms.
func TestCrossCheckNamesRestarts(t *testing.T) {
	start := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	first := start.Add(500 * time.Millisecond)
	st := crossStats(100, 6000)
	st.Start, st.Restarts, st.RestartTimes = &first, 1, []time.Time{start.Add(3 * time.Second)}
	st.TTFT.MeanMS = new(100.0)
	const tail = "; and the server restarted once in the window (seen at 3.0 s): what it generated between its last scrape and each restart is in none of its counters"
	w := CrossCheck(st, ClientTally{OK: 100, OutputTokens: 10000, TTFTMeanMS: new(200.0), RunStart: start})
	require.Len(t, w, 2, "%q", w)
	assert.True(t, strings.HasPrefix(w[0], "server and client disagree on mean TTFT"), w[0])
	assert.NotContains(t, w[0], "restarted")
	assert.True(t, strings.HasSuffix(w[1], "output_tokens estimated from chunks"+tail), w[1])

	w = CrossCheck(st, ClientTally{OK: 80, OutputTokens: 10000})
	require.Len(t, w, 2, "%q", w)
	assert.True(t, strings.HasSuffix(w[0], "failed after their first token; and the server restarted once in the window (seen at 2.5 s): what it generated between its last scrape and each restart is in none of its counters"), w[0])
	assert.True(t, strings.HasSuffix(w[1], "(seen at 2.5 s): what it generated between its last scrape and each restart is in none of its counters"), w[1])

	// A scope (a rebuilt run's cut) follows every warning's why, before the restart's text; the latency
	// warning gets the scope alone. With neither a run start nor the window's start, no times are said.
	st.Start = nil
	w = CrossCheck(st, ClientTally{OK: 100, OutputTokens: 10000, TTFTMeanMS: new(200.0), Scope: " (SCOPE)"})
	require.Len(t, w, 2, "%q", w)
	assert.True(t, strings.HasSuffix(w[0], "the scrapes are of other requests (SCOPE)"), w[0])
	assert.True(t, strings.HasSuffix(w[1], "estimated from chunks (SCOPE); and the server restarted once in the window: what it generated between its last scrape and each restart is in none of its counters"), w[1])
}
