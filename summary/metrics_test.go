package summary

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite README.md's table of metric names from the registry")

// Every entry says everything the registry promises, and every name it spells out resolves to that entry
// alone: no two entries claim a name.
func TestRegistryIsWellFormed(t *testing.T) {
	for _, m := range Registry() {
		assert.NotEmpty(t, m.Unit, m.Name)
		assert.NotEmpty(t, m.Label, m.Name)
		assert.NotEmpty(t, m.Doc, m.Name)
		assert.NotZero(t, m.Direction, m.Name)
		assert.NotNil(t, m.read, m.Name)
		assert.NotContains(t, m.Doc, "\n", m.Name)
		assert.Contains(t, []string{UnitMS, UnitFraction, UnitPercent, UnitReqPerS, UnitTokPerS, UnitRequests, UnitTokens,
			UnitMiB, UnitGiB, UnitW, UnitCelsius, UnitJ, UnitJPerToken}, m.Unit, m.Name)
	}
	names := Names()
	require.Greater(t, len(names), 100)
	seen := map[string]bool{}
	for _, n := range names {
		require.False(t, seen[n], "%s spelled out twice", n)
		seen[n] = true
		full := 0
		ws := strings.Split(n, ".")
		for _, pat := range patterns {
			if k := pat.matchLen(ws); k == len(ws) && k == len(pat.parts) {
				full++
			}
		}
		require.Equal(t, 1, full, "%s is claimed by %d names of the registry", n, full)
		v, err := (*Summary)(nil).Lookup(n)
		require.NoError(t, err, n)
		again, err := (*Summary)(nil).Lookup(v.Name)
		require.NoError(t, err, n)
		assert.Equal(t, v.Name, again.Name, "%s: the canonical name is canonical", n)
	}
	for _, pat := range patterns {
		assert.Nil(t, pat.parts[0].choice, "%v: a name starts with a word or a placeholder", pat.parts)
	}
	// A synonym replaces words only, never a statistic or <gpu>.
	for _, pat := range patterns {
		for i, p := range pat.parts {
			if p.word != "" {
				assert.NotEmpty(t, pat.canon[i].word, "%v", pat.parts)
			}
		}
	}
}

// Directions as baselines and comparisons have judged them, name by name.
func TestRegistryDirections(t *testing.T) {
	for name, want := range map[string]Direction{
		"ttft.p99": LowerIsBetter, "e2e.mean": LowerIsBetter, "latency.p50": LowerIsBetter, "error_rate": LowerIsBetter,
		"requests.failed": LowerIsBetter, "gpu.power_w.avg": LowerIsBetter, "gpu_1.utilization.max": LowerIsBetter,
		"energy_per_output_token_j": LowerIsBetter, "server.queue.max": LowerIsBetter, "server.ttft.p99": LowerIsBetter,
		"cpu.avg": LowerIsBetter, "request_throughput": HigherIsBetter, "throughput": HigherIsBetter,
		"output_token_throughput": HigherIsBetter, "total_token_throughput": HigherIsBetter, "goodput": HigherIsBetter,
		"goodput_requests": HigherIsBetter, "requests.ok": Neutral, "requests.total": Neutral,
		"model.sql-lora.requests.total": Neutral, "turn.2.requests.output_tokens": Neutral, "server.generation_tokens": Neutral,
		"replica.r1.server.generation_tokens": Neutral, "server.tokens_per_second.avg": HigherIsBetter,
		"server.requests_per_second.avg": HigherIsBetter,
		"no.such.name":                   LowerIsBetter,
	} {
		assert.Equal(t, want, DirectionOf(name), name)
	}
	assert.Equal(t, "auto", Direction(0).String())
	assert.Equal(t, "neither is better", Neutral.String())
}

func TestDescribe(t *testing.T) {
	for name, want := range map[string]Described{
		"TTFT.p99":              {Name: "ttft.p99", Label: "TTFT p99", BenchUnit: "p99-ttft-sec", BenchScale: 1e-3},
		"latency.median":        {Name: "e2e.p50", Label: "E2E p50", BenchUnit: "p50-e2e-sec", BenchScale: 1e-3},
		"server.ttft.p99":       {Name: "server.ttft.p99", Label: "server TTFT p99", BenchUnit: "p99-server-ttft-sec", BenchScale: 1e-3},
		"throughput":            {Name: "request_throughput", Label: "request throughput", BenchUnit: "req/s", BenchScale: 1},
		"error_rate":            {Name: "error_rate", Label: "error rate", BenchUnit: "err/req", BenchScale: 1},
		"gpu.utilization.mean":  {Name: "gpu.utilization.avg", Label: "GPU utilization avg"},
		"gpu_1.power_w.max":     {Name: "gpu_1.power_w.max", Label: "gpu_1 power max"},
		"gpu.energy_j":          {Name: "gpu.energy_j", Label: "GPU energy"},
		"requests.rejected":     {Name: "requests.rejected", Label: "requests rejected"},
		"server.queue_time.avg": {Name: "server.queue_time.mean", Label: "server queue time mean", BenchUnit: "mean-server-queue_time-sec", BenchScale: 1e-3},
	} {
		d, err := Describe(name)
		require.NoError(t, err, name)
		d.Metric = Metric{}
		assert.Equal(t, want, d, name)
	}
	_, err := Describe("ttfb.p99")
	require.ErrorContains(t, err, `unknown metric "ttfb.p99"`)
	for _, m := range KeyMetrics {
		d, err := Describe(m)
		require.NoError(t, err, m)
		assert.Equal(t, m, d.Name, "KeyMetrics are canonical")
	}
	for _, m := range ExampleNames {
		_, err := Describe(m)
		require.NoError(t, err, m)
	}
}

