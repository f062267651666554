package recorder

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
	// TTFOMS is time to first output token, ms: FirstContent − Start, the first visible content after any
	// reasoning (NaN when no content arrived). Equal to TTFTMS for a model that does not reason.
	TTFOMS float64
	// E2EMS is end-to-end latency, ms: End − Start.
	E2EMS float64
	// TPOTMS is time per output token after the first, ms: (E2E − TTFT)/(OutputTokens − 1), for OutputTokens > 1
	// (as vLLM's bench serve computes TPOT).
	TPOTMS float64
	// ITLMeanMS is the mean ITL gap, ms: between consecutive token-bearing chunks, or per token when
	// ITLPerToken (then equal to TPOTMS when the chunks' counts add up to OutputTokens); NaN with no gap.
	ITLMeanMS float64
	// ITLPerToken is true when the request's ITL gaps are per token (Request.TokenCounts), false when per chunk.
	ITLPerToken bool
	// TTFTFromIntendedMS and E2EFromIntendedMS are measured from the open-loop intended start (NaN in closed loop).
	TTFTFromIntendedMS float64
	E2EFromIntendedMS  float64
	// SlotWaitMS is the time waited for a concurrency slot, ms.
	SlotWaitMS float64
	// SendLagMS is how late the open loop sent the request, ms: Start − IntendedStart, the wait for a
	// concurrency slot included (NaN in closed loop).
	SendLagMS float64
	// TimeToRejectMS is, for a rejected request, Responded − Start, ms: how long the server took to refuse
	// it. NaN for other outcomes and when Responded is unknown.
	TimeToRejectMS float64
	// PromptTokens, OutputTokens and RequestedOutputTokens as in Request.
	PromptTokens          int
	OutputTokens          int
	RequestedOutputTokens int
	// OutputTokensEstimated, ReasoningTokens and IgnoreEOS as in Request.
	OutputTokensEstimated bool
	ReasoningTokens       int
	IgnoreEOS             bool
	// FinishReason, HTTPStatus as in Request.
	FinishReason string
	HTTPStatus   int
	// Outcome is the request's effective outcome.
	Outcome Outcome
	// Error is Err's message, empty for a success.
	Error string
	// ITLGaps is the number of gaps the request added to the ITL distribution (len(TokenTimes) − 1 per chunk,
	// the tokens after the first per token); 0 for a request that did not succeed.
	ITLGaps int

	// Model and Turn as in Request.
	Model string
	Turn  int

	itlAt int // the ITL distribution's count before this request's gaps: where TakeJournal finds them
}

// Counts tallies requests by outcome, including those past the row bound.
type Counts struct {
	// Total is every request recorded.
	Total int `json:"total"`
	// OK, Failed, Incomplete, Rejected and Canceled count each outcome.
	OK         int `json:"ok"`
	Failed     int `json:"failed"`
	Incomplete int `json:"incomplete"`
	Rejected   int `json:"rejected"`
	Canceled   int `json:"canceled"`
	// OutputTokens and PromptTokens sum the token counts of successful requests.
	OutputTokens int64 `json:"output_tokens"`
	PromptTokens int64 `json:"prompt_tokens"`
	// ReasoningTokens sums the reasoning tokens (usage.completion_tokens_details.reasoning_tokens) of
	// successful requests, part of OutputTokens.
	ReasoningTokens int64 `json:"reasoning_tokens"`
	// ITLPerToken and ITLPerChunk count the successful requests whose ITL gaps (Record.ITLGaps > 0) are per
	// token (Record.ITLPerToken) and per chunk.
	ITLPerToken int `json:"itl_per_token"`
	ITLPerChunk int `json:"itl_per_chunk"`
	// Dropped counts requests not kept as rows because the row bound was reached.
	Dropped int `json:"dropped"`
	// Warmup tallies the warm-up requests reported (Recorder.RecordWarmup), apart: they are in no other
	// count, statistic, row or rate, only in the client's side of the cross-check with the server's counts.
	Warmup WarmupCounts `json:"warmup"`
	// OutputLength compares the successful requests' output lengths with the max_tokens they asked for.
	OutputLength OutputLengthCounts `json:"output_length"`
}

