package summary

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/serverstats"
)

// replica.<name>.server.* reads one replica's figures; server.* stays the aggregate.
func TestLookupReplica(t *testing.T) {
	gen := func(x float64) serverstats.Stats {
		return serverstats.Stats{Scrapes: 3, Figures: serverstats.Figures{GenerationTokens: lp(x),
			TTFT: &serverstats.Histogram{Count: x, P50MS: &serverstats.Quantile{ValueMS: lp(x * 10)}}}}
	}
	agg := gen(30)
	agg.Replicas = map[string]serverstats.Stats{"a": gen(10), "B_2": gen(20)}
	s := &Summary{Server: &agg, VLLM: VLLMStats{GenerationTokens: lp(30), Replicas: map[string]VLLMStats{"a": {GenerationTokens: lp(10)}, "B_2": {GenerationTokens: lp(20)}}}}
	for name, want := range map[string]float64{
		"server.ttft.p50": 300, "replica.a.server.ttft.p50": 100, "replica.b_2.server.ttft.p50": 200,
		"Replica.B_2.server.generation_tokens": 20, "server.generation_tokens": 30,
	} {
		v, err := s.Lookup(name)
		require.NoError(t, err, name)
		assert.True(t, v.Known, name)
		assert.Equal(t, want, v.Value, name)
	}
	v, err := s.Lookup("replica.a.server.ttft.median")
	require.NoError(t, err)
	assert.Equal(t, "replica.a.server.ttft.p50", v.Name)

	v, err = s.Lookup("replica.c.server.ttft.p50")
	require.NoError(t, err)
	assert.False(t, v.Known)
	assert.Equal(t, "no replica c in this run (replicas: B_2, a)", v.Note)
	v, err = (&Summary{Server: &serverstats.Stats{}}).Lookup("replica.c.server.ttft.p50")
	require.NoError(t, err)
	assert.Equal(t, "no replica c in this run (one server: its figures are server.*)", v.Note)

	_, err = s.Lookup("replica.a.ttft.p50")
	assert.ErrorContains(t, err, "a replica's figure is replica.<name>.server.<figure>")
	_, err = s.Lookup("replica.a.server.ttft.p42")
	assert.ErrorContains(t, err, `unknown metric "replica.a.server.ttft.p42"`)
	assert.ErrorContains(t, err, `no statistic "p42" for server.ttft`)
	v, err = (*Summary)(nil).Lookup("replica.a.server.ttft.p99")
	require.NoError(t, err, "a good name is good without a summary (threshold parsing)")
	assert.Equal(t, "ms", v.Unit)
}

// A replica's name resolves through the registry like its server.* name: direction, unit, label, suggestions.
func TestReplicaNamesResolveThroughTheRegistry(t *testing.T) {
	assert.Equal(t, HigherIsBetter, DirectionOf("replica.r1.server.tokens_per_second.avg"))
	assert.Equal(t, HigherIsBetter, DirectionOf("Replica.R1.server.requests_per_second.mean"))
	assert.Equal(t, LowerIsBetter, DirectionOf("replica.r1.server.queue.max"))
	d, err := Describe("replica.r1.server.tokens_per_second.mean")
	require.NoError(t, err)
	assert.Equal(t, "replica.r1.server.tokens_per_second.avg", d.Name)
	assert.Equal(t, UnitTokPerS, d.Metric.Unit)
	assert.Equal(t, "replica r1 server generation throughput avg", d.Label)
	d, err = Describe("replica.r1.server.ttft.p99")
	require.NoError(t, err)
	assert.Equal(t, "p99-replica-r1-server-ttft-sec", d.BenchUnit, "a replica's benchstat unit differs from the aggregate's")
	_, err = Describe("replica.r1.server.tokens_per_secnd.avg")
	var u *UnknownMetricError
	require.ErrorAs(t, err, &u)
	assert.Equal(t, []string{"replica.r1.server.tokens_per_second.avg"}, u.Suggestions)
}
