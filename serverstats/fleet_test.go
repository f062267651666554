package serverstats

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

// replicaBody is a small vLLM V1 exposition: a TTFT histogram with bounds 0.1, 0.5, 1 s (cumulative counts
// c1, c5, c10, count = +Inf), generation tokens, running and waiting requests and KV-cache use (0–1).
func replicaBody(c1, c5, c10, sum, gen, running, waiting, kv float64) string {
	return fmt.Sprintf(`# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1"} %g
vllm:time_to_first_token_seconds_bucket{le="0.5"} %g
vllm:time_to_first_token_seconds_bucket{le="1"} %g
vllm:time_to_first_token_seconds_bucket{le="+Inf"} %g
vllm:time_to_first_token_seconds_count %g
vllm:time_to_first_token_seconds_sum %g
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total %g
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running %g
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting %g
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc %g
`, c1, c5, c10, c10, c10, sum, gen, running, waiting, kv)
}

// fleetRounds are two replicas' bodies over four rounds one second apart; replica b's third scrape failed.
func fleetRounds(t *testing.T) [][]*Scrape {
	a := []string{
		replicaBody(0, 0, 0, 0, 100, 1, 0, 0.2),
		replicaBody(2, 4, 4, 0.8, 200, 3, 1, 0.4),
		replicaBody(2, 4, 5, 1.6, 300, 2, 0, 0.3),
		replicaBody(2, 4, 5, 1.6, 350, 1, 0, 0.1),
	}
	b := []string{
		replicaBody(0, 0, 0, 0, 0, 0, 0, 0),
		replicaBody(0, 2, 6, 4.2, 60, 2, 2, 0.6),
		"",
		replicaBody(0, 2, 8, 5.8, 100, 1, 0, 0.5),
	}
	var rounds [][]*Scrape
	for k := range a {
		at := t0.Add(time.Duration(k) * time.Second)
		sa := scrape(t, a[k], at)
		r := []*Scrape{&sa, nil}
		if b[k] != "" {
			sb := scrape(t, b[k], at)
			r[1] = &sb
		}
		rounds = append(rounds, r)
	}
	return rounds
}

func TestFleetInterval(t *testing.T) {
	f, err := NewFleet([]string{"a", "b"}, 0)
	require.NoError(t, err)
	var got []snapshot.VLLM
	for _, r := range fleetRounds(t) {
		var v snapshot.VLLM
		f.Commit(r, &v)
		got = append(got, v)
	}
	// Round 1: baselines, no rates.
	assert.Nil(t, got[0].TokensPerSecond)
	assert.Equal(t, 1.0, deref(got[0].ActiveBatchSize))
	// Round 2: a made 100 tokens and b 60 in 1 s; queue 1+2, batch 3+2, KV mean of 40 % and 60 %.
	v := got[1]
	assert.Equal(t, 160.0, deref(v.TokensPerSecond))
	assert.Equal(t, 3.0, deref(v.RequestQueueSize))
	assert.Equal(t, 5.0, deref(v.ActiveBatchSize))
	assert.InDelta(t, 50.0, deref(v.KVCacheUsagePercent), 1e-12)
	assert.Equal(t, 260.0, deref(v.GenerationTokensTotal))
	assert.Equal(t, 100.0, deref(v.Replicas["a"].TokensPerSecond))
	assert.Equal(t, 60.0, deref(v.Replicas["b"].TokensPerSecond))
	// Step buckets summed per le: a 2, 4, 4; b 0, 2, 6 → 2, 6, 10 of 10. p50: rank 5 in (0.1, 0.5] holding 4,
	// 3 into it: 0.1 + 0.4·3/4 = 0.4 s. Mean (0.8 + 4.2) / 10 = 0.5 s.
	assert.InDelta(t, 400, deref(v.ServerTTFTP50MS), 1e-9)
	assert.InDelta(t, 500, deref(v.ServerTTFTMeanMS), 1e-9)
	// Round 3: b failed: its figures are null, a's are kept, the aggregate is unknown.
	v = got[2]
	assert.Equal(t, snapshot.VLLM{}, v.Replicas["b"])
	assert.Equal(t, 100.0, deref(v.Replicas["a"].TokensPerSecond))
	assert.Nil(t, v.TokensPerSecond)
	assert.Nil(t, v.ActiveBatchSize)
	assert.Nil(t, v.ServerTTFTP50MS)
	// Round 4: every replica back: gauges known (batch 1+1, KV mean of 10 % and 50 %), but b's step spans two
	// intervals, so no aggregate rate or quantile.
	v = got[3]
	assert.Equal(t, 2.0, deref(v.ActiveBatchSize))
	assert.InDelta(t, 30.0, deref(v.KVCacheUsagePercent), 1e-12)
	assert.Nil(t, v.TokensPerSecond)
	assert.Nil(t, v.ServerTTFTP50MS)
	assert.InDelta(t, 20.0, deref(v.Replicas["b"].TokensPerSecond), 1e-12) // 40 tokens over 2 s
}

