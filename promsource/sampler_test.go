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

	s := newSampler()
	s.SetNow(func() time.Time { return t0.Add(5 * time.Second).Time() })
	r := s.Sample(ctx)
	require.ErrorContains(t, r.Err, `2 targets match {__name__=~"vllm:.*|process_start_time_seconds"}: {instance="a:1", job="vllm"}; {instance="b:1", job="vllm"}; narrow the selectors`)

	s = newSampler(`instance="a:1"`)
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
	r = s.Sample(ctx)
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
