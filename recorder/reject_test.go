package recorder

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A rejected request's time to rejection is Responded − Start; it ends (EndS) when the rejection came, and
// the summary's time_to_reject_ms is over rejected requests only.
func TestTimeToReject(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r.RecordRequest(Request{Start: at(100), Responded: at(125), HTTPStatus: 429, Outcome: OutcomeRejected, Err: errors.New("429")})
	r.RecordRequest(Request{Start: at(200), Responded: at(240), HTTPStatus: 503, Outcome: OutcomeRejected, Err: errors.New("503")})
	r.RecordRequest(Request{Start: at(300), HTTPStatus: 429, Outcome: OutcomeRejected, Err: errors.New("429, no time")})
	r.RecordRequest(Request{Start: at(0), Responded: at(5), FirstToken: at(10), End: at(50), OutputTokens: 3, HTTPStatus: 200})
	r.RecordRequest(Request{Start: at(400), Responded: at(410), HTTPStatus: 500, Err: errors.New("500")})

	s, recs := r.Cut()
	require.Len(t, recs, 5)
	assert.InDelta(t, 25, recs[0].TimeToRejectMS, 1e-9)
	assert.InDelta(t, 0.125, recs[0].EndS, 1e-9)
	assert.InDelta(t, 40, recs[1].TimeToRejectMS, 1e-9)
	assert.True(t, math.IsNaN(recs[2].TimeToRejectMS), "no Responded: unknown")
	assert.InDelta(t, 0.3, recs[2].EndS, 1e-9)
	assert.True(t, math.IsNaN(recs[3].TimeToRejectMS), "not rejected")
	assert.True(t, math.IsNaN(recs[4].TimeToRejectMS), "a failure is not a rejection")
	assert.InDelta(t, 0.41, recs[4].EndS, 1e-9, "a failure ends when its response came")

	st := s.TimeToRejectMS
	require.Equal(t, 2, st.N)
	assert.InDelta(t, 32.5, *st.Mean, 1e-9)
	assert.InDelta(t, 25, *st.Min, 1e-9)
	assert.InDelta(t, 40, *st.Max, 1e-9)
	assert.InDelta(t, 25+0.99*15, *st.P99, 1e-9) // numpy linear: 25 + 0.99·(40 − 25)
	assert.Equal(t, 3, s.Rejected)
}
