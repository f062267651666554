package summary

import (
	"sort"

	"github.com/vmtest/vmtest/snapshot"
)

// NodeStats is one server node's host statistics over the run (snapshot.Node, from its node_exporter). The
// Avg and Max of a rate (CPU percent, bytes per second) are taken as SystemStats' CPU percent is: over the
// intervals the node's readings cover (snapshot.Node.RateIntervalS) at least half the sampling interval long,
// or every interval of known length when none is; Avg is their mean weighted by length. Those of a gauge
// (load1, memory) are the plain mean and maximum over the snapshots that had it. Nil when never known.
type NodeStats struct {
	// AvgCPUPercent and MaxCPUPercent are the node's CPU busy time, percent of all its CPUs.
	AvgCPUPercent *float64 `json:"avg_cpu_percent"`
	MaxCPUPercent *float64 `json:"max_cpu_percent"`
	// AvgLoad1 and MaxLoad1 are its 1-minute load average.
	AvgLoad1 *float64 `json:"avg_load1"`
	MaxLoad1 *float64 `json:"max_load1"`
	// AvgMemoryGB and MaxMemoryGB are memory in use, GiB; AvgMemoryAvailableGB and MaxMemoryAvailableGB memory
	// available, GiB; MemoryTotalGB the largest total memory read, GiB.
	AvgMemoryGB          *float64 `json:"avg_memory_gb"`
	MaxMemoryGB          *float64 `json:"max_memory_gb"`
	AvgMemoryAvailableGB *float64 `json:"avg_memory_available_gb"`
	MaxMemoryAvailableGB *float64 `json:"max_memory_available_gb"`
	MemoryTotalGB        *float64 `json:"memory_total_gb"`
	// Network and disk rates over its physical interfaces and whole disks, bytes/s.
	AvgNetworkSentBytesPerSecond *float64 `json:"avg_network_sent_bytes_per_second"`
	MaxNetworkSentBytesPerSecond *float64 `json:"max_network_sent_bytes_per_second"`
	AvgNetworkRecvBytesPerSecond *float64 `json:"avg_network_recv_bytes_per_second"`
	MaxNetworkRecvBytesPerSecond *float64 `json:"max_network_recv_bytes_per_second"`
	AvgDiskReadBytesPerSecond    *float64 `json:"avg_disk_read_bytes_per_second"`
	MaxDiskReadBytesPerSecond    *float64 `json:"max_disk_read_bytes_per_second"`
	AvgDiskWriteBytesPerSecond   *float64 `json:"avg_disk_write_bytes_per_second"`
	MaxDiskWriteBytesPerSecond   *float64 `json:"max_disk_write_bytes_per_second"`
	// Samples is the number of snapshots that had the node (a failed scrape too: its figures are null).
	Samples int `json:"samples"`
}

// NodeNames returns the names of the server nodes in snaps' NodeMetrics, sorted.
func NodeNames(snaps []snapshot.Snapshot) []string {
	seen := map[string]bool{}
	var names []string
	for i := range snaps {
		for k := range snaps[i].NodeMetrics {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	return names
}

// nodeStats computes NodeStats for every node in snaps; nil when there is none.
func nodeStats(snaps []snapshot.Snapshot, intervalS float64) map[string]NodeStats {
	names := NodeNames(snaps)
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]NodeStats, len(names))
	for _, name := range names {
		var st NodeStats
		covers := make([]float64, len(snaps))
		col := func(f func(*snapshot.Node) *float64) []*float64 {
			vals := make([]*float64, len(snaps))
			for i := range snaps {
				if n, ok := snaps[i].NodeMetrics[name]; ok {
					vals[i] = f(&n)
				}
			}
			return vals
		}
		for i := range snaps {
			if n, ok := snaps[i].NodeMetrics[name]; ok {
				st.Samples++
				if n.RateIntervalS != nil {
					covers[i] = *n.RateIntervalS
				}
			}
		}
		rate := func(f func(*snapshot.Node) *float64) MinMax { return aggRate(col(f), covers, intervalS) }
		gauge := func(f func(*snapshot.Node) *float64) MinMax { return agg(col(f)) }
		cpu := rate(func(n *snapshot.Node) *float64 { return n.CPUPercent })
		load := gauge(func(n *snapshot.Node) *float64 { return n.Load1 })
		mem := gauge(func(n *snapshot.Node) *float64 { return n.MemoryGB })
		avail := gauge(func(n *snapshot.Node) *float64 { return n.MemoryAvailableGB })
		sent := rate(func(n *snapshot.Node) *float64 { return n.NetworkSentBytesPerSecond })
		recv := rate(func(n *snapshot.Node) *float64 { return n.NetworkRecvBytesPerSecond })
		rd := rate(func(n *snapshot.Node) *float64 { return n.DiskReadBytesPerSecond })
		wr := rate(func(n *snapshot.Node) *float64 { return n.DiskWriteBytesPerSecond })
		st.AvgCPUPercent, st.MaxCPUPercent = cpu.Avg, cpu.Max
		st.AvgLoad1, st.MaxLoad1 = load.Avg, load.Max
		st.AvgMemoryGB, st.MaxMemoryGB = mem.Avg, mem.Max
		st.AvgMemoryAvailableGB, st.MaxMemoryAvailableGB = avail.Avg, avail.Max
		st.MemoryTotalGB = gauge(func(n *snapshot.Node) *float64 { return n.MemoryTotalGB }).Max
		st.AvgNetworkSentBytesPerSecond, st.MaxNetworkSentBytesPerSecond = sent.Avg, sent.Max
		st.AvgNetworkRecvBytesPerSecond, st.MaxNetworkRecvBytesPerSecond = recv.Avg, recv.Max
		st.AvgDiskReadBytesPerSecond, st.MaxDiskReadBytesPerSecond = rd.Avg, rd.Max
		st.AvgDiskWriteBytesPerSecond, st.MaxDiskWriteBytesPerSecond = wr.Avg, wr.Max
		out[name] = st
	}
	return out
}
