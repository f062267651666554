package summary

import (
	"fmt"

	"github.com/vmtest/vmtest/recorder"
)

// energyNote is the caveat beside EnergyPerOutputTokenJ (energy J over the server's gen tokens) when the
// server restarted in the window: the figure may be too high, and what it is over the client's output tokens
// (measured and warm-up); rt is the restart text (serverstats.Stats.RestartText); "" when it did not restart
// or the figure is unknown.
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
