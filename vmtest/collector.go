package vmtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// Request is one timed LLM request; see recorder.Request for each field's definition.
type Request = recorder.Request

// Collector samples metrics for one run and records its requests. Create it with Start (anywhere) or
// Collect (in a test); it is safe for concurrent use. Its sampling goroutines never log and never call the
// test: what it says goes out from Start, Finish, under Collect the test's cleanup, and the goroutine that
// finishes a run whose context ended first (its deadline), which logs and reports through tb.Logf and
// tb.Errorf (never Fatalf) while the test still runs.
type Collector struct {
	tb       TB     // the test (Collect); nil under Start
	name     string // the test's name (Collect) or the ConfigID as given (Start): summary.Summary.TestName
	logf     func(format string, args ...any)
	helper   func()
	brief    bool // log a short summary (benchmarks: go test -bench prints every b.N probe's log)
	opts     Options
	runID    string
	configID string
	secrets  []string // what c.redact hides
	start    time.Time
	dir      string
	files    report.Files
	rec      *recorder.Recorder
	samplers []samplers.Sampler
	gpu      *samplers.GPUSampler
	server   samplers.ServerSource // the one sampler that fills vllm_metrics; nil when none
	owned    []io.Closer           // the samplers Collect made (not those in Options.Samplers): closed by Stop
	display  *dashboard            // Options.Display: drawn from each snapshot tick keeps; nil when off

	ctx context.Context // Start's or Collect's: when it ends first, the run finishes early
	// loadCtx is Context's: ctx's child, ending at Collect's load deadline or when finish begins (stopLoad)
	loadCtx  context.Context
	stopLoad context.CancelCauseFunc
	cancel   context.CancelFunc
	done     chan struct{}

	workers []chan sampleReq // one per sampler, served by its own goroutine (serve); nil once closed; guarded by mu after start

	mu      sync.Mutex
	snaps   []snapshot.Snapshot
	dropped int
	sources map[string]*summary.SourceStatus
	storms  storms // rejections and failures over the ticks, reported as events
	events  []snapshot.Event
	client  *recorder.ClientCost // the load runs' cost to this process (RecordClientCost); nil before one
	// srcEvents counts the events kept from each sampler but the server source (MaxSourceEvents)
	srcEvents map[string]int
	busy      map[string]bool
	checks    []registered
	// checksTaken: finish has read checks; a later Assert evaluates its checks at once (assertLate)
	checksTaken bool
	silenced    bool // the test stopped at an invalid check: finish logs nothing after that failure
	abandoned   bool // ... before it measured anything: finish writes no files either
	// madeDir is the outermost directory of dir that Start created ("" when dir existed), which
	// removeMadeDirs removes, when empty, after an abandoned run
	madeDir string
	// finalReqs and finalRecs are the recorder's cut the last tick took (finalCut: it was taken)
	finalReqs recorder.Summary
	finalRecs []recorder.Record
	finalCut  bool
	badArgs   []error // checks refused by Assert on a collector from Start: Finish returns them

	finMu     sync.Mutex // held while finishing; guards the fields below
	finished  bool
	final0    bool // the next tick is the last one; guarded by mu
	final     *summary.Summary
	writeErr  error
	checkErrs []error
	stopped   chan struct{} // closed when Finish has run

	journal journalState // the run appended to disk each tick (journal.go)
}

// Start starts a collector outside `go test` (or anywhere a test's TB is not at hand): it validates opts,
// takes a first snapshot at once, then one every Interval, until Finish is called or ctx is done; when ctx
// is done first, the collector finishes by itself (as Finish, whose later calls return the same summary),
// writing its files and logging that it stopped because of ctx. An invalid option is an error naming the
// field, and nothing is started; so is RequireGPU when no GPU source is available. Nothing a sampler meets
// later is an error. Log lines ("vmtest: ...") go to Options.Log (none when nil). The files go to
// Options.OutputDir, else $VMTEST_OUTPUT_DIR/<config>, else metrics_output/<config>, where <config> is the
// sanitized ConfigID ("vmtest" when empty); the summary's test_name is the ConfigID as given. Each
// snapshot, and the requests recorded since the previous one, are also appended to a journal beside the files
// (package journal), removed once the files are written: a run killed before that is rebuilt by
// `vmtest report DIR` (journal.Rebuild).
func Start(ctx context.Context, opts Options) (*Collector, error) {
	if ctx == nil {
		return nil, errors.New("vmtest: Start: nil context (use context.Background())")
	}
	if opts.ConfigID == "" {
		opts.ConfigID = "vmtest"
	}
	if opts.OutputDir == "" {
		opts.OutputDir = defaultOutputDir(Sanitize(opts.ConfigID))
	}
	return start(ctx, opts, runEnv{name: opts.ConfigID, logf: writerLog(opts.Log)})
}

