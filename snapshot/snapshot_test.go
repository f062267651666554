package snapshot

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func f(v float64) *float64 { return &v }

// The intervals rates cover: the recorded ones where set; else, for the vLLM rates, from the previous
// snapshot whose scrape did not fail, and for the host's, from the previous snapshot.
func TestRateIntervals(t *testing.T) {
	failed := map[string]string{"vllm": "status 503", "system": "memory: EOF"}
	snaps := []Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 2, VLLMMetrics: VLLM{ScrapeIntervalS: f(2.004)}, SystemMetrics: System{RateIntervalS: f(1.998)}},
		{ElapsedS: 4, Errors: failed},
		{ElapsedS: 6},   // no recorded interval: vLLM from 2 s (the scrape at 4 s failed), host from 4 s
		{ElapsedS: 6.5}, // vLLM and host from 6 s
		{ElapsedS: 8, VLLMMetrics: VLLM{ScrapeIntervalS: f(0)}, SystemMetrics: System{RateIntervalS: f(1.25)}}, // 0 is no interval
	}
	assert.Equal(t, []float64{0, 2.004, 2, 4, 0.5, 1.5}, VLLMRateIntervalsS(snaps))
	assert.Equal(t, []float64{0, 1.998, 2, 2, 0.5, 1.25}, SystemRateIntervalsS(snaps))
	assert.Empty(t, VLLMRateIntervalsS(nil))
}
