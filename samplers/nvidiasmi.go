package samplers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmtest/vmtest/snapshot"
)

// smiGPUFields is what the nvidia-smi source asks for, in this order. The names are the ones every driver in
// ../shared/testdata/nvidia-smi accepts ("clocks.sm" and "clocks_throttle_reasons.active" are the older
// aliases of clocks.current.sm and clocks_event_reasons.active, kept by drivers up to 610 at least). "count"
// (the number of GPUs nvidia-smi sees, the same on every row) comes last: in loop mode it tells when a block
// of rows is complete.
var smiGPUFields = []string{
	"index", "uuid", "name",
	"utilization.gpu", "utilization.memory",
	"memory.total", "memory.used", "memory.free",
	"temperature.gpu", "power.draw",
	"clocks.sm", "clocks.mem",
	"clocks_throttle_reasons.active",
	"count",
}

const (
	smiIndex = iota
	smiUUID
	smiName
	smiUtil
	smiMemUtil
	smiMemTotal
	smiMemUsed
	smiMemFree
	smiTemp
	smiPower
	smiSMClock
	smiMemClock
	smiThrottle
	smiCount
)

var smiAppFields = []string{"gpu_uuid", "pid", "used_memory"}

const (
	// smiNoDeadline bounds a Sample when the tick's context has none.
	smiNoDeadline = 10 * time.Second
	// smiDefaultInterval is the loop interval when GPUConfig.Interval is zero (the collector's default tick).
	smiDefaultInterval = 2 * time.Second
	// smiStaleSlack is added to two intervals before a block counts as stale: nvidia-smi sleeps the interval
	// after each query, so its period is the interval plus its own query time.
	smiStaleSlack = 250 * time.Millisecond
	// smiAppsPeriod is about how often the compute-process list (one `--query-compute-apps` call, a process
	// start and an NVML initialization) is refreshed: every ceil(smiAppsPeriod/interval) ticks, i.e. every
	// 15th tick at 2 s. Per-process memory moves slowly (an inference server allocates its pool once), and a
	// process start is most of this source's cost to the test process (BenchmarkSMICPUPerTickNoApps).
	smiAppsPeriod = 30 * time.Second
	// smiMaxBlock bounds the bytes of one block being assembled (a loop printing lines that are never rows).
	smiMaxBlock = 64 << 10
	// smiMaxText bounds the non-row text and stderr kept for an exit message.
	smiMaxText = 4 << 10
)

var (
	errSMINotStarted = errors.New("nvidia-smi: not started")
	errSMIEmpty      = errors.New("nvidia-smi: pipe empty")
)

