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
	cols     int // the terminal's width when the screen was made; 0: no cut
	shown    int // lines of the previous frame still on the terminal
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
	var b strings.Builder
	if s.terminal && s.shown > 0 {
		b.WriteString(cursorUp(s.shown))
	}
	for _, l := range lines {
		if s.terminal {
			b.WriteString(cut(l, s.cols))
			b.WriteString(eraseLineRight)
		} else {
			b.WriteString(l)
		}
		b.WriteByte('\n')
	}
	if s.terminal {
		b.WriteString(eraseBelow)
		s.shown = len(lines)
	}
	_, _ = io.WriteString(s.w, b.String())
}

// Outside runs print, which writes something else to the terminal (through any writer), with no frame drawn
// meanwhile; the frame on screen stays as it is, and the next is drawn below what print wrote, not over it.
// print must not call Draw or Outside.
func (s *Screen) Outside(print func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shown = 0
	print()
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
