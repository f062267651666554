package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	vassert "github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/recorder"
)

// The rule's count decides the percentile for every number of successful requests n ≤ N: checked against
// recorder.Percentile (numpy's linear method) by brute force. With need values ≥ L the pq is ≥ L whatever
// the other values and n; with need − 1 values at L and every other value 0, at n = N it is < L: counting
// requests over the limit cannot decide sooner.
func TestPercentileRuleDecides(t *testing.T) {
	const limit = 100.0
	for _, q := range []int{50, 90, 95, 99} {
		for planned := 1; planned <= 120; planned++ {
			ru, ok := decidable(mustThreshold(t, fmt.Sprintf("p(%d) ttft < %gms", q, limit)), planned)
			require.True(t, ok)
			for n := ru.need; n <= planned; n++ {
				vs := make([]float64, n)
				for i := range vs {
					if i >= n-ru.need {
						vs[i] = limit // exactly the limit: "<" fails on it
					}
				}
				assert.GreaterOrEqual(t, recorder.Percentile(vs, float64(q)), limit, "q=%d N=%d n=%d", q, planned, n)
			}
			if ru.need > 1 {
				vs := make([]float64, planned)
				for i := planned - ru.need + 1; i < planned; i++ {
					vs[i] = limit
				}
				assert.Less(t, recorder.Percentile(vs, float64(q)), limit, "q=%d N=%d: one fewer does not decide", q, planned)
			}
		}
	}
	ru, _ := decidable(mustThreshold(t, "p(99) ttft < 1s"), 40)
	assert.Equal(t, 2, ru.need, "40 − ⌊39·0.99⌋ = 40 − 38")
	ru, _ = decidable(mustThreshold(t, "p(50) e2e < 1s"), 10)
	assert.Equal(t, 6, ru.need, "10 − ⌊9·0.5⌋ = 10 − 4")
}

func mustThreshold(t *testing.T, expr string) vassert.Threshold {
	t.Helper()
	th, err := vassert.ParseThreshold(expr)
	require.NoError(t, err)
	return th
}

// Only error_rate and upper limits on per-request client percentiles are decided early, and only with a
// planned count.
func TestDecidable(t *testing.T) {
	for expr, want := range map[string]bool{
		"p(99) ttft < 200ms": true, "p(90) e2e <= 2s": true, "tpot.p50 < 20ms": true,
		"p(99) ttft_from_intended < 1s": true, "error_rate < 1%": true, "error_rate <= 0.05": true,
		"mean ttft < 100ms": false, "max ttft < 1s": false, "p(99) itl < 50ms": false, "server.ttft.p99 < 1s": false,
		"throughput > 10": false, "p(99) ttft > 1ms": false, "request_throughput >= 1": false,
	} {
		_, ok := decidable(mustThreshold(t, expr), 100)
		assert.Equal(t, want, ok, expr)
	}
	_, ok := decidable(mustThreshold(t, "p(99) ttft < 200ms"), 0)
	assert.False(t, ok, "no planned count: nothing is decided early")
}

type countSink struct {
	mu sync.Mutex
	n  int
}

func (c *countSink) RecordRequest(recorder.Request) { c.mu.Lock(); c.n++; c.mu.Unlock() }