// nvidiaSMI reads GPUs from ONE long-lived `nvidia-smi --query-gpu=<smiGPUFields>
// --format=csv,noheader,nounits -lms <interval>` process, started at the first Sample. In loop mode
// nvidia-smi prints one block of rows (one per GPU, in index order, no separator) every interval. The rows
// are assembled into blocks (smiLoopWriter), keeping the newest complete one; a block is complete when it
// holds "count" rows, when an index repeats (the next block began), at a blank line, or when the process
// exits.
//
// Where pipes can be polled (unix), nothing reads the loop's stdout between ticks: nvidia-smi's rows wait in
// the pipe (64 KiB, dozens of blocks) and Sample reads whatever is there, so that the source's work (a read
// and one parse) happens inside the tick, when the process is awake anyway, instead of waking it once more
// per interval at a moment of nvidia-smi's choosing. A block read then was printed after the previous read
// found the pipe empty: that moment is its time (at), a bound on its age that errs on the old side.
// Elsewhere a goroutine copies stdout into the assembler as it comes, and a block's time is when its last
// line arrived.
//
// Sample returns the newest block if it is at most 2 intervals (+smiStaleSlack) old; otherwise it waits for
// a fresh one until the tick's deadline and then reports "stale" (the collector keeps the GPUs' keys with
// null fields). When the loop process exits (an NVML failure, a crash) its exit error is what Sample returns
// until a new one runs; it is restarted with exponential backoff (min(interval, 1 s) up to 30 s). A loop
// that prints nothing for hungAfter (firstGrace before its first line) is killed with its process group and
// restarted; until it is reaped no other loop is started.
//
// Per-process GPU memory comes from a separate one-shot `--query-compute-apps` call made from Sample every
// appsEvery ticks (at most one in flight; killed with its process group at the tick's deadline; until it is
// reaped the list is reported as unavailable). Close kills both processes and waits (bounded) for the loop's
// supervisor goroutine.
type nvidiaSMI struct {
	path     string
	interval time.Duration

	// Timing, derived from interval by newNvidiaSMI; tests shorten them before the first Sample.
	staleAfter             time.Duration // a block older than this is stale
	hungAfter              time.Duration // a running loop silent this long is killed
	firstGrace             time.Duration // ... before its first line (NVML start-up can take seconds)
	backoffMin, backoffMax time.Duration
	appsEvery              int  // ticks between compute-apps refreshes
	pull                   bool // read the loop's stdout at the ticks (smiPull); tests may clear it

	mu      sync.Mutex
	closed  bool
	started bool
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the supervisor returns
	changed chan struct{} // closed and replaced on every change a waiting Sample may care about

	loop      *exec.Cmd // the loop process, from Start until it is reaped
	pipe      *smiPipe  // its stdout in pull mode, from Start until it is reaped (nil in push mode)
	loopStart time.Time
	lastOut   time.Time // when output from the loop was last seen
	hung      string    // set when the watchdog killed the running loop
	loopErr   error     // why no loop is running (nil while one is)
	latest    *smiBlock

	// The one-shot compute-apps call.
	running   *exec.Cmd // the call in flight, if any
	startedAt time.Time
	ticks     int // Samples that returned GPU data
	appsTick  int // ticks at the last refresh
	appsDone  bool
	apps      []smiApp
	appsErr   error
}

// smiBlock is one complete block of rows from the loop, parsed.
type smiBlock struct {
	gpus map[string]snapshot.GPU
	err  error     // rows that could not be used, and other lines in the block
	at   time.Time // when its last line arrived
}

type smiApp struct {
	uuid string
	p    snapshot.GPUProcess
}

func newNvidiaSMI(path string, interval time.Duration) *nvidiaSMI {
	if interval <= 0 {
		interval = smiDefaultInterval
	}
	hung := max(5*interval, 10*time.Second)
	return &nvidiaSMI{
		path: path, interval: interval,
		staleAfter: 2*interval + smiStaleSlack,
		hungAfter:  hung,
		firstGrace: max(hung, 30*time.Second),
		backoffMin: min(interval, time.Second),
		backoffMax: 30 * time.Second,
		appsEvery:  max(1, int((smiAppsPeriod+interval-1)/interval)),
		pull:       smiPull,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		changed:    make(chan struct{}),
	}
}

// loopArgs are the loop process's arguments.
func (n *nvidiaSMI) loopArgs() []string {
	ms := max(1, (n.interval+time.Millisecond-1)/time.Millisecond)
	return []string{"--query-gpu=" + strings.Join(smiGPUFields, ","), "--format=csv,noheader,nounits",
		"-lms", strconv.FormatInt(int64(ms), 10)}
}

// notify wakes every waiting Sample. n.mu must be held.
func (n *nvidiaSMI) notify() {
	close(n.changed)
	n.changed = make(chan struct{})
}

func (n *nvidiaSMI) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.stop)
	if n.loop != nil {
		killGroup(n.loop)
	}
	if n.pipe != nil {
		n.pipe.kick()
	}
	if n.running != nil {
		killGroup(n.running)
	}
	started := n.started
	n.notify()
	n.mu.Unlock()
	if started {
		// Bounded: a process stuck in the driver (uninterruptible) cannot be reaped, and Close must not hang.
		t := time.NewTimer(2 * time.Second)
		defer t.Stop()
		select {
		case <-n.done:
		case <-t.C:
		}
	}
	return nil
}

