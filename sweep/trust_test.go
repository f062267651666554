package sweep

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// End-to-end checks of the run's own warnings (summary.TrustWarnings, serverstats.CrossCheck's latency
// means): the simulator (newSim's timing model) with a fault, the client and a collector in one synctest
// bubble, so every figure below follows from the timing model.

// trustRun sends lc (its Client and Sink set here) to a simulator configured by cfg, through wrap's
// transport when wrap is not nil, with a collector that scrapes the simulator when scrape is set, and
// returns the collector's final summary.
func trustRun(t *testing.T, cfg vllmsim.Config, lc loadgen.LoadConfig, scrape bool, wrap func(http.RoundTripper) http.RoundTripper) *summary.Summary {
	t.Setenv("VMTEST_VLLM_URL", "")
	sim, client := newSim(t, cfg)
	if wrap != nil {
		client.Transport = wrap(client.Transport)
	}
	dir := t.TempDir()
	var s *summary.Summary
	synctest.Test(t, func(t *testing.T) {
		defer sim.Close()
		opts := vmtest.Options{Interval: time.Second, GPUSource: "none", NoSystem: true, OutputDir: dir}
		if scrape {
			metrics, err := samplers.NewVLLM(samplers.VLLMConfig{BaseURL: client.BaseURL, Client: &http.Client{Transport: testhttp.Transport{Handler: sim.Handler()}}})
			require.NoError(t, err)
			defer func() { _ = metrics.Close() }()
			opts.Samplers = []samplers.Sampler{metrics}
		}
		c, err := vmtest.Start(context.Background(), opts)
		require.NoError(t, err)
		lc.Client, lc.Sink = client, c
		lc.Prompts, lc.Params.Model = loadgen.ChatPrompts("What is a KV cache?"), vllmsim.DefaultModel
		_, err = loadgen.Run(context.Background(), lc)
		require.NoError(t, err)
		s, err = c.Finish()
		require.NoError(t, err)
	})
	require.NotNil(t, s.Client, "loadgen.Run told the collector its cost")
	assert.Equal(t, 1, s.Client.Runs)
	return s
}

// warningWith returns the summary's warning that starts with prefix, "" when none does.
func warningWith(s *summary.Summary, prefix string) string {
	for _, w := range s.Warnings {
		if strings.HasPrefix(w, prefix) {
			return w
		}
	}
	return ""
}

// A model that ends every request after 3 tokens (EOSAfterTokens) while the client asks for 8 without
// ignore_eos: 8 requests produce 24 of the 64 tokens asked for (37.5 %), every one more than 10 % short.
// With ignore_eos the simulator produces the 8 asked for, and nothing is said.
func TestOutputLengthsNotHonouredEndToEnd(t *testing.T) {
	lc := loadgen.LoadConfig{Params: loadgen.Params{MaxTokens: simTokens}, Concurrency: 4, Requests: 8}
	s := trustRun(t, vllmsim.Config{EOSAfterTokens: 3}, lc, false, nil)
	assert.Equal(t, recorder.LengthTally{Requests: 8, RequestedTokens: 64, OutputTokens: 24, Short: 8, Off: 8}, s.Requests.OutputLength.Free)
	w := warningWith(s, "requested output lengths not honoured")
	assert.Contains(t, w, "8 successful requests without ignore_eos produced 24 of the 64 tokens their max_tokens asked for (37.5 %; warned under 90 %), "+
		"and 8 of them (100.0 %; warned over 10 %) ended more than 10 % short", "%q", s.Warnings)

	lc.Params.IgnoreEOS = loadgen.Bool(true)
	s = trustRun(t, vllmsim.Config{EOSAfterTokens: 3}, lc, false, nil)
	assert.Equal(t, recorder.LengthTally{Requests: 8, RequestedTokens: 64, OutputTokens: 64}, s.Requests.OutputLength.IgnoreEOS)
	assert.Empty(t, warningWith(s, "requested output lengths not honoured"), "%q", s.Warnings)
}

