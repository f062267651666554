// Package vmtest turns `go test` into a performance lab for LLM inference servers (vLLM and any
// OpenAI-compatible server with vLLM-style Prometheus metrics). A test calls Collect; from then until the test
// ends, GPU, server and host metrics are sampled on one clock, every request the test reports through
// RecordRequest is timed, and when the test ends the files are written under the test's name and the SLOs
// registered on the Collector are checked.
//
//	func TestServe(t *testing.T) {
//		c := vmtest.Collect(t, vmtest.Options{VLLMBaseURL: url})
//		c.AssertP99Below("ttft", 500*time.Millisecond)
//		// ... send requests, c.RecordRequest(...) each ...
//	}
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// Request is one timed LLM request; see recorder.Request for each field's definition.
type Request = recorder.Request

// Collector samples metrics for one test and records its requests. Create it with Collect; it is safe for
// concurrent use. Its goroutines never call the testing.TB: everything reaches the test through the cleanup
// (or Stop), on the test's goroutine.
type Collector struct {
	tb       testing.TB
	opts     Options
	runID    string
	configID string
	start    time.Time
	dir      string
	files    report.Files
	rec      *recorder.Recorder
	samplers []samplers.Sampler
	gpu      *samplers.GPUSampler
	vllm     *samplers.VLLM
	owned    []io.Closer         // the samplers Collect made (not those in Options.Samplers): closed by Stop
	window   *serverstats.Window // server-side counters and histograms over the test; guarded by mu
	lastAt   time.Time           // the last scrape added to window
	display  io.Writer

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	snaps   []snapshot.Snapshot
	dropped int
	sources map[string]*summary.SourceStatus
	events  []snapshot.Event
	busy    map[string]bool
	checks  []func(*summary.Summary) error

	stopOnce sync.Once
	final0   bool // the next tick is the last one; guarded by mu
	final    *summary.Summary
	writeErr error

	journal journalState // journal: the run appended to disk each tick (journal.go)
}

