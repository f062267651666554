package promsource_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// scrapeInterval is the test Prometheus's scrape interval.
const scrapeInterval = 500 * time.Millisecond

// TestAgainstPrometheus starts a real Prometheus on loopback scraping two simulator replicas, drives load at
// both between idle moments, reads the window through promsource and checks every whole-window figure
// against what that Prometheus computes itself over the same samples: per target, a range that starts at its
// first sample in the window and ends at its last (so increase() extrapolates by a factor of exactly 1),
// evaluated at the last sample's time; and each interval's rates against rate() over exactly that step. On the
// way, a live Sampler on one replica must give the same window statistics as an end-of-window read over the
// samples it took in, and so must each replica of a collector (Options.Prometheus) that follows both. Then the
// aggregate over both replicas (ReadFleet) is checked against Prometheus's sum-by-le quantiles, summed
// increases and combined avg/max_over_time (checkFleet).
func TestAgainstPrometheus(t *testing.T) {
	bin := prometheusBinary(t)
	sims := []*vllmsim.Server{
		vllmsim.New(t, vllmsim.Config{Seed: 1, TTFTBase: 15 * time.Millisecond, TimePerOutputToken: 2 * time.Millisecond, Jitter: 0.5, MaxNumSeqs: 3, KVCacheTokens: 4096}),
		vllmsim.New(t, vllmsim.Config{Seed: 2, TTFTBase: 30 * time.Millisecond, TimePerOutputToken: 3 * time.Millisecond, Jitter: 0.5, MaxNumSeqs: 2, KVCacheTokens: 4096}),
	}
	promURL := startPrometheus(t, bin, sims)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := promsource.New(promsource.Config{URL: promURL, Job: "vllm"})
	require.NoError(t, err)
	defer c.Close()

	// Idle edge at the start: every target has a sample after `from` before any load.
	from := time.Now()
	waitSampleAfter(ctx, t, c, from, len(sims))
	// The live sampler follows the first replica: its first reading's baseline is its latest scrape.
	inst0 := strings.TrimPrefix(sims[0].URL, "http://")
	live, err := promsource.NewSampler(promsource.Config{URL: promURL, Job: "vllm", Matchers: []string{`instance="` + inst0 + `"`}}, 0)
	require.NoError(t, err)
	defer live.Close()
	require.True(t, sample(ctx, t, live), "the baseline")
	// The collector follows both replicas through Options.Prometheus, a reading a second: each has 800 ms for
	// its query, which a loaded machine's race run needs (at 200 ms every reading could miss its deadline).
	coll, err := vmtest.Start(ctx, vmtest.Options{Interval: time.Second, NoSystem: true, GPUSource: "none", OutputDir: t.TempDir(),
		Prometheus: &promsource.Config{URL: promURL, Job: "vllm"}})
	require.NoError(t, err)
	drive(t, sims)
	sample(ctx, t, live) // a reading in the middle, when Prometheus has scraped since
	// Idle edge at the end: a sample after the load ended, then one more (the last sample of the window is
	// idle and so is the step before it).
	loadEnd := time.Now()
	waitSampleAfter(ctx, t, c, loadEnd, len(sims))
	waitSampleAfter(ctx, t, c, time.Now(), len(sims))
	to := time.Now()
	require.True(t, sample(ctx, t, live), "the samples after the load")
	checkLive(ctx, t, c, live, inst0)
	waitTakenIn(t, coll, to, len(sims))
	sum, err := coll.Finish()
	require.NoError(t, err)
	checkCollector(ctx, t, c, sum, sims)

	res, err := c.Read(ctx, from, to)
	require.NoError(t, err)
	require.Len(t, res, len(sims), "one result per replica")
	papi := newAPI(t, promURL)
	byInst := map[string]promsource.Result{}
	for _, r := range res {
		require.Equal(t, "vllm", r.Target["job"])
		require.Len(t, r.Target, 2, "the target labels are job and instance")
		byInst[r.Target["instance"]] = r
	}
	for _, s := range sims {
		inst := strings.TrimPrefix(s.URL, "http://")
		r, ok := byInst[inst]
		require.True(t, ok, "no result for %s", inst)
		t.Run(inst, func(t *testing.T) { checkTarget(ctx, t, papi, inst, r) })
	}
	fr, err := c.ReadFleet(ctx, from, to)
	require.NoError(t, err)
	t.Run("aggregate", func(t *testing.T) { checkFleet(ctx, t, papi, fr, byInst) })
}

