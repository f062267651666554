package recorder

import (
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// req builds a successful request starting at t0+startMS with the given TTFT, chunk gaps (ms) and token count.
func req(t0 time.Time, startMS, ttftMS float64, gapsMS []float64, outTokens int) Request {
	d := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	start := t0.Add(d(startMS))
	first := start.Add(d(ttftMS))
	times := []time.Time{first}
	at := first
	for _, g := range gapsMS {
		at = at.Add(d(g))
		times = append(times, at)
	}
	return Request{Start: start, FirstToken: first, FirstContent: first, End: at, TokenTimes: times,
		OutputTokens: outTokens, PromptTokens: 10, FinishReason: "length", HTTPStatus: 200}
}

func TestRecordDerivesTTFTTPOTITLE2E(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	// TTFT 100 ms, then gaps 10, 20, 30 ms: E2E = 160, TPOT = (160−100)/(4−1) = 20, ITL = {10, 20, 30}.
	r.RecordRequest(req(t0, 0, 100, []float64{10, 20, 30}, 4))
	recs, next := r.Records(0)
	require.Len(t, recs, 1)
	assert.Equal(t, 1, next)
	rec := recs[0]
	assert.InDelta(t, 100, rec.TTFTMS, 1e-6)
	assert.InDelta(t, 160, rec.E2EMS, 1e-6)
	assert.InDelta(t, 20, rec.TPOTMS, 1e-6)
	assert.InDelta(t, 20, rec.ITLMeanMS, 1e-6)
	assert.True(t, math.IsNaN(rec.TTFTFromIntendedMS), "closed loop has no intended start")
	s := r.Summarize()
	assert.Equal(t, 3, s.ITLMS.N)
	assert.InDelta(t, 20, *s.ITLMS.P50, 1e-6)
	assert.InDelta(t, 30, *s.ITLMS.Max, 1e-6)
}

func TestSingleTokenHasNoTPOT(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	r.RecordRequest(req(t0, 0, 50, nil, 1))
	s := r.Summarize()
	assert.Equal(t, 1, s.TTFTMS.N)
	assert.Equal(t, 0, s.TPOTMS.N, "TPOT needs output_tokens > 1")
	assert.Nil(t, s.TPOTMS.Mean)
}

// Issue 5's pinned input, through the recorder: failed requests are counted, never averaged in as 0.
func TestFailedRequestsCountedNotAveraged(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	for i, v := range []float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500} {
		r.RecordRequest(req(t0, float64(i), v, []float64{1}, 2))
	}
	r.RecordRequest(Request{Start: t0, Err: errors.New("connection refused")})
	r.RecordRequest(Request{Start: t0, HTTPStatus: 500, Err: errors.New("HTTP 500")})
	s := r.Summarize()
	assert.Equal(t, 12, s.Total)
	assert.Equal(t, 10, s.OK)
	assert.Equal(t, 2, s.Failed)
	assert.InDelta(t, 375.8, *s.TTFTMS.Mean, 1e-6)
	assert.InDelta(t, 107.5, *s.TTFTMS.P50, 1e-6)
	assert.InDelta(t, 610, *s.TTFTMS.P90, 1e-6)
	assert.InDelta(t, 2311, *s.TTFTMS.P99, 1e-6)
	assert.InDelta(t, 2.0/12, *s.ErrorRate, 1e-12)
	assert.Equal(t, "HTTP 500", s.LastError)
}

func TestOutcomesAndThroughput(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	// Two successes: [0, 1000] ms and [500, 2000] ms → window 2 s, 2 req / 2 s = 1 req/s, 30 tokens/2 s.
	r.RecordRequest(req(t0, 0, 100, []float64{900}, 10))
	r.RecordRequest(req(t0, 500, 500, []float64{1000}, 20))
	r.RecordRequest(Request{Start: t0, Outcome: OutcomeRejected, HTTPStatus: 429})
	r.RecordRequest(Request{Start: t0, Outcome: OutcomeIncomplete})
	r.RecordRequest(Request{Start: t0}) // no token, no error → incomplete
	s := r.Summarize()
	assert.Equal(t, Counts{Total: 5, OK: 2, Rejected: 1, Incomplete: 2, OutputTokens: 30, PromptTokens: 20, ITLPerChunk: 2}, s.Counts)
	require.NotNil(t, s.WindowS)
	assert.InDelta(t, 2.0, *s.WindowS, 1e-6)
	assert.InDelta(t, 1.0, *s.RequestThroughput, 1e-6)
	assert.InDelta(t, 15.0, *s.OutputTokenThroughput, 1e-6)
	assert.InDelta(t, 25.0, *s.TotalTokenThroughput, 1e-6)
}