func TestLatencyNamesFromTheRegistry(t *testing.T) {
	assert.Equal(t, []string{"ttft", "ttfot", "tpot", "itl", "e2e", "ttft_from_intended", "e2e_from_intended"}, LatencyMetrics())
	assert.Equal(t, "ttft, ttfot, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended", LatencyMetricsText())
	s := lookupFixture()
	for _, m := range []string{"ttft", "TTFT", "latency", "e2e_latency", "e2e"} {
		_, err := s.Latency(m)
		require.NoError(t, err, m)
	}
	st, err := s.Latency("ttft")
	require.NoError(t, err)
	assert.Equal(t, 10, st.N)
	_, err = s.Latency("ttft.p99")
	require.EqualError(t, err, `unknown latency metric "ttft.p99" (want ttft, ttfot, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended)`)
}

// README.md's table of metric names is the registry's: `go generate ./summary` (this test with -update)
// rewrites it.
func TestReadmeMetricTable(t *testing.T) {
	generatedBlock(t, filepath.Join("..", "README.md"), ReadmeBegin, ReadmeEnd, "\n"+MarkdownTable(),
		"README.md's table of metric names differs from the registry: run go generate ./summary")
}

// generatedBlock checks that the text between the markers begin and end in the file at path is want; with
// -update (go generate) it rewrites that block instead, atomically.
func generatedBlock(t *testing.T, path, begin, end, want, differs string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(data)
	b, e := strings.Index(text, begin), strings.Index(text, end)
	require.True(t, b >= 0 && e > b, "%s has no block between %q and %q", path, begin, end)
	got := text[b+len(begin) : e]
	if *update {
		if got != want {
			tmp := path + ".tmp"
			require.NoError(t, os.WriteFile(tmp, []byte(text[:b+len(begin)]+want+text[e:]), 0o644))
			require.NoError(t, os.Rename(tmp, path))
		}
		return
	}
	require.Equal(t, want, got, differs)
}

func TestSuggestions(t *testing.T) {
	assert.Equal(t, 0, editDistance("ttft", "ttft", nil))
	assert.Equal(t, 3, editDistance("", "abc", nil))
	assert.Equal(t, 2, editDistance("ttfb", "tbft", make([]int, 10)))
	assert.Equal(t, 3, editDistance("kitten", "sitting", make([]int, 3)), "rows too short: its own")
	assert.True(t, partsStartWith("gpu.utilization.avg", "gpu.util.a"))
	assert.False(t, partsStartWith("gpu.utilization.avg", "gpu.util"))
	assert.False(t, partsStartWith("gpu.utilization", "gpu.util.avg"))
	assert.False(t, partsStartWith("gpu.utilization.avg", "gpu..avg"))
	for name, want := range map[string][]string{
		"ttfb.p99":        {"ttft.p99"},
		"ttft..p99":       {"ttft.p99"},
		"latncy.p99":      {"latency.p99"},
		"gpu.util.avg":    {"gpu.utilization.avg", "gpu_0.utilization.avg"},
		"server.ttft.p98": {"server.ttft.p90", "server.ttft.p95", "server.ttft.p99"},
		"zzzzzz":          nil,
	} {
		_, err := (*Summary)(nil).Lookup(name)
		var ue *UnknownMetricError
		require.ErrorAs(t, err, &ue, name)
		assert.Equal(t, want, ue.Suggestions, name)
	}
	_, err := (*Summary)(nil).Lookup("ttfb.p99")
	assert.ErrorContains(t, err, `unknown metric "ttfb.p99"; did you mean ttft.p99?; valid names: `)
}

// Summary.Lookup's doc comment lists the registry's names, so that go doc shows every one.
func TestLookupDocListsTheRegistry(t *testing.T) {
	generatedBlock(t, "lookup.go", docBegin, docEnd, docList(),
		"Summary.Lookup's list of names differs from the registry: run go generate ./summary")
}

func TestStatisticsFromTheRegistry(t *testing.T) {
	assert.Equal(t, []string{"p50", "p90", "p95", "p99", "mean", "median", "std", "min", "max", "avg", "med"}, Statistics())
	assert.Equal(t, []string{"50", "90", "95", "99"}, Percentiles())
}
