package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSweepSVGs(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	svgs, err := SweepSVGs("concurrency", "ttft.p99 (ms)", []SweepPoint{
		{Load: 1, ThroughputTokS: f(50), LatencyMS: f(100), Met: true},
		{Load: 4, ThroughputTokS: f(190), LatencyMS: f(100), Met: true, Knee: true},
		{Load: 8, LatencyMS: f(270)},
		{Load: 16}, // ran, measured nothing: in neither picture
	})
	require.NoError(t, err)
	require.Len(t, svgs, 2)
	assert.Equal(t, "sweep_throughput_vs_latency", svgs[0].Name)
	assert.Equal(t, "sweep_latency_vs_load", svgs[1].Name)
	assert.Contains(t, svgs[0].Markup, "no throughput known at concurrency 8 (a window under 1 s)")
	for _, label := range []string{">1<", ">4<"} {
		assert.Contains(t, svgs[0].Markup, label, "each point is labelled with its load")
	}
	assert.Contains(t, svgs[1].Markup, "did not meet it", "the failed step is in the latency-by-load picture")
	assert.NotContains(t, svgs[0].Markup, "did not meet it", "it has no throughput: not in the first picture")
	assert.True(t, strings.HasPrefix(svgs[0].Markup, "<svg"))
}