// ShortOutputFraction is where a request's output counts as short of its max_tokens: a successful request
// whose output is under ShortOutputFraction × max_tokens ended more than 10 % short (LengthTally.Short).
const ShortOutputFraction = 0.9

// OutputLengthCounts tallies the successful requests that set max_tokens and whose output length the server
// reported (usage.completion_tokens; an estimate counted from chunks is left out), split by whether they
// asked for ignore_eos: without it a model may end a request early, with it the output must be max_tokens long.
type OutputLengthCounts struct {
	// Free tallies the requests sent without ignore_eos, IgnoreEOS those sent with it.
	Free      LengthTally `json:"without_ignore_eos"`
	IgnoreEOS LengthTally `json:"ignore_eos"`
}

// LengthTally counts requests, the tokens they asked for (max_tokens) and produced, and how many fell short
// of or off their max_tokens.
type LengthTally struct {
	// Requests is the number of requests tallied.
	Requests int `json:"requests"`
	// RequestedTokens sums their max_tokens; OutputTokens their output tokens.
	RequestedTokens int64 `json:"requested_tokens"`
	OutputTokens    int64 `json:"output_tokens"`
	// Short counts those whose output is under ShortOutputFraction × max_tokens; Off those whose output is
	// not exactly max_tokens.
	Short int `json:"short"`
	Off   int `json:"off"`
}

// add tallies one request that asked for requested tokens and produced out.
func (t *LengthTally) add(requested, out int) {
	t.Requests++
	t.RequestedTokens += int64(requested)
	t.OutputTokens += int64(out)
	if float64(out) < ShortOutputFraction*float64(requested) {
		t.Short++
	}
	if out != requested {
		t.Off++
	}
}

// add tallies rec when it succeeded, set max_tokens and has its output length from usage.
func (c *OutputLengthCounts) add(rec *Record) {
	if rec.Outcome != OutcomeOK || rec.RequestedOutputTokens <= 0 || rec.OutputTokensEstimated {
		return
	}
	if rec.IgnoreEOS {
		c.IgnoreEOS.add(rec.RequestedOutputTokens, rec.OutputTokens)
	} else {
		c.Free.add(rec.RequestedOutputTokens, rec.OutputTokens)
	}
}

// WarmupCounts tallies warm-up requests: sent before the measured phase, not measured.
type WarmupCounts struct {
	// Total is every warm-up request reported; OK those that succeeded (Request.EffectiveOutcome).
	Total int `json:"total"`
	OK    int `json:"ok"`
	// OutputTokens sums the output tokens of the successful ones.
	OutputTokens int64 `json:"output_tokens"`
}

// ErrorRate is the fraction of the requests not cancelled by their caller that did not succeed:
// (Total − OK − Canceled) / (Total − Canceled); nil when that denominator is 0.
func (c Counts) ErrorRate() *float64 {
	n := c.Total - c.Canceled
	if n <= 0 {
		return nil
	}
	er := float64(n-c.OK) / float64(n)
	return &er
}

// Recorder keeps the requests of one test in bounded memory: the rows for the CSV up to Config.MaxRecords,
// and every distribution exactly up to ExactCap values, then in a DDSketch. It is safe for concurrent use;
// RecordRequest takes one short lock.
type Recorder struct {
	start   time.Time
	maxRecs int
	slo     SLO

	mu        sync.Mutex
	rows      rows
	counts    Counts
	lastError string
	errs      errorTally // failed requests' messages by class, for the dominant error
	firstS    float64    // earliest StartS of a successful request (NaN before one)
	lastS     float64    // latest EndS of a successful request
	good      int        // successful requests meeting slo

	ttft, tpot, e2e, itl, ttftInt, e2eInt, reject, ttfo, lag, slotWait dist
	intFirst, intLast                                                  float64 // earliest and latest open-loop intended start, s since start (NaN before one)

	win     []winEntry // requests not yet drained, at most ExactCap
	winOver Window     // requests past that bound, counted without their latencies: drained by the next DrainWindowUntil

	jFrom int // rows before this index were returned by TakeJournal

	groups groups // per-model and per-turn recorders, under mu
}

