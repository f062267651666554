package report

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// MIG devices are not flattened into the CSV: a GPU with them has the same columns as one without.
func TestSnapshotsCSVLeavesMIGDevicesOut(t *testing.T) {
	plain, err := SnapshotsCSV(sampleSnaps())
	require.NoError(t, err)
	snaps := sampleSnaps()
	g := snaps[1].GPUMetrics["gpu_2"]
	gi := 2
	g.MIGDevices = []snapshot.MIGDevice{{GPUInstanceID: &gi, Profile: "3g.71gb", MemoryUsedMB: f(16925)}}
	snaps[1].GPUMetrics["gpu_2"] = g
	withMIG, err := SnapshotsCSV(snaps)
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(withMIG))
	rows, err := csv.NewReader(strings.NewReader(string(withMIG))).ReadAll()
	require.NoError(t, err)
	for _, h := range rows[0] {
		assert.NotContains(t, h, "mig")
	}
}

func TestTextSummaryMIGLines(t *testing.T) {
	s := &summary.Summary{GPU: map[string]summary.GPUStats{"gpu_0": {Name: "NVIDIA H200", MIG: map[string]summary.MIGStats{
		"gi10":    {Profile: "1g.18gb", AvgMemoryUsedMB: f(9), MaxMemoryUsedMB: f(9), MemoryTotalMB: f(16384)},
		"gi9":     {Profile: "1g.18gb", AvgMemoryUsedMB: f(9.4), MaxMemoryUsedMB: f(12)},
		"gi2_ci1": {Profile: "2c.3g.71gb", AvgMemoryUsedMB: f(16925), MaxMemoryUsedMB: f(16925), MemoryTotalMB: f(71424)},
	}}}}
	var mig []string
	for _, l := range TextSummary(s) {
		if strings.Contains(l, " MIG ") {
			mig = append(mig, l)
		}
	}
	assert.Equal(t, []string{
		"  gpu_0 MIG gi2_ci1 2c.3g.71gb: memory avg 16925 MiB max 16925 MiB of 71424 MiB",
		"  gpu_0 MIG gi9 1g.18gb: memory avg 9 MiB max 12 MiB of n/a MiB",
		"  gpu_0 MIG gi10 1g.18gb: memory avg 9 MiB max 9 MiB of 16384 MiB",
	}, mig)
}