func (n *nvidiaSMI) Sample(ctx context.Context) Reading {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, smiNoDeadline)
		defer cancel()
	}
	block, err := n.block(ctx)
	if block == nil {
		return Reading{Err: err}
	}
	if len(block.gpus) == 0 {
		if block.err == nil {
			return Reading{Err: errors.New("nvidia-smi: no GPU rows in output")}
		}
		return Reading{Err: block.err}
	}
	// The block is shared by every Sample that returns it: give this reading its own maps.
	gpus := make(map[string]snapshot.GPU, len(block.gpus))
	for k, g := range block.gpus {
		g.Unavailable = maps.Clone(g.Unavailable)
		gpus[k] = g
	}
	apps, appsErr := n.processes(ctx)
	if appsErr == nil {
		attachSMIProcesses(gpus, apps)
	} else {
		for k, g := range gpus {
			g.Processes = nil
			setUnavailable(&g, GPUFieldProcesses, "error: "+appsErr.Error())
			gpus[k] = g
		}
	}
	return Reading{GPU: gpus, Err: block.err}
}

// block returns the newest block if it is fresh, else waits for one until ctx is done. With no block it
// returns why: the loop's exit error while no loop runs, "stale" at the deadline. In pull mode it first reads
// what the loop printed since the previous tick, and waits by reading the pipe.
func (n *nvidiaSMI) block(ctx context.Context) (*smiBlock, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("nvidia-smi: sampler closed")
	}
	if !n.started {
		n.started = true
		go n.supervise()
	}
	if p := n.pipe; p != nil {
		n.mu.Unlock()
		p.read(time.Time{})
		n.mu.Lock()
	}
	for {
		if b := n.latest; b != nil && n.loopErr == nil && time.Since(b.at) <= n.staleAfter {
			return b, nil
		}
		if n.loopErr != nil {
			return nil, n.loopErr
		}
		if n.closed {
			return nil, errors.New("nvidia-smi: sampler closed")
		}
		if ctx.Err() != nil {
			return nil, n.staleErr(ctx.Err())
		}
		ch, p := n.changed, n.pipe
		n.mu.Unlock()
		deadline, _ := ctx.Deadline()
		if p == nil || !p.read(deadline) {
			// No pipe to read (push mode, or between loops), or it had nothing until the deadline, or it
			// ended: wait for the supervisor's news.
			select {
			case <-ch:
			case <-ctx.Done():
			}
		}
		n.mu.Lock()
	}
}

// staleErr says why there is no fresh block while a loop runs (or is being reaped). n.mu must be held.
func (n *nvidiaSMI) staleErr(cause error) error {
	var what string
	if n.latest == nil {
		what = fmt.Sprintf("no block since the loop started %v ago", time.Since(n.loopStart).Round(time.Millisecond))
	} else {
		what = fmt.Sprintf("newest block is %v old", time.Since(n.latest.at).Round(time.Millisecond))
	}
	if n.hung != "" {
		what += "; " + n.hung
	}
	return fmt.Errorf("nvidia-smi: stale: %s (loop interval %v): %w", what, n.interval, cause)
}

// supervise runs the loop process until Close, restarting it with backoff when it exits.
func (n *nvidiaSMI) supervise() {
	defer close(n.done)
	backoff := n.backoffMin
	for {
		ran := n.runLoop()
		if ran >= n.backoffMax {
			backoff = n.backoffMin // it ran well for a while: this is a new failure, not the same one again
		}
		t := time.NewTimer(backoff)
		select {
		case <-n.stop:
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, n.backoffMax)
	}
}

