package recorder

import (
	"math"
	"sync"
	"time"
)

// DefaultMaxRecords bounds the per-request rows a Recorder keeps for the requests CSV when Config.MaxRecords
// is 0: about 70 h at 1 request/s, or 4 min at 1,000 requests/s, in about 50 MiB. Requests past the bound are
// still counted and still enter every statistic (see ExactCap); they are only missing from the CSV, and
// Counts.Dropped says how many.
const DefaultMaxRecords = 250_000

// SLO is a per-request service-level objective for goodput: a request counts toward goodput when it succeeded
// and each set limit holds (TTFT ≤ TTFT, TPOT ≤ TPOT, E2E ≤ E2E), as vLLM's `bench serve --goodput` and
// DistServe define it. A zero field is not checked.
type SLO struct {
	TTFT, TPOT, E2E time.Duration
}

func (o SLO) set() bool { return o.TTFT > 0 || o.TPOT > 0 || o.E2E > 0 }

// meets reports whether a successful record meets every set limit. An unknown value never meets one, except
// TPOT with at most one output token, which counts as 0 as vLLM's bench serve counts it for goodput.
func (o SLO) meets(r *Record) bool {
	le := func(v float64, lim time.Duration) bool { return lim <= 0 || (!math.IsNaN(v) && v <= ms(lim)) }
	tpot := r.TPOTMS
	if math.IsNaN(tpot) && r.OutputTokens <= 1 {
		tpot = 0
	}
	return le(r.TTFTMS, o.TTFT) && le(tpot, o.TPOT) && le(r.E2EMS, o.E2E)
}

// Config configures a Recorder.
type Config struct {
	// MaxRecords bounds the rows kept for the requests CSV; 0 means DefaultMaxRecords, negative means none.
	MaxRecords int
	// Goodput is the SLO that goodput counts against; the zero value means goodput is not computed.
	Goodput SLO
}

// Record is the compact form of one request that a Recorder keeps: durations in milliseconds (NaN when
// unknown), offsets from the recorder's start in seconds. It is what the requests CSV is written from.
type Record struct {
	// ID is the caller's request id.
	ID string
	// StartS is the send time, seconds since the recorder's start (monotonic).
	StartS float64
	// EndS is the time of the last token-bearing chunk (or the failure), seconds since the recorder's start.
	EndS float64
	// TTFTMS is time to first token, ms: FirstToken − Start.
	TTFTMS float64
	// E2EMS is end-to-end latency, ms: End − Start.
	E2EMS float64
	// TPOTMS is time per output token after the first, ms: (E2E − TTFT)/(OutputTokens − 1), for OutputTokens > 1
	// (as vLLM's bench serve computes TPOT).
	TPOTMS float64
	// ITLMeanMS is the mean gap between consecutive token-bearing chunks, ms (NaN with fewer than two).
	ITLMeanMS float64
	// TTFTFromIntendedMS and E2EFromIntendedMS are measured from the open-loop intended start (NaN in closed loop).
	TTFTFromIntendedMS float64
	E2EFromIntendedMS  float64
	// SlotWaitMS is the time waited for a concurrency slot, ms.
	SlotWaitMS float64
	// PromptTokens, OutputTokens and RequestedOutputTokens as in Request.
	PromptTokens          int
	OutputTokens          int
	RequestedOutputTokens int
	// OutputTokensEstimated as in Request.
	OutputTokensEstimated bool
	// FinishReason, HTTPStatus as in Request.
	FinishReason string
	HTTPStatus   int
	// Outcome is the request's effective outcome.
	Outcome Outcome
	// Error is Err's message, empty for a success.
	Error string
}

// Counts tallies requests by outcome, including those past the row bound.
type Counts struct {
	// Total is every request recorded.
	Total int `json:"total"`
	// OK, Failed, Incomplete and Rejected count each outcome.
	OK         int `json:"ok"`
	Failed     int `json:"failed"`
	Incomplete int `json:"incomplete"`
	Rejected   int `json:"rejected"`
	// OutputTokens and PromptTokens sum the token counts of successful requests.
	OutputTokens int64 `json:"output_tokens"`
	PromptTokens int64 `json:"prompt_tokens"`
	// Dropped counts requests not kept as rows because the row bound was reached.
	Dropped int `json:"dropped"`
}

// Recorder keeps the requests of one test in bounded memory: the rows for the CSV up to Config.MaxRecords,
// and every distribution exactly up to ExactCap values, then in a DDSketch. It is safe for concurrent use;
// RecordRequest takes one short lock.
type Recorder struct {
	start   time.Time
	maxRecs int
	slo     SLO

	mu        sync.Mutex
	recs      []Record
	counts    Counts
	lastError string
	firstS    float64 // earliest StartS of a successful request (NaN before one)
	lastS     float64 // latest EndS of a successful request
	good      int     // successful requests meeting slo

	ttft, tpot, e2e, itl, ttftInt, e2eInt dist

	win Window
}

