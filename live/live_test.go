package live

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/vmtest/vmtest/internal/testio"
)

// Fraction and Remaining by hand: 16 of 40 requests in 12 s is 40 % done and 24 left at 0.75 s each, 18 s;
// a time bound alone is linear; with both the run ends at whichever bound comes first.
func TestProgressByHand(t *testing.T) {
	p := Progress{Goal: Goal{Count: 40, Unit: "requests"}, Elapsed: 12 * time.Second, Done: 16}
	f, ok := p.Fraction()
	assert.True(t, ok)
	assert.InDelta(t, 0.4, f, 1e-12)
	d, ok := p.Remaining()
	assert.True(t, ok)
	assert.Equal(t, 18*time.Second, d)
	assert.Equal(t, "16/40 requests · elapsed 0:12 · remaining 0:18", p.String())

	p = Progress{Goal: Goal{Duration: time.Minute}, Elapsed: 15 * time.Second}
	f, _ = p.Fraction()
	d, _ = p.Remaining()
	assert.InDelta(t, 0.25, f, 1e-12)
	assert.Equal(t, 45*time.Second, d)
	assert.Equal(t, "elapsed 0:15 · remaining 0:45", p.String())

	// 30 of 40 requests in 15 s of a 60 s bound: the count ends it first (5 s left, 75 %).
	p = Progress{Goal: Goal{Duration: time.Minute, Count: 40}, Elapsed: 15 * time.Second, Done: 30}
	f, _ = p.Fraction()
	d, _ = p.Remaining()
	assert.InDelta(t, 0.75, f, 1e-12)
	assert.Equal(t, 5*time.Second, d)
	assert.Equal(t, "30/40 done · elapsed 0:15 · remaining 0:05", p.String())

	// Nothing done yet under a count bound: the time left is unknown, not 0 or infinite.
	p = Progress{Goal: Goal{Count: 10, Unit: "points"}, Elapsed: 3 * time.Second}
	_, ok = p.Remaining()
	assert.False(t, ok)
	assert.Equal(t, "0/10 points · elapsed 0:03 · remaining ?", p.String())

	// Past the goal: capped at 100 % and 0 left.
	p = Progress{Goal: Goal{Duration: time.Second}, Elapsed: 3 * time.Second}
	f, _ = p.Fraction()
	d, _ = p.Remaining()
	assert.Equal(t, 1.0, f)
	assert.Equal(t, time.Duration(0), d)

	_, ok = Progress{Elapsed: time.Second}.Fraction()
	assert.False(t, ok, "no bound, no fraction")
	assert.Equal(t, "elapsed 0:01", Progress{Elapsed: time.Second}.String())
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 59499 * time.Millisecond: "0:59", 59500 * time.Millisecond: "1:00", 61 * time.Second: "1:01",
		3723 * time.Second: "1:02:03", -time.Second: "0:00"} {
		assert.Equal(t, want, Clock(d), "%v", d)
	}
}

// The bar is the library's: its percentage, then 10 cells of which 4 are filled at 40 %.
func TestBarText(t *testing.T) {
	assert.Equal(t, "  40% |████      |", BarText(0.4, 10))
	assert.Equal(t, "   0% |          |", BarText(0, 10))
	assert.Equal(t, " 100% |██████████|", BarText(1.7, 10))
}

// On a terminal a frame goes back up over the previous one, erasing each line's rest and what is below;
// lines are cut to the width. A print outside goes where the frame was, and the frame is drawn again below
// it, where the next one redraws it; after Release the frame stays. Elsewhere frames follow each other as is.
func TestScreenRedrawsInPlace(t *testing.T) {
	var b bytes.Buffer
	s := &Screen{w: &b, terminal: true, cols: 5}
	s.Draw([]string{"ab", "cdefgh"})
	assert.Equal(t, "ab\x1b[K\ncdefg\x1b[K\n\x1b[J", b.String())
	b.Reset()
	s.Draw([]string{"x"})
	assert.Equal(t, "\x1b[2Fx\x1b[K\n\x1b[J", b.String())
	b.Reset()
	s.Outside(func() { b.WriteString("log line\n") })
	assert.Equal(t, "\x1b[1F\x1b[J"+"log line\n"+"x\x1b[K\n\x1b[J", b.String(),
		"the frame taken off, the line printed where it was, the frame drawn again below it")
	b.Reset()
	s.Draw([]string{"y", "z"})
	assert.Equal(t, "\x1b[1Fy\x1b[K\nz\x1b[K\n\x1b[J", b.String(), "the next frame redraws the one below the line, in place")
	b.Reset()
	s.Release()
	s.Outside(func() { b.WriteString("after\n") })
	assert.Equal(t, "after\n", b.String(), "a released frame stays; what follows goes below it")
	b.Reset()
	s.Draw([]string{"new"})
	assert.Equal(t, "new\x1b[K\n\x1b[J", b.String(), "a frame after Release starts below")

	b.Reset()
	plain := NewScreen(&b)
	assert.False(t, plain.Terminal(), "a buffer is not a terminal")
	plain.Draw([]string{"one"})
	plain.Draw([]string{"two"})
	assert.Equal(t, "one\ntwo\n", b.String())
}