// runEnv is what differs between Start and Collect: the run's name (summary.Summary.TestName), where log
// lines go, whether the logged summary is brief (benchmarks), and what to call after ctx ended the run early.
type runEnv struct {
	name   string
	logf   func(format string, args ...any)
	helper func() // the test's Helper, so its log lines point at the test's code; nil outside a test
	brief  bool
	early  func(*Collector)
	// loadAt, when not zero, is when Context ends before ctx does (Collect under a test deadline), loadCause why
	loadAt    time.Time
	loadCause error
}

// writerLog returns a log function writing one line per call to w; one that discards when w is nil.
func writerLog(w io.Writer) func(string, ...any) {
	if w == nil {
		return func(string, ...any) {}
	}
	var mu sync.Mutex
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if line == "" || line[len(line)-1] != '\n' {
			line += "\n"
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = io.WriteString(w, line)
	}
}

// start is Start and Collect's common part. When ctx is done before Finish, the collector finishes with
// ctx's cause as the reason, then calls env.early (when not nil).
func start(ctx context.Context, opts Options, env runEnv) (*Collector, error) {
	if env.helper == nil {
		env.helper = func() {}
	}
	env.helper()
	o, err := opts.resolve()
	secrets := o.secrets()
	if err != nil {
		return nil, auth.Error(err, secrets...)
	}
	logf := redactingLog(env.logf, env.helper, secrets)
	now := time.Now()
	c := &Collector{
		name: env.name, logf: logf, helper: env.helper, brief: env.brief, opts: o, start: now, secrets: secrets,
		runID:   fmt.Sprintf("%s-%06x", now.UTC().Format("20060102T150405Z"), rand.Uint32()&0xffffff),
		sources: map[string]*summary.SourceStatus{}, busy: map[string]bool{},
		rec:     recorder.New(now, recorder.Config{MaxRecords: o.MaxRequests, Goodput: o.Goodput}),
		stopped: make(chan struct{}),
	}
	c.configID = Sanitize(o.ConfigID)
	if o.ConfigID == "" {
		c.configID = Sanitize(env.name)
	}
	c.dir = o.OutputDir
	if abs, err := filepath.Abs(c.dir); err == nil {
		c.dir = abs
	}
	if o.Display {
		c.display = newDashboard(os.Stderr, o.Goal, c.runID)
		c.logf = c.logBeside(logf)
	}
	if err := c.buildSamplers(); err != nil {
		for _, cl := range c.owned {
			_ = cl.Close()
		}
		return nil, auth.Error(err, secrets...)
	}
	c.madeDir = missingAncestor(c.dir)
	var rerr error
	if c.files, rerr = report.Reserve(c.dir, c.configID, now, c.opts.Interval.Seconds(), c.runID); rerr != nil {
		logf("vmtest: %v (writing the files will be tried again at the end)", rerr)
	} else {
		c.openJournal()
	}
	if o.NoPNG {
		c.files.PlotPNG = ""
	}
	logf("vmtest: run %s, config %q, interval %v, files in %s", c.runID, c.configID, o.Interval, c.dir)
	for _, name := range []string{"vllm", "gpu"} {
		if st := c.sources[name]; st != nil && st.Note != "" {
			logf("vmtest: %s: %s", name, st.Note)
		}
	}

	c.startWorkers()
	loopCtx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	c.tick(loopCtx, now, 0)
	go c.loop(loopCtx)
	c.ctx = ctx
	c.loadCtx, c.stopLoad = loadContext(ctx, env.loadAt, env.loadCause)
	go c.watch(ctx, env.early)
	return c, nil
}

// loadContext returns Context's context: a child of ctx that also ends at loadAt (when not zero) with cause,
// and its cancel.
func loadContext(ctx context.Context, loadAt time.Time, cause error) (context.Context, context.CancelCauseFunc) {
	lctx, stop := context.WithCancelCause(ctx)
	if loadAt.IsZero() {
		return lctx, stop
	}
	dctx, dstop := context.WithDeadlineCause(lctx, loadAt, cause)
	return dctx, func(err error) { stop(err); dstop() }
}

// ErrFinished is Collector.Context's cause (context.Cause) when the collector finished before the load did
// (Finish, or the test's cleanup); a load bounded by Context then returns it, which is not a failure.
var ErrFinished = errors.New("vmtest: the collector finished")