// Window is what was recorded since the previous DrainWindow: the successful requests' TTFT and E2E latency
// (ms; the first ExactCap of them, so an undrained window stays bounded), their output tokens, and the number
// of requests of any outcome.
type Window struct {
	// TTFTMS and E2EMS hold one value per successful request (NaN where unknown).
	TTFTMS, E2EMS []float64
	// OK is the number of successful requests; OutputTokens their output tokens.
	OK           int
	OutputTokens int64
	// Total is the number of requests of any outcome.
	Total int
}

// New returns a Recorder whose time offsets count from start (which must carry a monotonic reading, i.e. come
// from time.Now()).
func New(start time.Time, cfg Config) *Recorder {
	maxRecords := cfg.MaxRecords
	if maxRecords == 0 {
		maxRecords = DefaultMaxRecords
	}
	if maxRecords < 0 {
		maxRecords = 0
	}
	return &Recorder{start: start, maxRecs: maxRecords, slo: cfg.Goodput, firstS: math.NaN()}
}

// Start returns the time offsets count from.
func (r *Recorder) Start() time.Time { return r.start }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// toRecord derives the compact record from q, computing every duration from monotonic readings.
func (r *Recorder) toRecord(q *Request) Record {
	nan := math.NaN()
	rec := Record{
		ID: q.ID, TTFTMS: nan, E2EMS: nan, TPOTMS: nan, ITLMeanMS: nan,
		TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan,
		SlotWaitMS:   ms(q.SlotWait),
		PromptTokens: q.PromptTokens, OutputTokens: q.OutputTokens, RequestedOutputTokens: q.RequestedOutputTokens,
		OutputTokensEstimated: q.OutputTokensEstimated, FinishReason: q.FinishReason, HTTPStatus: q.HTTPStatus,
		Outcome: q.EffectiveOutcome(),
	}
	if q.Err != nil {
		rec.Error = q.Err.Error()
	}
	rec.StartS = q.Start.Sub(r.start).Seconds()
	end := q.End
	if end.IsZero() {
		end = q.Start
	}
	rec.EndS = end.Sub(r.start).Seconds()
	if !q.FirstToken.IsZero() {
		rec.TTFTMS = ms(q.FirstToken.Sub(q.Start))
	}
	if !q.End.IsZero() {
		rec.E2EMS = ms(q.End.Sub(q.Start))
	}
	if q.OutputTokens > 1 && !q.FirstToken.IsZero() && !q.End.IsZero() {
		rec.TPOTMS = ms(q.End.Sub(q.FirstToken)) / float64(q.OutputTokens-1)
	}
	if n := len(q.TokenTimes); n > 1 {
		rec.ITLMeanMS = ms(q.TokenTimes[n-1].Sub(q.TokenTimes[0])) / float64(n-1)
	}
	if !q.IntendedStart.IsZero() {
		if !q.FirstToken.IsZero() {
			rec.TTFTFromIntendedMS = ms(q.FirstToken.Sub(q.IntendedStart))
		}
		if !q.End.IsZero() {
			rec.E2EFromIntendedMS = ms(q.End.Sub(q.IntendedStart))
		}
	}
	return rec
}

// RecordRequest stores q. A request whose Start is zero is counted as failed with an error saying so, since
// none of its durations can be known. Safe for concurrent use.
func (r *Recorder) RecordRequest(q Request) {
	if q.Start.IsZero() {
		q.Outcome = OutcomeFailed
		if q.Err == nil {
			q.Err = errNoStart
		}
		q.Start = time.Now()
	}
	rec := r.toRecord(&q)
	r.mu.Lock()
	c := &r.counts
	c.Total++
	r.win.Total++
	switch rec.Outcome {
	case OutcomeOK:
		c.OK++
		c.OutputTokens += int64(rec.OutputTokens)
		c.PromptTokens += int64(rec.PromptTokens)
		if math.IsNaN(r.firstS) || rec.StartS < r.firstS {
			r.firstS = rec.StartS
		}
		if rec.EndS > r.lastS {
			r.lastS = rec.EndS
		}
		r.ttft.add(rec.TTFTMS)
		r.tpot.add(rec.TPOTMS)
		r.e2e.add(rec.E2EMS)
		r.ttftInt.add(rec.TTFTFromIntendedMS)
		r.e2eInt.add(rec.E2EFromIntendedMS)
		for i := 1; i < len(q.TokenTimes); i++ {
			r.itl.add(ms(q.TokenTimes[i].Sub(q.TokenTimes[i-1])))
		}
		if r.slo.set() && r.slo.meets(&rec) {
			r.good++
		}
		r.win.OK++
		r.win.OutputTokens += int64(rec.OutputTokens)
		if len(r.win.TTFTMS) < ExactCap { // bounded even if nobody drains the window
			r.win.TTFTMS = append(r.win.TTFTMS, rec.TTFTMS)
			r.win.E2EMS = append(r.win.E2EMS, rec.E2EMS)
		}
	case OutcomeRejected:
		c.Rejected++
	case OutcomeIncomplete:
		c.Incomplete++
	default:
		c.Failed++
	}
	if rec.Error != "" {
		r.lastError = rec.Error
	}
	if len(r.recs) < r.maxRecs {
		r.recs = append(r.recs, rec)
	} else {
		c.Dropped++
	}
	r.mu.Unlock()
}

