package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http/httptrace"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/recorder"
)

// LoadConfig describes one load run. Rate selects the mode: 0 is a closed loop (Concurrency workers, each
// sending its next request when the previous one ends); > 0 is an open loop (requests sent on an absolute
// schedule of intended start times, whatever the server's latency, optionally capped by MaxConcurrency).
// At least one of Requests and Duration must be set; the run stops at whichever comes first.
type LoadConfig struct {
	// Client configures the run's own client. When Client.MaxConns is 0 it is sized to the run: Concurrency,
	// or MaxConcurrency, or 512 for an uncapped open loop.
	Client ClientConfig
	// Prompts are sent in order, cycling: measured request i uses Prompts[i % len(Prompts)], so runs with the
	// same prompts send the same requests whatever the warm-up. Required. See ReadPrompts for JSONL files
	// and ReadShareGPT for datasets. A prompt with Turns is a multi-turn session: its turns are sent one after
	// another by the worker (closed loop) or the arrival (open loop, holding one MaxConcurrency slot) that
	// started it, each turn a recorded request (recorder.Request.Turn); Requests then counts sessions.
	Prompts []Prompt
	// Params are the request parameters of every request.
	Params Params

	// Concurrency is the number of closed-loop workers; default 1. Must be 0 when Rate > 0. A worker whose
	// request could not connect to the server (a dial error: connection refused, unreachable, no such host,
	// connect timeout) waits before its next request, ConnectBackoffMin doubling up to ConnectBackoffMax and
	// back to none after a request that connects, so that a server that is down is not flooded with requests
	// that fail at once; the open loop keeps its schedule. Either stops at UnreachableAfter. A worker whose
	// request was reset by the server before any response (ECONNRESET, or the connection closed first) backs
	// off the same way; one whose request was rejected (HTTP 429 or 503) waits for the response's
	// Retry-After, at most MaxRetryAfter, or without one backs off the same way (see IgnoreRetryAfter).
	Concurrency int
	// IgnoreRetryAfter makes closed-loop workers send their next request at once after a rejection, ignoring
	// Retry-After and the back-off (to measure how fast a server sheds load).
	IgnoreRetryAfter bool
	// MaxRetryAfter caps the wait a Retry-After imposes on a closed-loop worker; 0: DefaultMaxRetryAfter.
	// Negative is invalid.
	MaxRetryAfter time.Duration
	// RampUp spreads the closed-loop workers' first requests evenly over this time (worker k starts at
	// k·RampUp/Concurrency) instead of all at once, as load tools' spawn rates do. Workers whose requests take
	// equally long otherwise stay in lockstep, and every round becomes a burst of Concurrency simultaneous
	// requests. Default 0: all start together. Closed loop only.
	RampUp time.Duration
	// Rate is the open-loop request rate in requests per second; 0 selects the closed loop.
	Rate float64
	// Burstiness is the shape of the gamma distribution of open-loop inter-arrival times, as in vLLM's
	// `bench serve --burstiness`: gaps ~ Gamma(shape=Burstiness, scale=1/(Rate·Burstiness)). Default 1
	// (a Poisson process); below 1 is burstier, above 1 more regular. Must be 0 in closed loop.
	Burstiness float64
	// MaxConcurrency caps the open loop's requests in flight (vLLM's `--max-concurrency`); a request whose
	// intended time has come waits for a slot, and that wait is recorded as recorder.Request.SlotWait (so
	// later requests start late and their IntendedStart shows it). 0: no cap. Must be 0 in closed loop.
	MaxConcurrency int
	// Seed seeds the arrival schedule: the same Seed, Rate and Burstiness give the same intended start offsets.
	Seed uint64

	// Requests is how many measured requests to send; 0: no count limit.
	Requests int
	// Duration is how long to send measured requests (no request starts, nor is intended to start, after
	// it); 0: no time limit.
	Duration time.Duration
	// UnreachableAfter stops the run when every attempt to connect to the server has failed for this long
	// (from the first failure since a connection was last made) and no request that did connect is still in
	// flight: Run stops sending, records requests still waiting for a MaxConcurrency slot as incomplete, waits
	// for those in flight, and returns ErrServerUnreachable with the Result so far, instead of spending the
	// rest of a long or count-bounded run on requests that cannot connect. 0: DefaultUnreachableAfter;
	// negative: never.
	UnreachableAfter time.Duration
	// DrainTimeout bounds how long Run waits, once sending has stopped (Requests or Duration reached), for
	// requests still in flight; those still in flight then are cut: cancelled and recorded as incomplete, Err
	// wrapping ErrCanceled and ErrCutAtEnd (not canceled: a server that stalls or hangs is at fault, so they
	// count in error_rate), and counted in Result.Cut. 0 (the default): wait for all of them, each bounded only
	// by the client's header, first-token and stall limits (minutes); `vmtest load` and `vmtest sweep` use
	// DefaultDrainTimeout. Negative: cut them at once.
	DrainTimeout time.Duration
	// DrainAfterSlowest, with DrainTimeout > 0, lengthens the drain to twice the longest E2E latency of a
	// measured request that ended OK before sending stopped, when that is longer than DrainTimeout: healthy
	// long replies then finish, while one stalled far beyond them is still cut. `vmtest load` and `vmtest
	// sweep` set it unless -drain-timeout is given.
	DrainAfterSlowest bool
	// Warmup is how many requests to send before the measured phase, in a closed loop at the run's
	// concurrency (Concurrency, MaxConcurrency, or all at once when uncapped), using the prompts in order.
	// They are not measured: Result counts them, and a Sink that implements recorder.WarmupSink (as
	// *vmtest.Collector does) is told of each through RecordWarmup, never RecordRequest, so that a
	// cross-check of the server's counts with the client's can count them. The measured phase and its
	// schedule start after they have all ended.
	Warmup int

	// ThinkTime is the pause between a session's turns (Prompt.Turns): a user reading the reply before
	// answering. 0: the next turn is sent as soon as the reply has ended.
	ThinkTime time.Duration
	// sleep, when set, replaces the think-time wait (tests inject a clock); it reports false when ctx ended.
	sleep func(ctx context.Context, d time.Duration) bool

	// Sink receives every measured request's record, from the driver's goroutines (it must be safe for
	// concurrent use; *vmtest.Collector is), and each warm-up request's when it is a recorder.WarmupSink.
	// Required.
	Sink recorder.Sink
}

