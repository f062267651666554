package serverstats

import (
	"fmt"
	"strings"
	"time"
)

// RestartText says how many times the server restarted in the window (Restarts) and when each was seen
// (RestartTimes, s since start, to 0.1 s; left out when start is zero), with what a restart does to its
// counters; "" when it did not restart. CrossCheck adds it to the count differences it reports; summary to
// the J/token caveat.
func (s *Stats) RestartText(start time.Time) string {
	if s == nil || s.Restarts == 0 {
		return ""
	}
	var at []string
	for _, t := range s.RestartTimes {
		if start.IsZero() {
			break
		}
		at = append(at, fmt.Sprintf("%.1f s", t.Sub(start).Seconds()))
	}
	when := ""
	if len(at) > 0 {
		when = " (seen at " + strings.Join(at, ", ")
		if len(at) < s.Restarts {
			when += fmt.Sprintf(", the first %d of them", len(at))
		}
		when += ")"
	}
	times := "once"
	if s.Restarts > 1 {
		times = fmt.Sprintf("%d times", s.Restarts)
	}
	return fmt.Sprintf("the server restarted %s in the window%s: what it generated between its last scrape and each restart is in none of its counters", times, when)
}
