package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// Each server node gets node_<name>_<field> columns (nodes sorted, before "errors"); a snapshot without the
// node, and an unknown figure, leave empty cells. Without nodes the columns are not there.
func TestSnapshotsCSVNodeColumns(t *testing.T) {
	f := snapshot.F
	snaps := []snapshot.Snapshot{
		{RunID: "r", NodeMetrics: map[string]snapshot.Node{"n2": {CPUPercent: f(32.5), MemoryGB: f(12)}}},
		{RunID: "r", NodeMetrics: map[string]snapshot.Node{"n1": {Load1: f(2.5)}, "n2": {}},
			Errors: map[string]string{"node:n2": "HTTP 503"}},
	}
	b, err := SnapshotsCSV(snaps)
	require.NoError(t, err)
	col, rows := testio.CSV(t, b)
	require.Len(t, rows, 3)
	assert.Equal(t, "errors", rows[0][len(rows[0])-1])
	assert.Less(t, col["node_n1_cpu_percent"], col["node_n2_cpu_percent"])
	for _, name := range []string{"load1", "memory_gb", "memory_available_gb", "memory_total_gb", "network_sent_bytes_per_second",
		"network_recv_bytes_per_second", "disk_read_bytes_per_second", "disk_write_bytes_per_second", "rate_interval_s"} {
		assert.Contains(t, col, "node_n1_"+name)
	}
	assert.Equal(t, "32.5", rows[1][col["node_n2_cpu_percent"]])
	assert.Equal(t, "12", rows[1][col["node_n2_memory_gb"]])
	assert.Equal(t, "", rows[1][col["node_n1_load1"]])
	assert.Equal(t, "2.5", rows[2][col["node_n1_load1"]])
	assert.Equal(t, "", rows[2][col["node_n2_cpu_percent"]])

	plain, err := SnapshotsCSV(snaps[:0])
	require.NoError(t, err)
	assert.NotContains(t, string(plain), "node_")
}

func TestTextNodeLines(t *testing.T) {
	f := snapshot.F
	lines := nodeLines(map[string]summary.NodeStats{
		"b": {},
		"a": {AvgCPUPercent: f(30), MaxCPUPercent: f(50), AvgLoad1: f(2), MaxLoad1: f(3), AvgMemoryGB: f(11), MaxMemoryGB: f(12),
			MemoryTotalGB: f(16), AvgNetworkSentBytesPerSecond: f(1.5e6), AvgNetworkRecvBytesPerSecond: f(3000),
			AvgDiskReadBytesPerSecond: f(0), AvgDiskWriteBytesPerSecond: f(250e6)},
	})
	assert.Equal(t, []string{
		"node a: CPU avg 30.0% max 50.0%, load1 avg 2.00 max 3.00, memory avg 11.00 GiB max 12.00 GiB of 16.00 GiB, network avg sent 1.50 recv 0.00 MB/s, disk avg read 0.00 write 250.00 MB/s",
		"node b: CPU avg n/a max n/a, load1 avg n/a max n/a, memory avg n/a GiB max n/a GiB of n/a GiB, network avg sent n/a recv n/a MB/s, disk avg read n/a write n/a MB/s",
	}, lines)
}