// Result summarizes a run for logs and for judging the client itself; latency statistics come from the
// records sent to the sink.
type Result struct {
	// Mode is "closed" or "open".
	Mode string
	// Sent is the number of measured requests started, including open-loop requests that were due but still
	// waiting for a MaxConcurrency slot when the run ended (recorded as incomplete).
	Sent int
	// Completed is the number of measured requests that ended and were recorded (any outcome).
	Completed int
	// Outcomes counts Completed by recorder.Outcome (recorder.OutcomeCanceled: cancelled because Run's ctx
	// ended the run while they were in flight).
	Outcomes map[recorder.Outcome]int
	// Warmup is the number of warm-up requests sent; WarmupNotOK how many of them did not end OK, and
	// WarmupErr the first such error.
	Warmup, WarmupNotOK int
	WarmupErr           error
	// Start is when the measured phase began (the open loop's schedule origin).
	Start time.Time
	// Wall is the measured phase's duration: from Start until the last measured request ended.
	Wall time.Duration
	// ClientCPU is this process's CPU time (user + system, getrusage) over the measured phase. It includes
	// everything else in the process too, such as an in-process simulator.
	ClientCPU time.Duration
	// CPUUtilization is ClientCPU / (Wall × GOMAXPROCS): near 1 means the process was CPU-bound and the
	// client may have been the bottleneck.
	CPUUtilization float64
	// SchedLatencyP50, SchedLatencyP99 and SchedLatencyMax are quantiles of the Go scheduler latency (time a
	// runnable goroutine waited to run) over the measured phase, from runtime/metrics /sched/latencies:seconds
	// (each the upper bound of its histogram bucket). Large values mean event arrival times were taken late.
	SchedLatencyP50, SchedLatencyP99, SchedLatencyMax time.Duration
	// MaxSendLag is, in open loop, the largest Start − IntendedStart − SlotWait: how far the generator itself
	// fell behind its schedule (not counting waits for a MaxConcurrency slot). Zero in closed loop.
	MaxSendLag time.Duration
	// ConnectFailures is the number of measured requests that could not connect to the server (counted in
	// Outcomes as failed); in closed loop each made its worker back off (see LoadConfig.Concurrency).
	ConnectFailures int
	// ConnectionResets is the number of measured requests whose connection the server reset or closed
	// before any response (counted in Outcomes as failed); in closed loop each made its worker back off.
	ConnectionResets int
	// RetryAfterWaits is the number of times a closed-loop worker waited for a rejection's Retry-After.
	RetryAfterWaits int
	// Cut is the number of measured requests still in flight, or still waiting for a concurrency slot,
	// DrainTimeout after sending stopped, cut then (counted in Outcomes as incomplete, Err wrapping ErrCutAtEnd).
	Cut int
	// FirstErr is the error of the first measured request to end not OK (nil when all ended OK), so that a
	// run where nothing succeeded can say why in one line.
	FirstErr error
}

// DefaultUnreachableAfter is LoadConfig.UnreachableAfter's default.
const DefaultUnreachableAfter = 30 * time.Second