// sample takes one live reading and commits it, as the collector does with a reading it keeps; false when
// the reading had no new sample (no Commit, every field nil).
func sample(ctx context.Context, t *testing.T, s *promsource.Sampler) bool {
	t.Helper()
	r := s.Sample(ctx)
	require.NoError(t, r.Err)
	if r.Commit == nil {
		require.Equal(t, snapshot.VLLM{}, *r.VLLM)
		return false
	}
	r.Commit(&r)
	return true
}

// checkLive checks that the live sampler's window equals an end-of-window read over the same samples: from
// its baseline scrape to its last.
func checkLive(ctx context.Context, t *testing.T, c *promsource.Client, live *promsource.Sampler, inst string) {
	st, ok := live.ServerStats()
	require.True(t, ok)
	require.Equal(t, `{instance="`+inst+`", job="vllm"}`, live.Target())
	res, err := c.Read(ctx, st.Start.Add(-time.Millisecond), *st.End)
	require.NoError(t, err)
	for _, r := range res {
		if r.Target["instance"] == inst {
			require.Equal(t, r.Stats, st, "live and end-of-window reads agree")
			require.Greater(t, *st.GenerationTokens, 0.0)
			return
		}
	}
	t.Fatalf("no end-of-window result for %s", inst)
}

// waitTakenIn waits until the collector has committed, on ticks after at, a new scrape of each of n replicas:
// each has then taken in every sample up to at (a tick whose reading missed its deadline takes nothing in,
// and the next one reads from the last scrape it took in).
func waitTakenIn(t *testing.T, coll *vmtest.Collector, at time.Time, n int) {
	t.Helper()
	waitFor(t, nil, func() bool {
		seen := map[string]bool{}
		for _, s := range coll.Snapshots() {
			for name, r := range s.VLLMMetrics.Replicas {
				if s.Timestamp.After(at) && r.GenerationTokensTotal != nil {
					seen[name] = true
				}
			}
		}
		return len(seen) == n
	})
}

// checkCollector checks that each replica of the collector's server statistics equals an end-of-window read
// over the samples its window spans.
func checkCollector(ctx context.Context, t *testing.T, c *promsource.Client, sum *summary.Summary, sims []*vllmsim.Server) {
	require.NotNil(t, sum.Server)
	st := *sum.Server
	for k, v := range sum.Sources {
		t.Logf("source %s: %d readings, %d failed %q", k, v.Readings, v.Failed, v.DominantError)
	}
	for k, v := range st.Replicas {
		t.Logf("replica %s: %d scrapes", k, v.Scrapes)
	}
	require.Len(t, st.Replicas, len(sims))
	require.NotNil(t, st.GenerationTokens)
	csvData, err := os.ReadFile(sum.Files["snapshots_csv"])
	require.NoError(t, err)
	header, _, _ := strings.Cut(string(csvData), "\n")
	for _, s := range sims {
		inst := strings.TrimPrefix(s.URL, "http://")
		name := strings.NewReplacer(".", "_", ":", "_").Replace(inst)
		rs, ok := st.Replicas[name]
		require.True(t, ok, "no replica %s in %v", name, st.Replicas)
		require.Contains(t, header, ",replica_"+name+"_", "the CSV has the replica's columns")
		require.Greater(t, rs.Scrapes, 2)
		res, err := c.Read(ctx, rs.Start.Add(-time.Millisecond), *rs.End)
		require.NoError(t, err)
		found := false
		for _, r := range res {
			if r.Target["instance"] == inst {
				require.Equal(t, r.Stats, rs, "the collector's replica window and an end-of-window read agree")
				require.Greater(t, *rs.GenerationTokens, 0.0)
				found = true
			}
		}
		require.True(t, found, "no end-of-window result for %s", inst)
	}
}