// winEntry is one request waiting in the window: when it ended (s since start) and what the window sums.
type winEntry struct {
	endS, ttftMS, e2eMS float64
	out                 int64
	ok                  bool
}

// Window is what DrainWindowUntil returns: the successful requests' TTFT and E2E latency (ms), their output
// tokens, and the number of requests of any outcome, over the requests that ended by the cut.
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
	return &Recorder{start: start, maxRecs: maxRecords, slo: cfg.Goodput, firstS: math.NaN(),
		intFirst: math.NaN(), intLast: math.NaN()}
}

// Start returns the time offsets count from.
func (r *Recorder) Start() time.Time { return r.start }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// RecordOf derives the compact record a Recorder started at start keeps for q: TTFTMS, E2EMS, TPOTMS and the
// from-intended latencies in ms (NaN when unknown), offsets in seconds since start. It is the one place these
// per-request figures are computed; a load sweep's early stop reads them before the recorder does.
func RecordOf(q *Request, start time.Time) Record {
	var rec Record
	recordOf(q, start, &rec)
	return rec
}

// recordOf is RecordOf, writing into rec, and returns the number of q's ITL gaps.
func recordOf(q *Request, start time.Time, rec *Record) (itlGaps int) {
	nan := math.NaN()
	*rec = Record{
		ID: q.ID, TTFTMS: nan, TTFOMS: nan, E2EMS: nan, TPOTMS: nan, ITLMeanMS: nan, ReasoningTokens: q.ReasoningTokens,
		TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan, TimeToRejectMS: nan, SendLagMS: nan,
		SlotWaitMS: ms(q.SlotWait), IgnoreEOS: q.IgnoreEOS,
		PromptTokens: q.PromptTokens, OutputTokens: q.OutputTokens, RequestedOutputTokens: q.RequestedOutputTokens,
		OutputTokensEstimated: q.OutputTokensEstimated, FinishReason: q.FinishReason, HTTPStatus: q.HTTPStatus,
		Outcome: q.EffectiveOutcome(), Model: q.Model, Turn: q.Turn,
	}
	if q.Err != nil {
		rec.Error = q.Err.Error()
	}
	rec.StartS = q.Start.Sub(start).Seconds()
	end := q.End
	if end.IsZero() {
		end = q.Start
		if !q.Responded.IsZero() {
			end = q.Responded
		}
	}
	if rec.Outcome == OutcomeRejected && !q.Responded.IsZero() {
		rec.TimeToRejectMS = ms(q.Responded.Sub(q.Start))
	}
	rec.EndS = end.Sub(start).Seconds()
	if !q.FirstToken.IsZero() {
		rec.TTFTMS = ms(q.FirstToken.Sub(q.Start))
	}
	if !q.FirstContent.IsZero() {
		rec.TTFOMS = ms(q.FirstContent.Sub(q.Start))
	}
	if !q.End.IsZero() {
		rec.E2EMS = ms(q.End.Sub(q.Start))
	}
	if q.OutputTokens > 1 && !q.FirstToken.IsZero() && !q.End.IsZero() {
		rec.TPOTMS = ms(q.End.Sub(q.FirstToken)) / float64(q.OutputTokens-1)
	}
	rec.ITLPerToken = q.perToken()
	span, n := q.itlSpan(rec.ITLPerToken)
	if n > 0 {
		rec.ITLMeanMS = ms(span) / float64(n)
	}
	if !q.IntendedStart.IsZero() {
		rec.SendLagMS = ms(q.Start.Sub(q.IntendedStart))
		if !q.FirstToken.IsZero() {
			rec.TTFTFromIntendedMS = ms(q.FirstToken.Sub(q.IntendedStart))
		}
		if !q.End.IsZero() {
			rec.E2EFromIntendedMS = ms(q.End.Sub(q.IntendedStart))
		}
	}
	return n
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
	var rec Record
	if n := recordOf(&q, r.start, &rec); rec.Outcome == OutcomeOK {
		rec.ITLGaps = n
	}
	var buf [gapBatch]float64
	var gaps []float64 // q's per-chunk gaps, ms, when they fit in buf: computed before the lock
	if n := len(q.TokenTimes) - 1; rec.ITLGaps > 0 && !rec.ITLPerToken && n <= gapBatch {
		gaps = gapsMS(buf[:n], q.TokenTimes)
	}
	r.mu.Lock()
	r.add(&rec)
	if rec.ITLGaps > 0 {
		q.addITL(&r.itl, rec.ITLPerToken, gaps)
	}
	var byModel, byTurn *Recorder
	if rec.Model != "" || rec.Turn > 0 {
		byModel, byTurn = r.groups.of(r, rec.Model, rec.Turn)
	}
	r.mu.Unlock()
	if byModel != nil {
		byModel.addGroup(rec, &q, gaps)
	}
	if byTurn != nil {
		byTurn.addGroup(rec, nil, nil) // a turn's figures leave ITL out (its request is in its model's)
	}
}