// DefaultMaxRetryAfter is LoadConfig.MaxRetryAfter's default: no Retry-After holds a worker longer.
const DefaultMaxRetryAfter = 30 * time.Second

// DefaultDrainTimeout is the drain `vmtest load` and `vmtest sweep` give requests still in flight when sending
// stops (-drain-timeout): long enough for a healthy server to end a few-hundred-token reply, short enough that
// -duration bounds the run even when streams stall or a server never answers.
const DefaultDrainTimeout = 10 * time.Second

// ErrCutAtEnd is wrapped by the Err of a request Run cut because it was still in flight DrainTimeout after
// sending stopped (LoadConfig.DrainTimeout); its outcome is incomplete.
var ErrCutAtEnd = errors.New("loadgen: cut at the run's end")

// ErrServerUnreachable is Run's error when no request connected for LoadConfig.UnreachableAfter; the
// returned error wraps it and the last connection error.
var ErrServerUnreachable = errors.New("loadgen: server unreachable")

// Closed-loop back-off after a request that could not connect (see LoadConfig.Concurrency).
const (
	ConnectBackoffMin = 10 * time.Millisecond
	ConnectBackoffMax = time.Second
)

// String formats r on one line for t.Logf.
func (r Result) String() string {
	s := r.line()
	if r.ConnectFailures > 0 {
		s += fmt.Sprintf("; %d could not connect to the server", r.ConnectFailures)
	}
	if r.ConnectionResets > 0 {
		s += fmt.Sprintf("; %d reset by the server before a response", r.ConnectionResets)
	}
	if r.RetryAfterWaits > 0 {
		s += fmt.Sprintf("; %d waits for Retry-After", r.RetryAfterWaits)
	}
	if r.Cut > 0 {
		s += fmt.Sprintf("; %d cut at the run's end (still in flight when the drain after sending ended; counted incomplete)", r.Cut)
	}
	return s
}

func (r Result) line() string {
	return fmt.Sprintf("loadgen %s loop: sent %d, completed %d (ok %d, failed %d, incomplete %d, rejected %d, canceled %d), warm-up %d (%d not ok), wall %v, %.1f completed/s (any outcome); client CPU %v (%.0f%% of %d procs), sched latency p50 %v p99 %v max %v, max send lag %v",
		r.Mode, r.Sent, r.Completed, r.Outcomes[recorder.OutcomeOK], r.Outcomes[recorder.OutcomeFailed],
		r.Outcomes[recorder.OutcomeIncomplete], r.Outcomes[recorder.OutcomeRejected], r.Outcomes[recorder.OutcomeCanceled],
		r.Warmup, r.WarmupNotOK,
		r.Wall.Round(time.Millisecond), r.RequestsPerSecond(), r.ClientCPU.Round(time.Millisecond),
		100*r.CPUUtilization, runtime.GOMAXPROCS(0), r.SchedLatencyP50, r.SchedLatencyP99, r.SchedLatencyMax, r.MaxSendLag)
}