// checkFleet compares the aggregate over both replicas with Prometheus's own functions over the same samples:
// each target's range runs from its first sample in the window to its last, pinned with `@` (so increase()
// extrapolates by exactly 1 for each), and the targets' vectors are joined with `or` before the aggregation.
func checkFleet(ctx context.Context, t *testing.T, papi v1.API, fr promsource.FleetResult, byInst map[string]promsource.Result) {
	s := fr.Stats
	require.Len(t, s.Replicas, len(byInst))
	var end time.Time
	for _, r := range byInst {
		end = maxTime(end, *r.Stats.End)
	}
	// over is `fn(metric{job, instance}[R] @ T) or …` over every target.
	over := func(fn, metric string) string {
		var parts []string
		for inst, r := range byInst {
			first, last := *r.Stats.Start, *r.Stats.End
			parts = append(parts, fmt.Sprintf(`%s(%s{job="vllm", instance=%q}[%dms] @ %.3f)`, fn, metric, inst,
				last.Sub(first).Milliseconds(), float64(last.UnixMilli())/1000))
		}
		return strings.Join(parts, " or ")
	}
	q := func(expr string) float64 {
		t.Helper()
		v, _, _, err := papi.Query(ctx, expr, end)
		require.NoError(t, err, expr)
		vec, ok := v.(model.Vector)
		require.True(t, ok && len(vec) == 1, "%s: %v", expr, v)
		return float64(vec[0].Value)
	}
	require.Equal(t, q("sum("+over("increase", "vllm:generation_tokens_total")+")"), *s.GenerationTokens)
	require.Equal(t, q("sum("+over("increase", "vllm:prompt_tokens_total")+")"), *s.PromptTokens)
	require.Equal(t, q("sum("+over("increase", "vllm:request_success_total")+")"), *s.RequestSuccess)
	hists := map[string]*serverstats.Histogram{
		"vllm:time_to_first_token_seconds": s.TTFT,
		"vllm:e2e_request_latency_seconds": s.E2ELatency,
		"vllm:inter_token_latency_seconds": s.ITL,
	}
	for name, h := range hists {
		require.NotNil(t, h, name)
		require.Equal(t, q("sum("+over("increase", name+"_count")+")"), h.Count, name)
		agree(t, q("sum("+over("increase", name+"_sum")+")")*1000, h.SumMS, name)
		for _, qq := range []struct {
			q float64
			v *serverstats.Quantile
		}{{0.5, h.P50MS}, {0.9, h.P90MS}, {0.99, h.P99MS}} {
			want := q(fmt.Sprintf("histogram_quantile(%g, sum by (le) (%s))", qq.q, over("increase", name+"_bucket"))) * 1000
			require.NotNil(t, qq.v, "%s p%g", name, qq.q*100)
			agree(t, want, histogramQuantileMS(*qq.v), fmt.Sprintf("%s p%g", name, qq.q*100))
		}
	}
	// Queue and batch: the replicas' means and maxima summed; KV-cache: their means averaged, the largest max.
	gauges := []struct {
		name      string
		g         *serverstats.Gauge
		mean, max string
		scale     float64
	}{
		{"vllm:num_requests_running", s.ActiveBatchSize, "sum", "sum", 1},
		{"vllm:num_requests_waiting", s.RequestQueueSize, "sum", "sum", 1},
		{"vllm:kv_cache_usage_perc", s.KVCacheUsagePercent, "avg", "max", 100},
	}
	for _, g := range gauges {
		require.NotNil(t, g.g, g.name)
		require.Equal(t, q("sum("+over("count_over_time", g.name)+")"), float64(g.g.Samples), g.name)
		agree(t, q(g.mean+"("+over("avg_over_time", g.name)+")")*g.scale, *g.g.Mean, g.name)
		agree(t, q(g.max+"("+over("max_over_time", g.name)+")")*g.scale, *g.g.Max, g.name)
	}
	require.Greater(t, *s.ActiveBatchSize.Max, 1.0, "the load reached both replicas")
	t.Logf("aggregate of %d replicas: %g generation tokens, %g requests, TTFT p50 %.3f p99 %.3f ms, batch mean %.3f max %g",
		len(s.Replicas), *s.GenerationTokens, s.E2ELatency.Count, histogramQuantileMS(*s.TTFT.P50MS), histogramQuantileMS(*s.TTFT.P99MS),
		*s.ActiveBatchSize.Mean, *s.ActiveBatchSize.Max)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// checkTarget compares one target's Stats with Prometheus's own functions over the same samples.
func checkTarget(ctx context.Context, t *testing.T, papi v1.API, inst string, r promsource.Result) {
	s := r.Stats
	require.NotNil(t, s.Start)
	require.Greater(t, s.Scrapes, 4)
	first, last := *s.Start, *s.End
	rng := fmt.Sprintf("%dms", last.Sub(first).Milliseconds())
	sel := fmt.Sprintf(`{job="vllm", instance=%q}`, inst)
	q := func(expr string) float64 {
		t.Helper()
		v, _, _, err := papi.Query(ctx, expr, last)
		require.NoError(t, err, expr)
		vec, ok := v.(model.Vector)
		require.True(t, ok && len(vec) == 1, "%s: %v", expr, v)
		return float64(vec[0].Value)
	}
	// The range holds exactly the samples promsource read: Prometheus 2 (Debian's) selects [T−R, T], both ends
	// included. Prometheus 3 leaves the start out, and this comparison would need R to reach before it.
	require.Equal(t, float64(s.Scrapes), q("count_over_time(vllm:generation_tokens_total"+sel+"["+rng+"])"),
		"the range selector's samples (a Prometheus 3 leaves out the one at the range's start)")

	require.NotNil(t, s.GenerationTokens)
	require.Greater(t, *s.GenerationTokens, 0.0)
	require.Equal(t, q("increase(vllm:generation_tokens_total"+sel+"["+rng+"])"), *s.GenerationTokens)
	require.Equal(t, q("increase(vllm:prompt_tokens_total"+sel+"["+rng+"])"), *s.PromptTokens)
	require.Equal(t, q("sum(increase(vllm:request_success_total"+sel+"["+rng+"]))"), *s.RequestSuccess)

	hists := map[string]*serverstats.Histogram{
		"vllm:time_to_first_token_seconds": s.TTFT,
		"vllm:e2e_request_latency_seconds": s.E2ELatency,
		"vllm:request_queue_time_seconds":  s.QueueTime,
		"vllm:inter_token_latency_seconds": s.ITL,
	}
	for name, h := range hists {
		require.NotNil(t, h, name)
		require.Equal(t, q("increase("+name+"_count"+sel+"["+rng+"])"), h.Count, name)
		agree(t, q("increase("+name+"_sum"+sel+"["+rng+"])")*1000, h.SumMS, name)
		for _, qq := range []struct {
			q float64
			v *serverstats.Quantile
		}{{0.5, h.P50MS}, {0.9, h.P90MS}, {0.99, h.P99MS}} {
			want := q(fmt.Sprintf("histogram_quantile(%g, sum by (le) (increase(%s_bucket%s[%s])))", qq.q, name, sel, rng)) * 1000
			require.NotNil(t, qq.v, "%s p%g", name, qq.q*100)
			agree(t, want, histogramQuantileMS(*qq.v), fmt.Sprintf("%s p%g", name, qq.q*100))
		}
	}

	gauges := []struct {
		name  string
		g     *serverstats.Gauge
		scale float64
	}{
		{"vllm:kv_cache_usage_perc", s.KVCacheUsagePercent, 100},
		{"vllm:num_requests_running", s.ActiveBatchSize, 1},
		{"vllm:num_requests_waiting", s.RequestQueueSize, 1},
	}
	for _, g := range gauges {
		require.NotNil(t, g.g, g.name)
		require.Equal(t, s.Scrapes, g.g.Samples, g.name)
		agree(t, q("avg_over_time("+g.name+sel+"["+rng+"])")*g.scale, *g.g.Mean, g.name)
		require.Equal(t, q("max_over_time("+g.name+sel+"["+rng+"])")*g.scale, *g.g.Max, g.name)
	}
	require.Greater(t, *s.ActiveBatchSize.Max, 0.0, "the load reached the replica")
	t.Logf("%d scrapes over %s: %g generation tokens, %g requests, TTFT p50 %.3f p99 %.3f ms, KV-cache mean %.3f %% max %.3f %%",
		s.Scrapes, rng, *s.GenerationTokens, s.E2ELatency.Count, histogramQuantileMS(*s.TTFT.P50MS), histogramQuantileMS(*s.TTFT.P99MS),
		*s.KVCacheUsagePercent.Mean, *s.KVCacheUsagePercent.Max)
	require.Len(t, r.Intervals, s.Scrapes-1)
	// Per interval: each step's rates are Prometheus's rate() over exactly that step (its two samples).
	prev := first
	busy := 0
	for _, iv := range r.Intervals {
		step := fmt.Sprintf("%dms", iv.At.Sub(prev).Milliseconds())
		at := func(expr string) float64 {
			v, _, _, err := papi.Query(ctx, expr, iv.At)
			require.NoError(t, err, expr)
			return float64(v.(model.Vector)[0].Value)
		}
		require.NotNil(t, iv.VLLM.TokensPerSecond)
		agree(t, at("rate(vllm:generation_tokens_total"+sel+"["+step+"])"), *iv.VLLM.TokensPerSecond, fmt.Sprint("tokens/s at ", iv.At))
		agree(t, at("rate(vllm:prompt_tokens_total"+sel+"["+step+"])"), *iv.VLLM.PromptTokensPerSecond, fmt.Sprint("prompt tokens/s at ", iv.At))
		if *iv.VLLM.TokensPerSecond > 0 {
			busy++
		}
		prev = iv.At
	}
	require.Greater(t, busy, 0, "some interval saw the load")
}

// agree checks two computations of one figure: equal to 1e-9 relative (1e-9 absolute near 0), which
// covers the order of float additions and a ms conversion.
func agree(t *testing.T, prometheus, vmtest float64, what string) {
	t.Helper()
	require.InDelta(t, prometheus, vmtest, 1e-9*max(1, math.Abs(prometheus)), what)
}

// histogramQuantileMS is what Prometheus's histogram_quantile gives for q: the interpolated value where
// vmtest narrowed it with the _sum, the highest finite bound where it lies in the +Inf bucket.
func histogramQuantileMS(q serverstats.Quantile) float64 {
	switch {
	case q.InterpolatedMS != nil:
		return *q.InterpolatedMS
	case q.ValueMS != nil:
		return *q.ValueMS
	case q.LowerBoundMS != nil:
		return *q.LowerBoundMS
	}
	return math.NaN()
}

// prometheusBinary finds the prometheus binary; without it the test skips, or fails under CI.
func prometheusBinary(t *testing.T) string {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("prometheus not found (CI is set): apt-get install prometheus")
		}
		t.Skip("prometheus not found: apt-get install prometheus")
	}
	return bin
}