// addGroup adds rec, as its parent recorded it from q (with q's gaps when computed), to a group's recorder,
// with q's ITL gaps when rec has some and q is not nil.
func (r *Recorder) addGroup(rec Record, q *Request, gaps []float64) {
	if q == nil {
		rec.ITLGaps = 0
	}
	r.mu.Lock()
	r.add(&rec)
	if rec.ITLGaps > 0 {
		q.addITL(&r.itl, rec.ITLPerToken, gaps)
	}
	r.mu.Unlock()
}

// RecordWarmup counts q, a warm-up request, in Counts.Warmup and nowhere else. Safe for concurrent use.
func (r *Recorder) RecordWarmup(q Request) {
	ok := !q.Start.IsZero() && q.EffectiveOutcome() == OutcomeOK
	r.mu.Lock()
	defer r.mu.Unlock()
	w := &r.counts.Warmup
	w.Total++
	if ok {
		w.OK++
		w.OutputTokens += int64(q.OutputTokens)
	}
}

// AddRecord stores a record as RecordRequest would have made it, with itlMS its ITL chunk gaps (ms): it is
// how a run's requests are rebuilt from its journal. rec.ITLGaps is set to len(itlMS) for a success.
func (r *Recorder) AddRecord(rec Record, itlMS []float64) {
	rec.ITLGaps = 0
	if rec.Outcome == OutcomeOK {
		rec.ITLGaps = len(itlMS)
	}
	r.mu.Lock()
	r.add(&rec)
	if rec.ITLGaps > 0 {
		for _, g := range itlMS {
			r.itl.add(g)
		}
	}
	byModel, byTurn := r.groups.of(r, rec.Model, rec.Turn)
	r.mu.Unlock()
	if byModel != nil {
		byModel.AddRecord(rec, itlMS)
	}
	if byTurn != nil {
		byTurn.AddRecord(rec, nil)
	}
}

// add counts rec in every tally, distribution (but ITL, whose gaps the caller adds next) and the window, and
// keeps it as a row while the row bound allows. Called with r.mu held.
func (r *Recorder) add(rec *Record) {
	if uint(rec.PromptTokens) > MaxTokenCount || uint(rec.OutputTokens) > MaxTokenCount ||
		len(rec.Error) > MaxErrorText || len(rec.FinishReason) > MaxFinishReason || len(rec.Model) > MaxModelName {
		bound(rec)
	}
	rec.itlAt = r.itl.n
	c := &r.counts
	c.Total++
	e := entryOf(rec)
	r.schedule(rec)
	c.OutputLength.add(rec)
	switch rec.Outcome {
	case OutcomeOK:
		c.OK++
		c.OutputTokens += int64(rec.OutputTokens)
		c.PromptTokens += int64(rec.PromptTokens)
		c.ReasoningTokens += int64(rec.ReasoningTokens)
		if math.IsNaN(r.firstS) || rec.StartS < r.firstS {
			r.firstS = rec.StartS
		}
		if rec.EndS > r.lastS {
			r.lastS = rec.EndS
		}
		r.ttft.add(rec.TTFTMS)
		r.ttfo.add(rec.TTFOMS)
		r.tpot.add(rec.TPOTMS)
		r.e2e.add(rec.E2EMS)
		r.ttftInt.add(rec.TTFTFromIntendedMS)
		r.e2eInt.add(rec.E2EFromIntendedMS)
		switch {
		case rec.ITLGaps > 0 && rec.ITLPerToken:
			c.ITLPerToken++
		case rec.ITLGaps > 0:
			c.ITLPerChunk++
		}
		if r.slo.set() && r.slo.meets(rec) {
			r.good++
		}
	case OutcomeRejected:
		c.Rejected++
		r.reject.add(rec.TimeToRejectMS)
	case OutcomeIncomplete:
		c.Incomplete++
	case OutcomeCanceled:
		c.Canceled++
	default:
		c.Failed++
	}
	switch {
	case r.groups.leaf: // a group's recorder: nobody drains its window
	case len(r.win) < ExactCap: // bounded even if nobody drains the window
		r.win = append(r.win, e)
	default:
		r.winOver.count(e)
	}
	if rec.Error != "" {
		r.lastError = rec.Error
		r.errs.add(rec.Error)
	}
	if r.groups.leaf { // a group keeps no rows: none of its requests is dropped
		return
	}
	if r.rows.n >= r.maxRecs {
		c.Dropped++
		return
	}
	r.rows.push(rec, r.maxRecs)
}