// cost is r's measured phase as a recorder.ClientCost; sched says whether the scheduler latencies were
// observed.
func (r Result) cost(sched bool) recorder.ClientCost {
	c := recorder.ClientCost{Runs: 1, WallS: r.Wall.Seconds(), CPUS: r.ClientCPU.Seconds(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if r.Wall > 0 {
		u := r.CPUUtilization
		c.CPUUtilization = &u
	}
	if sched {
		msOf := func(d time.Duration) *float64 { v := float64(d) / float64(time.Millisecond); return &v }
		c.SchedLatencyP50MS, c.SchedLatencyP99MS, c.SchedLatencyMaxMS = msOf(r.SchedLatencyP50), msOf(r.SchedLatencyP99), msOf(r.SchedLatencyMax)
	}
	return c
}

// RequestsPerSecond is Completed / Wall (all outcomes); 0 when Wall is 0.
func (r Result) RequestsPerSecond() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Wall.Seconds()
}

func (cfg *LoadConfig) validate() error {
	switch {
	case len(cfg.Prompts) == 0:
		return errors.New("loadgen: LoadConfig.Prompts is empty")
	case cfg.Sink == nil:
		return errors.New("loadgen: LoadConfig.Sink is nil")
	case cfg.Requests < 0:
		return fmt.Errorf("loadgen: LoadConfig.Requests %d is negative", cfg.Requests)
	case cfg.Duration < 0:
		return fmt.Errorf("loadgen: LoadConfig.Duration %v is negative", cfg.Duration)
	case cfg.Requests == 0 && cfg.Duration == 0:
		return errors.New("loadgen: LoadConfig needs Requests or Duration")
	case cfg.Warmup < 0:
		return fmt.Errorf("loadgen: LoadConfig.Warmup %d is negative", cfg.Warmup)
	case cfg.Concurrency < 0:
		return fmt.Errorf("loadgen: LoadConfig.Concurrency %d is negative", cfg.Concurrency)
	case cfg.MaxConcurrency < 0:
		return fmt.Errorf("loadgen: LoadConfig.MaxConcurrency %d is negative", cfg.MaxConcurrency)
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0):
		return fmt.Errorf("loadgen: LoadConfig.Rate %v is not a finite rate ≥ 0", cfg.Rate)
	case cfg.Burstiness < 0 || math.IsNaN(cfg.Burstiness) || math.IsInf(cfg.Burstiness, 0):
		return fmt.Errorf("loadgen: LoadConfig.Burstiness %v is not a finite value > 0", cfg.Burstiness)
	case cfg.Rate == 0 && (cfg.Burstiness != 0 || cfg.MaxConcurrency != 0):
		return errors.New("loadgen: LoadConfig.Burstiness and MaxConcurrency apply to the open loop only (set Rate)")
	case cfg.Rate > 0 && cfg.Concurrency != 0:
		return errors.New("loadgen: LoadConfig.Concurrency is the closed loop's; with Rate use MaxConcurrency")
	case cfg.MaxRetryAfter < 0:
		return fmt.Errorf("loadgen: LoadConfig.MaxRetryAfter %v is negative", cfg.MaxRetryAfter)
	case cfg.ThinkTime < 0:
		return fmt.Errorf("loadgen: LoadConfig.ThinkTime %v is negative", cfg.ThinkTime)
	case cfg.RampUp < 0 || cfg.Rate > 0 && cfg.RampUp != 0:
		return fmt.Errorf("loadgen: LoadConfig.RampUp %v must be ≥ 0, and applies to the closed loop only", cfg.RampUp)
	}
	for i := range cfg.Prompts {
		if err := cfg.Prompts[i].validate(); err != nil {
			return fmt.Errorf("loadgen: LoadConfig.Prompts[%d]: %w", i, err)
		}
	}
	return nil
}

// run holds one run's shared state.
type run struct {
	cfg    LoadConfig
	client *Client
	enc    *encoder
	caller context.Context // Run's ctx: when it ends the run, requests cancelled in flight are canceled
	start  time.Time       // the measured phase's start

	mu       sync.Mutex
	outcomes map[recorder.Outcome]int
	lastEnd  time.Time
	maxLag   time.Duration
	firstErr error
	sent     atomic.Int64
	noConn   atomic.Int64 // requests that could not connect
	resets   atomic.Int64 // requests reset before a response
	raWaits  atomic.Int64 // closed-loop waits for Retry-After
	cut      atomic.Int64 // requests cut at DrainTimeout
	// slowestOK is the longest E2E latency (ns) of a measured request that ended OK, for DrainAfterSlowest.
	slowestOK atomic.Int64

	// Connection state for UnreachableAfter, under connMu.
	connMu       sync.Mutex
	failingSince time.Time     // the first failure to connect since the last connection made; zero: none
	connected    int           // requests in flight that got a connection
	aborted      chan struct{} // closed when the run stops for UnreachableAfter
	abortErr     error         // why, set before aborted is closed
}

// gotConn notes that a request got a connection (net/http/httptrace GotConn, a reused one included).
func (r *run) gotConn() {
	r.connMu.Lock()
	r.failingSince = time.Time{}
	r.connected++
	r.connMu.Unlock()
}

// ended notes that a request ended; conn says whether it had got a connection.
func (r *run) ended(conn bool) {
	if conn {
		r.connMu.Lock()
		r.connected--
		r.connMu.Unlock()
	}
}

// failedToConnect notes a request that could not connect (err) and stops the run when connecting has failed
// for UnreachableAfter without a connection made in between, and no connected request is still in flight
// (a server that streams to us but accepts no new connection for a while is overloaded, not unreachable).
func (r *run) failedToConnect(err error) {
	after := r.cfg.UnreachableAfter
	if after == 0 {
		after = DefaultUnreachableAfter
	}
	now := time.Now()
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if r.failingSince.IsZero() {
		r.failingSince = now
	}
	failing := now.Sub(r.failingSince)
	if after < 0 || failing < after || r.connected > 0 || r.stopped() {
		return
	}
	r.abortErr = fmt.Errorf("%w: every connection failed for %v (UnreachableAfter %v); the last: %w",
		ErrServerUnreachable, failing.Round(time.Millisecond), after, err)
	close(r.aborted)
}

// stopped reports whether the run was stopped for UnreachableAfter.
func (r *run) stopped() bool {
	select {
	case <-r.aborted:
		return true
	default:
		return false
	}
}

