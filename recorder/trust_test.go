package recorder

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Open-loop requests intended at 0, 100, 200 and 300 ms and sent at 0, 105, 230 and 380 ms lag 0, 5, 30 and
// 80 ms (slot waits 0, 0, 20, 70 ms within them); the last one failed and still counts, since lag is the
// sender's. numpy: percentile([0, 5, 30, 80], 50) = 17.5, percentile(…, 99) = 30 + 0.97 × 50 = 78.5; mean
// 28.75. Mean inter-arrival: (300 − 0) / 3 = 100 ms. A closed-loop request adds nothing.
func TestSendLagPerRequestAndOverTheRun(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	at := func(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }
	for i, x := range []struct{ intended, sent, slot float64 }{{0, 0, 0}, {100, 105, 0}, {200, 230, 20}, {300, 380, 70}} {
		q := req(t0, x.sent, 50, []float64{10}, 2)
		q.IntendedStart, q.SlotWait = at(x.intended), time.Duration(x.slot*float64(time.Millisecond))
		if i == 3 {
			q = Request{Start: at(x.sent), IntendedStart: at(x.intended), SlotWait: q.SlotWait, Err: errNoStart}
		}
		r.RecordRequest(q)
	}
	r.RecordRequest(req(t0, 400, 50, []float64{10}, 2)) // closed loop: no lag

	recs, _ := r.Records(0)
	require.Len(t, recs, 5)
	for i, want := range []float64{0, 5, 30, 80} {
		assert.InDelta(t, want, recs[i].SendLagMS, 1e-9, "row %d", i)
	}
	assert.True(t, math.IsNaN(recs[4].SendLagMS), "closed loop: unknown")

	s := r.Summarize()
	assert.Equal(t, 4, s.SendLagMS.N)
	assert.InDelta(t, 17.5, *s.SendLagMS.P50, 1e-9)
	assert.InDelta(t, 78.5, *s.SendLagMS.P99, 1e-9)
	assert.InDelta(t, 80, *s.SendLagMS.Max, 1e-9)
	assert.InDelta(t, 28.75, *s.SendLagMS.Mean, 1e-9)
	assert.Equal(t, 4, s.SlotWaitMS.N)
	assert.InDelta(t, 22.5, *s.SlotWaitMS.Mean, 1e-9, "(0 + 0 + 20 + 70) / 4")
	require.NotNil(t, s.MeanInterArrivalMS)
	assert.InDelta(t, 100, *s.MeanInterArrivalMS, 1e-9)
}

// A closed loop has no schedule: no lag, no inter-arrival time.
func TestClosedLoopHasNoSendLag(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	r.RecordRequest(req(t0, 0, 50, nil, 1))
	r.RecordRequest(req(t0, 10, 50, nil, 1))
	s := r.Summarize()
	assert.Equal(t, 0, s.SendLagMS.N)
	assert.Nil(t, s.SendLagMS.P99)
	assert.Nil(t, s.MeanInterArrivalMS)
}

// Successful requests with max_tokens are tallied by ignore_eos. Without it, asked 100 each: outputs 100,
// 95, 89 and 40 are 324 of 400 tokens, two under 0.9 × 100 = 90 (89 and 40; 90 itself would not be), three
// off 100. With it, asked 50: 50 and 49 are one off, none short (49 ≥ 45). Left out: a failed request, one
// without max_tokens, one whose output was counted from chunks.
func TestOutputLengthTallies(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	add := func(requested, out int, ignoreEOS bool, mod func(*Request)) {
		q := req(t0, 0, 10, []float64{1}, out)
		q.RequestedOutputTokens, q.IgnoreEOS = requested, ignoreEOS
		if mod != nil {
			mod(&q)
		}
		r.RecordRequest(q)
	}
	for _, out := range []int{100, 95, 89, 40} {
		add(100, out, false, nil)
	}
	add(50, 50, true, nil)
	add(50, 49, true, nil)
	add(100, 3, false, func(q *Request) { q.Err = errNoStart })
	add(0, 3, false, nil)
	add(100, 3, false, func(q *Request) { q.OutputTokensEstimated = true })

	got := r.Counts().OutputLength
	assert.Equal(t, LengthTally{Requests: 4, RequestedTokens: 400, OutputTokens: 324, Short: 2, Off: 3}, got.Free)
	assert.Equal(t, LengthTally{Requests: 2, RequestedTokens: 100, OutputTokens: 99, Short: 0, Off: 1}, got.IgnoreEOS)
	recs, _ := r.Records(0)
	assert.True(t, recs[4].IgnoreEOS)
	assert.False(t, recs[0].IgnoreEOS)
}

// Two runs' costs merge: times add up, utilization is over the sums (3 CPU-s / (10 s × 4) = 0.075, not the
// mean of 0.1 and 0.05), each scheduler latency is the larger one's.
func TestClientCostAdd(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	var c ClientCost
	c.Add(ClientCost{Runs: 1, WallS: 5, CPUS: 2, GOMAXPROCS: 4, CPUUtilization: f(0.1), SchedLatencyP50MS: f(0.01), SchedLatencyP99MS: f(2), SchedLatencyMaxMS: f(3)})
	c.Add(ClientCost{Runs: 1, WallS: 5, CPUS: 1, GOMAXPROCS: 2, CPUUtilization: f(0.05), SchedLatencyP50MS: f(0.02), SchedLatencyP99MS: f(1)})
	assert.Equal(t, 2, c.Runs)
	assert.Equal(t, 10.0, c.WallS)
	assert.Equal(t, 3.0, c.CPUS)
	assert.Equal(t, 4, c.GOMAXPROCS)
	require.NotNil(t, c.CPUUtilization)
	assert.InDelta(t, 0.075, *c.CPUUtilization, 1e-12)
	assert.Equal(t, 0.02, *c.SchedLatencyP50MS)
	assert.Equal(t, 2.0, *c.SchedLatencyP99MS)
	assert.Equal(t, 3.0, *c.SchedLatencyMaxMS, "the second run observed no maximum")
	var none ClientCost
	none.Add(ClientCost{Runs: 1})
	assert.Nil(t, none.CPUUtilization, "no wall time: unknown")
	assert.Nil(t, none.SchedLatencyP99MS)
}
