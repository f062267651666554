package loadgen

import (
	"context"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                                 0,
		"3":                                3 * time.Second,
		" 120 ":                            2 * time.Minute,
		"-1":                               0,
		"1.5":                              0,
		"soon":                             0,
		"99999999999999999999999":          maxRetryAfterSeconds * time.Second, // overflows uint64: capped, never negative
		"Sat, 01 Mar 2025 12:00:07 GMT":    7 * time.Second,                    // IMF-fixdate
		"Saturday, 01-Mar-25 12:01:00 GMT": time.Minute,                        // RFC 850
		"Sat Mar  1 12:00:02 2025":         2 * time.Second,                    // asctime
		"Sat, 01 Mar 2025 11:59:00 GMT":    0,                                  // in the past
	} {
		assert.Equal(t, want, parseRetryAfter(v, now), "%q", v)
	}
}

// rejecting answers every request at once with status and, when retryAfter is not empty, that Retry-After.
func rejecting(status int, retryAfter func() string) testhttp.Transport {
	return testhttp.Transport{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ra := retryAfter(); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		http.Error(w, `{"error":{"message":"overloaded"}}`, status)
	})}
}

// starts returns each record's Start as an offset from t0.
func starts(recs []recorder.Request, t0 time.Time) []time.Duration {
	out := make([]time.Duration, len(recs))
	for i, r := range recs {
		out[i] = r.Start.Sub(t0)
	}
	return out
}

// A closed-loop worker whose request was rejected with Retry-After: 2 waits 2 s: 4 workers over 10 s send at
// 0, 2, 4, 6 and 8 s, 20 requests in all, where without it they would send without end (the server answers
// at once).
func TestClosedLoopWaitsForRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		synctest.Test(t, func(t *testing.T) {
			sink := &sliceSink{}
			t0 := time.Now()
			res, err := Run(context.Background(), LoadConfig{
				Client:  ClientConfig{BaseURL: "http://fake.invalid", Transport: rejecting(status, func() string { return "2" })},
				Prompts: TextPrompts("p"), Concurrency: 4, Duration: 10 * time.Second, Sink: sink,
			})
			require.NoError(t, err)
			recs := sink.all()
			require.Len(t, recs, 20)
			want := map[time.Duration]int{0: 4, 2 * time.Second: 4, 4 * time.Second: 4, 6 * time.Second: 4, 8 * time.Second: 4}
			got := map[time.Duration]int{}
			for _, d := range starts(recs, t0) {
				got[d]++
			}
			assert.Equal(t, want, got)
			assert.Equal(t, 20, res.Outcomes[recorder.OutcomeRejected])
			assert.Equal(t, 20, res.RetryAfterWaits)
			for _, r := range recs {
				var he *HTTPError
				require.ErrorAs(t, r.Err, &he)
				assert.Equal(t, 2*time.Second, he.RetryAfter)
				assert.Equal(t, r.Start, r.Responded, "time to rejection is 0 in the bubble: the answer came at once")
			}
		})
	}
}

// Retry-After as an HTTP date counts from the response; a wait past MaxRetryAfter is capped.
func TestClosedLoopRetryAfterDateAndCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts on a whole second, and waits here are whole seconds: the date is exact.
		sink := &sliceSink{}
		t0 := time.Now()
		date := func() string { return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat) }
		_, err := Run(context.Background(), LoadConfig{
			Client:  ClientConfig{BaseURL: "http://fake.invalid", Transport: rejecting(429, date)},
			Prompts: TextPrompts("p"), Concurrency: 1, Requests: 3, Sink: sink,
		})
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{0, 3 * time.Second, 6 * time.Second}, starts(sink.all(), t0))

		sink = &sliceSink{}
		t0 = time.Now()
		_, err = Run(context.Background(), LoadConfig{
			Client:  ClientConfig{BaseURL: "http://fake.invalid", Transport: rejecting(429, func() string { return "3600" })},
			Prompts: TextPrompts("p"), Concurrency: 1, Requests: 3, MaxRetryAfter: 5 * time.Second, Sink: sink,
		})
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{0, 5 * time.Second, 10 * time.Second}, starts(sink.all(), t0))
	})
}

