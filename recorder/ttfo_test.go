package recorder

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TTFOT is FirstContent − Start (after any reasoning), unknown for a request with no content; reasoning
// tokens are summed over successful requests only.
func TestTimeToFirstOutputTokenAndReasoningTokens(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Reasoned for 3 tokens: first token at 10 ms, first content at 40 ms.
	r.RecordRequest(Request{Start: at(0), FirstToken: at(10), FirstContent: at(40), End: at(60), OutputTokens: 6, ReasoningTokens: 3})
	// No reasoning: content is the first token, at 20 ms.
	r.RecordRequest(Request{Start: at(0), FirstToken: at(20), FirstContent: at(20), End: at(30), OutputTokens: 2})
	// Only reasoning, no content: its TTFOT is unknown.
	r.RecordRequest(Request{Start: at(0), FirstToken: at(5), End: at(9), OutputTokens: 2, ReasoningTokens: 2})
	// A failure's reasoning tokens are not counted.
	r.RecordRequest(Request{Start: at(0), Outcome: OutcomeFailed, ReasoningTokens: 7})

	s, recs := r.Cut()
	require.Len(t, recs, 4)
	assert.Equal(t, 40.0, recs[0].TTFOMS)
	assert.Equal(t, 3, recs[0].ReasoningTokens)
	assert.Equal(t, 20.0, recs[1].TTFOMS)
	assert.True(t, math.IsNaN(recs[2].TTFOMS))
	assert.Equal(t, 2, s.TTFOMS.N)
	require.NotNil(t, s.TTFOMS.Mean)
	assert.Equal(t, 30.0, *s.TTFOMS.Mean)
	assert.Equal(t, 3, s.TTFTMS.N)
	assert.Equal(t, int64(5), s.ReasoningTokens)
}
