package vmtest

import (
	"fmt"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
)

// StormMinRequests is the least number of requests rejected (or failed) over consecutive sampling intervals
// that makes a storm, reported as one event with its start, end and count; fewer are left to the request
// counts alone.
const StormMinRequests = 10

// maxStormEvents bounds the storm events of one run; later storms are in the request counts only.
const maxStormEvents = 100

// storm is one kind of request trouble followed over the ticks: a run of consecutive sampling intervals in
// each of which at least one request of that kind was recorded.
type storm struct {
	what       string // "rejected (HTTP 429/503)", "failed"
	start, end time.Time
	count      int
}

// storms follows rejections and failures from one tick's request counts to the next.
type storms struct {
	prevAt  time.Time
	prev    recorder.Counts
	open    [2]*storm
	emitted int
}

// observe takes the request counts recorded by now and returns the events of the storms that ended: a storm
// ends with the first interval without a request of its kind, or at the last tick (final). The first call
// only sets the base.
func (s *storms) observe(now time.Time, c recorder.Counts, final bool) []snapshot.Event {
	if s.prevAt.IsZero() {
		s.prevAt, s.prev = now, c
		return nil
	}
	var out []snapshot.Event
	for i, d := range [2]struct {
		what string
		n    int
	}{{"rejected (HTTP 429/503)", c.Rejected - s.prev.Rejected}, {"failed", c.Failed - s.prev.Failed}} {
		st := s.open[i]
		if d.n > 0 {
			if st == nil {
				st = &storm{what: d.what, start: s.prevAt}
				s.open[i] = st
			}
			st.end, st.count = now, st.count+d.n
		}
		if st != nil && (d.n <= 0 || final) {
			s.open[i] = nil
			if e, ok := s.event(st); ok {
				out = append(out, e)
			}
		}
	}
	s.prevAt, s.prev = now, c
	return out
}

// event returns st as an event when it is a storm (StormMinRequests or more) and the bound allows.
func (s *storms) event(st *storm) (snapshot.Event, bool) {
	if st.count < StormMinRequests || s.emitted >= maxStormEvents {
		return snapshot.Event{}, false
	}
	s.emitted++
	end := st.end
	d := st.end.Sub(st.start)
	return snapshot.Event{Time: st.start, End: &end, Count: st.count, Source: "requests",
		Message: fmt.Sprintf("storm: %d requests %s in %.1f s (%.1f/s), between %s and %s", st.count, st.what,
			d.Seconds(), float64(st.count)/max(d.Seconds(), 1e-9), st.start.Format("15:04:05.000"), st.end.Format("15:04:05.000"))}, true
}