// Run sends the load cfg describes and returns when every measured request has been recorded, or, when ctx
// is cancelled, promptly after cancelling the requests in flight (they are recorded as
// recorder.OutcomeCanceled, Err wrapping ErrCanceled; requests cut off by DrainTimeout, or still waiting for a
// MaxConcurrency slot, stay incomplete). It returns an error naming the field for an invalid cfg (and sends nothing), an error naming
// the models the server lists when its /v1/models answers without Params.Model (and sends nothing), or ctx's
// error when ctx ended the run early (with the Result so far). Run never calls testing.T methods.
func Run(ctx context.Context, cfg LoadConfig) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	open := cfg.Rate > 0
	if !open && cfg.Concurrency == 0 {
		cfg.Concurrency = 1
	}
	if open && cfg.Burstiness == 0 {
		cfg.Burstiness = 1
	}
	width := cfg.Concurrency
	if open {
		width = cfg.MaxConcurrency
	}
	cc := cfg.Client
	if cc.MaxConns == 0 {
		cc.MaxConns = width
		if cc.MaxConns == 0 {
			cc.MaxConns = 512
		}
	}
	client, err := NewClient(cc)
	if err != nil {
		return Result{}, err
	}
	defer client.Close()
	enc, err := newEncoder(cfg.Params)
	if err != nil {
		return Result{}, err
	}
	for _, m := range promptModels(cfg.Params.Model, cfg.Prompts) {
		if err := CheckModel(ctx, client, m); err != nil {
			return Result{}, err
		}
	}
	r := &run{cfg: cfg, client: client, enc: enc, caller: ctx, outcomes: map[recorder.Outcome]int{}, aborted: make(chan struct{})}
	res := Result{Mode: "closed", Outcomes: r.outcomes}
	if open {
		res.Mode = "open"
	}

	if cfg.Warmup > 0 {
		ww := width
		if ww == 0 || ww > cfg.Warmup {
			ww = cfg.Warmup
		}
		res.Warmup, res.WarmupNotOK, res.WarmupErr = r.warmup(ctx, ww)
		if ctx.Err() != nil {
			return res, context.Cause(ctx)
		}
	}

	// The measured phase.
	runCtx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	cpu0, sched0 := processCPU(), readSched()
	res.Start = time.Now()
	r.start = res.Start
	var wg sync.WaitGroup
	if open {
		r.openLoop(ctx, runCtx, res.Start, &wg)
	} else {
		r.closedLoop(ctx, runCtx, res.Start, &wg)
	}
	// Sending has stopped; drain.
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	var drainTimer <-chan time.Time
	drain, why := r.drain()
	if drain > 0 {
		t := time.NewTimer(drain)
		defer t.Stop()
		drainTimer = t.C
	} else if cfg.DrainTimeout < 0 {
		cancelRun(fmt.Errorf("%w: DrainTimeout %v is negative: no drain after sending stopped", ErrCutAtEnd, cfg.DrainTimeout))
	}
	select {
	case <-drained:
	case <-drainTimer:
		cancelRun(fmt.Errorf("%w: still in flight %s after sending stopped", ErrCutAtEnd, why))
		<-drained
	case <-ctx.Done():
		<-drained // runCtx is a child of ctx: in-flight requests are being cancelled
	}
	end := time.Now()
	cpu1, sched1 := processCPU(), readSched()

	r.mu.Lock()
	if !r.lastEnd.IsZero() {
		end = r.lastEnd
	}
	res.Sent = int(r.sent.Load())
	for _, n := range r.outcomes {
		res.Completed += n
	}
	res.MaxSendLag = r.maxLag
	res.ConnectFailures = int(r.noConn.Load())
	res.ConnectionResets = int(r.resets.Load())
	res.RetryAfterWaits = int(r.raWaits.Load())
	res.Cut = int(r.cut.Load())
	res.FirstErr = r.firstErr
	r.mu.Unlock()
	res.Wall = end.Sub(res.Start)
	res.ClientCPU = cpu1 - cpu0
	if res.Wall > 0 {
		res.CPUUtilization = res.ClientCPU.Seconds() / (res.Wall.Seconds() * float64(runtime.GOMAXPROCS(0)))
	}
	q, mx, schedOK := schedQuantiles(sched0, sched1, 0.5, 0.99)
	if schedOK {
		res.SchedLatencyP50, res.SchedLatencyP99, res.SchedLatencyMax = q[0], q[1], mx
	}
	if cs, ok := cfg.Sink.(recorder.ClientCostSink); ok {
		cs.RecordClientCost(res.cost(schedOK))
	}
	if ctx.Err() != nil {
		return res, context.Cause(ctx)
	}
	if r.stopped() {
		return res, r.abortErr
	}
	return res, nil
}

