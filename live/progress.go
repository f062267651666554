// Package live shows a run while it goes: its progress against a goal (a duration, a number of requests or
// steps, or both) with elapsed and remaining time, as a bar that keeps itself up to date on a terminal
// (StartBar), and frames of text that replace each other in place on a terminal (Screen).
package live

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Goal is how much work a run does: at most Duration, at most Count units, or, with both, whichever bound it
// reaches first (as `vmtest load -duration D -requests N` stops). The zero Goal has no bound.
type Goal struct {
	// Duration bounds the run's length; 0: no time bound.
	Duration time.Duration
	// Count bounds the units of work (requests, sweep points); 0: no count bound.
	Count int
	// Unit names what Count counts, plural ("requests"); "" reads "done".
	Unit string
}

// Bounded reports whether g has a duration or a count bound.
func (g Goal) Bounded() bool { return g.Duration > 0 || g.Count > 0 }

// Progress is where a run stands against its Goal.
type Progress struct {
	Goal Goal
	// Elapsed is the time since the run started.
	Elapsed time.Duration
	// Done is the units of work done so far (what Goal.Count counts).
	Done int
}

// Fraction is the share of the goal done, 0 to 1: Elapsed/Duration or Done/Count, the larger where both
// bound the run (it ends at whichever it reaches first); ok is false when the goal has no bound.
func (p Progress) Fraction() (f float64, ok bool) {
	if p.Goal.Duration > 0 {
		f, ok = float64(p.Elapsed)/float64(p.Goal.Duration), true
	}
	if p.Goal.Count > 0 {
		f, ok = max(f, float64(p.Done)/float64(p.Goal.Count)), true
	}
	return min(max(f, 0), 1), ok
}

// Remaining is the time left: Duration − Elapsed under a time bound; under a count bound, the time the
// units left take at the pace so far (Elapsed / Done each; unknown before the first is done); with both, the
// sooner. ok is false when it is unknown.
func (p Progress) Remaining() (d time.Duration, ok bool) {
	if p.Goal.Duration > 0 {
		d, ok = max(p.Goal.Duration-p.Elapsed, 0), true
	}
	if n := p.Goal.Count; n > 0 && p.Done > 0 {
		byCount := time.Duration(float64(p.Elapsed) / float64(p.Done) * float64(max(n-p.Done, 0)))
		if !ok || byCount < d {
			d, ok = byCount, true
		}
	}
	return d, ok
}

// String says where the run stands in one line: "16/40 requests · elapsed 0:12 · remaining 0:18"; the
// count part only under a count bound, "remaining ?" while it is unknown.
func (p Progress) String() string {
	var parts []string
	if p.Goal.Count > 0 {
		unit := p.Goal.Unit
		if unit == "" {
			unit = "done"
		}
		parts = append(parts, fmt.Sprintf("%d/%d %s", p.Done, p.Goal.Count, unit))
	}
	parts = append(parts, "elapsed "+Clock(p.Elapsed))
	if p.Goal.Bounded() {
		if d, ok := p.Remaining(); ok {
			parts = append(parts, "remaining "+Clock(d))
		} else {
			parts = append(parts, "remaining ?")
		}
	}
	return strings.Join(parts, " · ")
}

// Clock formats d, rounded to the nearest second (so an elapsed and a remaining time add up to the goal), as
// m:ss, or h:mm:ss from an hour.
func Clock(d time.Duration) string {
	s := int64(max(d, 0).Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// barSteps is the bar's resolution: a fraction is drawn in thousandths.
const barSteps = 1000

// barOptions are the options of every bar drawn here: width columns, our own elapsed and remaining time (the
// library's are off), the library's percentage.
func barOptions(w io.Writer, width int) []progressbar.Option {
	return []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(width),
		progressbar.OptionSetElapsedTime(false), progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetRenderBlankState(false), progressbar.OptionThrottle(0)}
}

// BarText draws fraction (0 to 1) as a bar width columns wide after its percentage, as StartBar draws it
// ("  40% |████      |"), for a frame of text.
func BarText(fraction float64, width int) string {
	b := progressbar.NewOptions(barSteps, barOptions(io.Discard, width)...)
	if n := int(min(max(fraction, 0), 1) * barSteps); n > 0 {
		_ = b.Set(n)
	} else {
		_ = b.RenderBlank()
	}
	return strings.TrimRight(strings.TrimPrefix(b.String(), "\r"), " ")
}