func TestCutCountsRunes(t *testing.T) {
	assert.Equal(t, "40°C", cut("40°C power", 4))
	assert.Equal(t, "short", cut("short", 10))
	assert.Equal(t, "any", cut("any", 0))
}

// Off a terminal a bar draws nothing and Stop is safe, twice.
func TestBarOffTerminalDrawsNothing(t *testing.T) {
	var b bytes.Buffer
	bar := StartBar(&b, "load", Goal{Count: 3}, func() int { return 1 })
	bar.Stop()
	bar.Stop()
	assert.Empty(t, b.String())
}

// On a terminal the bar redraws itself every BarRefresh from the clock and done, and Stop leaves it as the
// work left it: 5 s into a 10 s goal is 50 %, 5 s left; stopped short of the goal (10 of 100 requests at
// 5.125 s: 4.875 s left by the clock, 46 s at that pace; each rounded to 5 s), it is not filled.
func TestBarRedrawsFromTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b testio.SyncBuffer
		n := 0
		bar := startBar(&b, true, "load", Goal{Duration: 10 * time.Second, Count: 100, Unit: "requests"}, func() int { return n })
		time.Sleep(5*time.Second + BarRefresh/2)
		synctest.Wait()
		assert.Contains(t, b.String(), "  50% |"+strings.Repeat("█", 15)+strings.Repeat(" ", 15)+"|  load: 0/100 requests · elapsed 0:05 · remaining 0:05")
		n = 10
		bar.Stop()
		out := b.String()
		assert.True(t, strings.HasSuffix(out, "|  load: 10/100 requests · elapsed 0:05 · remaining 0:05 \n"), "%q", out[max(len(out)-120, 0):])
		assert.Equal(t, 1, strings.Count(out, "\n"), "one line, redrawn with carriage returns, ended by Stop")
		// A redraw per BarRefresh, the first and the last; each draws twice (the library's Set and Describe).
		assert.Equal(t, 2*(5*int(time.Second/BarRefresh)+2), strings.Count(out, "load:"))
	})
}

// Text written through Beside while the bar is up lands on lines of its own: on a terminal (each '\r' back to
// the line's start, each character over what was there) no line holds both the bar and a log line, the log
// lines keep their order, and the bar is drawn again below them. Written straight to the terminal instead,
// a log line would continue the bar's line.
func TestBarBesideKeepsLinesApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b testio.SyncBuffer
		n := 0
		bar := startBar(&b, true, "sweep", Goal{Count: 4, Unit: "steps"}, func() int { return n })
		log := bar.Beside(&b)
		for i := range 3 {
			time.Sleep(BarRefresh)
			synctest.Wait()
			n = i + 1
			_, _ = io.WriteString(log, "step "+strconv.Itoa(i)+" done\n")
		}
		bar.Stop()
		assert.Same(t, &b, bar.Beside(&b).(*testio.SyncBuffer), "after Stop, Beside is the writer itself")
		screen := renderTerminal(b.String())
		var logs []string
		for _, l := range screen {
			hasBar, hasLog := strings.Contains(l, "sweep:"), strings.Contains(l, "done")
			assert.False(t, hasBar && hasLog, "a line with both: %q", l)
			if hasLog {
				logs = append(logs, strings.TrimSpace(l))
			}
		}
		assert.Equal(t, []string{"step 0 done", "step 1 done", "step 2 done"}, logs)
		assert.Contains(t, screen[len(screen)-2], "sweep: 3/4 steps", "the bar below the log, as Stop left it")
	})
}

// renderTerminal returns the lines a terminal shows after out: '\r' goes back to the line's start, '\n' to a
// new line, and every other byte (escape sequences aside, which the bar does not use) is written over what
// is there.
func renderTerminal(out string) []string {
	lines := [][]rune{{}}
	col := 0
	for _, r := range out {
		cur := &lines[len(lines)-1]
		switch r {
		case '\r':
			col = 0
		case '\n':
			lines, col = append(lines, []rune{}), 0
		default:
			if col < len(*cur) {
				(*cur)[col] = r
			} else {
				*cur = append(*cur, r)
			}
			col++
		}
	}
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = string(l)
	}
	return s
}