// An open loop at 100 req/s with one request in flight at most, each taking S ≈ 170 ms (100 ms TTFT, 7 more
// tokens at 10 ms): request k cannot be sent before the k requests ahead of it ended, ≈ 170k ms, while it
// was due at about 10k ms, so the lag grows by ≈ 160 ms a request, far past the tolerance of
// max(10 % of ≈ 10 ms, 10 ms). In the bubble no CPU time passes, so the lag is all slot wait. Without the
// cap every request is sent when due: lag 0, nothing said.
func TestOpenLoopBehindScheduleEndToEnd(t *testing.T) {
	const n = 10
	lc := loadgen.LoadConfig{Params: loadgen.Params{MaxTokens: simTokens}, Rate: 100, MaxConcurrency: 1, Requests: n, Seed: 7}
	s := trustRun(t, vllmsim.Config{}, lc, false, nil)
	lag := s.Requests.SendLagMS
	require.Equal(t, n, lag.N)
	require.NotNil(t, s.Requests.MeanInterArrivalMS)
	assert.Equal(t, *s.Requests.SlotWaitMS.Max, *lag.Max, "the lag is the slot wait")
	// The last request waited for the 9 ahead of it, of 168 to 170 ms each (the simulator ends a wait up to
	// 2 ms early in a bubble), and was due 9 mean gaps after the first: its lag is 9 × (169 ± 1) − 9 × gap.
	assert.InDelta(t, 9*169-9**s.Requests.MeanInterArrivalMS, *lag.Max, 9+1e-6)
	w := warningWith(s, "the open loop fell behind its schedule")
	assert.Contains(t, w, "over 10 requests, beyond the tolerance of 10 ms", "%q", s.Warnings)
	assert.Contains(t, w, "raise the concurrency cap (-max-concurrency")

	lc.MaxConcurrency = 0
	s = trustRun(t, vllmsim.Config{}, lc, false, nil)
	require.Equal(t, n, s.Requests.SendLagMS.N)
	assert.Zero(t, *s.Requests.SendLagMS.Max)
	assert.Empty(t, warningWith(s, "the open loop fell behind its schedule"), "%q", s.Warnings)
}

// delayedTransport holds every request back by delay before the server gets it: a slow proxy between the
// client and the server, which the server's own latencies do not see.
type delayedTransport struct {
	rt    http.RoundTripper
	delay time.Duration
}

func (d delayedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	time.Sleep(d.delay)
	return d.rt.RoundTrip(req)
}

// Server and client agree on TTFT (100 ms each) and E2E latency (170 ms) until a proxy holds each request
// back by 60 ms: the client's TTFT is then 160 ms against the server's 100, a difference of 60 ms beyond
// max(20 ms, 20 % of 160 = 32 ms). Its E2E latency, 230 against 170 ms, is 60 ms beyond max(20, 46) too.
func TestClientServerLatencyDisagreementEndToEnd(t *testing.T) {
	lc := loadgen.LoadConfig{Params: loadgen.Params{MaxTokens: simTokens}, Concurrency: 4, Requests: 8}
	s := trustRun(t, vllmsim.Config{}, lc, true, nil)
	require.NotNil(t, s.Server)
	require.NotNil(t, s.Server.TTFT)
	assert.Equal(t, 8.0, s.Server.TTFT.Count)
	assert.Empty(t, warningWith(s, "server and client disagree"), "%q", s.Warnings)

	slow := func(rt http.RoundTripper) http.RoundTripper { return delayedTransport{rt, 60 * time.Millisecond} }
	s = trustRun(t, vllmsim.Config{}, lc, true, slow)
	require.NotNil(t, s.Server.TTFT.MeanMS)
	assert.InDelta(t, 160, *s.Requests.TTFTMS.Mean, 2.5, "100 ms TTFT (up to 2 ms early) + 60 ms")
	w := warningWith(s, "server and client disagree on mean TTFT")
	assert.Contains(t, w, "on the server (vllm:time_to_first_token_seconds over 8 observations)", "%q", s.Warnings)
	assert.Contains(t, warningWith(s, "server and client disagree on mean E2E latency"), "vllm:e2e_request_latency_seconds over 8 observations")
}

// A sweep step's collector gets the load's cost through the step's guard, and its summary carries it; the
// server's TTFT and E2E means (warm-up included) agree with the client's, so nothing is said of them.
func TestSweepStepHasClientStatistics(t *testing.T) {
	s := crossCheckStep(t, 0)
	require.NotNil(t, s.Client)
	assert.Equal(t, 1, s.Client.Runs)
	assert.Greater(t, s.Client.GOMAXPROCS, 0)
	assert.Empty(t, warningWith(s, "server and client disagree"), "%q", s.Warnings)
}