// startPrometheus runs Prometheus on a free loopback port with its own config and data directory, scraping
// the simulators as job "vllm", and returns its URL once it is ready.
func startPrometheus(t *testing.T, bin string, sims []*vllmsim.Server) string {
	dir := t.TempDir()
	var targets []string
	for _, s := range sims {
		targets = append(targets, fmt.Sprintf("%q", strings.TrimPrefix(s.URL, "http://")))
	}
	cfg := fmt.Sprintf("global:\n  scrape_interval: %s\n  scrape_timeout: %s\nscrape_configs:\n  - job_name: vllm\n    static_configs:\n      - targets: [%s]\n",
		scrapeInterval, scrapeInterval, strings.Join(targets, ", "))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	var mu sync.Mutex
	cmd.Stdout, cmd.Stderr = lockedWriter{&mu, &logs}, lockedWriter{&mu, &logs}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("prometheus log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	u := "http://" + addr
	waitFor(t, done, func() bool {
		resp, err := http.Get(u + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return u
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// waitFor polls cond every 50 ms until it holds; it fails the test when the process ends first or after a
// minute (a broken setup, not a slow machine: each condition needs a few scrapes).
func waitFor(t *testing.T, exited <-chan struct{}, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(time.Minute)
	for !cond() {
		select {
		case <-exited:
			t.Fatal("prometheus exited")
		case <-limit:
			t.Fatal("condition not met within a minute")
		case <-tick.C:
		}
	}
}

// waitSampleAfter waits until n targets have a vllm sample stamped after at.
func waitSampleAfter(ctx context.Context, t *testing.T, c *promsource.Client, at time.Time, n int) {
	t.Helper()
	waitFor(t, nil, func() bool {
		now := time.Now()
		if !now.After(at) {
			return false
		}
		m, err := c.Samples(ctx, at, now)
		require.NoError(t, err)
		return len(promsource.Targets(m, promsource.DefaultTargetLabels, "")) >= n
	})
}

// drive sends 40 completions of varied lengths to each replica, 4 at a time per replica.
func drive(t *testing.T, sims []*vllmsim.Server) {
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(sims))
	for _, s := range sims {
		for w := range 4 {
			wg.Go(func() {
				for i := range 10 {
					body := fmt.Sprintf(`{"model": %q, "prompt": "%s", "max_tokens": %d}`, vllmsim.DefaultModel,
						strings.Repeat("word ", 5+7*i+w), 4+5*((i+w)%7))
					resp, err := http.Post(s.URL+"/v1/completions", "application/json", strings.NewReader(body))
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errs <- fmt.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func newAPI(t *testing.T, u string) v1.API {
	_, err := url.Parse(u)
	require.NoError(t, err)
	c, err := api.NewClient(api.Config{Address: u})
	require.NoError(t, err)
	return v1.NewAPI(c)
}
