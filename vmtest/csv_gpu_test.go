package vmtest

import (
	"context"
	"encoding/csv"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The GPUs asked for by index have their metrics CSV columns even when no GPU source could read them.
func TestMetricsCSVHasTheGPUsAskedFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ids      []string
		want     []string
		wantNone []string
	}{
		{nil, []string{"gpu_0_utilization", "gpu_1_utilization"}, []string{"gpu_2_utilization"}},
		{[]string{"2", "5"}, []string{"gpu_2_utilization", "gpu_5_temp_c"}, []string{"gpu_0_utilization"}},
	} {
		c, err := Start(context.Background(), Options{ConfigID: "gpus", Interval: time.Second, OutputDir: t.TempDir(),
			GPUSource: "none", NoPNG: true, GPUIDs: tc.ids, NoSystem: true})
		require.NoError(t, err)
		sum, err := c.Finish()
		require.NoError(t, err)
		f, err := os.Open(sum.Files["snapshots_csv"])
		require.NoError(t, err)
		header, err := csv.NewReader(f).Read()
		f.Close()
		require.NoError(t, err)
		for _, name := range tc.want {
			assert.Contains(t, header, name, "GPUIDs %v", tc.ids)
		}
		for _, name := range tc.wantNone {
			assert.NotContains(t, header, name, "GPUIDs %v", tc.ids)
		}
	}
}
