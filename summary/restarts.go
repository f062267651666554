package summary

import (
	"fmt"
	"strings"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
)

// restartText says how many times the server restarted in the window (serverstats.Stats.Restarts) and when
// each was seen (Stats.RestartTimes, s since start), with what a restart does to its counters; "" when it did
// not restart.
func restartText(server *serverstats.Stats, start time.Time) string {
	if server == nil || server.Restarts == 0 {
		return ""
	}
	var at []string
	for _, t := range server.RestartTimes {
		at = append(at, fmt.Sprintf("%.1f s", t.Sub(start).Seconds()))
	}
	when := ""
	if len(at) > 0 {
		when = " (seen at " + strings.Join(at, ", ")
		if len(at) < server.Restarts {
			when += fmt.Sprintf(", the first %d of them", len(at))
		}
		when += ")"
	}
	times := "once"
	if server.Restarts > 1 {
		times = fmt.Sprintf("%d times", server.Restarts)
	}
	return fmt.Sprintf("the server restarted %s in the window%s: what it generated between its last scrape and each restart is in none of its counters", times, when)
}

// withRestarts appends the restart text rt to each cross-check warning of counts that differ ("differ by"),
// the ones a restart makes the server's side fall short in.
func withRestarts(warnings []string, rt string) []string {
	if rt == "" {
		return warnings
	}
	for i, w := range warnings {
		if strings.Contains(w, " differ by ") {
			warnings[i] = w + "; and " + rt
		}
	}
	return warnings
}

// energyNote is the caveat beside EnergyPerOutputTokenJ (energy J over the server's gen tokens) when the
// server restarted in the window: the figure may be too high, and what it is over the client's output tokens
// (measured and warm-up); "" when it did not restart or the figure is unknown.
func energyNote(perToken *float64, rt string, energy, gen float64, reqs recorder.Summary) string {
	if perToken == nil || rt == "" {
		return ""
	}
	note := fmt.Sprintf("%s, so %.0f J over the server's %.0f generation tokens may be too high", rt, energy, gen)
	if client := reqs.OutputTokens + reqs.Warmup.OutputTokens; client > 0 {
		note += fmt.Sprintf("; over the client's %d output tokens it is %.4f J", client, energy/float64(client))
	}
	return note
}