// Collect starts collecting for the test tb (a *testing.T or *testing.B): it validates opts, takes a first
// snapshot at once, then one every Interval, and registers one tb.Cleanup that stops sampling, takes a last
// snapshot, computes the summary, writes the files, logs their paths and runs the assertions registered on
// the Collector. An invalid option fails the test at once (tb.Fatalf) naming the field; so does RequireGPU
// when no GPU source is available. Nothing a sampler meets later fails the test. Each snapshot, and the
// requests recorded since the previous one, are also appended to a journal beside the files (package
// journal), removed once the files are written: a run killed before that is rebuilt by `vmtest report DIR`.
func Collect(tb testing.TB, opts Options) *Collector {
	tb.Helper()
	o, err := opts.resolve()
	if err != nil {
		tb.Fatalf("%v", err)
		return nil
	}
	start := time.Now()
	c := &Collector{
		tb: tb, opts: o, start: start,
		runID:   fmt.Sprintf("%s-%06x", start.UTC().Format("20060102T150405Z"), rand.Uint32()&0xffffff),
		sources: map[string]*summary.SourceStatus{}, busy: map[string]bool{},
		rec: recorder.New(start, recorder.Config{MaxRecords: o.MaxRequests, Goodput: o.Goodput}),
	}
	c.configID = Sanitize(o.ConfigID)
	if o.ConfigID == "" {
		c.configID = Sanitize(tb.Name())
	}
	c.dir = OutputDir(tb, o.OutputDir)
	if abs, err := filepath.Abs(c.dir); err == nil {
		c.dir = abs
	}
	if o.Display {
		c.display = os.Stderr
	}
	if err := c.buildSamplers(); err != nil {
		for _, cl := range c.owned {
			_ = cl.Close()
		}
		tb.Fatalf("%v", err)
		return nil
	}
	var rerr error
	if c.files, rerr = report.Reserve(c.dir, c.configID, start, c.runID); rerr != nil {
		tb.Logf("vmtest: %v (writing the files will be tried again at the end)", rerr)
	} else {
		c.openJournal() // journal
	}
	tb.Logf("vmtest: run %s, config %q, interval %v, files in %s", c.runID, c.configID, o.Interval, c.dir)
	for _, name := range []string{"vllm", "gpu"} {
		if st := c.sources[name]; st != nil && st.Note != "" {
			tb.Logf("vmtest: %s: %s", name, st.Note)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	c.tick(ctx, start)
	go c.loop(ctx)
	tb.Cleanup(c.cleanup)
	return c
}

func (c *Collector) buildSamplers() error {
	o := c.opts
	if !o.NoSystem {
		c.samplers = append(c.samplers, samplers.NewSystem())
	}
	if o.VLLMBaseURL != "" || o.MetricsURL != "" {
		v, err := samplers.NewVLLM(samplers.VLLMConfig{BaseURL: o.VLLMBaseURL, MetricsURL: o.MetricsURL})
		if err != nil {
			return fmt.Errorf("vmtest: Options.VLLMBaseURL: %w", err)
		}
		c.vllm, c.window = v, serverstats.NewWindow()
		c.samplers, c.owned = append(c.samplers, v), append(c.owned, v)
	} else {
		c.sources["vllm"] = &summary.SourceStatus{Note: "no server to scrape: set Options.VLLMBaseURL or " + EnvVLLMURL}
	}
	g, err := samplers.NewGPU(samplers.GPUConfig{Source: o.GPUSource, GPUs: o.GPUIDs, DCGMURLs: o.DCGMURLs, Interval: o.Interval})
	if errors.Is(err, samplers.ErrNVMLNotLinked) {
		return fmt.Errorf("vmtest: Options.GPUSource %q: %w", o.GPUSource, samplers.ErrNVMLNotLinked)
	}
	if err != nil { // resolve checks every option NewGPU reads; this is a fallback
		return fmt.Errorf("vmtest: Options.GPUSource/GPUIDs/DCGMURLs: %w", err)
	}
	if g.Source() == samplers.GPUSourceNone {
		reason := "no GPU source"
		if g.Reason() != nil {
			reason = g.Reason().Error()
		}
		if o.RequireGPU {
			return fmt.Errorf("vmtest: Options.RequireGPU (or %s=1): %s", EnvRequireGPU, reason)
		}
		c.sources["gpu"] = &summary.SourceStatus{Note: reason}
	} else {
		c.gpu = g
		c.samplers, c.owned = append(c.samplers, g), append(c.owned, g)
	}
	builtIn := len(c.samplers)
	c.samplers = append(c.samplers, o.Samplers...)
	// A source's name keys its errors, its status and its in-flight state: two sources with one name would
	// overwrite each other's readings.
	seen := map[string]bool{"vllm": true, "gpu": true} // reserved even when not sampled: they carry notes
	for i, s := range c.samplers {
		name := s.Name()
		if i >= builtIn && seen[name] {
			return fmt.Errorf("vmtest: Options.Samplers[%d]: name %q is taken by another source; give each source its own Name", i-builtIn, name)
		}
		seen[name] = true
		if c.sources[name] == nil {
			c.sources[name] = &summary.SourceStatus{}
		}
	}
	if c.gpu != nil {
		c.sources["gpu"].Note = "source: " + c.gpu.Source()
	}
	return nil
}

// loop takes a snapshot at start + k·Interval for k = 1, 2, ... (an absolute schedule: a slow tick does not
// shift the ones after it; missed slots are skipped) until ctx is cancelled.
func (c *Collector) loop(ctx context.Context) {
	defer close(c.done)
	iv := c.opts.Interval
	for k := int64(1); ; k++ {
		next := c.start.Add(time.Duration(k) * iv)
		if late := time.Since(next); late > 0 {
			k += int64(late / iv)
			next = c.start.Add(time.Duration(k) * iv)
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		c.tick(ctx, time.Now())
	}
}

type result struct {
	name string
	r    samplers.Reading
}

// tick asks every sampler that is not still busy for a reading, waits at most SampleTimeout, merges what
// came back into one snapshot stamped now, and appends it.
func (c *Collector) tick(parent context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.opts.SampleTimeout)
	defer cancel()
	results := make(chan result, len(c.samplers))
	asked := map[string]bool{}
	skipped := map[string]bool{}
	c.mu.Lock()
	for _, s := range c.samplers {
		name := s.Name()
		if c.busy[name] {
			skipped[name] = true
			continue
		}
		c.busy[name], asked[name] = true, true
		go func(s samplers.Sampler) {
			var r samplers.Reading
			defer func() {
				// A sampler that panics is a failed reading, never a crashed test binary.
				if p := recover(); p != nil {
					r = samplers.Reading{Err: fmt.Errorf("sampler %q panicked: %v", name, p)}
				}
				c.mu.Lock()
				c.busy[name] = false
				c.mu.Unlock()
				results <- result{name, r}
			}()
			r = s.Sample(ctx)
		}(s)
	}
	c.mu.Unlock()

	got := map[string]samplers.Reading{}
	// A sampler that honours ctx returns just after the deadline; give it a short grace, well inside the interval.
	grace := time.NewTimer(c.opts.SampleTimeout + min(50*time.Millisecond, (c.opts.Interval-c.opts.SampleTimeout)/2))
	defer grace.Stop()
wait:
	for len(got) < len(asked) {
		select {
		case res := <-results:
			got[res.name] = res.r
		case <-grace.C:
			break wait
		}
	}

	snap := snapshot.Snapshot{
		Timestamp: now, ConfigID: c.configID, RunID: c.runID, ElapsedS: now.Sub(c.start).Seconds(),
		GPUMetrics: map[string]snapshot.GPU{}, Errors: map[string]string{},
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	scraped := false // a new vLLM scrape was added to the window this tick
	// A source that was never set up says why on every snapshot, so a null is never unexplained.
	for _, name := range []string{"vllm", "gpu"} {
		if st := c.sources[name]; st != nil && st.Readings == 0 && st.Note != "" && !c.hasSampler(name) {
			snap.Errors[name] = st.Note
		}
	}
	for _, s := range c.samplers {
		name := s.Name()
		st := c.sources[name]
		st.Readings++
		r, ok := got[name]
		switch {
		case skipped[name]:
			st.Failed++
			st.LastError = "previous reading still in flight past its deadline"
			snap.Errors[name] = st.LastError
			continue
		case !ok:
			st.Failed++
			st.LastError = fmt.Sprintf("no reading within %v", c.opts.SampleTimeout)
			snap.Errors[name] = st.LastError
			continue
		}
		if r.Err != nil {
			st.Failed++
			st.LastError = r.Err.Error()
			snap.Errors[name] = st.LastError
		}
		for k, g := range r.GPU {
			snap.GPUMetrics[k] = g
		}
		if r.VLLM != nil {
			snap.VLLMMetrics = *r.VLLM
		}
		if r.System != nil {
			snap.SystemMetrics = *r.System
		}
		c.events = append(c.events, r.Events...)
		if s == samplers.Sampler(c.vllm) && r.Err == nil {
			if sc := c.vllm.LastScrape(); !sc.At.IsZero() && !sc.At.Equal(c.lastAt) {
				c.lastAt = sc.At
				c.events = append(c.events, c.window.Add(sc)...)
				scraped = true
			}
		}
	}
	if scraped {
		// Server-side latency quantiles over the interval since the previous successful scrape.
		c.window.SetInterval(&snap.VLLMMetrics)
	}
	if len(snap.Errors) == 0 {
		snap.Errors = nil
	}
	c.fillClientLatency(&snap.VLLMMetrics, now)
	if len(c.snaps) >= c.opts.MaxSnapshots {
		c.snaps = c.snaps[1:]
		c.dropped++
	}
	c.snaps = append(c.snaps, snap)
	c.journalTick(&snap, scraped) // journal
	if c.display != nil {
		render(c.display, &snap, c.rec.Counts(), len(c.snaps) == 1, c.final0)
	}
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
// counted). Called with c.mu held.
func (c *Collector) fillClientLatency(v *snapshot.VLLM, now time.Time) {
	if c.final0 {
		now = time.Time{}
	}
	w := c.rec.DrainWindowUntil(now)
	ttft, e2e := recorder.ComputeStats(w.TTFTMS), recorder.ComputeStats(w.E2EMS)
	v.FirstTokenLatencyMS = ttft.Mean
	v.MeanLatencyMS, v.P50LatencyMS, v.P90LatencyMS, v.P99LatencyMS = e2e.Mean, e2e.P50, e2e.P90, e2e.P99
	v.RequestsFinished = w.OK
}

// RecordRequest records one timed request (see recorder.Request for the fields and the definitions of TTFT,
// TPOT, ITL and E2E latency computed from them). Safe for concurrent use from any goroutine; it never calls
// the testing.TB. A request recorded after the Collector stopped is counted in Counts but not in the files.
func (c *Collector) RecordRequest(r Request) { c.rec.RecordRequest(r) }

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

// Summary returns the final summary once the Collector has stopped; before that, a summary of what has been
// collected so far (without file paths). It never returns nil.
func (c *Collector) Summary() *summary.Summary {
	c.mu.Lock()
	if f := c.final; f != nil {
		c.mu.Unlock()
		return f
	}
	c.mu.Unlock()
	return c.computeSummary(time.Now(), c.rec.Summarize())
}

func (c *Collector) computeSummary(end time.Time, reqs recorder.Summary) *summary.Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	srcs := make(map[string]summary.SourceStatus, len(c.sources))
	for k, v := range c.sources {
		srcs[k] = *v
	}
	var server *serverstats.Stats
	if c.window != nil {
		if st := c.window.Summary(); st.Scrapes > 0 {
			server = &st
		}
	}
	return summary.Compute(summary.Input{
		RunID: c.runID, ConfigID: c.configID, TestName: c.tb.Name(), Start: c.start, End: end,
		DurationS: end.Sub(c.start).Seconds(), IntervalS: c.opts.Interval.Seconds(),
		Snapshots: c.snaps, SnapshotsDropped: c.dropped, Requests: reqs, Server: server, Sources: srcs, Events: c.events,
	})
}

// Stop ends collection now instead of at the end of the test: it stops the sampling loop (waiting for it,
// bounded), takes a last snapshot so the final interval's requests are in the files, computes the summary,
// writes the files and logs their paths. It returns the final summary. Later calls return the same summary;
// the cleanup calls it too. Call it from the test's goroutine.
func (c *Collector) Stop() *summary.Summary {
	c.tb.Helper()
	c.stopOnce.Do(func() {
		c.cancel()
		select {
		case <-c.done:
		case <-time.After(c.opts.Interval + time.Second):
			c.tb.Logf("vmtest: sampling loop did not stop within %v; going on without it", c.opts.Interval+time.Second)
		}
		c.mu.Lock()
		c.final0 = true
		c.mu.Unlock()
		c.tick(context.Background(), time.Now())
		for _, cl := range c.owned { // the caller's own samplers stay open: they may serve another collector
			_ = cl.Close()
		}
		end := time.Now()
		reqs, recs := c.rec.Cut() // one cut: the requests CSV and the summary hold the same requests
		sum := c.computeSummary(end, reqs)
		sum.Finished = true
		c.mu.Lock()
		sf := report.SnapshotFile{RunID: c.runID, ConfigID: c.configID, Start: c.start, IntervalS: c.opts.Interval.Seconds(), Snapshots: c.snaps}
		c.mu.Unlock()
		c.writeErr = report.WriteAll(c.files, sf, recs, sum)
		c.closeJournal(c.writeErr == nil) // journal
		c.mu.Lock()
		c.final = sum
		c.mu.Unlock()
		lines := report.TextSummary(sum)
		_, bench := c.tb.(*testing.B)
		if bench && len(lines) > 2 {
			// go test -bench prints every run's log (b.N probes included) and truncates long ones: keep it short.
			lines = append(lines[:2], "files in "+c.dir)
		}
		for _, line := range lines {
			c.tb.Log("vmtest: " + line)
		}
		if c.writeErr != nil {
			// Losing the files is not a sampler problem: the run's record is gone, so the test must say so.
			c.tb.Errorf("vmtest: writing files: %v", c.writeErr)
		} else if !bench {
			keys := make([]string, 0, len(sum.Files))
			for k := range sum.Files {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				c.tb.Logf("vmtest: wrote %s", sum.Files[k])
			}
		}
	})
	return c.final
}

func (c *Collector) cleanup() {
	c.tb.Helper()
	sum := c.Stop()
	c.mu.Lock()
	checks := c.checks
	c.mu.Unlock()
	for _, check := range checks {
		if err := check(sum); err != nil {
			c.tb.Errorf("%v", err)
		}
	}
}

// Check registers an SLO check to run over the final summary at the end of the test; a non-nil error fails
// the test with that message. Checks run in the order registered. Check runs nothing before the end; the
// Assert* methods below also test their arguments when they are called.
func (c *Collector) Check(check func(*summary.Summary) error) {
	c.mu.Lock()
	c.checks = append(c.checks, check)
	c.mu.Unlock()
}

// register adds one of package assert's checks. It first runs the check over no summary: assert's checks test
// their arguments before anything else, so an unknown metric name or a limit that no run could meet (or
// fail) shows at once, failing the test through tb.Fatalf with call (how the user called it) in front,
// instead of after the whole load has run.
func (c *Collector) register(call string, check func(*summary.Summary) error) {
	c.tb.Helper()
	if err := check(nil); errors.Is(err, assert.ErrInvalidCheck) {
		c.tb.Fatalf("vmtest: %s: %s", call, strings.TrimPrefix(err.Error(), "vmtest: "))
		return
	}
	c.Check(check)
}

// AssertP99Below registers assert.CheckP99Below(summary, metric, limit) to run at the end of the test.
// metric is "ttft", "tpot", "itl", "e2e" (also called "latency"), "ttft_from_intended" or
// "e2e_from_intended" (client side, successful requests; see assert.LatencyMetricsText); no data fails. An
// unknown metric or a limit ≤ 0 fails the test at once (tb.Fatalf, naming the valid metrics), so call it from
// the test's goroutine, as every Assert* method.
func (c *Collector) AssertP99Below(metric string, limit time.Duration) {
	c.tb.Helper()
	c.register(fmt.Sprintf("AssertP99Below(%q, %v)", metric, limit),
		func(s *summary.Summary) error { return assert.CheckP99Below(s, metric, limit) })
}

// AssertP90Below registers assert.CheckP90Below to run at the end of the test; its arguments are checked at
// once, as AssertP99Below's.
func (c *Collector) AssertP90Below(metric string, limit time.Duration) {
	c.tb.Helper()
	c.register(fmt.Sprintf("AssertP90Below(%q, %v)", metric, limit),
		func(s *summary.Summary) error { return assert.CheckP90Below(s, metric, limit) })
}

// AssertP50Below registers assert.CheckP50Below to run at the end of the test; its arguments are checked at
// once, as AssertP99Below's.
func (c *Collector) AssertP50Below(metric string, limit time.Duration) {
	c.tb.Helper()
	c.register(fmt.Sprintf("AssertP50Below(%q, %v)", metric, limit),
		func(s *summary.Summary) error { return assert.CheckP50Below(s, metric, limit) })
}

// AssertMeanBelow registers assert.CheckMeanBelow to run at the end of the test; its arguments are checked
// at once, as AssertP99Below's.
func (c *Collector) AssertMeanBelow(metric string, limit time.Duration) {
	c.tb.Helper()
	c.register(fmt.Sprintf("AssertMeanBelow(%q, %v)", metric, limit),
		func(s *summary.Summary) error { return assert.CheckMeanBelow(s, metric, limit) })
}

// AssertThreshold registers threshold expressions (assert.ParseThreshold: "p(99) ttft < 150ms",
// "error_rate < 1%", "gpu.utilization.avg > 50", ...) to be checked at the end of the test. An expression that
// does not parse, names an unknown metric or always or never holds fails the test at once (tb.Fatalf), naming
// the position of the error; so does one on goodput without Options.Goodput.
func (c *Collector) AssertThreshold(exprs ...string) {
	c.tb.Helper()
	for _, e := range exprs {
		th, err := assert.ParseThreshold(e)
		if err != nil {
			c.tb.Fatalf("%v", err)
			return
		}
		if g := c.opts.Goodput; strings.HasPrefix(th.Metric, "goodput") && g.TTFT <= 0 && g.TPOT <= 0 && g.E2E <= 0 {
			c.tb.Fatalf("vmtest: threshold %q: no goodput objective: set Options.Goodput (TTFT, TPOT and/or E2E limits a request must meet to count)", e)
			return
		}
		c.Check(th.Check)
	}
}

// AssertErrorRateBelow registers assert.CheckErrorRateBelow for the end of the test. limit is a fraction:
// 0.01 is 1 %. A limit outside (0, 1) fails the test at once (tb.Fatalf): 1 would pass unless every request
// failed, 0 could never pass.
func (c *Collector) AssertErrorRateBelow(limit float64) {
	c.tb.Helper()
	c.register(fmt.Sprintf("AssertErrorRateBelow(%v)", limit),
		func(s *summary.Summary) error { return assert.CheckErrorRateBelow(s, limit) })
}

// AssertThroughputAbove registers assert.CheckThroughputAbove (successful requests/s) for the end of the
// test. A negative or non-finite limit fails the test at once (tb.Fatalf).
func (c *Collector) AssertThroughputAbove(reqPerSec float64) {
	c.tb.Helper()
	c.register(fmt.Sprintf("AssertThroughputAbove(%v)", reqPerSec),
		func(s *summary.Summary) error { return assert.CheckThroughputAbove(s, reqPerSec) })
}

// AssertGoodputAbove registers assert.CheckGoodputAbove (requests/s meeting Options.Goodput) for the end of
// the test. Without Options.Goodput there is no goodput to check, and a negative or non-finite limit cannot
// mean anything: either fails the test at once (tb.Fatalf).
func (c *Collector) AssertGoodputAbove(reqPerSec float64) {
	c.tb.Helper()
	if g := c.opts.Goodput; g.TTFT <= 0 && g.TPOT <= 0 && g.E2E <= 0 {
		c.tb.Fatalf("vmtest: AssertGoodputAbove(%v): no goodput objective: set Options.Goodput (TTFT, TPOT and/or E2E limits a request must meet to count)", reqPerSec)
		return
	}
	c.register(fmt.Sprintf("AssertGoodputAbove(%v)", reqPerSec),
		func(s *summary.Summary) error { return assert.CheckGoodputAbove(s, reqPerSec) })
}

// AssertBaseline registers assert.CheckBaseline against the baseline file at path for the end of the test:
// each metric may not regress beyond its tolerance; run with -vmtest.update (or VMTEST_UPDATE=1) to rewrite
// the file from this run instead. An empty path, no metric, an unknown metric name (summary.Lookup) or a
// negative tolerance fails the test at once (tb.Fatalf); the file itself is read at the end.
func (c *Collector) AssertBaseline(path string, metrics ...assert.Tolerance) {
	c.tb.Helper()
	c.register("AssertBaseline", func(s *summary.Summary) error { return assert.CheckBaseline(s, path, metrics...) })
}
