package summary

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// rejectedRun records four requests the server refused after 10, 20, 30 and 100 ms and one that succeeded.
func rejectedRun() *Summary {
	t0 := time.Now()
	r := recorder.New(t0, recorder.Config{})
	for i, ms := range []int{20, 100, 10, 30} {
		start := t0.Add(time.Duration(i) * time.Second)
		r.RecordRequest(recorder.Request{Start: start, Responded: start.Add(time.Duration(ms) * time.Millisecond),
			HTTPStatus: 429, Outcome: recorder.OutcomeRejected, Err: errors.New("HTTP 429")})
	}
	r.RecordRequest(recorder.Request{Start: t0, FirstToken: t0.Add(time.Millisecond), End: t0.Add(2 * time.Millisecond), OutputTokens: 1})
	return Compute(Input{Requests: r.Summarize()})
}

// time_to_reject.<stat> reads the rejected requests' time to rejection: numpy's linear percentiles of
// 10, 20, 30, 100 ms are p50 = 25 and p90 = 30 + 0.7 × 70 = 79; the mean is 40.
func TestLookupTimeToReject(t *testing.T) {
	s := rejectedRun()
	for name, want := range map[string]float64{"time_to_reject.p50": 25, "time_to_reject.p90": 79,
		"time_to_reject.mean": 40, "time_to_reject.min": 10, "time_to_reject.max": 100} {
		v, err := s.Lookup(name)
		require.NoError(t, err, name)
		assert.True(t, v.Known, name)
		assert.InDelta(t, want, v.Value, 1e-9, name)
		assert.Equal(t, 4, v.N, name)
		assert.Equal(t, UnitMS, v.Unit, name)
	}
	r, err := resolve("time_to_reject.p99")
	require.NoError(t, err)
	assert.Equal(t, LowerIsBetter, r.metric.Direction)

	v, err := (&Summary{Requests: recorder.Summary{Counts: recorder.Counts{Total: 2, OK: 2}}}).Lookup("time_to_reject.p99")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, "n=0 rejected requests with a known time to rejection of 2 recorded (0 rejected)", v.Note)
}