// runLoop starts one loop process and returns, having recorded why, when it has exited; it returns how long
// the process ran.
func (n *nvidiaSMI) runLoop() time.Duration {
	cmd := exec.Command(n.path, n.loopArgs()...)
	out := &smiLoopWriter{n: n}
	errOut := &smiTextBuf{}
	pr, pw, err := os.Pipe()
	if err != nil {
		n.mu.Lock()
		n.loopErr = fmt.Errorf("nvidia-smi: stdout pipe: %w", err)
		n.notify()
		n.mu.Unlock()
		return 0
	}
	cmd.Stdout, cmd.Stderr = pw, errOut
	cmd.WaitDelay = time.Second // a descendant that escaped the group and holds stderr cannot block Wait
	setProcessGroup(cmd)

	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		_, _ = pr.Close(), pw.Close()
		return 0
	}
	err = cmd.Start()
	_ = pw.Close() // the child has its own copy; ours would keep the pipe from ever reaching EOF
	if err != nil {
		_ = pr.Close()
		n.loopErr = fmt.Errorf("nvidia-smi: %w", err)
		n.notify()
		n.mu.Unlock()
		return 0
	}
	start := time.Now()
	pipe := newSMIPipe(pr, out, start, n.pull)
	n.loop, n.loopStart, n.lastOut, n.hung, n.loopErr = cmd, start, time.Time{}, "", nil
	if pipe.pull {
		n.pipe = pipe
	}
	n.notify()
	n.mu.Unlock()

	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// The watchdog fires at the earliest moment the loop could have been silent for hungAfter (firstGrace
	// before its first line) and looks again; in pull mode it first reads the pipe itself, since between
	// ticks nobody else does. While output flows it fires about once per hungAfter.
	watchdog := time.NewTimer(min(n.firstGrace, n.hungAfter))
	defer watchdog.Stop()
wait:
	for {
		select {
		case err = <-waited:
			break wait
		case <-watchdog.C:
			if pipe.pull {
				pipe.read(time.Time{})
			}
			n.mu.Lock()
			deadline := n.loopStart.Add(n.firstGrace)
			silent := n.firstGrace
			if !n.lastOut.IsZero() {
				deadline, silent = n.lastOut.Add(n.hungAfter), n.hungAfter
			}
			if d := time.Until(deadline); d > 0 {
				watchdog.Reset(d)
			} else if n.hung == "" {
				n.hung = fmt.Sprintf("loop printed nothing for %v: killed with its process group", silent)
				killGroup(cmd)
			}
			n.mu.Unlock()
		}
	}

	n.mu.Lock()
	n.pipe = nil // no tick starts reading a pipe being finished
	n.mu.Unlock()
	pipe.finish() // what the loop printed last, and its exit message, are in the pipe
	n.mu.Lock()
	defer n.mu.Unlock()
	if out.count == 0 || len(out.indices) >= out.count {
		out.flush() // a block ends with the process, unless it is known to be short (killed mid-block)
	}
	out.done = true
	n.loop = nil
	switch _, rerr := smiResult(out.text.bytes(), errOut.bytes(), err); {
	case n.closed:
		n.loopErr = errors.New("nvidia-smi: sampler closed")
	case n.hung != "":
		n.loopErr = errors.New("nvidia-smi: " + n.hung)
	case rerr != nil:
		n.loopErr = rerr
	default:
		n.loopErr = errors.New("nvidia-smi: loop exited with status 0")
	}
	n.notify()
	return time.Since(start)
}

// smiPipe is the read end of a loop process's stdout. In pull mode (smiPull: unix, where pipes are polled)
// it is read only when asked, by Sample at each tick and by the watchdog; otherwise (push mode) a goroutine
// copies it into the assembler as it comes.
type smiPipe struct {
	f      *os.File
	w      *smiLoopWriter
	pull   bool
	copied chan struct{} // push mode: closed when the copying goroutine has returned
	kicked atomic.Bool   // set by kick: a reader waiting for data returns at once

	mu      sync.Mutex // one reader at a time; guards what follows
	buf     []byte
	ended   bool      // EOF, a read error, or closed: nothing more will come
	emptyAt time.Time // when a read last found the pipe empty: anything read later was written after it
}

// smiFinishWait bounds finish: with cmd.WaitDelay (1 s) it keeps a loop's end within Close's 2 s.
const smiFinishWait = 500 * time.Millisecond

// smiPast is a read deadline already passed: kick sets it so that a read waiting for data returns at once.
var smiPast = time.Unix(1, 0)

func newSMIPipe(f *os.File, w *smiLoopWriter, start time.Time, pull bool) *smiPipe {
	p := &smiPipe{f: f, w: w, emptyAt: start, pull: pull}
	if !p.pull {
		p.copied = make(chan struct{})
		go func() {
			defer close(p.copied)
			_, _ = io.Copy(w, f)
		}()
	}
	return p
}

