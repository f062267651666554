package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/recorder"
)

// fakeServer streams `tokens` completions tokens after `delay`, and counts what it sees.
type fakeServer struct {
	*httptest.Server
	delay    time.Duration
	tokens   int
	stall    bool // never finish: hold the stream open after the first token
	inFlight atomic.Int64
	conns    atomic.Int64 // TCP connections accepted
	maxIn    atomic.Int64
	total    atomic.Int64
	mu       sync.Mutex
	prompts  map[string]int
}

func newFakeServer(t *testing.T, delay time.Duration, tokens int) *fakeServer {
	fs := &fakeServer{delay: delay, tokens: tokens, prompts: map[string]int{}}
	fs.Server = httptest.NewUnstartedServer(http.HandlerFunc(fs.serve))
	fs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			fs.conns.Add(1)
		}
	}
	fs.Start()
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/models" { // Run's model check: no list here, so no check; not counted
		http.NotFound(w, r)
		return
	}
	n := fs.inFlight.Add(1)
	defer fs.inFlight.Add(-1)
	for {
		m := fs.maxIn.Load()
		if n <= m || fs.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	fs.total.Add(1)
	var body struct {
		Prompt string `json:"prompt"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	fs.mu.Lock()
	fs.prompts[body.Prompt]++
	fs.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	select {
	case <-time.After(fs.delay):
	case <-r.Context().Done():
		return
	}
	f := w.(http.Flusher)
	for k := 0; k < fs.tokens; k++ {
		fin := ""
		if k == fs.tokens-1 && !fs.stall {
			fin = "stop"
		}
		_, _ = io.WriteString(w, textChunk("t", fin))
		f.Flush()
	}
	if fs.stall {
		<-r.Context().Done()
		return
	}
	_, _ = io.WriteString(w, usageChunk(3, fs.tokens)+done)
}

func TestClosedLoopCountConcurrencyAndPrompts(t *testing.T) {
	fs := newFakeServer(t, 10*time.Millisecond, 3)
	sink := &sliceSink{}
	prompts := TextPrompts("a", "b", "c", "d")
	res, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: fs.URL}, Prompts: prompts, Params: Params{Model: "m", MaxTokens: 3},
		Concurrency: 4, Requests: 40, Sink: sink,
	})
	require.NoError(t, err)
	recs := sink.all()
	require.Len(t, recs, 40)
	assert.Equal(t, 40, res.Sent)
	assert.Equal(t, 40, res.Completed)
	assert.Equal(t, 40, res.Outcomes[recorder.OutcomeOK])
	assert.EqualValues(t, 4, fs.maxIn.Load(), "exactly Concurrency requests in flight")
	assert.EqualValues(t, 4, fs.conns.Load(), "bodies are read to the end, so connections are reused")
	assert.Equal(t, map[string]int{"a": 10, "b": 10, "c": 10, "d": 10}, fs.prompts)
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.ID] = true
		assert.True(t, r.IntendedStart.IsZero(), "closed loop: no schedule")
		assert.Zero(t, r.SlotWait)
		assert.Equal(t, 3, r.OutputTokens)
		assert.Equal(t, 3, r.RequestedOutputTokens)
		assert.GreaterOrEqual(t, r.FirstToken.Sub(r.Start), 10*time.Millisecond)
	}
	assert.Len(t, ids, 40)
	assert.Equal(t, "closed", res.Mode)
	// 40 requests of ≥10 ms over 4 workers: at least 100 ms.
	assert.GreaterOrEqual(t, res.Wall, 100*time.Millisecond)
	assert.Greater(t, res.ClientCPU, time.Duration(0))
	assert.Greater(t, res.SchedLatencyMax, time.Duration(0))
	t.Log(res)
}

func TestOpenLoopFollowsAbsoluteSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(0, 2)
		sink := &sliceSink{}
		const rate, n = 200.0, 100
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Rate: rate, Seed: 42, Requests: n, Sink: sink,
		})
		require.NoError(t, err)
		require.Len(t, sink.all(), n)
		recs := sink.all()
		sort.Slice(recs, func(i, j int) bool { return recs[i].IntendedStart.Before(recs[j].IntendedStart) })

		// The intended offsets are the running sums of the seeded gaps, whatever the timing of the sends.
		arr := newArrivals(rate, 1, 42)
		var want time.Duration
		var lags []time.Duration
		for i, r := range recs {
			require.False(t, r.IntendedStart.IsZero())
			assert.Equal(t, want, r.IntendedStart.Sub(res.Start), "request %d", i)
			want += arr.nextDuration()
			lags = append(lags, r.Start.Sub(r.IntendedStart))
			assert.GreaterOrEqual(t, r.Start.Sub(r.IntendedStart), time.Duration(0))
		}
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		assert.Zero(t, lags[len(lags)-1], "the generator keeps its schedule (no CPU time passes in the bubble)")
		// 100 requests at 200/s: the last is intended about 0.5 s in.
		last := recs[n-1].IntendedStart.Sub(res.Start)
		assert.InDelta(t, 0.5, last.Seconds(), 0.25)
		assert.Equal(t, "open", res.Mode)
		assert.Zero(t, res.MaxSendLag)

		// Same seed, same schedule; another seed, another.
		a, b, c := newArrivals(rate, 1, 42), newArrivals(rate, 1, 42), newArrivals(rate, 1, 43)
		same, diff := true, false
		for range 10 {
			x, y, z := a.next(), b.next(), c.next()
			same = same && x == y
			diff = diff || x != z
		}
		assert.True(t, same)
		assert.True(t, diff)
	})
}

func TestArrivalGapsAreGammaDistributed(t *testing.T) {
	const rate, n = 50.0, 200_000
	for _, b := range []float64{0.25, 1, 4} {
		arr := newArrivals(rate, b, 1)
		var sum, sumSq float64
		for range n {
			g := arr.next()
			if g <= 0 {
				t.Fatalf("burstiness %v: gap %v ≤ 0", b, g)
			}
			sum += g
			sumSq += g * g
		}
		mean := sum / n
		variance := sumSq/n - mean*mean
		// Gamma(shape=b, scale=1/(rate·b)): mean 1/rate, variance b·scale² = 1/(rate²·b), so CV² = 1/b.
		assert.InDelta(t, 1/rate, mean, 0.02/rate, "burstiness %v: mean gap", b)
		cv2 := variance / (mean * mean)
		assert.InDelta(t, 1/b, cv2, 0.05/b, "burstiness %v: squared coefficient of variation", b)
	}
}

// In a synctest bubble the clock moves only when every goroutine waits, so the schedule is exact: request k is
// due at 10k ms, gets the single slot when request k−1 ends at 40k ms, and so waits 30k ms.
func TestMaxConcurrencyRecordsSlotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(40*time.Millisecond, 1)
		sink := &sliceSink{}
		// Burstiness 10000 makes the gaps almost exactly 1/rate = 10 ms.
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Rate: 100, Burstiness: 10000, MaxConcurrency: 1, Requests: 5, Sink: sink,
		})
		require.NoError(t, err)
		assert.EqualValues(t, 1, fs.maxIn.Load())
		recs := sink.all()
		require.Len(t, recs, 5)
		sort.Slice(recs, func(i, j int) bool { return recs[i].IntendedStart.Before(recs[j].IntendedStart) })
		for k, r := range recs {
			assert.InDelta(t, float64(10*k), float64(r.IntendedStart.Sub(res.Start))/1e6, 0.5, "request %d intended at 10k ms", k)
			end := time.Duration(40*k) * time.Millisecond // request k−1 ends
			assert.InDelta(t, float64(end-r.IntendedStart.Sub(res.Start)), float64(r.SlotWait), 1, "request %d slot wait", k)
			assert.Equal(t, r.SlotWait, r.Start.Sub(r.IntendedStart), "request %d: lateness is the slot wait", k)
		}
		assert.Zero(t, res.MaxSendLag)
	})
}

func TestWarmupNotRecorded(t *testing.T) {
	fs := newFakeServer(t, 0, 2)
	sink := &sliceSink{}
	res, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: fs.URL}, Prompts: TextPrompts("a", "b"), Params: Params{Model: "m"},
		Concurrency: 2, Warmup: 3, Requests: 5, Sink: sink,
	})
	require.NoError(t, err)
	assert.EqualValues(t, 8, fs.total.Load(), "the server saw warm-up and measured requests")
	assert.Len(t, sink.all(), 5, "only measured requests reach the sink")
	assert.Equal(t, 3, res.Warmup)
	assert.Equal(t, 0, res.WarmupNotOK)
	assert.Equal(t, 5, res.Sent)
	// Warm-up used a, b, a; measured used a, b, a, b, a.
	assert.Equal(t, map[string]int{"a": 5, "b": 3}, fs.prompts)
}

// warmupSink is a sliceSink that also keeps the warm-up requests it is told of (recorder.WarmupSink).
type warmupSink struct {
	sliceSink
	warm sliceSink
}

func (s *warmupSink) RecordWarmup(r recorder.Request) { s.warm.RecordRequest(r) }

// A sink that takes warm-up requests gets each through RecordWarmup, whole and successful, and only the
// measured ones through RecordRequest: 3 warm-up (prompts a, b, a) and 5 measured.
func TestWarmupToAWarmupSink(t *testing.T) {
	fs := newFakeServer(t, 0, 2)
	sink := &warmupSink{}
	res, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: fs.URL}, Prompts: TextPrompts("a", "b"), Params: Params{Model: "m"},
		Concurrency: 2, Warmup: 3, Requests: 5, Sink: sink,
	})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Warmup)
	assert.Len(t, sink.all(), 5, "measured requests through RecordRequest")
	warm := sink.warm.all()
	require.Len(t, warm, 3)
	for _, r := range warm {
		assert.Equal(t, recorder.OutcomeOK, r.EffectiveOutcome())
		assert.False(t, r.Start.IsZero())
		assert.Positive(t, r.OutputTokens)
	}
}

func TestDurationBoundsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(10*time.Millisecond, 1)
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Duration: 200 * time.Millisecond, Sink: sink,
		})
		require.NoError(t, err)
		recs := sink.all()
		for _, r := range recs {
			assert.Less(t, r.Start.Sub(res.Start), 200*time.Millisecond)
		}
		// 2 workers × 200 ms / 10 ms each, sent at 0, 10, ..., 190 ms; the last ends at 200 ms.
		assert.Len(t, recs, 40)
		assert.Equal(t, 200*time.Millisecond, res.Wall)
	})
}

func TestCancelStopsRunPromptly(t *testing.T) {
	for _, mode := range []string{"closed", "open"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fs := newFakeHandler(0, 1)
				fs.stall = true
				sink := &sliceSink{}
				cfg := LoadConfig{
					Client: fs.inProcess(), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
					Duration: time.Minute, Sink: sink,
				}
				if mode == "closed" {
					cfg.Concurrency = 4
				} else {
					cfg.Rate, cfg.MaxConcurrency = 100, 3
				}
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(150*time.Millisecond, cancel)
				t0 := time.Now()
				res, err := Run(ctx, cfg)
				assert.ErrorIs(t, err, context.Canceled)
				assert.Equal(t, 150*time.Millisecond, time.Since(t0), "Run returns at the cancel")
				recs := sink.all()
				require.NotEmpty(t, recs)
				// The requests in flight (4 workers, or the 3 slots) were cancelled because the caller
				// ended the run: canceled. Open-loop requests still waiting for a slot stay incomplete.
				canceled := 0
				for _, r := range recs {
					assert.ErrorIs(t, r.Err, ErrCanceled)
					if r.Outcome == recorder.OutcomeCanceled {
						canceled++
						continue
					}
					assert.Equal(t, recorder.OutcomeIncomplete, r.Outcome)
					assert.Contains(t, r.Err.Error(), "waiting for a concurrency slot")
				}
				want := 4
				if mode == "open" {
					want = 3
				}
				assert.Equal(t, want, canceled)
				assert.Equal(t, want, res.Outcomes[recorder.OutcomeCanceled])
				assert.Equal(t, len(recs)-want, res.Outcomes[recorder.OutcomeIncomplete])
				assert.Equal(t, len(recs), res.Completed)
				synctest.Wait()
				assert.Zero(t, fs.inFlight.Load(), "in-flight requests were cancelled on the wire")
			})
		})
	}
}

func TestDrainTimeoutCancelsStragglers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(0, 1)
		fs.stall = true
		sink := &sliceSink{}
		t0 := time.Now()
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Duration: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond, Sink: sink,
		})
		require.NoError(t, err)
		el := time.Since(t0)
		assert.Equal(t, 150*time.Millisecond, el, "50 ms of run, then the 100 ms drain")
		assert.Equal(t, 2, res.Outcomes[recorder.OutcomeIncomplete])
		assert.Zero(t, res.Outcomes[recorder.OutcomeCanceled], "DrainTimeout's cut may hide overload: not canceled")
		require.Len(t, sink.all(), 2)
		for _, r := range sink.all() {
			assert.Equal(t, recorder.OutcomeIncomplete, r.Outcome)
			assert.ErrorIs(t, r.Err, ErrCanceled)
			assert.ErrorIs(t, r.Err, ErrCutAtEnd)
			assert.Contains(t, r.Err.Error(), "cut at the run's end: still in flight DrainTimeout 100ms after sending stopped")
		}
		assert.Equal(t, 2, res.Cut)
		assert.Contains(t, res.String(), "; 2 cut at the run's end")
	})
}

// The trial's hang: a server that takes requests and never sends headers. With Duration 1 s and DrainTimeout
// 2 s the run ends at 3 s (not at the 1-minute header timeout), both requests cut, incomplete and counted in
// error_rate (1 of 1 known: 2 not ok of 2), not left out as canceled.
func TestDrainTimeoutBoundsAServerThatNeverAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(time.Hour, 1) // headers after an hour: never, here
		rec := recorder.New(time.Now(), recorder.Config{})
		t0 := time.Now()
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Duration: time.Second, DrainTimeout: 2 * time.Second, Sink: rec,
		})
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, time.Since(t0), "1 s of sending, then the 2 s drain")
		assert.Equal(t, 2, res.Cut)
		assert.Equal(t, map[recorder.Outcome]int{recorder.OutcomeIncomplete: 2}, res.Outcomes)
		c := rec.Counts()
		assert.Equal(t, 2, c.Incomplete)
		assert.Zero(t, c.Canceled)
		require.NotNil(t, c.ErrorRate(), "cut requests keep error_rate known")
		assert.Equal(t, 1.0, *c.ErrorRate())
		assert.ErrorIs(t, res.FirstErr, ErrCutAtEnd)
	})
}

// The caller ending the run while Run drains, before DrainTimeout, cancels the requests in flight: canceled.
func TestCallerCancelDuringDrainIsCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(0, 1)
		fs.stall = true
		sink := &sliceSink{}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(80*time.Millisecond, cancel)
		res, err := Run(ctx, LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Duration: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond, Sink: sink,
		})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 2, res.Outcomes[recorder.OutcomeCanceled])
		assert.Zero(t, res.Outcomes[recorder.OutcomeIncomplete])
		require.Len(t, sink.all(), 2)
		for _, r := range sink.all() {
			assert.Equal(t, recorder.OutcomeCanceled, r.Outcome)
			assert.ErrorIs(t, r.Err, ErrCanceled)
		}
		assert.Contains(t, res.String(), "incomplete 0, rejected 0, canceled 2)")
	})
}

func TestRunValidates(t *testing.T) {
	ok := LoadConfig{Client: ClientConfig{BaseURL: "http://127.0.0.1:1"}, Prompts: TextPrompts("p"), Requests: 1, Sink: &sliceSink{}}
	for name, mut := range map[string]func(*LoadConfig){
		"Prompts":        func(c *LoadConfig) { c.Prompts = nil },
		"Sink":           func(c *LoadConfig) { c.Sink = nil },
		"Requests":       func(c *LoadConfig) { c.Requests = 0 },
		"Rate":           func(c *LoadConfig) { c.Rate = -1 },
		"Burstiness":     func(c *LoadConfig) { c.Burstiness = 2 },
		"MaxConcurrency": func(c *LoadConfig) { c.Rate, c.Concurrency = 1, 2 },
		"BaseURL":        func(c *LoadConfig) { c.Client.BaseURL = "" },
		"Extra":          func(c *LoadConfig) { c.Params.Extra = map[string]any{"model": "x"} },
		"Prompts[0]":     func(c *LoadConfig) { c.Prompts = []Prompt{{}} },
	} {
		c := ok
		mut(&c)
		_, err := Run(context.Background(), c)
		assert.ErrorContains(t, err, strings.TrimSuffix(name, "[0]"), name)
	}
}

func TestReadPromptsJSONL(t *testing.T) {
	in := `{"prompt": "Once upon"}` + "\n\n" +
		`{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}], "max_tokens": 8, "id": "q2"}` + "\r\n" +
		`{"prompt": "` + strings.Repeat("x", 100_000) + `"}`
	ps, err := ReadPrompts(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, ps, 3)
	assert.Equal(t, "Once upon", ps[0].Text)
	assert.False(t, ps[0].IsChat())
	assert.True(t, ps[1].IsChat())
	assert.Equal(t, "q2", ps[1].ID)
	assert.Equal(t, 8, ps[1].MaxTokens)
	assert.Equal(t, "system", ps[1].Messages[0].Role)
	assert.Len(t, ps[2].Text, 100_000)

	for _, bad := range []struct{ in, line string }{
		{`{"prompt": "a"}` + "\n" + `{"prompt": "b"` + "\n", "line 2"},
		{`{"prompt": "a"}` + "\n\n" + `{"promt": "b"}`, "line 3"},
		{`{"prompt": "a", "messages": [{"role":"user","content":"b"}]}`, "line 1"},
		{"\n\n", "no prompts"},
	} {
		_, err := ReadPrompts(strings.NewReader(bad.in))
		assert.ErrorContains(t, err, bad.line, bad.in)
	}

	path := filepath.Join(t.TempDir(), "p.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{\"prompt\":\"a\"}\nnot json\n"), 0o644))
	_, err = LoadPrompts(path)
	assert.ErrorContains(t, err, "p.jsonl")
	assert.ErrorContains(t, err, "line 2")
}

func TestSchedQuantiles(t *testing.T) {
	before := schedSnapshot{counts: []uint64{5, 5, 5, 5}, buckets: []float64{0, 1e-6, 1e-5, 1e-4, math.Inf(1)}}
	after := schedSnapshot{counts: []uint64{5 + 50, 5 + 49, 5, 5 + 1}, buckets: before.buckets}
	q, mx, ok := schedQuantiles(before, after, 0.5, 0.99, 1)
	require.True(t, ok)
	assert.Equal(t, []time.Duration{time.Microsecond, 10 * time.Microsecond, 100 * time.Microsecond}, q)
	assert.Equal(t, 100*time.Microsecond, mx, "+Inf bucket reports its lower bound")
	_, _, ok = schedQuantiles(before, before, 0.5)
	assert.False(t, ok)
}

func TestRampUpSpreadsClosedLoopWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(100*time.Millisecond, 1)
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"),
			Concurrency: 4, RampUp: 80 * time.Millisecond, Requests: 4, Sink: sink,
		})
		require.NoError(t, err)
		recs := sink.all()
		require.Len(t, recs, 4)
		var offs []time.Duration
		for _, r := range recs {
			offs = append(offs, r.Start.Sub(res.Start))
		}
		slices.Sort(offs)
		for k, o := range offs { // worker k starts at k·80/4 = 20k ms: never early; late only by scheduling delay
			ms := float64(o) / 1e6
			assert.Equal(t, float64(20*k), ms, "worker %d start (ms)", k)
		}
		assert.EqualValues(t, 4, fs.maxIn.Load(), "all four overlap once ramped up")

		var body map[string]any
		require.NoError(t, json.Unmarshal(must(newEncoder(Params{})).mustBody(t, &Prompt{Text: "x"}), &body))
		_, hasModel := body["model"]
		assert.False(t, hasModel, "an empty Params.Model is left out")
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (e *encoder) mustBody(t *testing.T, p *Prompt) []byte {
	b, err := e.body(p, false)
	require.NoError(t, err)
	return b
}

// Requests whose time came but that were still waiting for a concurrency slot when the drain timeout ended the
// run are recorded as incomplete, never dropped: dropping them would hide exactly the queueing an open loop
// exists to expose.
func TestOpenLoopSlotWaitersAreRecordedWhenTheRunEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(100*time.Millisecond, 1)
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: TextPrompts("p"),
			Rate: 50, Burstiness: 1e6, MaxConcurrency: 1, Duration: 400 * time.Millisecond,
			DrainTimeout: 50 * time.Millisecond, Sink: sink,
		})
		require.NoError(t, err)
		recs := sink.all()
		// Near-regular arrivals every 20 ms for 400 ms: the schedule's own count of them (seed 0: gaps a hair
		// under 20 ms, so 21); one slot, 100 ms each.
		due, arr := 0, newArrivals(50, 1e6, 0)
		for at := time.Duration(0); at < 400*time.Millisecond; at += arr.nextDuration() {
			due++
		}
		assert.InDelta(t, 20, due, 1)
		assert.Len(t, recs, due)
		assert.Equal(t, len(recs), res.Sent)
		assert.Equal(t, len(recs), res.Completed)
		waiting, cut := 0, 0
		for _, r := range recs {
			if errors.Is(r.Err, ErrCutAtEnd) {
				cut++
			}
			if errors.Is(r.Err, ErrCanceled) && strings.Contains(r.Err.Error(), "waiting for a concurrency slot") {
				waiting++
				assert.Equal(t, recorder.OutcomeIncomplete, r.Outcome)
				assert.False(t, r.IntendedStart.IsZero())
				assert.Greater(t, r.SlotWait, time.Duration(0))
			}
		}
		assert.GreaterOrEqual(t, waiting, 10, "most of them were still waiting for the slot")
		// Every record whose Err says it was cut at the end is counted in Cut: the waiters and the one in flight.
		assert.Equal(t, waiting+1, cut)
		assert.Equal(t, cut, res.Cut)
	})
}

// A closed-loop worker whose request cannot connect backs off 10 ms, 20 ms, 40 ms, ... up to 1 s: against a
// port nobody listens on, each of 4 workers sends at 0, 10, 30, 70, 150, 310 and 630 ms, and its next
// attempt (at 1270 ms) is past the 1 s duration: 7 requests per worker, 28 in all, instead of thousands.
func TestClosedLoopBacksOffWhenTheServerIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		url, refused := "http://127.0.0.1:9", refusingTransport()
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: url, Transport: refused}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 4, Duration: time.Second, Sink: sink,
		})
		require.NoError(t, err)
		recs := sink.all()
		assert.Len(t, recs, 28)
		assert.Equal(t, 28, res.ConnectFailures)
		assert.Equal(t, 28, res.Outcomes[recorder.OutcomeFailed])
		for _, r := range recs {
			var op *net.OpError
			require.ErrorAs(t, r.Err, &op)
			assert.Equal(t, "dial", op.Op)
		}
		assert.Contains(t, res.String(), "; 28 could not connect to the server")
		require.Error(t, res.FirstErr)
		assert.Contains(t, res.FirstErr.Error(), "connection refused")
	})
}

// A server that answers, even with errors, is not backed off from: only requests that could not connect are.
func TestClosedLoopDoesNotBackOffFromHTTPErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := testhttp.Transport{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Millisecond) // in the bubble, time passes only while every goroutine waits
			http.Error(w, "boom", http.StatusInternalServerError)
		})}
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: "http://fake.invalid", Transport: boom}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Duration: 300 * time.Millisecond, Sink: sink,
		})
		require.NoError(t, err)
		assert.Zero(t, res.ConnectFailures)
		// With back-off each worker could send at most 6 requests in 300 ms (0, 10, 30, 70, 150, 310 ms); without,
		// each sends one every 1 ms answer: 300 each.
		assert.Len(t, sink.all(), 600)
		assert.NotContains(t, res.String(), "could not connect")
	})
}

// A model the server does not list fails the run before any request (vLLM would answer every one with a 404
// at once); a server without a model list does not stop the run.
func TestRunChecksTheModel(t *testing.T) {
	var completions atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"sim-model"},{"id":"sim-lora"}]}`)
			return
		}
		completions.Add(1)
		http.Error(w, `{"error":{"message":"The model does not exist."}}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	sink := &sliceSink{}
	_, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: srv.URL}, Prompts: TextPrompts("p"), Params: Params{Model: "sim-modle"},
		Concurrency: 2, Duration: time.Second, Sink: sink,
	})
	var notServed *ModelNotServedError
	require.ErrorAs(t, err, &notServed)
	assert.Equal(t, []string{"sim-model", "sim-lora"}, notServed.Served)
	assert.Equal(t, `loadgen: Params.Model "sim-modle" is not served by `+srv.URL+`: its /v1/models lists sim-model, sim-lora`, err.Error())
	assert.Zero(t, completions.Load())
	assert.Empty(t, sink.all())

	// The fake server of the other tests has no /v1/models (404): no check, the run goes on.
	fs := newFakeServer(t, 0, 1)
	res, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: fs.URL}, Prompts: TextPrompts("p"), Params: Params{Model: "anything"},
		Requests: 3, Sink: &sliceSink{},
	})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Outcomes[recorder.OutcomeOK])
}

// A proxy from the environment that cannot be reached is a failure to connect, as a refused dial is; an HTTP
// answer (a proxy's 502 included) is not.
func TestIsDialError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	proxy := &net.OpError{Op: "proxyconnect", Net: "tcp", Err: refused}
	assert.True(t, isDialError(fmt.Errorf("loadgen: Post \"http://h/v1/completions\": %w", refused)))
	assert.True(t, isDialError(fmt.Errorf("loadgen: Post \"http://h/v1/completions\": %w", proxy)))
	assert.True(t, isDialError(fmt.Errorf("%w (10s)", ErrConnectTimeout)))
	assert.False(t, isDialError(&HTTPError{StatusCode: http.StatusBadGateway}))
	assert.False(t, isDialError(&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}))
}

// A count-bounded run against a server that is down stops once no request has connected for
// UnreachableAfter, instead of backing off through every request: with 2 workers sending at 0, 10, 30, 70,
// 150 and 310 ms, the failure at 310 ms is the first past 300 ms: about 12 requests of the 1000, not 1000
// attempts over ~16 minutes of 1 s back-offs.
func TestRunStopsWhenTheServerStaysUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		url, refused := "http://127.0.0.1:9", refusingTransport()
		sink := &sliceSink{}
		start := time.Now()
		res, err := Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: url, Transport: refused}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Requests: 1000, UnreachableAfter: 300 * time.Millisecond, Sink: sink,
		})
		elapsed := time.Since(start)
		require.ErrorIs(t, err, ErrServerUnreachable)
		assert.Contains(t, err.Error(), "(UnreachableAfter 300ms); the last: loadgen: ")
		assert.Contains(t, err.Error(), "connection refused")
		assert.Equal(t, 310*time.Millisecond, elapsed, "the failure at 310 ms is the first past 300 ms")
		// 2 workers × (0, 10, 30, 70, 150, 310 ms); both wake at 310 ms, and the second may find the run stopped.
		assert.GreaterOrEqual(t, res.Sent, 11)
		assert.LessOrEqual(t, res.Sent, 12)
		assert.Equal(t, res.Sent, res.ConnectFailures)
		assert.Len(t, sink.all(), res.Sent, "every request sent is recorded")

		// Open loop: the schedule stops too.
		res, err = Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: url, Transport: refused}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Rate: 100, Requests: 1000, UnreachableAfter: 200 * time.Millisecond, Sink: &sliceSink{},
		})
		require.ErrorIs(t, err, ErrServerUnreachable)
		assert.Less(t, res.Sent, 30, "~20 requests in 200 ms at 100 req/s")

		// A server that answers, even with errors, is reachable: the run goes to its end.
		boom := testhttp.Transport{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Millisecond) // in the bubble, time passes only while every goroutine waits
			http.Error(w, "boom", http.StatusInternalServerError)
		})}
		res, err = Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: "http://fake.invalid", Transport: boom}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Duration: 400 * time.Millisecond, UnreachableAfter: 100 * time.Millisecond, Sink: &sliceSink{},
		})
		require.NoError(t, err)
		assert.Positive(t, res.Sent)
	})
}

// routeTransport sends the requests whose number (from 0, in the order they reach it) route picks to next,
// and fails the others at once as a refused dial.
type routeTransport struct {
	next  http.RoundTripper
	n     atomic.Int64
	route func(n int64) bool
}

func (rt *routeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/v1/models" {
		return rt.next.RoundTrip(req)
	}
	if rt.route(rt.n.Add(1) - 1) {
		return rt.next.RoundTrip(req)
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
}

// A server that streams to one request while every new connection fails is not unreachable until that
// stream ends: worker A's request streams for ~600 ms, worker B's attempts fail from 0 ms; with
// UnreachableAfter 200 ms the run stops only after A's stream, at A's next (failing) attempt.
func TestUnreachableWaitsForConnectedRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(600*time.Millisecond, 2)
		rt := &routeTransport{next: fs.inProcess().Transport, route: func(n int64) bool { return n == 0 }}
		start := time.Now()
		res, err := Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: "http://fake.invalid", Transport: rt}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 2, Duration: 5 * time.Second, UnreachableAfter: 200 * time.Millisecond, Sink: &sliceSink{},
		})
		require.ErrorIs(t, err, ErrServerUnreachable)
		assert.Equal(t, 1, res.Outcomes[recorder.OutcomeOK], "the stream was not cut short")
		assert.Equal(t, 600*time.Millisecond, time.Since(start), "no stop while a connected request streams; then at once")
	})
}

// One failure to connect after a quiet gap longer than UnreachableAfter is not "every connection failed
// for UnreachableAfter": at 4 req/s (gaps ~250 ms) with request 1 refused and the rest served, and
// UnreachableAfter 100 ms, the run goes to its end.
func TestUnreachableNeedsContinuousFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(0, 1)
		rt := &routeTransport{next: fs.inProcess().Transport, route: func(n int64) bool { return n != 1 }}
		res, err := Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: "http://fake.invalid", Transport: rt}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Rate: 4, Burstiness: 1000, Requests: 5, UnreachableAfter: 100 * time.Millisecond, Sink: &sliceSink{},
		})
		require.NoError(t, err)
		assert.Equal(t, 4, res.Outcomes[recorder.OutcomeOK])
		assert.Equal(t, 1, res.ConnectFailures)
	})
}

// Requests waiting for a MaxConcurrency slot when the server is found unreachable are recorded as
// incomplete, not sent to fail too.
func TestUnreachableDropsSlotWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Each attempt takes 50 ms to fail, so that requests queue for the one slot.
		delayed := testhttp.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.URL.Path != "/v1/models" {
				time.Sleep(50 * time.Millisecond)
			}
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
		})
		sink := &sliceSink{}
		start := time.Now()
		res, err := Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: "http://127.0.0.1:9", Transport: delayed}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Rate: 200, MaxConcurrency: 1, Requests: 400, UnreachableAfter: 200 * time.Millisecond, Sink: sink,
		})
		require.ErrorIs(t, err, ErrServerUnreachable)
		assert.Less(t, time.Since(start), time.Second, "the queued requests are not sent one by one after the stop")
		assert.LessOrEqual(t, res.ConnectFailures, 6, "~250 ms of 50 ms attempts on one slot")
		assert.Positive(t, res.Outcomes[recorder.OutcomeIncomplete], "slot waiters recorded")
		assert.Len(t, sink.all(), res.Sent)
	})
}

// A host that drops packets: the first-token timeout fires while still connecting. That is a failure to
// connect (back-off, and UnreachableAfter), and the error still names the first-token timeout.
func TestFirstTokenTimeoutWhileConnectingIsAConnectFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := testhttp.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.URL.Path == "/v1/models" {
				return nil, errors.New("no list")
			}
			<-req.Context().Done()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: req.Context().Err()}
		})
		sink := &sliceSink{}
		res, err := Run(context.Background(), LoadConfig{
			Client:  ClientConfig{BaseURL: "http://10.255.255.1:8000", Transport: hang, FirstTokenTimeout: 50 * time.Millisecond},
			Prompts: TextPrompts("p"), Params: Params{Model: "m"},
			Concurrency: 1, Duration: 2 * time.Second, UnreachableAfter: 200 * time.Millisecond, Sink: sink,
		})
		require.ErrorIs(t, err, ErrServerUnreachable)
		assert.Equal(t, res.Sent, res.ConnectFailures)
		recs := sink.all()
		require.NotEmpty(t, recs)
		assert.ErrorIs(t, recs[0].Err, ErrFirstTokenTimeout)
		assert.Contains(t, recs[0].Err.Error(), "while connecting")
	})
}

// refusingTransport fails every request at once as a refused dial does (net.OpError "dial").
func refusingTransport() http.RoundTripper {
	return testhttp.RoundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	})
}

// A real refused dial (nobody listens on the port) is a failure to connect.
func TestRealRefusedDialIsAConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	sink := &sliceSink{}
	res, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: url}, Prompts: TextPrompts("p"), Params: Params{Model: "m"},
		Concurrency: 1, Requests: 1, Sink: sink,
	})
	require.NoError(t, err)
	assert.Equal(t, 1, res.ConnectFailures)
	require.Len(t, sink.all(), 1)
	var op *net.OpError
	require.ErrorAs(t, sink.all()[0].Err, &op)
	assert.Equal(t, "dial", op.Op)
	assert.Contains(t, res.FirstErr.Error(), "connection refused")
}

// timedServer serves request i (in arrival order) as one text token after durs[i]: its E2E latency.
func timedServer(durs ...time.Duration) ClientConfig {
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		d := durs[min(int(n.Add(1))-1, len(durs)-1)]
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, textChunk("a", "length")+done)
	})
	return ClientConfig{BaseURL: "http://fake.invalid", Transport: testhttp.Transport{Handler: h}}
}

// With DrainAfterSlowest, the drain is twice the slowest OK request when that is longer than DrainTimeout.
// One worker, 1 s of sending, requests at 0, 300, 600 and 900 ms. When the fourth takes 300 ms like the
// others, it ends at 1200 ms within the 600 ms drain (a plain 100 ms DrainTimeout cuts it at 1100 ms); when it
// takes 2 s, it is still cut, at 1000 + 600 ms.
func TestDrainAfterSlowest(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name     string
		adaptive bool
		last     time.Duration
		ended    time.Duration
		cut      int
		why      string
	}{
		{"healthy long reply finishes", true, 300 * ms, 1200 * ms, 0, ""},
		{"without it, cut at DrainTimeout", false, 300 * ms, 1100 * ms, 1, "still in flight DrainTimeout 100ms after"},
		{"a stall is still cut", true, 2 * time.Second, 1600 * ms, 1,
			"still in flight 600ms (twice the slowest OK request's E2E latency, 300ms, more than DrainTimeout 100ms) after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sink := &sliceSink{}
				t0 := time.Now()
				res, err := Run(context.Background(), LoadConfig{
					Client: timedServer(300*ms, 300*ms, 300*ms, tc.last), Prompts: TextPrompts("p"), Params: Params{Model: "m"},
					Concurrency: 1, Duration: time.Second, DrainTimeout: 100 * ms, DrainAfterSlowest: tc.adaptive, Sink: sink,
				})
				require.NoError(t, err)
				assert.Equal(t, tc.ended, time.Since(t0))
				assert.Equal(t, tc.cut, res.Cut)
				recs := sink.all()
				require.Len(t, recs, 4)
				assert.Equal(t, 4-tc.cut, res.Outcomes[recorder.OutcomeOK])
				if tc.cut > 0 {
					assert.ErrorIs(t, recs[3].Err, ErrCutAtEnd)
					assert.Contains(t, recs[3].Err.Error(), tc.why)
				}
			})
		})
	}
}