// schedule counts an open-loop request's send lag and slot wait, of any outcome, and its intended start.
// Called with r.mu held.
func (r *Recorder) schedule(rec *Record) {
	if math.IsNaN(rec.SendLagMS) {
		return
	}
	r.lag.add(rec.SendLagMS)
	r.slotWait.add(rec.SlotWaitMS)
	at := rec.StartS - rec.SendLagMS/1000
	if math.IsNaN(r.intFirst) || at < r.intFirst {
		r.intFirst = at
	}
	if math.IsNaN(r.intLast) || at > r.intLast {
		r.intLast = at
	}
}

// add counts e in w with its latencies.
func (w *Window) add(e winEntry) {
	w.count(e)
	if e.ok {
		w.TTFTMS = append(w.TTFTMS, e.ttftMS)
		w.E2EMS = append(w.E2EMS, e.e2eMS)
	}
}

// count counts e in w without its latencies.
func (w *Window) count(e winEntry) {
	w.Total++
	if e.ok {
		w.OK++
		w.OutputTokens += e.out
	}
}

// DrainWindowUntil returns the requests that ended (Record.EndS) at or before cut and are not yet drained,
// and keeps the others for a later call: the requests of the interval that ends at cut, however late the
// call. A zero cut drains every request. Requests past the window's bound (ExactCap undrained) go to the next
// call whatever their end, counted without their latencies.
func (r *Recorder) DrainWindowUntil(cut time.Time) Window {
	cutS := math.Inf(1)
	if !cut.IsZero() {
		cutS = cut.Sub(r.start).Seconds()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drainLocked(cutS)
}

// drainLocked is DrainWindowUntil's work, cutS seconds after the start; r.mu is held.
func (r *Recorder) drainLocked(cutS float64) Window {
	w := r.winOver
	r.winOver = Window{}
	rest := r.win[:0]
	for _, e := range r.win {
		if e.endS <= cutS {
			w.add(e)
		} else {
			rest = append(rest, e)
		}
	}
	clear(r.win[len(rest):])
	r.win = rest
	return w
}

// TakeJournal returns the rows kept since its previous call, each with its ITL chunk gaps (ms), and the
// tallies so far. Rows and gaps are read-only views of what the recorder keeps anyway (rows and exact values
// are only ever appended, never changed; rows that span several row chunks are joined into a copy, outside
// the lock), so RecordRequest does no work for the journal and TakeJournal holds the lock for a moment.
// Once the ITL distribution has moved into its sketch (past ExactCap gaps over the run) a row's gaps are
// nil, which also bounds what a journal holds.
func (r *Recorder) TakeJournal() ([]Record, [][]float64, Counts) {
	r.mu.Lock()
	views := r.rows.views(r.jFrom)
	r.jFrom = r.rows.n
	exact, sketched, counts := r.itl.exact, r.itl.sk != nil, r.counts
	r.mu.Unlock()
	rows := joined(views)
	gaps := make([][]float64, len(rows))
	if sketched {
		return rows, gaps, counts
	}
	for i := range rows {
		if a, k := rows[i].itlAt, rows[i].ITLGaps; k > 0 && a+k <= len(exact) {
			gaps[i] = exact[a : a+k : a+k]
		}
	}
	return rows, gaps, counts
}

// Bounds on what a record keeps of what a server (through a client) sent.
const (
	// MaxTokenCount is the largest PromptTokens or OutputTokens a record takes (2^31−1: more than any context
	// window, small enough that a run's sums cannot overflow). A count below 0 or above it is invalid.
	MaxTokenCount = 1<<31 - 1
	// MaxErrorText caps Record.Error (bytes); a cut text ends in "…".
	MaxErrorText = 4096
	// MaxFinishReason caps Record.FinishReason (bytes); a cut text ends in "…".
	MaxFinishReason = 64
	// MaxModelName caps Record.Model (bytes); a cut name ends in "…".
	MaxModelName = 512
)

// bound caps rec's texts and invalidates its token counts when one is below 0 or above MaxTokenCount: both
// counts become 0, an ok request becomes failed, and the reason is (added to) its Error, so the invalid
// count reaches no sum, rate or file.
func bound(rec *Record) {
	if len(rec.FinishReason) > MaxFinishReason {
		rec.FinishReason = capText(rec.FinishReason, MaxFinishReason)
	}
	if len(rec.Model) > MaxModelName {
		rec.Model = capText(rec.Model, MaxModelName)
	}
	if uint(rec.PromptTokens) > MaxTokenCount || uint(rec.OutputTokens) > MaxTokenCount {
		bad := badCount("prompt", rec.PromptTokens) + badCount("output", rec.OutputTokens)
		rec.PromptTokens, rec.OutputTokens = 0, 0
		reason := "vmtest: invalid token count: " + bad[2:]
		if rec.Outcome == OutcomeOK {
			rec.Outcome = OutcomeFailed
		}
		if rec.Error == "" {
			rec.Error = reason
		} else {
			rec.Error += "; " + reason
		}
	}
	if len(rec.Error) > MaxErrorText {
		rec.Error = capText(rec.Error, MaxErrorText)
	}
}

func badCount(what string, n int) string {
	switch {
	case n < 0:
		return "; " + what + " tokens " + strconv.Itoa(n) + " is negative"
	case n > MaxTokenCount:
		return "; " + what + " tokens " + strconv.Itoa(n) + " is over " + strconv.Itoa(MaxTokenCount)
	}
	return ""
}

// capText returns s cut to at most n bytes (at a character boundary) with "…" when cut.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

type recorderError string

func (e recorderError) Error() string { return string(e) }

const errNoStart = recorderError("vmtest: request recorded with a zero Start time")

// Len returns the number of rows kept.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rows.n
}

