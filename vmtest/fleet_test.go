package vmtest

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	vassert "github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/vllmsim"
)

// simBuckets reads a simulator's TTFT histogram straight from its /metrics: cumulative count per `le`, and
// the generation-token counter. A simulator starts at 0, so these are the increases over the run.
func simBuckets(t *testing.T, url string) (map[float64]float64, float64) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	b := map[float64]float64{}
	for _, m := range fams["vllm:time_to_first_token_seconds"].GetMetric() {
		for _, bk := range m.GetHistogram().GetBucket() {
			if !math.IsInf(bk.GetUpperBound(), 1) {
				b[bk.GetUpperBound()] += float64(bk.GetCumulativeCount())
			}
		}
		b[math.Inf(1)] += float64(m.GetHistogram().GetSampleCount())
	}
	var gen float64
	for _, m := range fams["vllm:generation_tokens_total"].GetMetric() {
		gen += m.GetCounter().GetValue()
	}
	return b, gen
}

// histogramQuantile is Prometheus's histogram_quantile over cumulative buckets (written here from its
// definition, independently of serverstats): rank q·n, the first bucket whose count reaches it, linear
// interpolation inside it from the previous bound (0 below the first).
func histogramQuantile(q float64, cum map[float64]float64) float64 {
	bounds := make([]float64, 0, len(cum))
	for b := range cum {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	rank := q * cum[math.Inf(1)]
	prevB, prevC := 0.0, 0.0
	for _, b := range bounds {
		if c := cum[b]; c >= rank {
			return prevB + (b-prevB)*(rank-prevC)/(c-prevC)
		}
		prevB, prevC = b, cum[b]
	}
	return math.NaN()
}

// interpolated is histogram_quantile's figure of q: its InterpolatedMS where the _sum bound lowered ValueMS.
func interpolated(q *serverstats.Quantile) float64 {
	switch {
	case q == nil:
		return math.NaN()
	case q.InterpolatedMS != nil:
		return *q.InterpolatedMS
	case q.ValueMS != nil:
		return *q.ValueMS
	}
	return math.NaN()
}

// Three simulator replicas with different TTFTs and loads (10, 20 and 30 requests): each replica's figures
// are its own, and the aggregate is their sum, its TTFT quantiles histogram_quantile of the summed buckets —
// in the summary, in the one-interval snapshot, in the JSON and in the CSV's replica columns.
func TestSeveralServersAggregate(t *testing.T) {
	ttft := []time.Duration{20 * time.Millisecond, 70 * time.Millisecond, 300 * time.Millisecond}
	names := []string{"a", "b", "c"}
	var sims []*vllmsim.Server
	var servers []Server
	for i, d := range ttft {
		sims = append(sims, vllmsim.New(t, vllmsim.Config{Seed: uint64(i + 1), TTFTBase: d}))
		servers = append(servers, Server{Name: names[i], BaseURL: sims[i].URL})
	}
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Servers: servers, Interval: time.Minute, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c, "%v", ft.fatal)
	for i, s := range sims {
		_, err := loadgen.Run(context.Background(), loadgen.LoadConfig{
			Client: loadgen.ClientConfig{BaseURL: s.URL}, Prompts: loadgen.TextPrompts("a b c"),
			Params: loadgen.Params{MaxTokens: 3}, Concurrency: 5 * (i + 1), Requests: 10 * (i + 1), Sink: c,
		})
		require.NoError(t, err)
	}
	ft.runCleanups()
	sum := c.Summary()
	require.NotNil(t, sum.Server, "sources: %+v", sum.Sources)

	merged := map[float64]float64{}
	var gen float64
	for i, s := range sims {
		b, g := simBuckets(t, s.URL)
		r := sum.Server.Replicas[names[i]]
		require.NotNil(t, r.TTFT, names[i])
		assert.Equal(t, float64(10*(i+1)), r.TTFT.Count, names[i])
		assert.Equal(t, g, *r.GenerationTokens, names[i])
		assert.InDelta(t, histogramQuantile(0.5, b)*1000, interpolated(r.TTFT.P50MS), 1e-9, names[i])
		for le, n := range b {
			merged[le] += n
		}
		gen += g
	}
	assert.Equal(t, 60.0, sum.Server.TTFT.Count)
	assert.Equal(t, gen, *sum.Server.GenerationTokens)
	assert.Equal(t, 180.0, gen, "60 requests × 3 tokens")
	for _, q := range []struct {
		q   float64
		got *serverstats.Quantile
	}{{0.5, sum.Server.TTFT.P50MS}, {0.9, sum.Server.TTFT.P90MS}} {
		assert.InDelta(t, histogramQuantile(q.q, merged)*1000, interpolated(q.got), 1e-9, "p%v", q.q*100)
	}
	v, err := sum.Lookup("server.ttft.p50")
	require.NoError(t, err)
	assert.Equal(t, *sum.Server.TTFT.P50MS.ValueMS, v.Value)
	v, err = sum.Lookup("replica.c.server.ttft.p50")
	require.NoError(t, err)
	assert.Equal(t, *sum.Server.Replicas["c"].TTFT.P50MS.ValueMS, v.Value)
	v, err = sum.Lookup("replica.b.server.generation_tokens")
	require.NoError(t, err)
	assert.Equal(t, 60.0, v.Value, "20 requests × 3 tokens")

	// The last snapshot's interval is the whole run: the same aggregate and replicas, in JSON and CSV too.
	snaps := c.Snapshots()
	last := snaps[len(snaps)-1].VLLMMetrics
	require.NotNil(t, last.ServerTTFTP50MS)
	assert.Equal(t, *sum.Server.TTFT.P50MS.ValueMS, *last.ServerTTFTP50MS)
	assert.Equal(t, 60.0, *last.ServerRequestsFinished)
	assert.Equal(t, 20.0, *last.Replicas["b"].ServerRequestsFinished)

	files := c.Files()
	raw, err := os.ReadFile(files["snapshots_json"])
	require.NoError(t, err)
	var doc struct {
		Snapshots []struct {
			VLLM struct {
				Finished *float64 `json:"server_requests_finished"`
				Replicas map[string]struct {
					Finished *float64 `json:"server_requests_finished"`
				} `json:"replicas"`
			} `json:"vllm_metrics"`
		} `json:"snapshots"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc), "%.300s", raw)
	lj := doc.Snapshots[len(doc.Snapshots)-1].VLLM
	assert.Equal(t, 60.0, *lj.Finished)
	assert.Equal(t, 30.0, *lj.Replicas["c"].Finished)

	col, rows := testio.CSVFile(t, files["snapshots_csv"])
	lastRow := rows[len(rows)-1]
	for name, want := range map[string]string{"server_requests_finished": "60", "replica_a_server_requests_finished": "10",
		"replica_b_server_requests_finished": "20", "replica_c_server_requests_finished": "30"} {
		require.Contains(t, col, name)
		assert.Equal(t, want, lastRow[col[name]], name)
	}
	assert.NotContains(t, col, "replica_a_p50_latency_ms", "client columns are the run's, not a replica's")
	assert.Less(t, col["errors"], col["replica_a_tokens_per_second"], "replica columns come after the original ones")
}

// downWhen serves h until down is closed, then answers 503 to everything.
func downWhen(t *testing.T, h http.Handler, down <-chan struct{}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-down:
			http.Error(w, "replica down", http.StatusServiceUnavailable)
		default:
			h.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Two replicas; b is down at the run's last scrape: a's figures are whole, b's interval is null and named
// in the errors, the aggregate interval is null, and the window's aggregate is a's increase (b's only scrape
// was its baseline).
func TestSeveralServersOneDown(t *testing.T) {
	a := vllmsim.New(t, vllmsim.Config{Seed: 1})
	b := vllmsim.New(t, vllmsim.Config{Seed: 2})
	down := make(chan struct{})
	bURL := downWhen(t, b.Handler(), down)
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Servers: []Server{{BaseURL: a.URL}, {BaseURL: bURL}}, Interval: time.Minute,
		OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c, "%v", ft.fatal)
	for _, u := range []string{a.URL, b.URL} {
		_, err := loadgen.Run(context.Background(), loadgen.LoadConfig{
			Client: loadgen.ClientConfig{BaseURL: u}, Prompts: loadgen.TextPrompts("a b c"),
			Params: loadgen.Params{MaxTokens: 2}, Concurrency: 2, Requests: 6, Sink: c,
		})
		require.NoError(t, err)
	}
	close(down)
	ft.runCleanups()
	sum := c.Summary()
	snaps := c.Snapshots()
	last := snaps[len(snaps)-1]
	assert.Contains(t, last.Errors["vllm"], "replica r1: ")
	assert.Contains(t, last.Errors["vllm"], "503")
	assert.NotContains(t, last.Errors["vllm"], "replica r0")
	assert.Equal(t, 6.0, *last.VLLMMetrics.Replicas["r0"].ServerRequestsFinished)
	assert.Nil(t, last.VLLMMetrics.Replicas["r1"].ServerRequestsFinished)
	assert.Nil(t, last.VLLMMetrics.ServerRequestsFinished, "aggregate unknown with a replica down")
	assert.Nil(t, last.VLLMMetrics.ActiveBatchSize)

	// Each replica has a status of its own: r1's outage is its alone.
	r0, r1 := sum.Sources["vllm.r0"], sum.Sources["vllm.r1"]
	assert.Equal(t, []int{2, 0, 0}, []int{r0.Readings, r0.Failed, len(r0.Outages)})
	assert.Equal(t, []int{2, 1, 1}, []int{r1.Readings, r1.Failed, len(r1.Outages)})
	require.Len(t, r1.Outages, 1)
	assert.True(t, r1.Outages[0].Ongoing)
	assert.Contains(t, r1.Outages[0].Reason, "503")
	assert.NotContains(t, r1.Outages[0].Reason, "replica r1", "its own status needs no prefix")

	require.NotNil(t, sum.Server)
	assert.Equal(t, 2, sum.Server.Replicas["r0"].Scrapes)
	assert.Equal(t, 1, sum.Server.Replicas["r1"].Scrapes)
	assert.Equal(t, 6.0, sum.Server.TTFT.Count)
	assert.Equal(t, 12.0, *sum.Server.GenerationTokens)
	assert.Equal(t, 1, sum.Server.Scrapes, "one round had both replicas")
}

// A one-entry Servers is VLLMBaseURL: no replica figures anywhere; Servers and VLLMBaseURL together are
// refused, as are repeated names.
func TestServersOptions(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{Seed: 1})
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Servers: []Server{{Name: "only", BaseURL: sim.URL}}, Interval: time.Minute,
		OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c, "%v", ft.fatal)
	ft.runCleanups()
	require.NotNil(t, c.Summary().Server)
	assert.Nil(t, c.Summary().Server.Replicas)
	for _, s := range c.Snapshots() {
		assert.Nil(t, s.VLLMMetrics.Replicas)
	}
	raw, err := os.ReadFile(c.Files()["snapshots_csv"])
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "replica_")

	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Servers: []Server{{BaseURL: sim.URL}}, VLLMBaseURL: sim.URL}, "both set"},
		{Options{Servers: []Server{{Name: "x", BaseURL: sim.URL}, {Name: "x", BaseURL: sim.URL}}}, `"x" is given twice`},
		{Options{Servers: []Server{{BaseURL: sim.URL}, {Name: "y"}}}, "Options.Servers[1] (y): set BaseURL or MetricsURL"},
		{Options{Servers: []Server{{BaseURL: "localhost:9"}}}, "Options.Servers[0].BaseURL"},
		{Options{Servers: []Server{{BaseURL: sim.URL}, {BaseURL: sim.URL + "/"}}},
			"Options.Servers[0] (r0) and Options.Servers[1] (r1) are the same server (" + sim.URL + "/)"},
		{Options{Servers: []Server{{Name: "a", BaseURL: "http://H:80/v1"}, {Name: "b", BaseURL: "http://b:1"}, {Name: "c", MetricsURL: "http://h/metrics"}}},
			"Options.Servers[0] (a) and Options.Servers[2] (c) are the same server"},
	} {
		_, err := tc.o.resolve()
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestDuplicateServer(t *testing.T) {
	for _, tc := range []struct {
		servers []Server
		i, j    int
		dup     bool
	}{
		{[]Server{{BaseURL: "http://a:8000"}, {BaseURL: "http://b:8000"}}, 0, 0, false},
		{[]Server{{BaseURL: "http://a:8000"}, {BaseURL: "http://a:8001"}}, 0, 0, false},
		{[]Server{{BaseURL: "http://a:8000"}, {BaseURL: "http://b:8000"}, {BaseURL: "HTTP://A:8000/"}}, 0, 2, true},
		{[]Server{{BaseURL: "https://a"}, {BaseURL: "https://u:p@a:443"}}, 0, 1, true},
		{[]Server{{BaseURL: "http://a:8000/v1"}, {MetricsURL: "http://a:8000/metrics"}}, 0, 1, true},
		{[]Server{{MetricsURL: "http://a:9000/metrics"}, {BaseURL: "http://a:8000", MetricsURL: "http://a:9000/metrics/"}}, 0, 1, true},
		{[]Server{{BaseURL: "http://a:8000", MetricsURL: "http://m:1/metrics"}, {BaseURL: "http://a:8000", MetricsURL: "http://m:2/metrics"}}, 0, 1, true},
	} {
		i, j, dup := DuplicateServer(tc.servers)
		assert.Equal(t, tc.dup, dup, "%+v", tc.servers)
		assert.Equal(t, [2]int{tc.i, tc.j}, [2]int{i, j}, "%+v", tc.servers)
	}
}

// A threshold on a replica the run does not have is refused when it is registered, before any load, listing
// the replicas there are; one it has (any case) is registered.
func TestThresholdOnAnUnknownReplicaFailsAtRegistration(t *testing.T) {
	a, b := vllmsim.New(t, vllmsim.Config{Seed: 1}), vllmsim.New(t, vllmsim.Config{Seed: 2})
	for _, tc := range []struct {
		servers []Server
		expr    string
		want    string
	}{
		{[]Server{{Name: "a", BaseURL: a.URL}, {Name: "b", BaseURL: b.URL}}, "replica.z.server.ttft.p99 < 1s",
			`vmtest: threshold "replica.z.server.ttft.p99 < 1s": replica.z.server.ttft.p99: no replica "z" in this run (replicas: a, b)`},
		{[]Server{{BaseURL: a.URL}, {BaseURL: b.URL}}, "replica.a.server.ttft.p99 < 1s", `no replica "a" in this run (replicas: r0, r1)`},
		{[]Server{{BaseURL: a.URL}}, "replica.r0.server.ttft.p99 < 1s", `no replica "r0" in this run: it has one server, whose figures are server.*`},
		{[]Server{{Name: "a", BaseURL: a.URL}, {Name: "b", BaseURL: b.URL}}, "replica.B.server.ttft.p99 < 1s", ""},
	} {
		ft := &fakeTB{name: "T"}
		c := Collect(ft, Options{Servers: tc.servers, Interval: time.Minute, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
		require.NotNil(t, c, "%v", ft.fatal)
		c.Assert(vassert.Expr(tc.expr))
		if tc.want == "" {
			assert.Empty(t, ft.fatal, tc.expr)
		} else {
			require.Len(t, ft.fatal, 1, tc.expr)
			assert.Contains(t, ft.fatal[0], tc.want)
			assert.Contains(t, ft.fatal[0], "nothing was measured yet")
		}
		ft.runCleanups()
	}
}