// Context is the context to bound the run's load by, e.g. loadgen.Run(c.Context(), cfg): it is done when the
// collector begins to stop, with the reason as its cause (context.Cause): under Collect with a test deadline,
// a fifth of DeadlineMargin before the collector's early finish (cause wrapping ErrTestDeadline: the load
// returns, its requests recorded, before the files are written and before go test -timeout kills the binary);
// when Start's ctx ends (its cause); and when Finish is called (cause ErrFinished). A load that returns an
// error while Context().Err() is not nil was ended by it: that is how a bounded load ends, not a failure.
func (c *Collector) Context() context.Context { return c.loadCtx }

// watch finishes the collector when ctx is done before Finish is called, calling early at the end of that
// finish. It is not a test helper: its log lines point at this file, not at the goroutine's runtime frame.
func (c *Collector) watch(ctx context.Context, early func(*Collector)) {
	select {
	case <-c.stopped:
	case <-ctx.Done():
		select {
		case <-c.stopped:
			return // finished already: ctx was cancelled after Finish
		default:
		}
		c.finish(earlyReason(ctx), early) // early only when Finish, begun first, did not do it
	}
}

// earlyReason says why the run stops early when ctx has ended ("stopped early: interrupt signal received"),
// else "".
func earlyReason(ctx context.Context) string {
	if ctx == nil || ctx.Err() == nil {
		return ""
	}
	return snapshot.StoppedEarlyPrefix + context.Cause(ctx).Error()
}

func (c *Collector) buildSamplers() error {
	o := c.opts
	if !o.NoSystem {
		c.samplers = append(c.samplers, samplers.NewSystem())
	}
	if o.Prometheus != nil {
		p, err := promsource.NewSampler(*o.Prometheus, o.Interval/2)
		if err != nil {
			return fmt.Errorf("vmtest: Options.Prometheus: %w", err)
		}
		c.samplers, c.owned = append(c.samplers, p), append(c.owned, p)
	} else if len(o.Servers) > 1 {
		f, err := c.newFleet()
		if err != nil {
			return err
		}
		c.samplers, c.owned = append(c.samplers, f), append(c.owned, f)
	} else if o.VLLMBaseURL != "" || o.MetricsURL != "" || len(o.Servers) == 1 {
		cfg := samplers.VLLMConfig{BaseURL: o.VLLMBaseURL, MetricsURL: o.MetricsURL, Model: o.Model, Auth: o.VLLMAuth,
			MinRateInterval: o.Interval / 2}
		field := "VLLMBaseURL"
		if len(o.Servers) == 1 {
			cfg.BaseURL, cfg.MetricsURL, cfg.Auth = o.Servers[0].BaseURL, o.Servers[0].MetricsURL, o.Servers[0].Auth
			field = "Servers[0]"
		}
		v, err := samplers.NewVLLM(cfg)
		if err != nil {
			return fmt.Errorf("vmtest: Options.%s: %w", field, err)
		}
		c.samplers, c.owned = append(c.samplers, v), append(c.owned, v)
	} else {
		c.sources["vllm"] = &summary.SourceStatus{Note: "no server to scrape: set Options.VLLMBaseURL (or Servers) or " + EnvVLLMURL}
	}
	g, err := samplers.NewGPU(samplers.GPUConfig{Source: o.GPUSource, GPUs: o.GPUIDs, DCGMURLs: o.DCGMURLs, DCGMAuth: o.DCGMAuth, Interval: o.Interval})
	if errors.Is(err, samplers.ErrNVMLNotLinked) {
		return fmt.Errorf("vmtest: Options.GPUSource %q: %w", o.GPUSource, samplers.ErrNVMLNotLinked)
	}
	if err != nil { // resolve checks every option NewGPU reads; this is a fallback
		return fmt.Errorf("vmtest: Options.GPUSource/GPUIDs/DCGMURLs: %w", err)
	}
	if g.Source() == samplers.GPUSourceNone {
		reason := "no GPU source"
		if g.Reason() != nil {
			reason = c.redact(g.Reason().Error())
		}
		if o.RequireGPU {
			return fmt.Errorf("vmtest: Options.RequireGPU (or %s=1): %s", EnvRequireGPU, reason)
		}
		c.sources["gpu"] = &summary.SourceStatus{Note: reason}
	} else {
		c.gpu = g
		c.samplers, c.owned = append(c.samplers, g), append(c.owned, g)
	}
	for _, spec := range o.NodeExporterURLs {
		name, u, err := samplers.ParseNodeExporter(spec)
		if err == nil {
			var n *samplers.NodeExporter
			if n, err = samplers.NewNodeExporter(samplers.NodeExporterConfig{Name: name, URL: u, Auth: o.NodeExporterAuth}); err == nil {
				c.samplers, c.owned = append(c.samplers, n), append(c.owned, n)
				continue
			}
		}
		return fmt.Errorf("vmtest: Options.NodeExporterURLs: %s", c.redact(err.Error())) // resolve checked them: a fallback
	}
	builtIn := len(c.samplers)
	c.samplers = append(c.samplers, o.Samplers...)
	// A source's name keys its errors, its status and its in-flight state: two sources with one name would
	// overwrite each other's readings.
	// "vllm" and "gpu" are reserved even when not sampled, as they carry notes; "vllm" is free for a caller's own
	// server source when there is no built-in one.
	seen := map[string]bool{"vllm": !c.userServer(builtIn), "gpu": true}
	for i, s := range c.samplers {
		name := s.Name()
		if i >= builtIn && seen[name] {
			return fmt.Errorf("vmtest: Options.Samplers[%d]: name %q is taken by another source; give each source its own Name", i-builtIn, name)
		}
		seen[name] = true
		if err := c.takeServer(s, i-builtIn); err != nil {
			return err
		}
		if c.sources[name] == nil {
			c.sources[name] = &summary.SourceStatus{}
		}
	}
	if c.gpu != nil {
		c.sources["gpu"].Note = "source: " + c.gpu.Source()
	}
	return nil
}

