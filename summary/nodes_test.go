package summary

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

// Node statistics: rates weighted by the intervals they cover (the short last one, under half the 2 s
// interval, left out), gauges a plain mean; a node that only ever failed has nulls.
func TestNodeStatistics(t *testing.T) {
	f := snapshot.F
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0, NodeMetrics: map[string]snapshot.Node{"a": {Load1: f(1), MemoryGB: f(10), MemoryTotalGB: f(16)}}},
		{ElapsedS: 2, NodeMetrics: map[string]snapshot.Node{
			"a": {CPUPercent: f(50), RateIntervalS: f(2), Load1: f(3), MemoryGB: f(12), MemoryTotalGB: f(16), NetworkRecvBytesPerSecond: f(1000)},
			"b": {},
		}},
		{ElapsedS: 6, NodeMetrics: map[string]snapshot.Node{
			"a": {CPUPercent: f(20), RateIntervalS: f(4), Load1: f(2), MemoryGB: f(11), MemoryTotalGB: f(16), NetworkRecvBytesPerSecond: f(4000)}}},
		{ElapsedS: 6.5, NodeMetrics: map[string]snapshot.Node{
			"a": {CPUPercent: f(90), RateIntervalS: f(0.5), NetworkRecvBytesPerSecond: f(1e6)}}},
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 2})
	require.Len(t, s.Nodes, 2)
	a := s.Nodes["a"]
	// CPU: (50×2 + 20×4) / 6 = 30, max 50; received: (1000×2 + 4000×4) / 6 = 3000, max 4000.
	assert.InDelta(t, 30, *a.AvgCPUPercent, 1e-12)
	assert.Equal(t, 50.0, *a.MaxCPUPercent)
	assert.InDelta(t, 3000, *a.AvgNetworkRecvBytesPerSecond, 1e-9)
	assert.Equal(t, 4000.0, *a.MaxNetworkRecvBytesPerSecond)
	// load1 (1 + 3 + 2) / 3 = 2, memory (10 + 12 + 11) / 3 = 11.
	assert.InDelta(t, 2, *a.AvgLoad1, 1e-12)
	assert.Equal(t, 3.0, *a.MaxLoad1)
	assert.InDelta(t, 11, *a.AvgMemoryGB, 1e-12)
	assert.Equal(t, 12.0, *a.MaxMemoryGB)
	assert.Equal(t, 16.0, *a.MemoryTotalGB)
	assert.Nil(t, a.AvgDiskReadBytesPerSecond)
	assert.Equal(t, 4, a.Samples)
	assert.Equal(t, NodeStats{Samples: 1}, s.Nodes["b"])

	b, err := json.Marshal(s)
	require.NoError(t, err)
	var back struct {
		Nodes map[string]map[string]any `json:"node_statistics"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, 30.0, back.Nodes["a"]["avg_cpu_percent"])
	assert.Nil(t, back.Nodes["b"]["avg_cpu_percent"])

	none, err := json.Marshal(Compute(Input{Snapshots: snaps[:0], IntervalS: 2}))
	require.NoError(t, err)
	assert.NotContains(t, string(none), "node_statistics")
}
