package report

import (
	"slices"
	"sort"
	"strconv"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

// groupRow is one row of the run page's per-model or per-turn table (recorder.Summary.ByModel, ByTurn): the
// group's name, its requests and successful ones, then p50 and p99 (ms) of TTFT, TPOT, ITL and E2E latency;
// "n/a" where a figure is unknown (a turn's ITL, which recorder.Summary.ByTurn does not keep).
func groupRow(name string, g recorder.Summary) []string {
	row := []string{name, itoa(g.Total), itoa(g.OK)}
	for _, s := range []recorder.Stats{g.TTFTMS, g.TPOTMS, g.ITLMS, g.E2EMS} {
		row = append(row, num(s.P50, "%.1f"), num(s.P99, "%.1f"))
	}
	return row
}

// modelRows are the rows of r.ByModel by model name (natural order), turnRows those of r.ByTurn by turn.
func modelRows(r *recorder.Summary) [][]string {
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
	rows := make([][]string, 0, len(models))
	for _, m := range models {
		rows = append(rows, groupRow(m, r.ByModel[m]))
	}
	return rows
}

func turnRows(r *recorder.Summary) [][]string {
	rows := make([][]string, 0, len(r.ByTurn))
	for i, g := range r.ByTurn {
		rows = append(rows, groupRow("turn "+strconv.Itoa(i+1), g))
	}
	return rows
}

// nodeRows is one row per server node (summary.NodeStats), by name: CPU avg and max (%), memory in use avg
// and max and the total (GiB), network sent and received and disk read and written, averages in MB/s (10^6
// bytes/s), as nodeLines prints them.
func nodeRows(nodes map[string]summary.NodeStats) [][]string {
	names := make([]string, 0, len(nodes))
	for k := range nodes {
		names = append(names, k)
	}
	sort.Strings(names)
	rows := make([][]string, 0, len(names))
	for _, k := range names {
		n := nodes[k]
		rows = append(rows, []string{k, num(n.AvgCPUPercent, "%.1f"), num(n.MaxCPUPercent, "%.1f"),
			num(n.AvgMemoryGB, "%.2f"), num(n.MaxMemoryGB, "%.2f"), num(n.MemoryTotalGB, "%.2f"),
			num(scale(n.AvgNetworkSentBytesPerSecond, 1e-6), "%.2f"), num(scale(n.AvgNetworkRecvBytesPerSecond, 1e-6), "%.2f"),
			num(scale(n.AvgDiskReadBytesPerSecond, 1e-6), "%.2f"), num(scale(n.AvgDiskWriteBytesPerSecond, 1e-6), "%.2f")})
	}
	return rows
}
