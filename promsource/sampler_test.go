package promsource_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/snapshot"
)

// TestSamplerTicks drives a live Sampler over fixed samples (one counter sampled every second, value 10 per
// sample) with a clock that ticks every 2.5 s: the baseline, then readings with two or three new samples,
// one with none, and the errors.
func TestSamplerTicks(t *testing.T) {
	t0 := model.Time(1_700_000_000_000)
	f := &fakeAPI{token: "tok", series: model.Matrix{counterSeries("a:1", t0, 30), counterSeries("b:1", t0, 30)}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	newSampler := func(matchers ...string) *promsource.Sampler {
		s, err := promsource.NewSampler(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: "tok"}, Matchers: matchers}, 0)
		require.NoError(t, err)
		return s
	}
	ctx := context.Background()

	s := newSampler(`instance="a:1"`)
	now := t0.Add(5 * time.Second).Time()
	s.SetNow(func() time.Time { return now })
	commit := func() snapshot.VLLM {
		t.Helper()
		r := s.Sample(ctx)
		require.NoError(t, r.Err)
		require.NotNil(t, r.Commit)
		r.Commit(&r)
		return *r.VLLM
	}
	commit() // baseline: the sample at 5 s (value 50)
	_, ok := s.ServerStats()
	require.True(t, ok)
	now = now.Add(2500 * time.Millisecond) // samples at 6 and 7 s
	v := commit()
	require.Equal(t, 70.0, *v.GenerationTokensTotal)
	require.Equal(t, 1.0, *v.ScrapeIntervalS, "the last step is one Prometheus scrape")
	require.Equal(t, 10.0, *v.TokensPerSecond)
	now = now.Add(300 * time.Millisecond) // 7.8 s: nothing new
	r := s.Sample(ctx)
	require.NoError(t, r.Err)
	require.Nil(t, r.Commit)
	require.Equal(t, snapshot.VLLM{}, *r.VLLM)
	now = now.Add(2 * time.Second) // 9.8 s: samples at 8 and 9 s
	commit()
	st, _ := s.ServerStats()
	require.Equal(t, 5, st.Scrapes)
	require.Equal(t, 40.0, *st.GenerationTokens, "50 at 5 s → 90 at 9 s")
	require.Equal(t, `{instance="a:1", job="vllm"}`, s.Target())

	now = t0.Add(30 * time.Second).Time() // the rest of the series, to 29 s
	commit()
	now = t0.Add(89 * time.Second).Time() // a minute since the last sample: not yet stale
	r = s.Sample(ctx)
	require.NoError(t, r.Err)
	require.Nil(t, r.Commit)
	now = t0.Add(90 * time.Second).Time() // over a minute
	r = s.Sample(ctx)
	require.ErrorContains(t, r.Err, `no sample of {instance="a:1", job="vllm"} newer than`)

	s = newSampler(`instance="c:1"`)
	s.SetNow(func() time.Time { return t0.Add(5 * time.Second).Time() })
	require.ErrorContains(t, s.Sample(ctx).Err, `no vllm:* series matches {__name__=~"vllm:.*|process_start_time_seconds", instance="c:1"}`)
}