// newFleet makes the server source of Options.Servers (two or more): one VLLM scraper per replica.
func (c *Collector) newFleet() (*samplers.Fleet, error) {
	o := c.opts
	reps := make([]samplers.Replica, len(o.Servers))
	for i, sv := range o.Servers {
		v, err := samplers.NewVLLM(samplers.VLLMConfig{BaseURL: sv.BaseURL, MetricsURL: sv.MetricsURL, Model: o.Model, Auth: sv.Auth})
		if err != nil {
			return nil, fmt.Errorf("vmtest: Options.Servers[%d]: %w", i, err)
		}
		reps[i] = samplers.Replica{Name: sv.Name, Scraper: v}
	}
	f, err := samplers.NewFleet(reps, o.Interval/2)
	if err != nil {
		return nil, fmt.Errorf("vmtest: Options.Servers: %w", err)
	}
	return f, nil
}

// userServer reports whether the caller's samplers (c.samplers[builtIn:]) include a server source while no
// built-in one was made; its note ("no server to scrape") is then dropped.
func (c *Collector) userServer(builtIn int) bool {
	for _, s := range c.samplers[:builtIn] {
		if _, ok := s.(samplers.ServerSource); ok {
			return false
		}
	}
	for _, s := range c.samplers[builtIn:] {
		if _, ok := s.(samplers.ServerSource); ok {
			delete(c.sources, "vllm")
			return true
		}
	}
	return false
}

// takeServer makes s the collector's server source if it is one (samplers.ServerSource); a second one is
// refused, naming both: two sources would overwrite each other's vllm_metrics. extra is s's index in
// Options.Samplers (negative for a built-in sampler).
func (c *Collector) takeServer(s samplers.Sampler, extra int) error {
	src, ok := s.(samplers.ServerSource)
	if !ok {
		return nil
	}
	if c.server != nil {
		return fmt.Errorf("vmtest: Options.Samplers[%d]: sampler %q fills vllm_metrics, as sampler %q already does; a collector takes one server source",
			extra, s.Name(), c.server.Name())
	}
	c.server = src
	return nil
}

// loop takes a snapshot at start + k·Interval for k = 1, 2, ... (an absolute schedule: a slow tick does not
// shift the ones after it; missed slots are skipped) until ctx is cancelled, waiting on a Go timer or, with
// Options.KernelTimer, a kernel one.
func (c *Collector) loop(ctx context.Context) {
	defer close(c.done)
	iv := c.opts.Interval
	t, err := newTickTimer(c.opts.KernelTimer)
	if err != nil {
		c.logf("vmtest: Options.KernelTimer: no kernel timer (%v); the ticks use a Go timer", err)
	}
	defer t.stop()
	for k := int64(1); ; k++ {
		next := c.start.Add(time.Duration(k) * iv)
		if late := time.Since(next); late > 0 {
			k += int64(late / iv)
			next = c.start.Add(time.Duration(k) * iv)
		}
		if !t.wait(ctx, time.Until(next)) {
			return
		}
		c.tick(ctx, time.Now(), k)
	}
}

type result struct {
	name string
	r    samplers.Reading
}

// sampleReq asks a sampler's goroutine for one reading under ctx, sent to out.
type sampleReq struct {
	ctx context.Context
	out chan<- result
}

// startWorkers starts one goroutine per sampler, which takes a reading whenever a tick asks (serve), so a
// tick starts no goroutine and a sampler's stack stays grown from one tick to the next.
func (c *Collector) startWorkers() {
	c.workers = make([]chan sampleReq, len(c.samplers))
	for i, s := range c.samplers {
		c.workers[i] = make(chan sampleReq, 1)
		go c.serve(s, c.workers[i])
	}
}

