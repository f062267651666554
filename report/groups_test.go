package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

// The text has a block per model and a line per turn, with the figures of that group's requests.
func TestTextSummaryGroups(t *testing.T) {
	t0 := time.Now()
	rec := recorder.New(t0, recorder.Config{})
	for k, ttft := range []time.Duration{10, 30, 20} {
		model := []string{"b-lora", "base", "base"}[k]
		rec.RecordRequest(recorder.Request{Start: t0, FirstToken: t0.Add(ttft * time.Millisecond),
			End: t0.Add(100 * time.Millisecond), OutputTokens: 2, Model: model, Turn: k%2 + 1})
	}
	s := summary.Compute(summary.Input{Requests: rec.Summarize()})
	lines := TextSummary(s)
	assert.Equal(t, "model b-lora: 1 requests, 1 ok; n/a req/s, n/a output tok/s", lineWith(t, lines, "model b-lora"))
	assert.Equal(t, "model base: 2 requests, 2 ok; n/a req/s, n/a output tok/s", lineWith(t, lines, "model base"))
	// Turn 1: requests 0 and 2 (TTFT 10 and 20 ms); turn 2: request 1 (30 ms). E2E 100 ms each.
	assert.Equal(t, "turn 1: 2 requests, 2 ok; TTFT mean 15.0  p50 15.0  p90 19.0  p99 19.9 ms (n=2); E2E mean 100.0  p50 100.0  p90 100.0  p99 100.0 ms (n=2)",
		lineWith(t, lines, "turn 1:"))
	assert.Equal(t, "turn 2: 1 requests, 1 ok; TTFT mean 30.0  p50 30.0  p90 30.0  p99 30.0 ms (n=1); E2E mean 100.0  p50 100.0  p90 100.0  p99 100.0 ms (n=1)",
		lineWith(t, lines, "turn 2:"))
}