// CheckModel asks the server's /v1/models (for at most 5 s) whether it serves model, so that a misspelt model
// fails at once instead of every request failing (vLLM answers 404 at once); Run calls it before sending. It
// returns a *ModelNotServedError when the list does not name model; nil when it does, when model is empty, or
// when the server does not answer the list (down, or not implementing it: a run then records what happens to
// its requests).
func CheckModel(ctx context.Context, c *Client, model string) error {
	if model == "" {
		return nil
	}
	mctx, cancel := context.WithTimeout(ctx, modelCheckTimeout)
	defer cancel()
	ids, err := c.Models(mctx)
	if err != nil || slices.Contains(ids, model) {
		return nil
	}
	return &ModelNotServedError{Model: model, BaseURL: auth.Redact(c.cfg.BaseURL, c.secrets...), Served: ids}
}

// ModelNotServedError is Run's error when the server's /v1/models does not list Params.Model.
type ModelNotServedError struct {
	Model   string   // Params.Model
	BaseURL string   // ClientConfig.BaseURL, its credentials redacted (auth.Redact)
	Served  []string // the model ids the server lists, in its order
}

// Error names the model, the server and (up to 10 of) the models it serves.
func (e *ModelNotServedError) Error() string {
	return fmt.Sprintf("loadgen: Params.Model %q is not served by %s: its /v1/models lists %s", e.Model, e.BaseURL, e.ServedText())
}

// ServedText lists up to 10 of the served models, comma-separated, with the total when there are more.
func (e *ModelNotServedError) ServedText() string {
	const most = 10
	list := strings.Join(e.Served[:min(len(e.Served), most)], ", ")
	if len(e.Served) > most {
		list += fmt.Sprintf(", ... (%d in all)", len(e.Served))
	}
	return list
}

// modelCheckTimeout bounds CheckModel's request.
const modelCheckTimeout = 5 * time.Second

// warmup sends cfg.Warmup requests with w closed-loop workers; their records go to the sink's RecordWarmup
// when it has one (recorder.WarmupSink), else nowhere.
func (r *run) warmup(ctx context.Context, w int) (sent, notOK int, firstErr error) {
	ws, _ := r.cfg.Sink.(recorder.WarmupSink)
	var next, bad atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= r.cfg.Warmup {
					return
				}
				rec := r.client.do(ctx, r.enc, r.cfg.Prompts[i%len(r.cfg.Prompts)].single())
				if ws != nil {
					ws.RecordWarmup(rec)
				}
				if rec.EffectiveOutcome() != recorder.OutcomeOK {
					bad.Add(1)
					once.Do(func() { firstErr = rec.Err })
				}
			}
		}()
	}
	wg.Wait()
	n := int(next.Load())
	if n > r.cfg.Warmup {
		n = r.cfg.Warmup
	}
	return n, int(bad.Load()), firstErr
}

// send times measured request i and records it. intended and slotWait are the open loop's (zero otherwise).
// It returns what the request asks of a closed-loop worker before its next one (see pause).
func (r *run) send(ctx context.Context, i int, intended time.Time, slotWait time.Duration) pause {
	p := &r.cfg.Prompts[i%len(r.cfg.Prompts)]
	if len(p.Turns) > 0 {
		return r.session(ctx, i, p, intended, slotWait)
	}
	rec, noConn := r.sendOne(ctx, i, p, 0, intended, slotWait)
	return r.pauseAfter(&rec, noConn)
}

// sendOne times prompt p as measured request i (turn, 1-based, of its session; 0 for none), records it and
// returns its record and whether it could not connect.
func (r *run) sendOne(ctx context.Context, i int, p *Prompt, turn int, intended time.Time, slotWait time.Duration) (recorder.Request, bool) {
	var conn atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		if !conn.Swap(true) {
			r.gotConn()
		}
	}})
	rec := r.client.do(ctx, r.enc, p)
	r.ended(conn.Load())
	if r.canceledByCaller(ctx, &rec) {
		rec.Outcome = recorder.OutcomeCanceled
	} else if rec.Outcome == recorder.OutcomeIncomplete && errors.Is(rec.Err, ErrCanceled) && errors.Is(context.Cause(ctx), ErrCutAtEnd) {
		r.cut.Add(1)
	}
	if p.ID == "" {
		rec.ID = strconv.Itoa(i)
	} else {
		rec.ID = p.ID + "/" + strconv.Itoa(i)
	}
	if turn > 0 {
		rec.ID += "/" + strconv.Itoa(turn)
		rec.Turn = turn
	}
	rec.IntendedStart = intended
	rec.SlotWait = slotWait
	if rec.Outcome == "" {
		rec.Outcome = rec.EffectiveOutcome()
	}
	var lag time.Duration
	if !intended.IsZero() {
		lag = rec.Start.Sub(intended) - slotWait
	}
	r.mu.Lock()
	r.outcomes[rec.Outcome]++
	if rec.Outcome != recorder.OutcomeOK && r.firstErr == nil {
		r.firstErr = rec.Err
		if r.firstErr == nil {
			r.firstErr = fmt.Errorf("loadgen: request %s ended %s", rec.ID, rec.Outcome)
		}
	}
	if end := time.Now(); end.After(r.lastEnd) {
		r.lastEnd = end
	}
	if lag > r.maxLag {
		r.maxLag = lag
	}
	r.mu.Unlock()
	if rec.Outcome == recorder.OutcomeOK {
		e2e := int64(rec.End.Sub(rec.Start))
		for old := r.slowestOK.Load(); e2e > old && !r.slowestOK.CompareAndSwap(old, e2e); old = r.slowestOK.Load() {
		}
	}
	noConn := rec.Outcome == recorder.OutcomeFailed && !conn.Load() && isDialError(rec.Err)
	if noConn {
		r.noConn.Add(1)
		r.failedToConnect(rec.Err)
	}
	r.cfg.Sink.RecordRequest(rec)
	return rec, noConn
}

