package live

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// BarRefresh is how often a Bar redraws itself.
const BarRefresh = 250 * time.Millisecond

// BarWidth is the width of the bar itself in columns, without its percentage and text.
const BarWidth = 30

// Bar is a progress bar that keeps itself up to date on a terminal while work goes on: its percentage, the
// bar, a label and Progress.String ("load: 16/40 requests · elapsed 0:12 · remaining 0:18"). Make it with
// StartBar, end it with Stop.
type Bar struct {
	bar   *progressbar.ProgressBar // nil: nothing is drawn
	w     io.Writer
	label string
	goal  Goal
	done  func() int
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once

	mu      sync.Mutex // one drawing at a time: the bar's own and Beside's writes
	stopped bool
}

// StartBar starts a bar on w, redrawn every BarRefresh from done (the units of work done so far, what
// goal.Count counts; nil when the goal counts nothing) and the time since StartBar was called. It draws
// nothing, and costs nothing, when w is not a terminal (IsTerminal) or goal has no bound: a log or a CI
// job's output gets no bar.
func StartBar(w io.Writer, label string, goal Goal, done func() int) *Bar {
	return startBar(w, IsTerminal(w), label, goal, done)
}

// startBar is StartBar on w, a terminal or not as terminal says.
func startBar(w io.Writer, terminal bool, label string, goal Goal, done func() int) *Bar {
	b := &Bar{w: w, label: label, goal: goal, done: done, start: time.Now(), stop: make(chan struct{})}
	if !terminal || !goal.Bounded() {
		return b
	}
	b.bar = progressbar.NewOptions(barSteps, append(barOptions(w, BarWidth), progressbar.OptionShowDescriptionAtLineEnd())...)
	b.update()
	b.wg.Add(1)
	go b.run()
	return b
}

func (b *Bar) run() {
	defer b.wg.Done()
	t := time.NewTicker(BarRefresh)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			b.update()
			b.mu.Unlock()
		}
	}
}

// update draws the bar as it stands now.
func (b *Bar) update() {
	p := Progress{Goal: b.goal, Elapsed: time.Since(b.start)}
	if b.done != nil {
		p.Done = b.done()
	}
	f, _ := p.Fraction()
	b.bar.Describe(b.label + ": " + p.String())
	if n := int(f * barSteps); n > 0 {
		_ = b.bar.Set(n)
	} else {
		_ = b.bar.RenderBlank()
	}
}

// Stop draws the bar a last time, as the work left it (not filled when it stopped short), and ends its line,
// so what is written next starts on a line of its own. Later calls do nothing. Safe on a bar that draws
// nothing.
func (b *Bar) Stop() {
	b.once.Do(func() {
		if b.bar == nil {
			return
		}
		close(b.stop)
		b.wg.Wait()
		b.mu.Lock()
		defer b.mu.Unlock()
		b.update()
		_ = b.bar.Exit()
		_, _ = io.WriteString(b.w, "\n")
		b.stopped = true
	})
}

// Beside returns a writer for text shown on the same terminal while the bar is up (a log, on stdout or
// stderr): each write clears the bar's line, writes to w, and draws the bar again below it, so that text and
// bar never share a line. Write whole lines. On a bar that draws nothing, and after Stop, it is w.
func (b *Bar) Beside(w io.Writer) io.Writer {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil || b.stopped {
		return w
	}
	return besideBar{b: b, w: w}
}

type besideBar struct {
	b *Bar
	w io.Writer
}

func (x besideBar) Write(p []byte) (int, error) {
	x.b.mu.Lock()
	defer x.b.mu.Unlock()
	if x.b.stopped {
		return x.w.Write(p)
	}
	_ = x.b.bar.Clear()
	n, err := x.w.Write(p)
	x.b.update()
	return n, err
}