func TestFleetSummaryEqualsReplicas(t *testing.T) {
	f, err := NewFleet([]string{"a", "b"}, 0)
	require.NoError(t, err)
	own := []*Window{NewWindow(), NewWindow()} // each replica tracked alone, independently of the Fleet
	for _, r := range fleetRounds(t) {
		var v snapshot.VLLM
		f.Commit(r, &v)
		for i, s := range r {
			if s != nil {
				own[i].Add(*s)
			}
		}
	}
	st := f.Summary()
	sa, sb := own[0].Summary(), own[1].Summary()
	assert.Equal(t, sa, st.Replicas["a"])
	assert.Equal(t, sb, st.Replicas["b"])
	assert.Equal(t, 4, sa.Scrapes)
	assert.Equal(t, 3, sb.Scrapes)
	assert.Equal(t, 3, st.Scrapes, "rounds with every replica")

	assert.Equal(t, deref(sa.GenerationTokens)+deref(sb.GenerationTokens), deref(st.GenerationTokens))
	assert.Equal(t, 350.0, deref(st.GenerationTokens))
	// Window buckets: a 2, 4, 5; b 0, 2, 8 → 2, 6, 13 of 13; sum 1.6 + 5.8 s.
	h := st.TTFT
	require.NotNil(t, h)
	assert.Equal(t, sa.TTFT.Count+sb.TTFT.Count, h.Count)
	assert.InDelta(t, 7400, h.SumMS, 1e-9)
	want, _, _, ok := BucketQuantile(0.5, []Bucket{{0.1, 2}, {0.5, 6}, {1, 13}, {math.Inf(1), 13}})
	require.True(t, ok)
	assert.InDelta(t, 0.5+0.5*0.5/7, want, 1e-12) // rank 6.5, 0.5 into (0.5, 1] holding 7
	assert.InDelta(t, want*1000, ms(h.P50MS), 1e-9)
	// Gauges from each replica's own scrapes, whatever the rounds: batch a 1, 3, 2, 1 (mean 7/4, max 3) plus
	// b 0, 2, 1 (mean 1, max 2); queue a 0, 1, 0, 0 plus b 0, 2, 0; KV mean of a's 25 % and b's 110/3 %, max 60 %.
	assert.InDelta(t, 7.0/4+1, deref(st.ActiveBatchSize.Mean), 1e-12)
	assert.Equal(t, 5.0, deref(st.ActiveBatchSize.Max))
	assert.Equal(t, 7, st.ActiveBatchSize.Samples)
	assert.InDelta(t, 1.0/4+2.0/3, deref(st.RequestQueueSize.Mean), 1e-12)
	assert.Equal(t, 3.0, deref(st.RequestQueueSize.Max))
	assert.InDelta(t, (25+110.0/3)/2, deref(st.KVCacheUsagePercent.Mean), 1e-12)
	assert.InDelta(t, 60.0, deref(st.KVCacheUsagePercent.Max), 1e-12)
	assert.InDelta(t, 3.0/4, deref(st.Coverage), 1e-12, "3 of 4 rounds had every replica")
	assert.Nil(t, st.Replicas["a"].Coverage)
	assert.Equal(t, t0, *st.Start)
	assert.Equal(t, 3.0, deref(st.DurationS))
}

func TestCheckReplicaNames(t *testing.T) {
	assert.NoError(t, CheckReplicaNames([]string{"a", "node_2", "3"}))
	assert.ErrorContains(t, CheckReplicaNames([]string{"a", "a"}), `"a" is given twice`)
	assert.ErrorContains(t, CheckReplicaNames([]string{"A", "a"}), `"a" is given twice`)
	assert.ErrorContains(t, CheckReplicaNames([]string{"node-1"}), `name "node-1": want 1–64 letters, digits or '_'`)
	assert.ErrorContains(t, CheckReplicaNames([]string{"a b"}), `name "a b"`)
	assert.ErrorContains(t, CheckReplicaNames([]string{""}), `replica 0`)
	_, err := NewFleet(nil, 0)
	assert.Error(t, err)
}

// Each replica's restarts are kept with the time of the scrape that showed them: replica b restarts at 1 s,
// a at 2 s and b again at 3 s; the fleet lists the three in time order, each replica its own, and the events
// (prefixed with the replica's name) carry no time the summary needs to read back.
func TestFleetRestartTimes(t *testing.T) {
	f, err := NewFleet([]string{"a", "b"}, 0)
	require.NoError(t, err)
	body := func(start int) string { return fmt.Sprintf("process_start_time_seconds %d\n", start) }
	starts := [][2]int{{10, 10}, {10, 20}, {30, 20}, {30, 40}}
	var v snapshot.VLLM
	for i, st := range starts {
		at := t0.Add(time.Duration(i) * time.Second)
		a, b := scrape(t, body(st[0]), at), scrape(t, body(st[1]), at)
		f.Commit([]*Scrape{&a, &b}, &v)
	}
	s := f.Summary()
	assert.Equal(t, 3, s.Restarts)
	assert.Equal(t, []time.Time{t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(3 * time.Second)}, s.RestartTimes)
	assert.Equal(t, []time.Time{t0.Add(2 * time.Second)}, s.Replicas["a"].RestartTimes)
	assert.Equal(t, []time.Time{t0.Add(time.Second), t0.Add(3 * time.Second)}, s.Replicas["b"].RestartTimes)
}

// A Window keeps the times of its first MaxRestartTimes restarts and counts them all.
func TestWindowRestartTimesBounded(t *testing.T) {
	w := NewWindow()
	for i := range MaxRestartTimes + 3 {
		w.Add(scrape(t, fmt.Sprintf("process_start_time_seconds %d\n", i), t0.Add(time.Duration(i)*time.Second)))
	}
	s := w.Summary()
	assert.Equal(t, MaxRestartTimes+2, s.Restarts)
	require.Len(t, s.RestartTimes, MaxRestartTimes)
	assert.Equal(t, t0.Add(time.Second), s.RestartTimes[0])
	assert.Equal(t, t0.Add(MaxRestartTimes*time.Second), s.RestartTimes[MaxRestartTimes-1])
}
