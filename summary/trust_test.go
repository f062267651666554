package summary

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

func fp(v float64) *float64 { return &v }

// Requests without ignore_eos warn when their output tokens are under 90 % of those asked for, or when more
// than 10 % of them ended short; exactly 90 % and exactly 10 % do not. With ignore_eos, more than 1 % off.
func TestOutputLengthWarnings(t *testing.T) {
	free := func(n int, req, out int64, short int) recorder.OutputLengthCounts {
		return recorder.OutputLengthCounts{Free: recorder.LengthTally{Requests: n, RequestedTokens: req, OutputTokens: out, Short: short, Off: short}}
	}
	eos := func(n, off int) recorder.OutputLengthCounts {
		return recorder.OutputLengthCounts{IgnoreEOS: recorder.LengthTally{Requests: n, RequestedTokens: int64(100 * n), OutputTokens: int64(100*n - off), Off: off}}
	}
	for _, c := range []struct {
		name string
		in   recorder.OutputLengthCounts
		want []string // substrings of the one warning; nil: none
	}{
		{"tokens 80 %", free(10, 1000, 800, 1), []string{"10 successful requests without ignore_eos produced 800 of the 1000 tokens", "(80.0 %; warned under 90 %)", "1 of them (10.0 %; warned over 10 %)", "-ignore-eos"}},
		{"20 % short", free(10, 1000, 950, 2), []string{"produced 950 of the 1000 tokens", "(95.0 %", "2 of them (20.0 %", "more than 10 % short"}},
		{"at both bounds", free(10, 1000, 900, 1), nil},
		{"none tallied", free(0, 0, 0, 0), nil},
		{"ignore_eos 1.5 % off", eos(200, 3), []string{"with ignore_eos: 3 of 200 successful requests sent with ignore_eos (1.5 %; warned over 1 %)", "producing 19997 of the 20000 tokens"}},
		{"ignore_eos 1 % off", eos(200, 2), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := outputLengthWarnings(c.in)
			if c.want == nil {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			for _, w := range c.want {
				assert.Contains(t, got[0], w)
			}
		})
	}
}

// The tolerance is max(10 % of the mean inter-arrival time, 10 ms): 20 ms at 200 ms, 10 ms at 50 ms or with
// the inter-arrival time unknown. A p99 over it warns, one equal to it does not; a closed loop never does.
func TestSendLagWarning(t *testing.T) {
	assert.Equal(t, 20.0, SendLagTolerance(fp(200)))
	assert.Equal(t, 10.0, SendLagTolerance(fp(50)))
	assert.Equal(t, 10.0, SendLagTolerance(nil))
	lag := func(p99, ia float64) *recorder.Summary {
		return &recorder.Summary{SendLagMS: recorder.Stats{N: 40, P50: fp(1), P99: fp(p99), Max: fp(p99 + 1), Mean: fp(3)},
			SlotWaitMS: recorder.Stats{N: 40, Mean: fp(2)}, MeanInterArrivalMS: fp(ia)}
	}
	w := sendLagWarning(lag(25, 200))
	assert.Contains(t, w, "the open loop fell behind its schedule: send lag (intended start to send, slot waits included) p50 1 ms, p99 25 ms, max 26 ms over 40 requests")
	assert.Contains(t, w, "beyond the tolerance of 20 ms (max(10 % of the mean inter-arrival time 200 ms, 10 ms))")
	assert.Contains(t, w, "mean wait for a concurrency slot 2 ms of a mean lag of 3 ms")
	assert.Empty(t, sendLagWarning(lag(20, 200)))
	assert.Contains(t, sendLagWarning(lag(12, 50)), "beyond the tolerance of 10 ms")
	assert.Empty(t, sendLagWarning(lag(9, 50)))
	assert.Empty(t, sendLagWarning(&recorder.Summary{}), "closed loop")
}

