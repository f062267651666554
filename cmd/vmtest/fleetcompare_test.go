package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// A drop of one replica's throughput is worse: a replica's figure is judged in its server.* entry's
// direction (higher is better for tokens/s), as the aggregate's is. It printed "-61.8% better".
func TestCompareReplicaThroughputDrop(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, tps float64) string {
		path := filepath.Join(dir, name)
		s := &summary.Summary{RunID: name, ConfigID: "cfg", Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			Server: &serverstats.Stats{Replicas: map[string]serverstats.Stats{"r1": {}}},
			VLLM:   summary.VLLMStats{Replicas: map[string]summary.VLLMStats{"r1": {AvgTokensPerSecond: ptr(tps), Scrapes: 5}}}}
		require.NoError(t, report.WriteJSON(path, s))
		return path
	}
	a, b := write("a.json", 200), write("b.json", 76.4)
	code, out, errOut := runCmd(context.Background(), "compare", "-metrics", "replica.r1.server.tokens_per_second.avg", "-out", dir, a, b)
	require.Equal(t, exitOK, code, errOut)
	var row []string
	for _, line := range strings.Split(out, "\n") {
		if f := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1); f[0] == "replica.r1.server.tokens_per_second.avg" {
			row = f
		}
	}
	// 200 → 76.4 tok/s is −61.8 %, and a lower throughput is worse.
	assert.Equal(t, []string{"replica.r1.server.tokens_per_second.avg", "tok/s", "200.0", "76.40", "-61.8% worse"}, row)
}