// stopWorkers ends the samplers' goroutines once each has returned its reading in flight. Called with c.mu held.
func (c *Collector) stopWorkers() {
	for _, w := range c.workers {
		close(w)
	}
	c.workers = nil
}

// serve takes a reading from s for each request on reqs until reqs is closed; a sampler that panics gives a
// failed reading, never a crashed test binary.
func (c *Collector) serve(s samplers.Sampler, reqs <-chan sampleReq) {
	name := s.Name()
	for q := range reqs {
		r := sample(q.ctx, s)
		c.mu.Lock()
		c.busy[name] = false
		c.mu.Unlock()
		q.out <- result{name, r}
	}
}

// sample returns s.Sample(ctx), or a failed reading when it panics.
func sample(ctx context.Context, s samplers.Sampler) (r samplers.Reading) {
	defer func() {
		if p := recover(); p != nil {
			r = samplers.Reading{Err: fmt.Errorf("sampler %q panicked: %v", s.Name(), p)}
		}
	}()
	return s.Sample(ctx)
}

// tick asks every sampler that is not still busy for a reading, waits at most SampleTimeout, merges what
// came back into one snapshot stamped now, and appends it. slot is the tick's place on the schedule (start +
// slot·Interval), -1 for the last tick, taken when the run stops.
func (c *Collector) tick(parent context.Context, now time.Time, slot int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.opts.SampleTimeout)
	defer cancel()
	results := make(chan result, len(c.samplers))
	asked := map[string]bool{}
	skipped := map[string]bool{}
	c.mu.Lock()
	for i, s := range c.samplers {
		name := s.Name()
		if c.busy[name] || c.workers == nil {
			skipped[name] = true
			continue
		}
		c.busy[name], asked[name] = true, true
		c.workers[i] <- sampleReq{ctx, results} // never blocks: the goroutine is idle (not busy), its buffer empty
	}
	c.mu.Unlock()

	got := map[string]samplers.Reading{}
	// A sampler that honours ctx returns just after the deadline; give it a short grace, well inside the interval.
	// The grace timer starts at the deadline: a tick whose readings all come in time starts one timer, ctx's.
	var grace <-chan time.Time
	deadline := ctx.Done()
wait:
	for len(got) < len(asked) {
		select {
		case res := <-results:
			got[res.name] = res.r
		case <-deadline:
			deadline = nil
			t := time.NewTimer(min(50*time.Millisecond, (c.opts.Interval-c.opts.SampleTimeout)/2))
			defer t.Stop()
			grace = t.C
		case <-grace:
			break wait
		}
	}

	snap := snapshot.Snapshot{
		Timestamp: now, ConfigID: c.configID, RunID: c.runID, ElapsedS: now.Sub(c.start).Seconds(),
		GPUMetrics: map[string]snapshot.GPU{}, Errors: map[string]string{},
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	scraped := false // the server source's reading was kept: its window statistics changed
	// A source that was never set up says why on every snapshot, so a null is never unexplained.
	for _, name := range []string{"vllm", "gpu"} {
		if st := c.sources[name]; st != nil && st.Readings == 0 && st.Note != "" && !c.hasSampler(name) {
			snap.Errors[name] = st.Note
		}
	}
	for _, s := range c.samplers {
		name := s.Name()
		st := c.sources[name]
		r, ok := got[name]
		switch {
		case skipped[name]:
			st.Record(now, "previous reading still in flight past its deadline")
			snap.Errors[name] = st.LastError
			continue
		case !ok:
			st.Record(now, fmt.Sprintf("no reading within %v", c.opts.SampleTimeout))
			snap.Errors[name] = st.LastError
			continue
		}
		if r.Commit != nil { // kept: the sampler may advance its state now (a late reading never gets here)
			commit(name, &r)
		}
		if r.VLLM != nil && (c.server == nil || name != c.server.Name()) {
			r.VLLM = nil
			r.Err = errors.Join(r.Err, errors.New("reading's VLLM part ignored: only a samplers.ServerSource fills vllm_metrics"))
		}
		scraped = scraped || (c.server != nil && name == c.server.Name() && (r.Err == nil || anyRead(r.Parts)))
		if r.Err != nil {
			st.Record(now, c.redact(r.Err.Error()))
			snap.Errors[name] = st.LastError
		} else {
			st.Record(now, "")
		}
		c.recordParts(name, now, r.Parts)
		for k, g := range r.GPU {
			snap.GPUMetrics[k] = g
		}
		if r.VLLM != nil {
			snap.VLLMMetrics = *r.VLLM
		}
		if r.System != nil {
			snap.SystemMetrics = *r.System
		}
		for k, n := range r.Nodes {
			if snap.NodeMetrics == nil {
				snap.NodeMetrics = map[string]snapshot.Node{}
			}
			snap.NodeMetrics[k] = n
		}
		for _, e := range r.Events {
			e.Message = c.redact(e.Message)
			c.addSourceEvent(name, st, e)
		}
	}
	if len(snap.Errors) == 0 {
		snap.Errors = nil
	}
	client := c.fillClientLatency(&snap.VLLMMetrics, now)
	c.events = append(c.events, c.storms.observe(now, c.rec.Counts(), c.final0)...)
	if len(c.snaps) >= c.opts.MaxSnapshots {
		c.snaps = c.snaps[1:]
		c.dropped++
	}
	c.snaps = append(c.snaps, snap)
	c.journalTick(&snap, scraped)
	if c.display != nil {
		c.display.show(&snap, client, c.rec.Counts(), slot, c.opts.Interval.Seconds(), c.final0)
	}
}

