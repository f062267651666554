package loadgen

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func within(got, want, tol time.Duration) bool { return got >= want-tol && got <= want+tol }

// At 32 concurrent streams against the simulator with an injected TTFT of 50 ms and 10 ms per output token,
// the measured medians are within 2 ms of the injected values (issue 4, item 5).
//
// The machine has 2 cores shared by the client, the simulator and whatever else runs: CPU contention only
// ever makes a measurement late, while a systematic error of the client shows in every attempt. So a
// measurement is repeated (at most 3 attempts) until one is within tolerance. Under the race detector, which
// slows both sides several times, the run and its outcomes are checked but the 2 ms bounds are not. It runs
// only when VMTEST_TIMING=1 asks, since a loaded machine can miss 2 ms whatever the client does.
func TestMeasuresInjectedLatenciesAt32Streams(t *testing.T) {
	if os.Getenv("VMTEST_TIMING") != "1" {
		t.Skip("checks wall-clock accuracy on this machine: set VMTEST_TIMING=1 to run it")
	}
	const (
		ttft   = 50 * time.Millisecond
		tpot   = 10 * time.Millisecond
		tokens = 16
		tol    = 2 * time.Millisecond
	)
	sim := vllmsim.New(t, vllmsim.Config{TTFTBase: ttft, TTFTPerPromptToken: 0, TimePerOutputToken: tpot})
	for _, chat := range []bool{false, true} {
		prompts := TextPrompts("The quick brown fox", "jumps over the lazy dog")
		if chat {
			prompts = ChatPrompts("The quick brown fox", "jumps over the lazy dog")
		}
		for attempt := 1; ; attempt++ {
			sink := &sliceSink{}
			res, err := Run(context.Background(), LoadConfig{
				Client:      ClientConfig{BaseURL: sim.URL},
				Prompts:     prompts,
				Params:      Params{Model: vllmsim.DefaultModel, MaxTokens: tokens},
				Concurrency: 32,
				// One request lasts ≈ 50 + 15×10 = 200 ms: spreading the workers over it keeps 32 streams in
				// flight without every round arriving as one burst of 32 simultaneous requests, whose HTTP
				// handling on a 2-core machine (client and simulator share it) would itself delay admission.
				RampUp:   200 * time.Millisecond,
				Warmup:   32,
				Requests: 128,
				Sink:     sink,
			})
			require.NoError(t, err)
			recs := sink.all()
			require.Len(t, recs, 128)
			var ttfts, tpots, itls []time.Duration
			for _, r := range recs {
				require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
				require.Equal(t, tokens, r.OutputTokens)
				require.False(t, r.OutputTokensEstimated)
				require.Len(t, r.TokenTimes, tokens)
				ttfts = append(ttfts, r.FirstToken.Sub(r.Start))
				// TPOT as vLLM's bench serve computes it: (E2E − TTFT) / (output_tokens − 1).
				tpots = append(tpots, r.End.Sub(r.FirstToken)/time.Duration(r.OutputTokens-1))
				for k := 1; k < len(r.TokenTimes); k++ {
					itls = append(itls, r.TokenTimes[k].Sub(r.TokenTimes[k-1]))
				}
			}
			mt, mp, mi := median(ttfts), median(tpots), median(itls)
			t.Logf("chat=%v attempt %d: median TTFT %v, TPOT %v, ITL %v; %v", chat, attempt, mt, mp, mi, res)
			ok := within(mt, ttft, tol) && within(mp, tpot, tol) && within(mi, tpot, tol)
			if ok || raceEnabled {
				break
			}
			if attempt == 3 {
				t.Errorf("chat=%v: median TTFT %v, TPOT %v, ITL %v: not within %v of the injected %v / %v in 3 attempts",
					chat, mt, mp, mi, tol, ttft, tpot)
				break
			}
		}
	}
}