// DrainWindow returns what was recorded since the previous call (or since New) and starts a new window.
func (r *Recorder) DrainWindow() Window {
	r.mu.Lock()
	w := r.win
	r.win = Window{}
	r.mu.Unlock()
	return w
}

type recorderError string

func (e recorderError) Error() string { return string(e) }

const errNoStart = recorderError("vmtest: request recorded with a zero Start time")

// Len returns the number of rows kept.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.recs)
}

// Records returns a copy of the rows from index from (0 for all) to the end, and the index to pass next time
// to get only newer rows. Rows are in the order RecordRequest was called.
func (r *Recorder) Records(from int) ([]Record, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if from < 0 || from > len(r.recs) {
		from = len(r.recs)
	}
	out := make([]Record, len(r.recs)-from)
	copy(out, r.recs[from:])
	return out, len(r.recs)
}

// Counts returns the tallies so far.
func (r *Recorder) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// Summary is the request-level statistics of a Recorder: outcomes, latency distributions over successful
// requests (ms), and throughput over the measured window.
type Summary struct {
	Counts
	// TTFTMS, TPOTMS, ITLMS and E2EMS are distributions over successful requests, ms. ITL is per chunk gap
	// (vLLM bench serve); the others per request.
	TTFTMS Stats `json:"ttft_ms"`
	TPOTMS Stats `json:"tpot_ms"`
	ITLMS  Stats `json:"itl_ms"`
	E2EMS  Stats `json:"e2e_ms"`
	// TTFTFromIntendedMS and E2EFromIntendedMS are measured from the open-loop schedule (N=0 in closed loop).
	TTFTFromIntendedMS Stats `json:"ttft_from_intended_ms"`
	E2EFromIntendedMS  Stats `json:"e2e_from_intended_ms"`
	// WindowS is the measured window, s: first successful request's start to last successful request's end.
	// Nil with no successful request.
	WindowS *float64 `json:"window_s"`
	// RequestThroughput is successful requests per second over WindowS.
	RequestThroughput *float64 `json:"request_throughput"`
	// OutputTokenThroughput is output tokens of successful requests per second over WindowS.
	OutputTokenThroughput *float64 `json:"output_token_throughput"`
	// TotalTokenThroughput is prompt plus output tokens of successful requests per second over WindowS.
	TotalTokenThroughput *float64 `json:"total_token_throughput"`
	// ErrorRate is (Total − OK)/Total; nil when Total is 0.
	ErrorRate *float64 `json:"error_rate"`
	// Goodput is successful requests meeting every SLO in GoodputSLOs per second over WindowS (DistServe;
	// vLLM bench serve --goodput); nil when no SLO was given or no request succeeded.
	Goodput *float64 `json:"goodput"`
	// GoodputRequests is the number of successful requests meeting every SLO.
	GoodputRequests int `json:"goodput_requests"`
	// GoodputSLOs are the limits goodput counted against, ms, keyed "ttft", "tpot", "e2e"; nil when none.
	GoodputSLOs map[string]float64 `json:"goodput_slos_ms"`
	// LastError is the message of the last failed request.
	LastError string `json:"last_error,omitempty"`
}

// Summarize computes the Summary over every request recorded (including those past the row bound).
func (r *Recorder) Summarize() Summary {
	// Copy under the lock, sort outside it: RecordRequest is never held up by a summary.
	r.mu.Lock()
	s := Summary{Counts: r.counts, LastError: r.lastError, GoodputRequests: r.good}
	dists := [6]dist{r.ttft.detached(), r.tpot.detached(), r.e2e.detached(), r.itl.detached(),
		r.ttftInt.detached(), r.e2eInt.detached()}
	firstS, lastS, good := r.firstS, r.lastS, r.good
	r.mu.Unlock()
	s.TTFTMS, s.TPOTMS, s.E2EMS, s.ITLMS = dists[0].stats(), dists[1].stats(), dists[2].stats(), dists[3].stats()
	s.TTFTFromIntendedMS, s.E2EFromIntendedMS = dists[4].stats(), dists[5].stats()
	if s.Total > 0 {
		er := float64(s.Total-s.OK) / float64(s.Total)
		s.ErrorRate = &er
	}
	if r.slo.set() {
		s.GoodputSLOs = map[string]float64{}
		for k, v := range map[string]time.Duration{"ttft": r.slo.TTFT, "tpot": r.slo.TPOT, "e2e": r.slo.E2E} {
			if v > 0 {
				s.GoodputSLOs[k] = ms(v)
			}
		}
	}
	if !math.IsNaN(firstS) && lastS > firstS {
		w := lastS - firstS
		s.WindowS = &w
		rt := float64(s.OK) / w
		ot := float64(s.OutputTokens) / w
		tt := float64(s.OutputTokens+s.PromptTokens) / w
		s.RequestThroughput, s.OutputTokenThroughput, s.TotalTokenThroughput = &rt, &ot, &tt
		if r.slo.set() {
			g := float64(good) / w
			s.Goodput = &g
		}
	}
	return s
}