// read (pull mode) hands what the pipe holds to the assembler. With a deadline in the future it waits for
// data until then, returning as soon as some arrives; with a zero or past deadline it only takes what is
// there. It reports whether it read anything. It must be called without n.mu held.
func (p *smiPipe) read(deadline time.Time) (got bool) {
	if p.kicked.Load() { // being finished (or closed): finish may hold p.mu for a while
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf == nil {
		p.buf = make([]byte, 32<<10)
	}
	wait := deadline.After(time.Now())
	for !p.ended && !p.kicked.Load() {
		var nr int
		var err error
		if wait {
			if err = p.f.SetReadDeadline(deadline); err == nil && !p.kicked.Load() { // kick may have set its deadline before ours
				nr, err = p.f.Read(p.buf)
			}
		} else {
			nr, err = smiReadNow(p.f, p.buf)
		}
		if nr > 0 {
			got, wait = true, false
			p.w.writeAt(p.buf[:nr], time.Now(), p.emptyAt)
		}
		switch {
		case err == nil:
		case errors.Is(err, errSMIEmpty), errors.Is(err, os.ErrDeadlineExceeded):
			p.emptyAt = time.Now()
			return got
		default: // io.EOF, or the file was closed
			p.ended = true
		}
	}
	return got
}

// kick makes a read waiting for data return at once (Close: the sampler is going away).
func (p *smiPipe) kick() {
	p.kicked.Store(true)
	_ = p.f.SetReadDeadline(smiPast)
}

// finish takes the rest of the pipe once the process has exited: up to EOF, bounded by smiFinishWait (a
// descendant that escaped the process group may hold the write end open), then closes it.
func (p *smiPipe) finish() {
	if !p.pull {
		select {
		case <-p.copied:
		case <-time.After(smiFinishWait):
		}
		_ = p.f.Close() // a copy still blocked (an escaped descendant) ends with the pipe; its writes are dropped
		return
	}
	p.kick() // a tick waiting for data: the process is gone, let it see that
	p.mu.Lock()
	defer p.mu.Unlock()
	deadline := time.Now().Add(smiFinishWait)
	if p.buf == nil {
		p.buf = make([]byte, 32<<10)
	}
	for !p.ended && p.f.SetReadDeadline(deadline) == nil {
		nr, err := p.f.Read(p.buf)
		if nr > 0 {
			p.w.writeAt(p.buf[:nr], time.Now(), p.emptyAt)
		}
		if err != nil {
			break
		}
	}
	p.ended = true
	_ = p.f.Close()
}

// smiLoopWriter is the loop process's stdout: it splits what nvidia-smi writes into lines and the lines into
// blocks, and publishes each complete block as n.latest. Write and writeAt take n.mu; the other methods run
// with it held.
type smiLoopWriter struct {
	n       *nvidiaSMI
	partial []byte    // a line not yet ended by '\n'
	buf     []byte    // the block being assembled
	indices []int     // GPU indices of its rows
	lastAt  time.Time // the time of its last row (see writeAt)
	count   int       // GPUs per block, from its rows' "count" (0: unknown)
	text    smiTextBuf
	done    bool // the process was reaped; late writes are dropped
}

// Write is push mode's: what the loop wrote, as it arrives.
func (w *smiLoopWriter) Write(p []byte) (int, error) {
	now := time.Now()
	w.writeAt(p, now, now)
	return len(p), nil
}

// writeAt takes output seen at seen; blocks it completes get the time at (in pull mode, when the pipe was
// last seen empty). It takes n.mu.
func (w *smiLoopWriter) writeAt(p []byte, seen, at time.Time) {
	w.n.mu.Lock()
	defer w.n.mu.Unlock()
	if w.done {
		return
	}
	w.n.lastOut = seen
	for data := p; len(data) > 0; {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(w.partial)+len(data) > smiMaxBlock {
				w.partial = w.partial[:0] // a "line" this long is not a row
			}
			w.partial = append(w.partial, data...)
			break
		}
		if len(w.partial) > 0 {
			w.partial = append(w.partial, data[:i]...)
			w.line(w.partial, at)
			w.partial = w.partial[:0]
		} else {
			w.line(data[:i], at)
		}
		data = data[i+1:]
	}
}