// promptModels lists the distinct models the prompts name, in order (base for a prompt naming none).
func promptModels(base string, prompts []Prompt) []string {
	var ms []string
	for i := range prompts {
		m := cmp.Or(prompts[i].Model, base)
		if !slices.Contains(ms, m) {
			ms = append(ms, m)
		}
	}
	return ms
}

// drain returns how long requests in flight get once sending has stopped (0: no bound, or none when
// DrainTimeout is negative) and how that was set, for the cut requests' Err: DrainTimeout, or with
// DrainAfterSlowest twice the slowest OK request so far when that is longer.
func (r *run) drain() (time.Duration, string) {
	d := r.cfg.DrainTimeout
	if d <= 0 {
		return 0, ""
	}
	if slow := time.Duration(r.slowestOK.Load()); r.cfg.DrainAfterSlowest && 2*slow > d {
		return 2 * slow, fmt.Sprintf("%v (twice the slowest OK request's E2E latency, %v, more than DrainTimeout %v)", 2*slow, slow, d)
	}
	return d, fmt.Sprintf("DrainTimeout %v", d)
}

// DrainText says, for a start line, how a run on c ends once sending stops ("then at most 10s for requests
// in flight", with DrainAfterSlowest ", or twice the slowest OK request's E2E latency when longer").
func (c LoadConfig) DrainText() string {
	switch {
	case c.DrainTimeout == 0:
		return "then waits for every request in flight"
	case c.DrainTimeout < 0:
		return "then cuts the requests in flight at once"
	case c.DrainAfterSlowest:
		return fmt.Sprintf("then at most %v for requests in flight, or twice the slowest OK request's E2E latency when longer", c.DrainTimeout)
	}
	return fmt.Sprintf("then at most %v for requests in flight", c.DrainTimeout)
}

// canceledByCaller reports whether rec, sent with ctx (the run's context), was cancelled in flight because
// Run's caller ended the run, rather than by DrainTimeout.
func (r *run) canceledByCaller(ctx context.Context, rec *recorder.Request) bool {
	return rec.Outcome == recorder.OutcomeIncomplete && errors.Is(rec.Err, ErrCanceled) &&
		r.caller.Err() != nil && !errors.Is(context.Cause(ctx), ErrCutAtEnd)
}

// isDialError reports whether err says the client could not connect to the server at all (the request was
// never sent): a dial error, DNS included, a proxy (from the environment) that could not be reached, or a
// connect timeout.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.Is(err, ErrConnectTimeout) || (errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect"))
}

// recordUnsent records request i, which was due at intended but never sent because the run ended while it
// waited slotWait for a concurrency slot: outcome incomplete with ErrCanceled, Start when it gave up.
func (r *run) recordUnsent(i int, intended time.Time, slotWait time.Duration, cause error) {
	p := &r.cfg.Prompts[i%len(r.cfg.Prompts)]
	now := time.Now()
	rec := recorder.Request{
		ID: strconv.Itoa(i), Start: now, IntendedStart: intended, SlotWait: slotWait,
		RequestedOutputTokens: r.cfg.Params.MaxTokens, Outcome: recorder.OutcomeIncomplete, Model: r.enc.modelOf(p),
		Err: fmt.Errorf("%w while waiting for a concurrency slot: %w", ErrCanceled, cause),
	}
	if p.ID != "" {
		rec.ID = p.ID + "/" + rec.ID
	}
	if p.MaxTokens > 0 {
		rec.RequestedOutputTokens = p.MaxTokens
	}
	if errors.Is(cause, ErrCutAtEnd) {
		r.cut.Add(1)
	}
	r.mu.Lock()
	r.outcomes[rec.Outcome]++
	if now.After(r.lastEnd) {
		r.lastEnd = now
	}
	r.mu.Unlock()
	r.cfg.Sink.RecordRequest(rec)
}

