package live

import (
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/term"
)

// ANSI control sequences (ECMA-48) a Screen draws with.
const (
	eraseLineRight = "\x1b[K" // erase from the cursor to the end of the line
	eraseBelow     = "\x1b[J" // erase from the cursor to the end of the screen
)

// cursorUp moves the cursor n lines up, to the start of the line (ECMA-48 CPL).
func cursorUp(n int) string { return "\x1b[" + itoa(n) + "F" }

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// IsTerminal reports whether w is a terminal: an *os.File on one, or a writer in front of one that gives its
// file descriptor through an Fd() uintptr method, as *os.File does.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// width returns w's terminal width in columns; 0 when w is not a terminal or does not say.
func width(w io.Writer) int {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// Screen shows successive frames of text on one writer. On a terminal each frame replaces the previous one in
// place, every line cut to the terminal's width so that none wraps (a wrapped line would leave the frame
// taller than the lines it was drawn from); elsewhere each frame is written after the previous one, as is.
// Safe for concurrent use.
type Screen struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	cols     int      // the terminal's width when the screen was made; 0: no cut
	shown    int      // lines of the previous frame still on the terminal
	frame    []string // that frame's lines, as drawn (cut), for Resume
	released bool     // Release was called: the frame on the terminal stays, and Pause leaves it
}

// NewScreen returns a Screen on w, which is a terminal when it is an *os.File on one (IsTerminal).
func NewScreen(w io.Writer) *Screen {
	return &Screen{w: w, terminal: IsTerminal(w), cols: width(w)}
}

// Terminal reports whether the screen redraws in place.
func (s *Screen) Terminal() bool { return s.terminal }

// Draw shows lines (without their newlines) as the next frame.
func (s *Screen) Draw(lines []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = false
	if !s.terminal {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		_, _ = io.WriteString(s.w, b.String())
		return
	}
	s.frame = s.frame[:0]
	for _, l := range lines {
		s.frame = append(s.frame, cut(l, s.cols))
	}
	s.draw()
}

// draw writes s.frame over the frame on the terminal; s.mu is held.
func (s *Screen) draw() {
	var b strings.Builder
	if s.shown > 0 {
		b.WriteString(cursorUp(s.shown))
	}
	for _, l := range s.frame {
		b.WriteString(l)
		b.WriteString(eraseLineRight)
		b.WriteByte('\n')
	}
	b.WriteString(eraseBelow)
	s.shown = len(s.frame)
	_, _ = io.WriteString(s.w, b.String())
}

// Outside runs print, which writes something else to the terminal (through any writer, ending with a
// newline), between frames: Pause, print, Resume. What print writes stays above the frame, which is drawn
// again below it and redrawn there in place from then on. print must not call Draw, Outside or Pause.
func (s *Screen) Outside(print func()) {
	s.Pause()
	defer s.Resume()
	print()
}

// Pause takes the frame off the terminal (the cursor goes back to its first line, and it is erased) and
// holds the screen until Resume: no frame is drawn meanwhile, so what is written to the terminal then lands
// where the frame was. After Release, and off a terminal, it only holds the screen.
func (s *Screen) Pause() {
	s.mu.Lock()
	if s.terminal && !s.released && s.shown > 0 {
		_, _ = io.WriteString(s.w, cursorUp(s.shown)+eraseBelow)
		s.shown = 0
	}
}

// Resume draws the frame Pause took off again, below what was written meanwhile, and releases the screen
// to the next Draw.
func (s *Screen) Resume() {
	defer s.mu.Unlock()
	if s.terminal && !s.released && s.shown == 0 && len(s.frame) > 0 {
		s.draw()
	}
}

// Release leaves the frame on the terminal as it is, for good: what is written after it goes below it, and
// Pause no longer takes it off. The next Draw starts a new frame below.
func (s *Screen) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released, s.shown = true, 0
}

// cut returns l cut to cols runes (all of l when cols ≤ 0); every rune a dashboard draws takes one column.
func cut(l string, cols int) string {
	if cols <= 0 || utf8.RuneCountInString(l) <= cols {
		return l
	}
	i, n := 0, 0
	for i = range l {
		if n == cols {
			break
		}
		n++
	}
	return l[:i]
}