func (w *smiLoopWriter) line(l []byte, now time.Time) {
	l = bytes.TrimRight(l, "\r")
	if len(bytes.TrimSpace(l)) == 0 {
		w.flush()
		return
	}
	idx, count, row := smiPeek(l)
	if row {
		for _, seen := range w.indices {
			if seen == idx {
				w.flush() // an index repeats: the next block began
				break
			}
		}
	} else {
		w.text.write(l)
		w.text.write([]byte{'\n'})
	}
	if len(w.buf)+len(l) < smiMaxBlock {
		w.buf = append(w.buf, l...)
		w.buf = append(w.buf, '\n')
	}
	if row {
		w.indices = append(w.indices, idx)
		w.lastAt = now
		if count > 0 && idx < count {
			w.count = count
		} else if count > 0 {
			w.count = 0 // an index beyond "count": do not trust it, wait for an index to repeat
		}
		if w.count > 0 && len(w.indices) >= w.count {
			w.flush()
		}
	}
}

// flush publishes the block assembled so far, if it has a row. Lines without one (a message between blocks)
// stay for the next block's error.
func (w *smiLoopWriter) flush() {
	if len(w.indices) == 0 {
		return
	}
	gpus, err := parseSMIGPUs(w.buf)
	w.n.latest = &smiBlock{gpus: gpus, err: err, at: w.lastAt}
	w.buf, w.indices = w.buf[:0], w.indices[:0]
	w.text = smiTextBuf{}
	w.n.notify()
}

// smiPeek reads a line's first field as a GPU index and its last as "count", without a full parse. A line
// whose first field is not a number is not a row.
func smiPeek(l []byte) (index, count int, ok bool) {
	first, _, found := bytes.Cut(l, []byte(","))
	if !found {
		return 0, 0, false
	}
	index, err := strconv.Atoi(string(bytes.TrimSpace(first)))
	if err != nil || index < 0 {
		return 0, 0, false
	}
	last := l[bytes.LastIndexByte(l, ',')+1:]
	if c, err := strconv.Atoi(string(bytes.TrimSpace(last))); err == nil && c > 0 {
		count = c
	}
	return index, count, true
}

// smiTextBuf keeps the first smiMaxText bytes written to it (stderr, non-row stdout) for an exit message.
type smiTextBuf struct {
	mu sync.Mutex
	b  []byte
}

func (t *smiTextBuf) Write(p []byte) (int, error) {
	t.write(p)
	return len(p), nil
}

func (t *smiTextBuf) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := smiMaxText - len(t.b); room > 0 {
		t.b = append(t.b, p[:min(room, len(p))]...)
	}
}

func (t *smiTextBuf) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.b)
}

// processes returns the compute-process list, refreshing it when it is due (the first tick, then every
// appsEvery ticks). A refresh that could not start because the tick's context was already done is retried
// on the next tick.
func (n *nvidiaSMI) processes(ctx context.Context) ([]smiApp, error) {
	n.mu.Lock()
	n.ticks++
	due := !n.appsDone || n.ticks-n.appsTick >= n.appsEvery
	n.mu.Unlock()
	if due {
		out, err := n.run(ctx, "--query-compute-apps="+strings.Join(smiAppFields, ","), "--format=csv,noheader,nounits")
		var apps []smiApp
		if err == nil {
			apps, err = parseSMIApps(out)
		}
		n.mu.Lock()
		if !errors.Is(err, errSMINotStarted) {
			n.apps, n.appsErr, n.appsTick, n.appsDone = apps, err, n.ticks, true
		}
		n.mu.Unlock()
		if errors.Is(err, errSMINotStarted) {
			return nil, err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.apps, n.appsErr
}

// run executes nvidia-smi once with args in its own process group, returning stdout. A non-zero exit, or an
// NVML initialization failure printed on either stream, is an error carrying nvidia-smi's own words.
func (n *nvidiaSMI) run(ctx context.Context, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", errSMINotStarted, err)
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, errors.New("nvidia-smi: sampler closed")
	}
	if n.running != nil {
		since := time.Since(n.startedAt).Round(time.Millisecond)
		n.mu.Unlock()
		return nil, fmt.Errorf("nvidia-smi: previous call still running after %v (killed, not yet exited); not starting another", since)
	}
	cmd := exec.Command(n.path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // a descendant that escaped the group and holds the pipes cannot block Wait
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		return nil, fmt.Errorf("nvidia-smi: %w", err)
	}
	n.running, n.startedAt = cmd, time.Now()
	n.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.running = nil
		n.mu.Unlock()
		done <- err
	}()
	select {
	case err := <-done:
		return smiResult(stdout.Bytes(), stderr.Bytes(), err)
	case <-ctx.Done():
		killGroup(cmd)
		return nil, fmt.Errorf("nvidia-smi: killed at the tick's deadline after %v: %w",
			time.Since(n.startedAt).Round(time.Millisecond), ctx.Err())
	}
}

