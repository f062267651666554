package recorder

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A request with −7 output tokens (as a server's usage can claim) is not ok and moves no figure.
func TestInvalidTokenCountsAreNotOK(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	// One good request: 10 output tokens over a 1 s window (start 0, end 1000 ms).
	r.RecordRequest(req(t0, 0, 100, []float64{900}, 10))
	for _, bad := range []struct {
		prompt, out int
		why         string
	}{
		{10, -7, "output tokens -7 is negative"},
		{-1, 5, "prompt tokens -1 is negative"},
		{10, MaxTokenCount + 1, "output tokens 2147483648 is over 2147483647"},
	} {
		q := req(t0, 0, 100, []float64{900}, bad.out)
		q.PromptTokens = bad.prompt
		r.RecordRequest(q)
		recs, _ := r.Records(r.Len() - 1)
		require.Len(t, recs, 1)
		assert.Equal(t, OutcomeFailed, recs[0].Outcome)
		assert.Contains(t, recs[0].Error, bad.why)
		assert.Zero(t, recs[0].OutputTokens)
		assert.Zero(t, recs[0].PromptTokens)
	}
	// Already failed: keeps its outcome and error, adds the reason.
	q := req(t0, 0, 100, nil, -3)
	q.Outcome, q.Err = OutcomeIncomplete, errors.New("cut")
	r.RecordRequest(q)
	recs, _ := r.Records(r.Len() - 1)
	assert.Equal(t, OutcomeIncomplete, recs[0].Outcome)
	assert.Equal(t, "cut; vmtest: invalid token count: output tokens -3 is negative", recs[0].Error)

	s := r.Summarize()
	assert.Equal(t, 1, s.Counts.OK)
	assert.Equal(t, 3, s.Counts.Failed)
	assert.Equal(t, int64(10), s.Counts.OutputTokens)
	require.NotNil(t, s.OutputTokenThroughput)
	assert.InDelta(t, 10.0, *s.OutputTokenThroughput, 1e-9, "10 tokens over the one good request's 1 s")
}

func TestRecordTextsAreCapped(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	q := req(t0, 0, 100, nil, 1)
	q.FinishReason = strings.Repeat("f", 10_000)
	r.RecordRequest(q)
	q = Request{Start: t0, Err: errors.New(strings.Repeat("é", 10_000))}
	r.RecordRequest(q)
	recs, _ := r.Records(0)
	require.Len(t, recs, 2)
	assert.Equal(t, strings.Repeat("f", MaxFinishReason)+"…", recs[0].FinishReason)
	assert.Equal(t, strings.Repeat("é", MaxErrorText/2)+"…", recs[1].Error)
}