// TestSamplerFleet drives a live Sampler over two targets scraped a quarter second apart (each a counter
// sampled every second, value 10 per sample): the first reading makes them the replicas of one Fleet; each
// round holds each target's newest new scrape; a target with none that tick is nil in the round, which makes
// that tick's aggregate and the next one's rates unknown; the window's figures equal ReadFleet's over the same
// samples, whatever the rounds were.
func TestSamplerFleet(t *testing.T) {
	t0 := model.Time(1_700_000_000_000)
	// c appears at 20 s, after the first reading fixed the replicas.
	f := &fakeAPI{token: "tok", series: model.Matrix{counterSeries("a:1", t0, 30), counterSeries("b:1", t0+250, 30), counterSeries("c:1", t0+20_000, 10)}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: "tok"}}
	s, err := promsource.NewSampler(cfg, 0)
	require.NoError(t, err)
	now := t0.Add(5 * time.Second).Time()
	s.SetNow(func() time.Time { return now })
	ctx := context.Background()
	commit := func(at time.Duration) snapshot.VLLM {
		t.Helper()
		now = t0.Add(at).Time()
		r := s.Sample(ctx)
		require.NoError(t, r.Err)
		require.Equal(t, map[string]string{"a_1": "", "b_1": ""}, r.Parts)
		require.NotNil(t, r.Commit)
		r.Commit(&r)
		return *r.VLLM
	}
	v := commit(5 * time.Second) // baselines: a at 5 s (50), b at 4.25 s (40)
	require.Equal(t, map[string]string{"a_1": `{instance="a:1", job="vllm"}`, "b_1": `{instance="b:1", job="vllm"}`}, s.Replicas())
	require.Equal(t, "", s.Target())
	require.Equal(t, 90.0, *v.GenerationTokensTotal)
	require.Nil(t, v.TokensPerSecond)
	v = commit(7500 * time.Millisecond) // a at 6, 7 s; b at 5.25, 6.25, 7.25 s
	require.Equal(t, 140.0, *v.GenerationTokensTotal)
	require.Equal(t, 20.0, *v.TokensPerSecond, "each replica's last step: 10 tokens over 1 s")
	require.Equal(t, 10.0, *v.Replicas["b_1"].TokensPerSecond)

	now = t0.Add(7600 * time.Millisecond).Time() // nothing new
	r := s.Sample(ctx)
	require.NoError(t, r.Err)
	require.Nil(t, r.Commit)

	v = commit(8100 * time.Millisecond) // a at 8 s; b none: nil in the round
	require.Nil(t, v.GenerationTokensTotal, "the aggregate of a round missing a replica is unknown")
	require.Equal(t, 80.0, *v.Replicas["a_1"].GenerationTokensTotal)
	require.Equal(t, snapshot.VLLM{}, v.Replicas["b_1"])
	v = commit(9500 * time.Millisecond) // a at 9 s; b at 8.25, 9.25 s
	require.Equal(t, 180.0, *v.GenerationTokensTotal)
	require.Nil(t, v.TokensPerSecond, "b's step spans two ticks")

	st, ok := s.ServerStats()
	require.True(t, ok)
	require.Equal(t, 3, st.Scrapes, "rounds with both replicas")
	require.Equal(t, 5, st.Replicas["a_1"].Scrapes) // 5 … 9 s
	require.Equal(t, 6, st.Replicas["b_1"].Scrapes) // 4.25 … 9.25 s
	require.Equal(t, 90.0, *st.GenerationTokens, "a 50 → 90, b 40 → 90")
	c, err := promsource.New(cfg)
	require.NoError(t, err)
	defer c.Close()
	read, err := c.ReadFleet(ctx, t0.Add(4*time.Second).Time(), t0.Add(9500*time.Millisecond).Time())
	require.NoError(t, err)
	require.Equal(t, s.Replicas(), read.Replicas)
	require.Equal(t, read.Stats.Replicas, st.Replicas, "each replica's window is its own samples")
	require.Equal(t, read.Stats.Figures, st.Figures, "the aggregate does not depend on the rounds")
	require.Equal(t, 5, read.Stats.Scrapes, "ReadFleet's rounds: the k-th scrape of each")

	now = t0.Add(30 * time.Second).Time() // the rest: a to 29 s, b to 29.25 s; c matches too
	r = s.Sample(ctx)
	require.EqualError(t, r.Err, `promsource: target {instance="c:1", job="vllm"} matches but was not there at the first reading: left out`)
	require.Equal(t, map[string]string{"a_1": "", "b_1": ""}, r.Parts)
	require.NotNil(t, r.Commit, "the followed replicas' scrapes are kept")
	r.Commit(&r)
	require.Equal(t, 580.0, *r.VLLM.GenerationTokensTotal, "a's 290 plus b's 290")
	now = t0.Add(90500 * time.Millisecond).Time()
	r = s.Sample(ctx)
	require.ErrorContains(t, r.Err, `replica a_1: promsource: no sample of {instance="a:1", job="vllm"} newer than`)
	require.ErrorContains(t, r.Err, `replica b_1: promsource: no sample of {instance="b:1", job="vllm"} newer than`)
	require.Contains(t, r.Parts["a_1"], "no sample of")
	require.Nil(t, r.Commit)
}