func smiResult(stdout, stderr []byte, err error) ([]byte, error) {
	msg := func() string {
		s := strings.TrimSpace(string(stderr))
		if s == "" {
			s = strings.TrimSpace(string(stdout))
		}
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		return s
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("nvidia-smi: exit %d: %s", ee.ExitCode(), msg())
		}
		return nil, fmt.Errorf("nvidia-smi: %w", err)
	}
	for _, b := range [][]byte{stderr, stdout} {
		if i := bytes.Index(b, []byte("Failed to initialize NVML")); i >= 0 {
			line := b[i:]
			if j := bytes.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			return nil, fmt.Errorf("nvidia-smi: %s", strings.TrimSpace(string(line)))
		}
	}
	return stdout, nil
}

// parseSMIGPUs parses `--query-gpu=<smiGPUFields> --format=csv,noheader,nounits` output. A row it cannot
// use (wrong column count, no index, a message such as "GPU has fallen off the bus") is skipped and named in
// the error; the other rows are kept.
func parseSMIGPUs(out []byte) (map[string]snapshot.GPU, error) {
	r := csv.NewReader(bytes.NewReader(out))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	gpus := map[string]snapshot.GPU{}
	var errs []error
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("nvidia-smi: line %d: %w", line, err))
			continue
		}
		if len(rec) != len(smiGPUFields) {
			errs = append(errs, fmt.Errorf("nvidia-smi: line %d: %d columns, want %d: %.120q",
				line, len(rec), len(smiGPUFields), strings.Join(rec, ", ")))
			continue
		}
		idx, err := strconv.Atoi(strings.TrimSpace(rec[smiIndex]))
		if err != nil {
			errs = append(errs, fmt.Errorf("nvidia-smi: line %d: index %q", line, rec[smiIndex]))
			continue
		}
		g := snapshot.GPU{Index: idx, UUID: smiText(rec[smiUUID]), Name: smiText(rec[smiName])}
		g.Utilization = smiNumber(&g, GPUFieldUtilization, rec[smiUtil])
		g.MemoryUtilizationPercent = smiNumber(&g, GPUFieldMemoryUtilization, rec[smiMemUtil])
		g.MemoryTotalMB = smiNumber(&g, GPUFieldMemoryTotalMB, rec[smiMemTotal])
		g.MemoryUsedMB = smiNumber(&g, GPUFieldMemoryUsedMB, rec[smiMemUsed])
		g.MemoryFreeMB = smiNumber(&g, GPUFieldMemoryFreeMB, rec[smiMemFree])
		g.TempC = smiNumber(&g, GPUFieldTempC, rec[smiTemp])
		g.PowerW = smiNumber(&g, GPUFieldPowerW, rec[smiPower])
		g.SMClockMHz = smiNumber(&g, GPUFieldSMClockMHz, rec[smiSMClock])
		g.MemoryClockMHz = smiNumber(&g, GPUFieldMemoryClockMHz, rec[smiMemClock])
		if reason, ok := smiPlaceholder(rec[smiThrottle]); ok {
			setUnavailable(&g, GPUFieldThrottleReasons, reason)
		} else if mask, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(rec[smiThrottle]), "0x"), "0X"), 16, 64); err != nil {
			setUnavailable(&g, GPUFieldThrottleReasons, "unparsable: "+strings.TrimSpace(rec[smiThrottle]))
		} else {
			g.ThrottleReasons = GPUThrottleReasons(mask)
		}
		setUnavailable(&g, GPUFieldEnergyJ, GPUReasonNotReported) // nvidia-smi has no energy counter
		gpus[GPUKey("", idx)] = g
	}
	return gpus, errors.Join(errs...)
}

