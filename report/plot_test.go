package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/plot/plotter"

	"github.com/vmtest/vmtest/snapshot"
)

// A rate point is left out of the plot when the interval it covers is short, as in the summary: the stopping
// snapshot 0.01 s after a good scrape is left out; the one 0.01 s after a failed scrape covers 2.01 s and stays.
func TestRateSeriesGoesByTheCoveredInterval(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 2, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(100), ScrapeIntervalS: f(2)}},
		{ElapsedS: 4, Errors: map[string]string{"vllm": "connection refused"}},
		{ElapsedS: 4.01, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(250), ScrapeIntervalS: f(2.01)}},
	}
	get := func(s *snapshot.Snapshot) *float64 { return s.VLLMMetrics.TokensPerSecond }
	assert.Equal(t, plotter.XYs{{X: 2, Y: 100}, {X: 4.01, Y: 250}}, rateSeries(snaps, snapshot.VLLMRateIntervalsS(snaps), 1, get))

	snaps[2] = snapshot.Snapshot{ElapsedS: 4, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(200), ScrapeIntervalS: f(2)}}
	snaps[3].VLLMMetrics.ScrapeIntervalS = f(0.01)
	assert.Equal(t, plotter.XYs{{X: 2, Y: 100}, {X: 4, Y: 200}}, rateSeries(snaps, snapshot.VLLMRateIntervalsS(snaps), 1, get))
}