// TestSamplerOneTargetThenTwo: a first reading with one target follows it alone, as before several servers
// existed; a second target matching later is an error naming both, and nothing is taken in.
func TestSamplerOneTargetThenTwo(t *testing.T) {
	t0 := model.Time(1_700_000_000_000)
	f := &fakeAPI{token: "tok", series: model.Matrix{counterSeries("a:1", t0, 30), counterSeries("b:1", t0+10_000, 10)}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s, err := promsource.NewSampler(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: "tok"}}, 0)
	require.NoError(t, err)
	now := t0.Add(5 * time.Second).Time()
	s.SetNow(func() time.Time { return now })
	r := s.Sample(context.Background())
	require.NoError(t, r.Err)
	require.Nil(t, r.Parts)
	r.Commit(&r)
	require.Equal(t, 50.0, *r.VLLM.GenerationTokensTotal)
	require.Nil(t, r.VLLM.Replicas)
	require.Equal(t, `{instance="a:1", job="vllm"}`, s.Target())
	require.Nil(t, s.Replicas())
	now = t0.Add(12 * time.Second).Time()
	r = s.Sample(context.Background())
	require.ErrorContains(t, r.Err, `2 targets match {__name__=~"vllm:.*|process_start_time_seconds"}: {instance="a:1", job="vllm"}; {instance="b:1", job="vllm"}; the first reading followed one ({instance="a:1", job="vllm"})`)
	require.Nil(t, r.Commit)
}

// TestSamplerFleetReplicaGoesSilent: a replica with no sample for over DefaultLookback is a failed part while
// the other's scrapes are taken in; the aggregate of that tick is unknown.
func TestSamplerFleetReplicaGoesSilent(t *testing.T) {
	t0 := model.Time(1_700_000_000_000)
	f := &fakeAPI{token: "tok", series: model.Matrix{counterSeries("a:1", t0, 120), counterSeries("b:1", t0, 11)}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s, err := promsource.NewSampler(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: "tok"}}, 0)
	require.NoError(t, err)
	now := t0.Add(5 * time.Second).Time()
	s.SetNow(func() time.Time { return now })
	r := s.Sample(context.Background())
	require.NoError(t, r.Err)
	r.Commit(&r)
	now = t0.Add(10 * time.Second).Time() // b's last sample
	r = s.Sample(context.Background())
	require.NoError(t, r.Err)
	r.Commit(&r)
	require.Equal(t, 200.0, *r.VLLM.GenerationTokensTotal)
	now = t0.Add(71 * time.Second).Time() // 61 s since b's last
	r = s.Sample(context.Background())
	require.ErrorContains(t, r.Err, `replica b_1: promsource: no sample of {instance="b:1", job="vllm"} newer than`)
	require.Equal(t, "", r.Parts["a_1"])
	require.Contains(t, r.Parts["b_1"], "no sample of")
	r.Commit(&r)
	require.Nil(t, r.VLLM.GenerationTokensTotal)
	require.Equal(t, 710.0, *r.VLLM.Replicas["a_1"].GenerationTokensTotal)
	st, _ := s.ServerStats()
	require.Equal(t, 67, st.Replicas["a_1"].Scrapes, "5 … 71 s")
	require.Equal(t, 710.0, *st.GenerationTokens, "a 50 → 710 (660), b 50 → 100 (50)")
}