// The client warns from 80 % of GOMAXPROCS's cores, and when its scheduler latency p99 exceeds
// max(10 % of ITL p50, 1 ms): 1.5 ms at an ITL p50 of 15 ms, 1 ms at 5 ms.
func TestClientWarnings(t *testing.T) {
	cost := func(util, sched float64) *recorder.ClientCost {
		return &recorder.ClientCost{Runs: 1, WallS: 10, CPUS: 10 * 4 * util, GOMAXPROCS: 4, CPUUtilization: fp(util), SchedLatencyP99MS: fp(sched)}
	}
	got := clientWarnings(cost(0.8, 0.1), fp(15))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "the client may have been the bottleneck: its process used 32 CPU-s over 10 s of load, 80 % of GOMAXPROCS=4 cores (warned from 80 %")
	assert.Empty(t, clientWarnings(cost(0.79, 0.1), fp(15)))

	got = clientWarnings(cost(0.1, 2), fp(15))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "the client's Go scheduler latency p99 2 ms (runtime/metrics /sched/latencies:seconds) is over 1.5 ms, max(10 % of ITL p50 15 ms, 1 ms)")
	assert.Empty(t, clientWarnings(cost(0.1, 2), fp(25)), "tolerance 2.5 ms")
	assert.Empty(t, clientWarnings(cost(0.1, 0.9), fp(5)), "tolerance 1 ms")
	assert.Len(t, clientWarnings(cost(0.1, 1.1), fp(5)), 1)
	assert.Empty(t, clientWarnings(cost(0.1, 2), nil), "no ITL: nothing to distort")
	assert.Empty(t, clientWarnings(nil, fp(15)), "no load generator reported")
	assert.Len(t, clientWarnings(cost(0.9, 5), fp(15)), 2)
}

// Compute puts the client's figures in the summary and its warnings after the cross-checks'.
func TestComputeCarriesClientAndTrustWarnings(t *testing.T) {
	client := &recorder.ClientCost{Runs: 1, WallS: 2, CPUS: 1.8, GOMAXPROCS: 1, CPUUtilization: fp(0.9)}
	req := recorder.Summary{Counts: recorder.Counts{Total: 1, OK: 1}}
	s := Compute(Input{Start: time.Unix(0, 0), Requests: req, Client: client, Warnings: []string{"mine"}})
	assert.Same(t, client, s.Client)
	require.Len(t, s.Warnings, 2)
	assert.Equal(t, "mine", s.Warnings[0])
	assert.Contains(t, s.Warnings[1], "90 % of GOMAXPROCS=1")
	assert.Nil(t, Compute(Input{}).Client)
}

// The send lag and the client's CPU are names thresholds can use: send_lag.<stat> in ms over the open-loop
// requests, client.cpu_utilization a fraction; each unknown, with the reason, when there is nothing.
func TestLookupSendLagAndClientCPU(t *testing.T) {
	s := &Summary{Requests: recorder.Summary{Counts: recorder.Counts{Total: 4, OK: 4},
		SendLagMS: recorder.ComputeStats([]float64{0, 5, 30, 80})},
		Client: &recorder.ClientCost{Runs: 2, CPUUtilization: fp(0.25)}}
	v, err := s.Lookup("send_lag.p99")
	require.NoError(t, err)
	assert.True(t, v.Known)
	assert.InDelta(t, 78.5, v.Value, 1e-9, "numpy: 30 + 0.97 × 50")
	assert.Equal(t, 4, v.N)
	assert.Equal(t, UnitMS, v.Unit)
	v, err = s.Lookup("send_lag.max")
	require.NoError(t, err)
	assert.Equal(t, 80.0, v.Value)
	v, err = s.Lookup("client.cpu_utilization")
	require.NoError(t, err)
	assert.True(t, v.Known)
	assert.Equal(t, 0.25, v.Value)
	assert.Equal(t, 2, v.N)

	closed := &Summary{Requests: recorder.Summary{Counts: recorder.Counts{Total: 3, OK: 3}}}
	v, err = closed.Lookup("send_lag.p50")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, "n=0 open-loop requests of 3 recorded: send lag is known only for requests sent on a schedule (a rate)", v.Note)
	v, err = closed.Lookup("client.cpu_utilization")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Contains(t, v.Note, "no load generator reported its cost")
}