// Records returns a copy of the rows from index from (0 for all) to the end, and the index to pass next time
// to get only newer rows. Rows are in the order RecordRequest was called.
func (r *Recorder) Records(from int) ([]Record, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if from < 0 || from > r.rows.n {
		from = r.rows.n
	}
	return r.rows.copyFrom(from), r.rows.n
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
	// (vLLM bench serve) or per token, as ITLDefinition says; the others per request.
	TTFTMS Stats `json:"ttft_ms"`
	// ITLDefinition is which gaps ITLMS holds: ITLPerChunk, ITLPerToken or ITLMixed; nil when it holds none.
	ITLDefinition *string `json:"itl_definition"`
	// TTFOMS is time to first output token (visible content after any reasoning) over successful requests
	// that had content, ms.
	TTFOMS Stats `json:"ttfo_ms"`
	TPOTMS Stats `json:"tpot_ms"`
	ITLMS  Stats `json:"itl_ms"`
	E2EMS  Stats `json:"e2e_ms"`
	// TTFTFromIntendedMS and E2EFromIntendedMS are measured from the open-loop schedule (N=0 in closed loop).
	TTFTFromIntendedMS Stats `json:"ttft_from_intended_ms"`
	E2EFromIntendedMS  Stats `json:"e2e_from_intended_ms"`
	// TimeToRejectMS is the distribution of rejected requests' time to rejection (Record.TimeToRejectMS), ms.
	TimeToRejectMS Stats `json:"time_to_reject_ms"`
	// SendLagMS is the distribution of the open loop's send lag (Record.SendLagMS: intended start to send,
	// slot waits included) and SlotWaitMS of its waits for a concurrency slot, ms, over the open-loop requests
	// of any outcome (N=0 in closed loop).
	SendLagMS  Stats `json:"send_lag_ms"`
	SlotWaitMS Stats `json:"slot_wait_ms"`
	// MeanInterArrivalMS is the open-loop schedule's mean gap between intended starts, ms: (latest − earliest
	// intended start) / (requests − 1); nil with fewer than two open-loop requests.
	MeanInterArrivalMS *float64 `json:"mean_inter_arrival_ms"`
	// WindowS is the measured window, s: first successful request's start to last successful request's end.
	// Nil with no successful request.
	WindowS *float64 `json:"window_s"`
	// RequestThroughput is successful requests per second over WindowS; nil when WindowS is nil or shorter
	// than MinThroughputWindow, as are the other throughputs and Goodput.
	RequestThroughput *float64 `json:"request_throughput"`
	// OutputTokenThroughput is output tokens of successful requests per second over WindowS.
	OutputTokenThroughput *float64 `json:"output_token_throughput"`
	// TotalTokenThroughput is prompt plus output tokens of successful requests per second over WindowS.
	TotalTokenThroughput *float64 `json:"total_token_throughput"`
	// ErrorRate is (Total − OK − Canceled)/(Total − Canceled), as Counts.ErrorRate; nil when that
	// denominator is 0.
	ErrorRate *float64 `json:"error_rate"`
	// Goodput is successful requests meeting every SLO in GoodputSLOs per second over WindowS (DistServe;
	// vLLM bench serve --goodput); nil when no SLO was given or no request succeeded.
	Goodput *float64 `json:"goodput"`
	// GoodputRequests is the number of successful requests meeting every SLO; nil when no SLO was given.
	GoodputRequests *int `json:"goodput_requests"`
	// GoodputSLOs are the limits goodput counted against, ms, keyed "ttft", "tpot", "e2e"; nil when none.
	GoodputSLOs map[string]float64 `json:"goodput_slos_ms"`
	// LastError is the message of the last failed request.
	LastError string `json:"last_error,omitempty"`
	// DominantError is the message most requests failed with, counting as one the messages that differ only in
	// their digits (ErrorClass; the first message of that class is shown), and DominantErrorCount how many
	// did: what LastError would hide when the last failure is not the usual one.
	DominantError      string `json:"dominant_error,omitempty"`
	DominantErrorCount int    `json:"dominant_error_count,omitempty"`
	// ByModel holds, for requests that named a model (Request.Model), the same figures per model name;
	// absent when none did. At most MaxGroups models; requests of later ones are only in the totals.
	ByModel map[string]Summary `json:"by_model,omitempty"`
	// ByTurn holds, for the turns of multi-turn sessions (Request.Turn), the same figures per turn but ITL
	// (n=0): ByTurn[i] is turn i+1. Absent when no request was a session's turn. At most MaxGroups turns;
	// later turns are only in the totals.
	ByTurn []Summary `json:"by_turn,omitempty"`
}