// Against the simulator's fault injection, each fault becomes its own outcome, request by request.
func TestSimulatorFaultsBecomeOutcomes(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{
		Reject429: vllmsim.Fault{Every: 2}, Error500: vllmsim.Fault{Every: 3},
		StreamError: vllmsim.Fault{Every: 5}, Truncate: vllmsim.Fault{Every: 7},
		ReasoningTokens: 3, TimePerOutputToken: time.Millisecond, // tokens apart, so reasoning precedes content
	})
	sink := &sliceSink{}
	const n = 70
	res, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: sim.URL}, Prompts: ChatPrompts("Why?"), Params: Params{MaxTokens: 8},
		Concurrency: 1, Requests: n, Sink: sink, // one worker: request i is the simulator's request number i+1
		MaxRetryAfter: time.Millisecond, // each 429's Retry-After: 1 is honoured, capped so 35 waits take 35 ms
	})
	require.NoError(t, err)
	want := map[recorder.Outcome]int{}
	for _, r := range sink.all() {
		i, err := strconv.Atoi(r.ID)
		require.NoError(t, err)
		num := i + 1
		var exp recorder.Outcome
		switch {
		case num%2 == 0:
			exp = recorder.OutcomeRejected
			require.Equal(t, 429, r.HTTPStatus)
		case num%3 == 0:
			exp = recorder.OutcomeFailed
			require.Equal(t, 500, r.HTTPStatus)
		case num%5 == 0:
			exp = recorder.OutcomeFailed
			var se *StreamError
			require.ErrorAs(t, r.Err, &se, "request %d", num)
			require.Equal(t, 200, r.HTTPStatus)
			require.Equal(t, "500", se.Code, "the error's code is kept")
			require.Equal(t, 4, r.OutputTokens, "the tokens before the error (FaultAfterTokens: max_tokens/2) are kept")
		case num%7 == 0:
			exp = recorder.OutcomeIncomplete
			require.ErrorIs(t, r.Err, ErrTruncated, "request %d", num)
		default:
			exp = recorder.OutcomeOK
			require.Equal(t, 8, r.OutputTokens)
			require.Len(t, r.TokenTimes, 8)
			// The 3 reasoning tokens come before content: first content is the 4th token-bearing chunk. (Under load
			// several chunks can arrive in one read and share its time, so the times may be equal, never reversed.)
			require.False(t, r.FirstContent.Before(r.FirstToken), "content before the reasoning tokens")
			require.Equal(t, r.TokenTimes[3], r.FirstContent)
			require.Equal(t, r.TokenTimes[0], r.FirstToken)
		}
		require.Equal(t, exp, r.Outcome, "request %d: %v", num, r.Err)
		want[exp]++
	}
	require.Equal(t, want, res.Outcomes)
	require.Equal(t, n/2, res.RetryAfterWaits, "every 429 carried Retry-After and made the worker wait")
	require.Len(t, sink.all(), n)
}

// The simulator's Stall fault: the stream goes silent after its role-only chunk; the client ends it at the
// stall limit, with that reason, long before the first-token limit.
func TestSimulatorStallEndsAtTheStallLimit(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{Stall: vllmsim.Fault{Every: 1}})
	c, err := NewClient(ClientConfig{BaseURL: sim.URL, StallTimeout: 50 * time.Millisecond, FirstTokenTimeout: time.Hour})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a safety net, not a measure
	defer cancel()
	r := c.Do(ctx, ChatPrompts("Why?")[0], Params{MaxTokens: 8})
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	assert.ErrorIs(t, r.Err, ErrStallTimeout)
	assert.NotErrorIs(t, r.Err, ErrCanceled)
	assert.True(t, r.FirstToken.IsZero())
	assert.Equal(t, 200, r.HTTPStatus)
}

// The case end to end, smaller (TestHugeErrorEventsKeepSmallRecords has the 12 MB events): 20
// streams whose error events carry 1 MB each, recorded: every row keeps a capped error and the tokens before it.
func TestSimulatorHugeStreamErrorsRecordedSmall(t *testing.T) {
	const streams, size = 20, 1 << 20
	sim := vllmsim.New(t, vllmsim.Config{StreamError: vllmsim.Fault{Every: 1}, FaultAfterTokens: 3, StreamErrorBytes: size})
	rec := recorder.New(time.Now(), recorder.Config{})
	_, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: sim.URL}, Prompts: ChatPrompts("Why?"), Params: Params{MaxTokens: 8},
		Concurrency: streams, Requests: streams, Sink: rec,
	})
	require.NoError(t, err)
	_, rows := rec.Cut()
	require.Len(t, rows, streams)
	for _, row := range rows {
		assert.Equal(t, recorder.OutcomeFailed, row.Outcome)
		assert.Equal(t, 3, row.OutputTokens)
		assert.Contains(t, row.Error, "InternalServerError (code 500): vllmsim: injected error after 3 tokens...")
		assert.LessOrEqual(t, len(row.Error), 200+MaxErrorText)
	}
}