// more reports whether request i may start at (or be intended for) time at.
func (r *run) more(i int, start, at time.Time) bool {
	if r.cfg.Requests > 0 && i >= r.cfg.Requests {
		return false
	}
	if r.cfg.Duration > 0 && at.Sub(start) >= r.cfg.Duration {
		return false
	}
	return true
}

// closedLoop runs Concurrency workers until the count or the duration is reached or ctx ends. It returns
// once sending has stopped (the deadline passed, or the last request started), with the workers, which finish
// their current request before exiting, counted in wg.
func (r *run) closedLoop(ctx, runCtx context.Context, start time.Time, wg *sync.WaitGroup) {
	var next atomic.Int64
	stopped := make(chan struct{})
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { close(stopped) }) }
	for k := range r.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer stop()
			if r.cfg.RampUp > 0 && k > 0 {
				t := time.NewTimer(time.Until(start.Add(r.cfg.RampUp * time.Duration(k) / time.Duration(r.cfg.Concurrency))))
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
					return
				case <-r.aborted:
					return
				}
			}
			var bo backoff
			for ctx.Err() == nil && !r.stopped() {
				if bo.wait > 0 && !r.pause(ctx, start, bo.wait, stopped) {
					return
				}
				i := int(next.Add(1) - 1)
				if !r.more(i, start, time.Now()) {
					return
				}
				r.sent.Add(1)
				if r.cfg.Requests > 0 && i == r.cfg.Requests-1 {
					stop() // the last request has started
				}
				bo = r.send(runCtx, i, time.Time{}, 0).next(bo)
			}
		}()
	}
	var deadline <-chan time.Time
	if r.cfg.Duration > 0 {
		t := time.NewTimer(time.Until(start.Add(r.cfg.Duration)))
		defer t.Stop()
		deadline = t.C
	}
	select {
	case <-stopped:
	case <-deadline:
	case <-ctx.Done():
	case <-r.aborted:
	}
}

// pause waits d before a closed-loop worker's next request; it reports false when the run ended meanwhile
// (ctx done, the duration reached, or the last request started).
func (r *run) pause(ctx context.Context, start time.Time, d time.Duration, stopped <-chan struct{}) bool {
	if r.cfg.Duration > 0 {
		d = min(d, time.Until(start.Add(r.cfg.Duration)))
	}
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-t.C:
		return r.more(0, start, time.Now()) && !r.stopped()
	case <-ctx.Done():
	case <-stopped:
	case <-r.aborted:
	}
	return false
}

// openLoop sends requests at their intended times until the count or the duration is reached or ctx ends;
// it returns when sending has stopped, with the requests still in flight counted in wg.
func (r *run) openLoop(ctx, runCtx context.Context, start time.Time, wg *sync.WaitGroup) {
	arr := newArrivals(r.cfg.Rate, r.cfg.Burstiness, r.cfg.Seed)
	var slots chan struct{}
	if r.cfg.MaxConcurrency > 0 {
		slots = make(chan struct{}, r.cfg.MaxConcurrency)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var offset time.Duration // intended start − start; the schedule is absolute, so errors never accumulate
	for i := 0; ; i++ {
		intended := start.Add(offset)
		if !r.more(i, start, intended) {
			return
		}
		if d := time.Until(intended); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			case <-r.aborted:
				return
			}
		}
		if ctx.Err() != nil || r.stopped() {
			return
		}
		// As vLLM's bench serve does, the request is launched at its intended time and then waits for a slot
		// (blocked channel senders are served in FIFO order), so the schedule itself never slips.
		ready := time.Now()
		wg.Add(1)
		go func(i int, intended, ready time.Time) {
			defer wg.Done()
			var slotWait time.Duration
			if slots != nil {
				select {
				case slots <- struct{}{}:
				case <-runCtx.Done():
					// Its time had come, but the run ended while it waited for a slot: it is recorded (as
					// incomplete), never dropped, so the queueing it suffered stays visible.
					r.sent.Add(1)
					r.recordUnsent(i, intended, time.Since(ready), context.Cause(runCtx))
					return
				case <-r.aborted: // the same, for a server found unreachable: not sent to fail too
					r.sent.Add(1)
					r.recordUnsent(i, intended, time.Since(ready), r.abortErr)
					return
				}
				defer func() { <-slots }()
				slotWait = time.Since(ready)
			}
			r.sent.Add(1)
			r.send(runCtx, i, intended, slotWait)
		}(i, intended, ready)
		offset += arr.nextDuration()
	}
}
