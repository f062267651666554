package sweep

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vllmsim"
)

// discardSink drops every record: a client vmtest does not measure.
type discardSink struct{}

func (discardSink) RecordRequest(recorder.Request) {}

// crossCheckStep runs one step of 20 requests at concurrency 4 (its default warm-up: 4 requests) with the
// collector scraping the simulator's /metrics, while other, when above 0, sends that many requests of
// another client to the same server; it returns the step's summary.
func crossCheckStep(t *testing.T, other int) *summary.Summary {
	t.Setenv("VMTEST_VLLM_URL", "")
	sim, client := newSim(t, vllmsim.Config{})
	var log testio.SyncBuffer
	var res *Result
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		defer sim.Close()
		metrics, err := samplers.NewVLLM(samplers.VLLMConfig{BaseURL: client.BaseURL, Client: &http.Client{Transport: client.Transport}})
		require.NoError(t, err)
		defer func() { _ = metrics.Close() }()
		opts := simOptions(dir, client, &log)
		opts.SLO = []string{"error_rate < 1%"}
		opts.Loads = []float64{simSeqs}
		opts.Collect.Samplers = []samplers.Sampler{metrics}
		var wg sync.WaitGroup
		if other > 0 { // sent once the step's collector has taken its first scrape, done long before its last
			wg.Go(func() {
				_, err := loadgen.Run(context.Background(), loadgen.LoadConfig{Client: client, Prompts: loadgen.ChatPrompts("other"),
					Params: loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: simTokens}, Concurrency: other, Requests: other, Sink: discardSink{}})
				assert.NoError(t, err)
			})
		}
		res, err = Run(context.Background(), opts)
		require.NoError(t, err)
		wg.Wait()
	})
	require.Len(t, res.Steps, 1, log.String())
	require.NotNil(t, res.Steps[0].Summary)
	return res.Steps[0].Summary
}

// requestCrossCheck returns the summary's cross-check warning on requests, "" when none.
func requestCrossCheck(s *summary.Summary) string {
	for _, w := range s.Warnings {
		if strings.HasPrefix(w, "server TTFT observations") {
			return w
		}
	}
	return ""
}

// A step's warm-up requests reach the server inside its collector's window: 4 warm-up and 20 measured
// requests are 24 TTFT observations on the server and 24 × 8 = 192 generated tokens. The collector is told of
// the warm-up (apart from every client statistic), so the cross-check agrees and warns of nothing.
func TestSweepWarmupInTheCrossCheck(t *testing.T) {
	s := crossCheckStep(t, 0)
	require.NotNil(t, s.Server)
	require.NotNil(t, s.Server.TTFT)
	assert.Equal(t, 24.0, s.Server.TTFT.Count)
	assert.Equal(t, 20, s.Requests.Total, "the warm-up is in no client statistic")
	assert.Equal(t, recorder.WarmupCounts{Total: 4, OK: 4, OutputTokens: 4 * simTokens}, s.Requests.Warmup)
	assert.Empty(t, requestCrossCheck(s), "%q", s.Warnings)
	for _, w := range s.Warnings {
		assert.NotContains(t, w, "cross-check", "%q", s.Warnings)
		assert.NotContains(t, w, "differ by", "%q", s.Warnings)
	}
}

// Another client's 10 requests in the window are a real difference: 34 TTFT observations against the
// client's 20 + 4 warm-up, a difference of 10 over the tolerance of max(2, 5 % of 34) = 2: still a warning.
func TestSweepOtherClientStillWarns(t *testing.T) {
	s := crossCheckStep(t, 10)
	require.NotNil(t, s.Server)
	require.NotNil(t, s.Server.TTFT)
	assert.Equal(t, 34.0, s.Server.TTFT.Count)
	assert.Contains(t, requestCrossCheck(s), "(34 from vllm:time_to_first_token_seconds) and requests the client completed (20 + 4 warm-up) differ by 10")
}