func TestEmptyRecorderIsNoData(t *testing.T) {
	s := New(time.Now(), Config{}).Summarize()
	assert.Equal(t, 0, s.Total)
	assert.Nil(t, s.ErrorRate)
	assert.Nil(t, s.RequestThroughput)
	assert.Nil(t, s.TTFTMS.P99)
}

func TestIntendedStartLatencies(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	q := req(t0, 100, 50, []float64{10}, 2)
	q.IntendedStart = t0 // the request went out 100 ms late
	r.RecordRequest(q)
	recs, _ := r.Records(0)
	assert.InDelta(t, 150, recs[0].TTFTFromIntendedMS, 1e-6)
	assert.InDelta(t, 160, recs[0].E2EFromIntendedMS, 1e-6)
}

func TestRowBoundCountsDropped(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{MaxRecords: 2})
	for i := 0; i < 5; i++ {
		r.RecordRequest(req(t0, 0, 10, nil, 1))
	}
	assert.Equal(t, 2, r.Len())
	c := r.Counts()
	assert.Equal(t, 5, c.Total)
	assert.Equal(t, 3, c.Dropped)
}

func TestZeroStartIsFailed(t *testing.T) {
	r := New(time.Now(), Config{})
	r.RecordRequest(Request{})
	recs, _ := r.Records(0)
	assert.Equal(t, OutcomeFailed, recs[0].Outcome)
	assert.Contains(t, recs[0].Error, "zero Start")
}

func TestRecordsWindowCursor(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	r.RecordRequest(req(t0, 0, 10, nil, 1))
	_, cur := r.Records(0)
	r.RecordRequest(req(t0, 0, 20, nil, 1))
	r.RecordRequest(req(t0, 0, 30, nil, 1))
	recs, cur2 := r.Records(cur)
	require.Len(t, recs, 2)
	assert.Equal(t, 3, cur2)
	assert.InDelta(t, 20, recs[0].TTFTMS, 1e-6)
}

func TestConcurrentRecord(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				r.RecordRequest(req(t0, 0, float64(g+1), []float64{1, 1}, 3))
				if i%100 == 0 {
					_ = r.Summarize()
				}
			}
		}()
	}
	wg.Wait()
	s := r.Summarize()
	assert.Equal(t, 4000, s.OK)
	assert.Equal(t, 8000, s.ITLMS.N)
	// TTFTs are 1..8 ms, 500 each: mean 4.5.
	assert.InDelta(t, 4.5, *s.TTFTMS.Mean, 1e-6)
}