// Summarize computes the Summary over every request recorded (including those past the row bound).
func (r *Recorder) Summarize() Summary {
	s, _ := r.cut(false)
	return s
}

// Cut returns the Summary and a copy of the rows (as Records(0)) taken at one instant, so that they describe
// the same requests even while others are being recorded.
func (r *Recorder) Cut() (Summary, []Record) { return r.cut(true) }

// FinalCut drains every request not yet drained (DrainWindowUntil with a zero cut) and takes Cut, at one
// instant: the last interval's requests, the Summary and the rows then account for the same requests, however
// many are recorded meanwhile.
func (r *Recorder) FinalCut() (Window, Summary, []Record) {
	r.mu.Lock()
	w := r.drainLocked(math.Inf(1))
	c := r.copyLocked(true)
	g := r.groups.copy()
	r.mu.Unlock()
	s, recs := r.summarize(c)
	s.ByModel, s.ByTurn = g.summaries()
	return w, s, recs
}

func (r *Recorder) cut(rows bool) (Summary, []Record) {
	// Copy under the lock, sort outside it: RecordRequest is never held up by a summary.
	r.mu.Lock()
	c := r.copyLocked(rows)
	g := r.groups.copy()
	r.mu.Unlock()
	s, recs := r.summarize(c)
	s.ByModel, s.ByTurn = g.summaries()
	return s, recs
}

