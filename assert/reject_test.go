package assert

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

// A threshold on the time to rejection: three requests refused after 10, 20 and 60 ms, whose numpy p90 is
// 20 + 0.8 × 40 = 52 ms.
func TestThresholdOnTimeToReject(t *testing.T) {
	t0 := time.Now()
	r := recorder.New(t0, recorder.Config{})
	for _, ms := range []int{60, 10, 20} {
		r.RecordRequest(recorder.Request{Start: t0, Responded: t0.Add(time.Duration(ms) * time.Millisecond),
			Outcome: recorder.OutcomeRejected, HTTPStatus: 503, Err: errors.New("HTTP 503")})
	}
	s := summary.Compute(summary.Input{RunID: "r", Requests: r.Summarize()})
	require.NoError(t, Expr("time_to_reject.p90 < 52.001ms").Eval(s))
	require.ErrorContains(t, Expr("p(90) time_to_reject < 51.999ms").Eval(s), "time_to_reject.p90 = 52.000 ms, want < 51.999ms (n=3")
}