func TestGoodputCountsRequestsMeetingEverySLO(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{Goodput: SLO{TTFT: 100 * time.Millisecond, TPOT: 20 * time.Millisecond}})
	// (ttft, gaps) → TPOT = sum(gaps)/len(gaps):
	r.RecordRequest(req(t0, 0, 50, []float64{10, 10}, 3))     // meets both
	r.RecordRequest(req(t0, 0, 150, []float64{10, 10}, 3))    // TTFT too high
	r.RecordRequest(req(t0, 0, 50, []float64{30, 30}, 3))     // TPOT too high
	r.RecordRequest(req(t0, 0, 100, []float64{20, 1980}, 2))  // TPOT = 2000 ms: too high
	r.RecordRequest(req(t0, 1000, 100, []float64{20, 20}, 3)) // exactly at both limits: meets
	r.RecordRequest(req(t0, 0, 10, nil, 1))                   // single token: TPOT counts as 0 (vLLM) → meets
	r.RecordRequest(Request{Start: t0, Err: errors.New("x")}) // failed: never counts
	s := r.Summarize()
	assert.Equal(t, new(3), s.GoodputRequests)
	// Window: first start 0 ms → last end 2100 ms (request 4: 0 + 100 + 20 + 1980).
	require.NotNil(t, s.WindowS)
	assert.InDelta(t, 2.1, *s.WindowS, 1e-6)
	assert.InDelta(t, 3/2.1, *s.Goodput, 1e-6)
	assert.Equal(t, map[string]float64{"ttft": 100, "tpot": 20}, s.GoodputSLOs)

	none := New(t0, Config{})
	none.RecordRequest(req(t0, 0, 50, []float64{10}, 2))
	sn := none.Summarize()
	assert.Nil(t, sn.Goodput, "no SLO → no goodput, not 0")
	assert.Nil(t, sn.GoodputRequests, "no SLO → no goodput count, not 0")
	b, err := json.Marshal(sn)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"goodput_requests":null`)
}

// The rows never reserve room past the row bound: 150 requests under a bound of 100 leave exactly 100 slots
// (append's own growth, rounded to the allocator's size classes, would leave more).
func TestRowsReserveNoRoomPastTheBound(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{MaxRecords: 100})
	for i := 0; i < 150; i++ {
		r.RecordRequest(req(t0, 0, 10, nil, 1))
	}
	assert.Equal(t, 100, r.Len())
	assert.Equal(t, 100, r.rows.reserved())
}

func TestStatsIncludeRequestsPastTheRowBound(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{MaxRecords: 3})
	for i := 1; i <= 10; i++ {
		r.RecordRequest(req(t0, 0, float64(i), nil, 1))
	}
	s := r.Summarize()
	assert.Equal(t, 3, r.Len())
	assert.Equal(t, 7, s.Dropped)
	assert.Equal(t, 10, s.TTFTMS.N)
	assert.InDelta(t, 5.5, *s.TTFTMS.Mean, 1e-9)
	assert.InDelta(t, 5.5, *s.TTFTMS.P50, 1e-9)
}

func TestDrainWindowUntilCutsAtEndTime(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	r.RecordRequest(req(t0, 0, 10, []float64{5}, 2))                                         // ends at 15 ms
	r.RecordRequest(req(t0, 100, 10, []float64{5}, 3))                                       // ends at 115 ms: after the cut
	r.RecordRequest(Request{Start: t0.Add(50 * time.Millisecond), Outcome: OutcomeRejected}) // ends at its start, 50 ms
	w := r.DrainWindowUntil(t0.Add(100 * time.Millisecond))
	assert.Equal(t, 2, w.Total)
	assert.Equal(t, 1, w.OK)
	assert.Equal(t, int64(2), w.OutputTokens)
	assert.Equal(t, []float64{10}, w.TTFTMS)
	assert.InDelta(t, 15, w.E2EMS[0], 1e-9)
	w = r.DrainWindowUntil(t0.Add(200 * time.Millisecond))
	assert.Equal(t, 1, w.Total, "the request that ended after the first cut is in the next window")
	assert.Equal(t, int64(3), w.OutputTokens)
	r.RecordRequest(req(t0, 1e6, 10, nil, 1)) // ends 1,000 s after t0
	assert.Equal(t, 1, r.DrainWindowUntil(time.Time{}).Total, "a zero cut drains every request")
	assert.Equal(t, Window{}, r.DrainWindowUntil(t0.Add(time.Hour)), "a drained window starts empty")
}

// A run rebuilt from its journal (TakeJournal's rows and gaps, replayed through AddRecord) has the same
// request statistics as the run itself.
func TestTakeJournalReplaysToTheSameSummary(t *testing.T) {
	t0 := time.Now()
	live := New(t0, Config{Goodput: SLO{TTFT: 60 * time.Millisecond}})
	replay := New(t0, Config{Goodput: SLO{TTFT: 60 * time.Millisecond}})
	take := func() int {
		rows, gaps, _ := live.TakeJournal()
		for i := range rows {
			replay.AddRecord(rows[i], gaps[i])
		}
		return len(rows)
	}
	live.RecordRequest(req(t0, 0, 50, []float64{10, 20, 30}, 4))
	live.RecordRequest(Request{Start: t0, Err: errors.New("refused")})
	assert.Equal(t, 2, take())
	live.RecordRequest(req(t0, 5, 70, []float64{1, 2}, 3))
	live.RecordRequest(req(t0, 9, 40, nil, 1))
	assert.Equal(t, 2, take())
	assert.Equal(t, 0, take(), "each row is taken once")
	assert.Equal(t, live.Summarize(), replay.Summarize())
	a, _ := live.Records(0)
	b, _ := replay.Records(0)
	assert.Len(t, b, 4)
	for i := range a { // NaN fields make Equal on whole rows fail
		assert.Equal(t, a[i].ID, b[i].ID)
		assert.Equal(t, a[i].ITLGaps, b[i].ITLGaps)
		assert.Equal(t, a[i].Outcome, b[i].Outcome)
	}
	assert.Equal(t, 5, a[0].ITLGaps+a[2].ITLGaps)
}

// Once the ITL distribution has moved into its sketch, TakeJournal has no gaps to give: the rows come without
// them, which bounds the gaps a journal holds by the distribution's exact capacity.
func TestTakeJournalGapsBoundedByExactCapacity(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	r.itl.exactCapacity = 4
	r.RecordRequest(req(t0, 0, 50, []float64{10, 20}, 3))
	rows, gaps, c := r.TakeJournal()
	require.Len(t, rows, 1)
	assert.Equal(t, []float64{10, 20}, gaps[0])
	r.RecordRequest(req(t0, 0, 50, []float64{1, 2, 3}, 4)) // 5 gaps in all: into the sketch
	rows, gaps, c = r.TakeJournal()
	require.Len(t, rows, 1)
	assert.Equal(t, 3, rows[0].ITLGaps)
	assert.Nil(t, gaps[0])
	assert.Equal(t, 2, c.Total)
}

// Cut's summary and rows describe the same requests while others are being recorded.
func TestCutIsOneInstant(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	defer recordMeanwhile(r, t0)()
	for i := 0; i < 50; i++ {
		s, rows := r.Cut()
		require.Equal(t, s.Total, len(rows)+s.Dropped, "every request recorded is a row or counted as dropped past the row bound")
	}
}

// recordMeanwhile records requests into r from another goroutine until the returned func is called.
func recordMeanwhile(r *Recorder, t0 time.Time) (stop func()) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				r.RecordRequest(req(t0, 0, 50, []float64{10}, 2))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// FinalCut's window, summary and rows are one instant, while others record.
func TestFinalCutIsOneInstant(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	defer recordMeanwhile(r, t0)()
	drained := 0
	for i := 0; i < 50; i++ {
		w, s, rows := r.FinalCut()
		drained += w.Total
		require.Equal(t, s.Total, len(rows)+s.Dropped, "every request recorded is a row or counted as dropped past the row bound")
		require.Equal(t, s.Total, drained, "every request in the cut was drained by it or before")
	}
}

// The interrupted run: 12 ok, 1 rejected, and 4 requests the client cancelled because its caller ended
// the run. error_rate = (17 − 12 − 4) / (17 − 4) = 1/13; the canceled requests' tokens enter no latency.
func TestCanceledRequestsLeaveTheErrorRate(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	for i := range 12 {
		r.RecordRequest(req(t0, float64(i), float64(100+i), []float64{10}, 2)) // TTFT 100..111 ms
	}
	r.RecordRequest(Request{Start: t0, Outcome: OutcomeRejected, HTTPStatus: 503})
	for range 4 {
		c := req(t0, 0, 5000, []float64{10}, 2) // a first token came, then the run was interrupted
		c.Outcome, c.Err = OutcomeCanceled, errors.New("loadgen: request cancelled by its context: interrupt")
		r.RecordRequest(c)
	}
	s := r.Summarize()
	assert.Equal(t, Counts{Total: 17, OK: 12, Rejected: 1, Canceled: 4, OutputTokens: 24, PromptTokens: 120, ITLPerChunk: 12}, s.Counts)
	require.NotNil(t, s.ErrorRate)
	assert.InDelta(t, 1.0/13, *s.ErrorRate, 1e-12)
	assert.Equal(t, 12, s.TTFTMS.N)
	assert.InDelta(t, 105.5, *s.TTFTMS.Mean, 1e-9) // (100 + 111) / 2
	assert.InDelta(t, 111, *s.TTFTMS.Max, 1e-9)
	recs, _ := r.Records(0)
	require.Len(t, recs, 17)
	assert.Equal(t, OutcomeCanceled, recs[16].Outcome)
}

// Every request canceled: no request the server could fail, so error_rate is unknown, not 0.
func TestAllCanceledErrorRateUnknown(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	for range 3 {
		r.RecordRequest(Request{Start: t0, Outcome: OutcomeCanceled, Err: errors.New("cancelled")})
	}
	s := r.Summarize()
	assert.Equal(t, 3, s.Total)
	assert.Equal(t, 3, s.Canceled)
	assert.Nil(t, s.ErrorRate)
	assert.Nil(t, Counts{}.ErrorRate())
	assert.InDelta(t, 0.5, *Counts{Total: 6, OK: 2, Canceled: 2}.ErrorRate(), 1e-12)
}

// A window shorter than MinThroughputWindow leaves throughput and goodput unknown (3 requests of 1.5 ms over
// 4.5 ms would read 660 req/s); the window itself is still known. At the minimum they are known.
func TestThroughputUnknownOverATooShortWindow(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{Goodput: SLO{TTFT: time.Second}})
	for i := range 3 { // [0, 1.5], [1.5, 3], [3, 4.5] ms
		r.RecordRequest(req(t0, 1.5*float64(i), 0.5, []float64{1}, 2))
	}
	s := r.Summarize()
	require.NotNil(t, s.WindowS)
	assert.InDelta(t, 0.0045, *s.WindowS, 1e-9)
	assert.True(t, s.WindowTooShort())
	assert.Nil(t, s.RequestThroughput)
	assert.Nil(t, s.OutputTokenThroughput)
	assert.Nil(t, s.TotalTokenThroughput)
	assert.Nil(t, s.Goodput)
	assert.Equal(t, new(3), s.GoodputRequests, "the count is known: only the rate is not")
	assert.Equal(t, "n=3 successful requests over 0.0045 s, under 1s: too short for a rate per second", s.TooShortText())

	// Two requests spanning exactly 1 s: [0, 400] and [600, 1000] ms → 2 req/s.
	r = New(t0, Config{})
	r.RecordRequest(req(t0, 0, 100, []float64{300}, 2))
	r.RecordRequest(req(t0, 600, 100, []float64{300}, 2))
	s = r.Summarize()
	require.NotNil(t, s.WindowS)
	assert.False(t, s.WindowTooShort())
	require.NotNil(t, s.RequestThroughput)
	assert.InDelta(t, 2.0, *s.RequestThroughput, 1e-6)
}

// Warm-up requests are counted apart and nowhere else: two measured requests (TTFT 100 and 300 ms, 4 and 2
// tokens, starting at 0 and 1000 ms) give the same summary, rows and window with or without three warm-up
// requests beside them (two OK, of 5 and 7 tokens, one failed), whose tally is 3 total, 2 OK, 12 tokens.
func TestWarmupCountedApart(t *testing.T) {
	t0 := time.Now()
	measured := []Request{req(t0, 0, 100, []float64{10, 20, 30}, 4), req(t0, 1000, 300, []float64{50}, 2)}
	plain, warm := New(t0, Config{}), New(t0, Config{})
	for _, q := range measured {
		plain.RecordRequest(q)
	}
	warm.RecordWarmup(req(t0, -500, 10, []float64{1}, 5))
	warm.RecordWarmup(req(t0, -400, 10, []float64{1}, 7))
	warm.RecordWarmup(Request{Start: t0.Add(-300 * time.Millisecond), Err: errors.New("boom")})
	for _, q := range measured {
		warm.RecordRequest(q)
	}
	ps, prows := plain.Cut()
	ws, wrows := warm.Cut()
	assert.Equal(t, WarmupCounts{Total: 3, OK: 2, OutputTokens: 12}, ws.Warmup)
	ws.Warmup = WarmupCounts{}
	assert.Equal(t, ps, ws, "no statistic counts the warm-up")
	assert.Len(t, wrows, len(prows))
	assert.InDelta(t, 1.35, *ws.WindowS, 1e-9, "the window runs from the first measured start (0) to the last end (1000 + 300 + 50 ms)")
	win := warm.DrainWindowUntil(time.Time{})
	assert.Equal(t, 2, win.Total)
	assert.Equal(t, int64(6), win.OutputTokens)
}