// anyRead says whether any part of a reading was read (Reading.Parts: a replica's error is "").
func anyRead(parts map[string]string) bool {
	for _, err := range parts {
		if err == "" {
			return true
		}
	}
	return false
}

// recordParts records each part of source name's reading (Reading.Parts: a replica of a several-server
// source) under its own status, "<name>.<part>", so that each has its own outages.
func (c *Collector) recordParts(name string, now time.Time, parts map[string]string) {
	for part, err := range parts {
		key := name + "." + part
		st := c.sources[key]
		if st == nil {
			st = &summary.SourceStatus{}
			c.sources[key] = st
		}
		st.Record(now, c.redact(err))
	}
}

// commit runs a kept reading's Commit; a panic in it is a failed reading, never a crashed test binary.
func commit(name string, r *samplers.Reading) {
	defer func() {
		if p := recover(); p != nil {
			*r = samplers.Reading{Err: fmt.Errorf("sampler %q panicked committing its reading: %v", name, p)}
		}
	}()
	r.Commit(r)
}

func (c *Collector) hasSampler(name string) bool {
	for _, s := range c.samplers {
		if s.Name() == name {
			return true
		}
	}
	return false
}

// fillClientLatency sets the original Python collector's latency fields from the successful requests that
// ended after the previous tick's timestamp and by now, this tick's (on the last tick, every request not yet
// counted), and returns those requests' figures for the dashboard. Called with c.mu held.
func (c *Collector) fillClientLatency(v *snapshot.VLLM, now time.Time) clientInterval {
	var w recorder.Window
	if c.final0 { // one cut for the last snapshot, the summary and the requests CSV
		w, c.finalReqs, c.finalRecs = c.rec.FinalCut()
		c.finalCut = true
	} else {
		w = c.rec.DrainWindowUntil(now)
	}
	ttft, e2e := w.FillSnapshot(v)
	return clientInterval{TTFT: ttft, E2E: e2e, OK: w.OK, OutputTokens: w.OutputTokens}
}

// RecordRequest records one timed request (see recorder.Request for the fields and the definitions of TTFT,
// TPOT, ITL and E2E latency computed from them). Safe for concurrent use from any goroutine; it never logs.
// A request recorded after the Collector finished is counted in Counts but not in the files. Its error is
// kept redacted (auth.Redact: the collector's credentials, and any URL's password).
func (c *Collector) RecordRequest(r Request) {
	if r.Err != nil { // a caller's own client may name the URL it sent to, credentials included
		r.Err = auth.Error(r.Err, c.secrets...)
	}
	c.rec.RecordRequest(r)
}

// RecordWarmup counts one warm-up request (recorder.WarmupSink; loadgen.Run calls it for each request of
// LoadConfig.Warmup): apart, in request_statistics.warmup, and in no client statistic, row or rate. The
// server counted it all the same, so the cross-check of the server's TTFT observations and generation tokens
// with the client's (serverstats.CrossCheck) adds it on the client's side. Safe for concurrent use.
func (c *Collector) RecordWarmup(r Request) { c.rec.RecordWarmup(r) }

// RequestState returns the request recorder's mergeable state (recorder.State): what `vmtest merge` combines
// over the shards of a load spread over several processes (package shard). Call it after Finish for the
// run's final state.
func (c *Collector) RequestState() recorder.State { return c.rec.State() }

// RecordClientCost adds a load run's cost to its process (recorder.ClientCostSink; loadgen.Run calls it
// once at its end) to the summary's client_statistics, merged over runs (recorder.ClientCost.Add). Safe for
// concurrent use.
func (c *Collector) RecordClientCost(cost recorder.ClientCost) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		c.client = &recorder.ClientCost{}
	}
	c.client.Add(cost)
}