// Without Retry-After a rejection backs off as a connection failure does: each worker sends at 0, 10, 30, 70,
// 150, 310, 630 and 1270 ms, then every second (2270 ... 9270 ms): 16 requests per worker in 10 s, 64 for 4.
// With IgnoreRetryAfter the workers go on at once: the 1,000 requests all start at the bubble's t0.
func TestClosedLoopBacksOffFromRejectionsWithoutRetryAfter(t *testing.T) {
	none := func() string { return "" }
	synctest.Test(t, func(t *testing.T) {
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client:  ClientConfig{BaseURL: "http://fake.invalid", Transport: rejecting(429, none)},
			Prompts: TextPrompts("p"), Concurrency: 4, Duration: 10 * time.Second, Sink: sink,
		})
		require.NoError(t, err)
		assert.Len(t, sink.all(), 64)
		assert.Zero(t, res.RetryAfterWaits)
	})
	synctest.Test(t, func(t *testing.T) {
		sink := &sliceSink{}
		t0 := time.Now()
		_, err := Run(context.Background(), LoadConfig{
			Client:  ClientConfig{BaseURL: "http://fake.invalid", Transport: rejecting(429, func() string { return "2" })},
			Prompts: TextPrompts("p"), Concurrency: 4, Requests: 1000, IgnoreRetryAfter: true, Sink: sink,
		})
		require.NoError(t, err)
		recs := sink.all()
		require.Len(t, recs, 1000)
		assert.Equal(t, t0, recs[len(recs)-1].Start)
	})
}

// resetting fails every request as a connection reset by the server does.
type resetting struct{}

func (resetting) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// Connection resets back off as connection failures do (64 requests from 4 workers in 10 s, as above), and
// do not count as the server being unreachable.
func TestClosedLoopBacksOffFromResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client:  ClientConfig{BaseURL: "http://fake.invalid", Transport: resetting{}},
			Prompts: TextPrompts("p"), Concurrency: 4, Duration: 10 * time.Second, Sink: sink,
		})
		require.NoError(t, err)
		assert.Len(t, sink.all(), 64)
		assert.Equal(t, 64, res.ConnectionResets)
		assert.Zero(t, res.ConnectFailures)
		assert.Contains(t, res.String(), "; 64 reset by the server before a response")
	})
}

// An open loop keeps its schedule whatever the rejections say: every request starts at its intended time and
// is recorded as rejected.
func TestOpenLoopKeepsItsScheduleThroughRejections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client:  ClientConfig{BaseURL: "http://fake.invalid", Transport: rejecting(503, func() string { return "30" })},
			Prompts: TextPrompts("p"), Rate: 50, Requests: 100, Seed: 1, Sink: sink,
		})
		require.NoError(t, err)
		recs := sink.all()
		require.Len(t, recs, 100)
		for _, r := range recs {
			assert.Equal(t, r.IntendedStart, r.Start)
			assert.Equal(t, recorder.OutcomeRejected, r.Outcome)
		}
		assert.Zero(t, res.RetryAfterWaits)
		assert.Zero(t, res.MaxSendLag)
	})
}

func TestMaxRetryAfterNegativeIsInvalid(t *testing.T) {
	_, err := Run(context.Background(), LoadConfig{Client: ClientConfig{BaseURL: "http://x.invalid"}, Prompts: TextPrompts("p"),
		Requests: 1, MaxRetryAfter: -time.Second, Sink: &sliceSink{}})
	require.ErrorContains(t, err, "LoadConfig.MaxRetryAfter")
}

// Against the simulator over real sockets, a 429 storm (every request rejected with Retry-After: 1): each of
// 4 workers sends at 0 s and 1 s within a 1.5 s run, so at most 8 requests, whatever the machine's speed (it
// could only send fewer); without the wait they sent thousands.
func TestClosedLoopIn429StormFromSimulator(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{Reject429: vllmsim.Fault{Every: 1}})
	sink := &sliceSink{}
	res, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: sim.URL}, Prompts: TextPrompts("p"), Concurrency: 4, Duration: 1500 * time.Millisecond, Sink: sink,
	})
	require.NoError(t, err)
	n := len(sink.all())
	assert.GreaterOrEqual(t, n, 4)
	assert.LessOrEqual(t, n, 8)
	assert.Equal(t, n, res.Outcomes[recorder.OutcomeRejected])
	for _, r := range sink.all() {
		assert.False(t, r.Responded.Before(r.Start), "time to rejection is never negative")
	}
}
