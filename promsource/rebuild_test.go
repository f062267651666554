package promsource_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/vllmsim"
)

// TestRebuiltScrapesAgreeWithDirectScrapes takes /metrics bodies of two simulators between rounds of load,
// turns them into the samples Prometheus would store (flattened here: one series per counter, gauge, bucket,
// _sum and _count, with job and instance labels) and checks that promsource's rebuilt scrapes give the same
// whole-window Stats and per-interval figures as the bodies parsed directly (serverstats.Parse).
func TestRebuiltScrapesAgreeWithDirectScrapes(t *testing.T) {
	sims := []*vllmsim.Server{
		vllmsim.New(t, vllmsim.Config{Seed: 3, TTFTBase: time.Millisecond, TimePerOutputToken: time.Millisecond / 4, KVCacheTokens: 2048}),
		vllmsim.New(t, vllmsim.Config{Seed: 4, TTFTBase: 2 * time.Millisecond, TimePerOutputToken: time.Millisecond / 2, KVCacheTokens: 2048}),
	}
	t0 := time.Unix(1_700_000_000, 0)
	var m model.Matrix
	direct := make([][]serverstats.Scrape, len(sims))
	series := map[string]*model.SampleStream{}
	for round := range 5 {
		if round > 0 {
			load(t, sims, round)
		}
		at := t0.Add(time.Duration(round) * time.Second)
		for i, s := range sims {
			body := get(t, s.URL+"/metrics")
			sc, err := serverstats.Parse(body, at, "")
			require.NoError(t, err)
			direct[i] = append(direct[i], sc)
			flatten(t, body, at, model.LabelSet{"job": "vllm", "instance": model.LabelValue(fmt.Sprint("replica-", i))}, vllmSeries, series, &m)
		}
	}
	targets := promsource.Targets(m, promsource.DefaultTargetLabels, "")
	require.Len(t, targets, 2)
	for i, tg := range targets {
		require.Equal(t, map[string]string{"job": "vllm", "instance": fmt.Sprint("replica-", i)}, tg.Labels)
		require.Len(t, tg.Scrapes, 5)
		w, iv, _ := tg.Replay(0)
		dw, div, _ := promsource.Target{Scrapes: direct[i]}.Replay(0)
		got, want := w.Summary(), dw.Summary()
		require.Greater(t, *got.GenerationTokens, 0.0)
		require.NotNil(t, got.TTFT.P50MS.ValueMS)
		require.Equal(t, want, got, "whole window, replica %d", i)
		require.Equal(t, div, iv, "per interval, replica %d", i)
		require.Len(t, iv, 4)
		require.NotNil(t, iv[0].VLLM.TokensPerSecond)
	}

	// A model filter: the simulator's model keeps every series; another one is refused, naming the model.
	kept := promsource.Targets(m, promsource.DefaultTargetLabels, vllmsim.DefaultModel)
	w, _, _ := kept[0].Replay(0)
	w0, _, _ := targets[0].Replay(0)
	require.Equal(t, w0.Summary(), w.Summary())
	srv := httptest.NewServer(&fakeAPI{token: "tok", series: m})
	defer srv.Close()
	c, err := promsource.New(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: "tok"}, Model: "other"})
	require.NoError(t, err)
	_, err = c.Read(context.Background(), t0.Add(-time.Second), t0.Add(5*time.Second))
	require.ErrorContains(t, err, `promsource: no series of {instance="replica-0", job="vllm"} with model_name="other" (Config.Model); it has ["`+vllmsim.DefaultModel+`"]`)
}

// vllmSeries keeps what the vLLM queries select.
func vllmSeries(name string) bool {
	return strings.HasPrefix(name, "vllm:") || name == "process_start_time_seconds"
}

// flatten parses a text exposition and appends each sample of the families keep keeps to the series of m it
// belongs to, as a Prometheus scrape stores it (the histogram's +Inf bucket included).
func flatten(t testing.TB, body []byte, at time.Time, target model.LabelSet, keep func(string) bool, series map[string]*model.SampleStream, m *model.Matrix) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err)
	ts := model.TimeFromUnixNano(at.UnixNano())
	put := func(name string, labels []*dto.LabelPair, extra model.LabelSet, v float64) {
		ls := model.Metric{model.MetricNameLabel: model.LabelValue(name)}
		for k, x := range target {
			ls[k] = x
		}
		for _, l := range labels {
			ls[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
		}
		for k, x := range extra {
			ls[k] = x
		}
		key := ls.String()
		s := series[key]
		if s == nil {
			s = &model.SampleStream{Metric: ls}
			series[key] = s
			*m = append(*m, s)
		}
		s.Values = append(s.Values, model.SamplePair{Timestamp: ts, Value: model.SampleValue(v)})
	}
	for name, f := range fams {
		if !keep(name) {
			continue
		}
		for _, sm := range f.GetMetric() {
			switch {
			case sm.Counter != nil:
				put(name, sm.Label, nil, sm.GetCounter().GetValue())
			case sm.Gauge != nil:
				put(name, sm.Label, nil, sm.GetGauge().GetValue())
			case sm.Untyped != nil:
				put(name, sm.Label, nil, sm.GetUntyped().GetValue())
			case sm.Histogram != nil:
				h := sm.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
					put(name+"_bucket", sm.Label, model.LabelSet{"le": model.LabelValue(strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))}, float64(b.GetCumulativeCount()))
				}
				if !inf {
					put(name+"_bucket", sm.Label, model.LabelSet{"le": "+Inf"}, float64(h.GetSampleCount()))
				}
				put(name+"_sum", sm.Label, nil, h.GetSampleSum())
				put(name+"_count", sm.Label, nil, float64(h.GetSampleCount()))
			}
		}
	}
}

// load sends a few completions to each simulator.
func load(t *testing.T, sims []*vllmsim.Server, round int) {
	var wg sync.WaitGroup
	for _, s := range sims {
		for w := range 3 {
			wg.Go(func() {
				body := fmt.Sprintf(`{"model": %q, "prompt": "%s", "max_tokens": %d}`, vllmsim.DefaultModel,
					strings.Repeat("word ", 3+round+w), 2+3*round+w)
				resp, err := http.Post(s.URL+"/v1/completions", "application/json", strings.NewReader(body))
				if err == nil {
					resp.Body.Close()
				}
			})
		}
	}
	wg.Wait()
}

func get(t testing.TB, u string) []byte {
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}