// Started returns the time the run began: when Start (or Collect) was called, elapsed_s 0 of its snapshots
// and the origin of its tick schedule.
func (c *Collector) Started() time.Time { return c.start }

// RunID returns this run's identifier, carried in every file and log line.
func (c *Collector) RunID() string { return c.runID }

// ConfigID returns the sanitized configuration id used in file names.
func (c *Collector) ConfigID() string { return c.configID }

// Dir returns the output directory.
func (c *Collector) Dir() string { return c.dir }

// Files returns the paths the files are (or will be) written to, keyed as summary.Summary.Files.
func (c *Collector) Files() map[string]string { return c.files.Map() }

// Snapshots returns a copy of the snapshots kept so far.
func (c *Collector) Snapshots() []snapshot.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]snapshot.Snapshot(nil), c.snaps...)
}

// Summary returns the final summary once the Collector has finished; before that, a summary of what has been
// collected so far (without file paths; its PendingDir names the directory they will be written to). It never
// returns nil.
func (c *Collector) Summary() *summary.Summary {
	select {
	case <-c.stopped:
		return c.final
	default:
	}
	s := c.computeSummary(time.Now(), c.rec.Summarize())
	if p := c.files.SnapshotsJSON; p != "" {
		s.PendingDir = filepath.Dir(p)
	}
	return s
}

func (c *Collector) computeSummary(end time.Time, reqs recorder.Summary) *summary.Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	srcs := make(map[string]summary.SourceStatus, len(c.sources))
	for k, v := range c.sources {
		srcs[k] = v.Clone()
	}
	var server *serverstats.Stats
	if c.server != nil {
		if st, ok := c.server.ServerStats(); ok {
			server = &st
		}
	}
	return summary.Compute(summary.Input{
		RunID: c.runID, ConfigID: c.configID, TestName: c.name, Start: c.start, End: end,
		DurationS: end.Sub(c.start).Seconds(), IntervalS: c.opts.Interval.Seconds(),
		Snapshots: c.snaps, SnapshotsDropped: c.dropped, Requests: reqs, Server: server, Sources: srcs, Events: c.events,
		Warnings: c.opts.Warnings, Client: c.clientCost(),
	})
}

// clientCost is a copy of the load runs' merged cost; nil when none was reported. c.mu is held.
func (c *Collector) clientCost() *recorder.ClientCost {
	if c.client == nil {
		return nil
	}
	cc := *c.client
	return &cc
}

// Finish ends collection: it stops the sampling loop (waiting for it, bounded), takes a last snapshot so the
// final interval's requests are in the files, computes the summary, writes the files (atomically) and logs
// the summary and their paths. It returns the final summary (never nil) and an error when the files could not
// be written or a check registered with Assert was not met (errors.Join of each; under Collect the test
// reports them itself). Later calls, and the cleanup Collect registers, return the same summary and error.
// Safe to call from any goroutine.
func (c *Collector) Finish() (*summary.Summary, error) {
	c.helper()
	c.finish(earlyReason(c.loadCtx), nil) // Context ended first: its deadline, or Start's ctx
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.final, errors.Join(append(append([]error{c.writeErr}, c.badArgs...), c.checkErrs...)...)
}