// cutCopy is what a cut copies under the lock.
type cutCopy struct {
	s             Summary
	dists         [10]dist
	firstS, lastS float64
	intFirst      float64
	intLast       float64
	good          int
	recs          []Record
}

// copyLocked copies the tallies, detached distributions and (with rows) the rows; r.mu is held.
func (r *Recorder) copyLocked(rows bool) cutCopy {
	c := cutCopy{s: Summary{Counts: r.counts, LastError: r.lastError},
		dists: [10]dist{r.ttft.detached(), r.tpot.detached(), r.e2e.detached(), r.itl.detached(),
			r.ttftInt.detached(), r.e2eInt.detached(), r.reject.detached(), r.ttfo.detached(),
			r.lag.detached(), r.slotWait.detached()},
		firstS: r.firstS, lastS: r.lastS, intFirst: r.intFirst, intLast: r.intLast, good: r.good}
	c.s.DominantError, c.s.DominantErrorCount = r.errs.dominant()
	if rows {
		c.recs = r.rows.copyFrom(0)
	}
	return c
}

// MinThroughputWindow is the shortest measured window (Summary.WindowS) over which throughput and goodput
// are computed; over a shorter one they are unknown (nil). A rate per second measured over less than a second
// is an extrapolation of what a few requests did together (3 requests in 4.5 ms read 660 req/s), not a
// sustained rate.
const MinThroughputWindow = time.Second

// WindowTooShort reports whether s has a measured window shorter than MinThroughputWindow, which leaves its
// throughput and goodput unknown.
func (s *Summary) WindowTooShort() bool {
	return s.WindowS != nil && *s.WindowS < MinThroughputWindow.Seconds()
}

// TooShortText says why a rate of s is unknown when WindowTooShort: "n=3 successful requests over 0.0045 s,
// under 1s: too short for a rate per second".
func (s *Summary) TooShortText() string {
	return fmt.Sprintf("n=%d successful requests over %.3g s, under %v: too short for a rate per second", s.OK, *s.WindowS, MinThroughputWindow)
}

// summarize computes the Summary of a cut's copy, without the lock.
func (r *Recorder) summarize(c cutCopy) (Summary, []Record) {
	s, dists, firstS, lastS, good, recs := c.s, c.dists, c.firstS, c.lastS, c.good, c.recs
	s.TTFTMS, s.TPOTMS, s.E2EMS, s.ITLMS = dists[0].stats(), dists[1].stats(), dists[2].stats(), dists[3].stats()
	s.TTFTFromIntendedMS, s.E2EFromIntendedMS = dists[4].stats(), dists[5].stats()
	s.TimeToRejectMS, s.TTFOMS = dists[6].stats(), dists[7].stats()
	s.SendLagMS, s.SlotWaitMS = dists[8].stats(), dists[9].stats()
	if n := s.SendLagMS.N; n > 1 {
		ia := 1000 * (c.intLast - c.intFirst) / float64(n-1)
		s.MeanInterArrivalMS = &ia
	}
	s.ErrorRate = s.Counts.ErrorRate()
	s.ITLDefinition = s.Counts.itlDefinition()
	if r.slo.set() {
		s.GoodputRequests = &good
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
		if w < MinThroughputWindow.Seconds() {
			return s, recs // too short for a rate: throughput and goodput stay unknown
		}
		rt := float64(s.OK) / w
		ot := float64(s.OutputTokens) / w
		tt := float64(s.OutputTokens+s.PromptTokens) / w
		s.RequestThroughput, s.OutputTokenThroughput, s.TotalTokenThroughput = &rt, &ot, &tt
		if r.slo.set() {
			g := float64(good) / w
			s.Goodput = &g
		}
	}
	return s, recs
}