// parseSMIApps parses `--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits` output.
// A bad row is named in the error; the others are kept.
func parseSMIApps(out []byte) ([]smiApp, error) {
	apps := []smiApp{}
	text := strings.TrimSpace(string(out))
	if text == "" || strings.HasPrefix(text, "No running") {
		return apps, nil
	}
	r := csv.NewReader(strings.NewReader(text))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var errs []error
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(rec) != len(smiAppFields) {
			errs = append(errs, fmt.Errorf("nvidia-smi compute-apps: bad row %q", strings.Join(rec, ", ")))
			continue
		}
		pid, err := strconv.ParseUint(strings.TrimSpace(rec[1]), 10, 32)
		if err != nil {
			errs = append(errs, fmt.Errorf("nvidia-smi compute-apps: pid %q", rec[1]))
			continue
		}
		var scratch snapshot.GPU
		apps = append(apps, smiApp{uuid: strings.TrimSpace(rec[0]),
			p: snapshot.GPUProcess{PID: uint32(pid), UsedMemoryMB: smiNumber(&scratch, "", rec[2])}})
	}
	return apps, errors.Join(errs...)
}

// attachSMIProcesses adds the compute processes to the GPUs they belong to (matched by UUID), each GPU in a
// list of its own. Every GPU gets a non-nil list: no rows means no processes.
func attachSMIProcesses(gpus map[string]snapshot.GPU, apps []smiApp) {
	byUUID := make(map[string]string, len(gpus))
	for k, g := range gpus {
		byUUID[g.UUID] = k
		g.Processes = []snapshot.GPUProcess{}
		gpus[k] = g
	}
	for _, a := range apps {
		k, ok := byUUID[a.uuid]
		if !ok {
			continue
		}
		g := gpus[k]
		g.Processes = append(g.Processes, a.p)
		gpus[k] = g
	}
}

// smiPlaceholder reports whether an nvidia-smi value is a placeholder rather than data, and why:
// "[N/A]" → "n/a", "[Not Supported]" → "not_supported", "[Unknown Error]" → "unknown_error", any other
// bracketed text → its words in snake case; a bare "N/A" or an empty cell → "n/a".
func smiPlaceholder(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "N/A") {
		return "n/a", true
	}
	if !strings.HasPrefix(v, "[") || !strings.HasSuffix(v, "]") {
		return "", false
	}
	inner := strings.TrimSpace(v[1 : len(v)-1])
	if strings.EqualFold(inner, "N/A") {
		return "n/a", true
	}
	inner = strings.ToLower(inner)
	inner = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, inner)
	return inner, true
}

// smiNumber parses one numeric cell. A placeholder or unparsable cell gives nil with the reason recorded
// under field. A unit suffix (present without "nounits") is dropped.
func smiNumber(g *snapshot.GPU, field, v string) *float64 {
	if reason, ok := smiPlaceholder(v); ok {
		if field != "" {
			setUnavailable(g, field, reason)
		}
		return nil
	}
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ' '); i > 0 { // "627.40 W", "32362 MiB", "100 %"
		v = v[:i]
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) { // "NaN", "Inf" and 1e999 parse, but are no reading
		if field != "" {
			setUnavailable(g, field, "unparsable: "+v)
		}
		return nil
	}
	return snapshot.F(f)
}

func smiText(v string) string {
	if _, ok := smiPlaceholder(v); ok {
		return ""
	}
	return strings.TrimSpace(v)
}