// finish does Finish's work once; reason, when not empty, is logged first: why the run stopped before its end.
// When this call does it, then (if not nil) runs last, before Finish returns to any other caller and before
// Finish's channel closes, so what then writes is out before a test waiting on either can end. It says whether
// this call did it (false when another had).
func (c *Collector) finish(reason string, then func(*Collector)) (did bool) {
	c.helper()
	c.finMu.Lock()
	defer c.finMu.Unlock()
	if c.finished {
		return false
	}
	c.finished = true
	defer close(c.stopped)
	c.stopLoad(ErrFinished)
	if reason != "" {
		c.logf("vmtest: %s", reason)
	}
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(c.opts.Interval + time.Second):
		c.logf("vmtest: sampling loop did not stop within %v; going on without it", c.opts.Interval+time.Second)
	}
	c.mu.Lock()
	c.final0 = true
	if reason != "" { // the summary says so too, not only the log; before the last tick, so its journal line has it
		c.events = append(c.events, snapshot.Event{Time: time.Now(), Source: snapshot.EventSourceCollector, Message: reason})
	}
	c.mu.Unlock()
	c.tick(context.Background(), time.Now(), -1)
	c.mu.Lock()
	c.stopWorkers()
	c.mu.Unlock()
	for _, cl := range c.owned { // the caller's own samplers stay open: they may serve another collector
		_ = cl.Close()
	}
	end := time.Now()
	c.mu.Lock()
	reqs, recs, cut := c.finalReqs, c.finalRecs, c.finalCut
	c.mu.Unlock()
	if !cut { // the last tick did not get to its cut
		reqs, recs = c.rec.Cut()
	}
	sum := c.computeSummary(end, reqs)
	sum.Finished = true
	c.mu.Lock()
	sf := report.SnapshotFile{RunID: c.runID, ConfigID: c.configID, Start: c.start, IntervalS: c.opts.Interval.Seconds(),
		GPUKeys: report.GPUKeysOf(c.opts.GPUIDs), Snapshots: c.snaps}
	c.mu.Unlock()
	c.mu.Lock()
	// A run stopped at an invalid check before it measured anything writes nothing; one that measured keeps its
	// files, whatever the check. Either logs nothing after the check's failure.
	abandoned, silenced := c.abandoned, c.silenced
	c.mu.Unlock()
	// The checks run once the data files are written (a failure names them) and before the HTML report, which
	// holds their verdicts.
	c.mu.Lock()
	checks := c.checks
	c.checksTaken = true
	c.mu.Unlock()
	r := &checkReporter{logf: c.logf}
	checked := false
	runChecks := func(s *summary.Summary) []report.Verdict {
		checked = true
		verdicts := make([]report.Verdict, len(checks))
		for i, rc := range checks {
			n := len(r.errs)
			assert.Assert(r, s, rc.check)
			for j := n; j < len(r.errs); j++ {
				r.errs[j] = rc.located(r.errs[j])
			}
			verdicts[i] = report.Verdict{Check: rc.check.String()}
			if len(r.errs) > n {
				verdicts[i].Err = r.errs[n].Error()
			}
		}
		return verdicts
	}
	if abandoned {
		c.discardFiles()
	} else if err := report.WriteAll(c.files, sf, recs, sum, runChecks); err != nil {
		c.writeErr = fmt.Errorf("vmtest: writing files: %w", err)
	}
	if !checked {
		runChecks(sum)
	}
	c.closeJournal(c.writeErr == nil)
	if abandoned {
		c.removeMadeDirs()
	}
	c.final = sum
	if !silenced {
		c.logSummary(sum)
	}
	c.mu.Lock()
	c.checkErrs = r.errs
	c.mu.Unlock()
	if then != nil {
		then(c)
	}
	return true
}

// discardFiles removes the placeholder Reserve claimed, for a run that stopped at an invalid check before it
// measured anything: the latest run's files (summary_statistics.json) stay those of the last run that
// measured something. The check's failure said so.
func (c *Collector) discardFiles() {
	_ = os.Remove(c.files.SnapshotsJSON)
}

// removeMadeDirs removes, once an abandoned run's placeholder and journal are gone, the directories Start made
// for its files, innermost first, each only when empty.
func (c *Collector) removeMadeDirs() {
	if c.madeDir == "" {
		return
	}
	for d := filepath.Clean(c.dir); ; d = filepath.Dir(d) {
		if os.Remove(d) != nil || d == c.madeDir || d == filepath.Dir(d) {
			return // not empty (another run's files), or the last one Start made
		}
	}
}

// missingAncestor returns the outermost directory of dir, dir itself included, that does not exist yet
// (what MkdirAll will create), or "" when dir exists.
func missingAncestor(dir string) string {
	dir = filepath.Clean(dir)
	missing := ""
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			return missing
		}
		missing = d
		if d == filepath.Dir(d) {
			return missing
		}
	}
}

// registered is a check registered with Assert or AssertFrom and where it came from: "check registered at
// file.go:line" (the Assert call), AssertFrom's text, or "" when unknown.
type registered struct {
	check assert.Check
	site  string
}

// located returns err, a failure of r's check, with where the check came from.
func (r registered) located(err error) error {
	if r.site == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, r.site)
}

// checkReporter is the assert.TestingT the registered checks run under in finish: notes go to the log,
// failures are kept for Finish to return (and Collect to report).
type checkReporter struct {
	logf func(string, ...any)
	errs []error
}

func (r *checkReporter) Helper()                         {}
func (r *checkReporter) Logf(format string, args ...any) { r.logf(format, args...) }
func (r *checkReporter) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf(format, args...))
}
func (r *checkReporter) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

// logSummary logs the text summary and the paths written.
func (c *Collector) logSummary(sum *summary.Summary) {
	c.helper()
	lines := report.TextSummary(sum)
	if c.brief && len(lines) > 2 {
		lines = append(lines[:2], "files in "+c.dir)
	}
	for _, line := range lines {
		c.logf("vmtest: %s", line)
	}
	if c.writeErr != nil || c.brief {
		return
	}
	keys := make([]string, 0, len(sum.Files))
	for k := range sum.Files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.logf("vmtest: wrote %s", sum.Files[k])
	}
}