// "<=" counts values above the limit only; canceled requests count for nothing; every request still reaches
// the sink, also after the decision.
func TestGuardCounts(t *testing.T) {
	now := time.Now()
	req := func(ttft time.Duration, out recorder.Outcome) recorder.Request {
		return recorder.Request{Start: now, FirstToken: now.Add(ttft), End: now.Add(ttft + time.Millisecond), OutputTokens: 2, Outcome: out}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	sink := &countSink{}
	ru, _ := decidable(mustThreshold(t, "p(99) ttft <= 100ms"), 40) // need 2
	er, _ := decidable(mustThreshold(t, "error_rate < 5%"), 40)     // 2/40 = 5 % is not below 5 %
	g := newGuard(sink, 40, []rule{ru, er}, cancel)
	g.RecordRequest(req(100*time.Millisecond, recorder.OutcomeOK)) // at the limit: holds for <=
	g.RecordRequest(req(time.Second, recorder.OutcomeCanceled))
	g.RecordRequest(req(time.Second, recorder.OutcomeOK))
	g.RecordRequest(req(0, recorder.OutcomeFailed))
	assert.Empty(t, g.stopped())
	require.NoError(t, ctx.Err())
	g.RecordRequest(req(0, recorder.OutcomeRejected))
	assert.Equal(t, `stopped early: threshold "error_rate < 5%" can no longer be met: 2 of 40 planned requests did not succeed: error_rate is at least 0.05, want < 5%`, g.stopped())
	assert.True(t, errors.Is(context.Cause(ctx), errStoppedEarly))
	g.RecordRequest(req(time.Second, recorder.OutcomeOK))
	assert.Contains(t, g.stopped(), "error_rate", "the first decision stays")
	assert.Equal(t, 6, sink.n)
	assert.False(t, math.IsNaN(ru.q))
}

// A group's threshold (model.<name>.*, turn.<k>.*) is decided as the totals' are, on its own requests: a
// group's requests are at most the planned count, so the same bounds hold for them.
func TestDecidableGroups(t *testing.T) {
	for expr, want := range map[string]bool{
		"model.base.ttft.p99 < 200ms": true, "p(90) model.org/m-1.5b.e2e <= 2s": true, "turn.2.ttft.p99 < 1s": true,
		"model.base.error_rate < 1%": true, "turn.1.error_rate <= 0.05": true, "turn.3.tpot.p50 < 20ms": true,
		"model.base.ttft.mean < 100ms": false, "model.base.requests.total < 5": false, "turn.1.throughput > 1": false,
	} {
		_, ok := decidable(mustThreshold(t, expr), 100)
		assert.Equal(t, want, ok, expr)
	}
}

// A group's rule counts its own requests only (a model matched case-insensitively, as Lookup does).
func TestGuardGroups(t *testing.T) {
	now := time.Now()
	req := func(model string, turn int, ttft time.Duration, out recorder.Outcome) recorder.Request {
		return recorder.Request{Start: now, FirstToken: now.Add(ttft), End: now.Add(ttft + time.Millisecond), OutputTokens: 2,
			Outcome: out, Model: model, Turn: turn}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	ru, _ := decidable(mustThreshold(t, "model.org/m-1.5b.ttft.p99 < 100ms"), 40) // need 2
	er, _ := decidable(mustThreshold(t, "turn.2.error_rate < 5%"), 40)            // 2 of 40
	g := newGuard(&countSink{}, 40, []rule{ru, er}, cancel)
	g.RecordRequest(req("base", 1, time.Second, recorder.OutcomeOK))       // another model
	g.RecordRequest(req("base", 1, time.Second, recorder.OutcomeOK))       // another model
	g.RecordRequest(req("Org/M-1.5B", 2, time.Second, recorder.OutcomeOK)) // 1 of 2
	g.RecordRequest(req("base", 1, 0, recorder.OutcomeFailed))             // another turn
	g.RecordRequest(req("base", 1, 0, recorder.OutcomeFailed))             // another turn
	g.RecordRequest(req("base", 2, 0, recorder.OutcomeFailed))             // 1 of 2
	assert.Empty(t, g.stopped())
	require.NoError(t, ctx.Err())
	g.RecordRequest(req("org/m-1.5b", 1, 100*time.Millisecond, recorder.OutcomeOK)) // 2 of 2: at the limit, not below it
	assert.Equal(t, `stopped early: threshold "model.org/m-1.5b.ttft.p99 < 100ms" can no longer be met: 2 successful requests of model org/m-1.5b have ttft ≥ 100ms, and with at most 40 planned, 2 such decide the p99`, g.stopped())
	assert.True(t, errors.Is(context.Cause(ctx), errStoppedEarly))

	ctx, cancel = context.WithCancelCause(context.Background())
	g = newGuard(&countSink{}, 40, []rule{er}, cancel)
	g.RecordRequest(req("", 2, 0, recorder.OutcomeFailed))
	g.RecordRequest(req("", 1, 0, recorder.OutcomeRejected))
	assert.Empty(t, g.stopped())
	g.RecordRequest(req("", 2, 0, recorder.OutcomeRejected))
	assert.Equal(t, `stopped early: threshold "turn.2.error_rate < 5%" can no longer be met: 2 of 40 planned requests of turn 2 did not succeed: error_rate is at least 0.05, want < 5%`, g.stopped())
	assert.True(t, errors.Is(context.Cause(ctx), errStoppedEarly))
}
