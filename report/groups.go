package report

import (
	"fmt"
	"slices"

	"github.com/vmtest/vmtest/recorder"
)

// groupLines formats the per-model and per-turn figures of r (recorder.Summary.ByModel, ByTurn): for each
// model its count, throughput and TTFT, TPOT, ITL and E2E latency; for each turn its count, TTFT and E2E.
// None when r has no group.
func groupLines(r *recorder.Summary) []string {
	var lines []string
	models := make([]string, 0, len(r.ByModel))
	for m := range r.ByModel {
		models = append(models, m)
	}
	slices.SortFunc(models, func(a, b string) int {
		if naturalLess(a, b) {
			return -1
		}
		return 1
	})
	for _, m := range models {
		g := r.ByModel[m]
		lines = append(lines,
			fmt.Sprintf("model %s: %d requests, %d ok; %s req/s, %s output tok/s", m, g.Total, g.OK,
				num(g.RequestThroughput, "%.2f"), num(g.OutputTokenThroughput, "%.1f")),
			"  TTFT  "+dist(g.TTFTMS), "  TPOT  "+dist(g.TPOTMS), "  ITL   "+dist(g.ITLMS), "  E2E   "+dist(g.E2EMS))
	}
	for i, g := range r.ByTurn {
		lines = append(lines, fmt.Sprintf("turn %d: %d requests, %d ok; TTFT %s; E2E %s", i+1, g.Total, g.OK, dist(g.TTFTMS), dist(g.E2EMS)))
	}
	return lines
}
