package serverstats

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hit rate over a window is the hits' increase over the queries' increase, summed over engines, from the
// newest names the server exposes: engine 0 queries 1000 − 200 = 800 and hits 500 − 100 = 400, engine 1
// queries 300 − 100 = 200 and hits 100 − 0 = 100, so (400 + 100) / (800 + 200) = 0.5.
func TestWindowPrefixCacheHitRate(t *testing.T) {
	body := func(q0, h0, q1, h1 string) string {
		return "# TYPE vllm:prefix_cache_queries_total counter\n" +
			`vllm:prefix_cache_queries_total{engine="0"} ` + q0 + "\n" + `vllm:prefix_cache_queries_total{engine="1"} ` + q1 + "\n" +
			"# TYPE vllm:prefix_cache_hits_total counter\n" +
			`vllm:prefix_cache_hits_total{engine="0"} ` + h0 + "\n" + `vllm:prefix_cache_hits_total{engine="1"} ` + h1 + "\n" +
			"# TYPE vllm:gpu_prefix_cache_queries_total counter\nvllm:gpu_prefix_cache_queries_total 5\n" +
			"# TYPE vllm:gpu_prefix_cache_hits_total counter\nvllm:gpu_prefix_cache_hits_total 5\n"
	}
	w := NewWindow()
	w.Add(scrape(t, body("200", "100", "100", "0"), t0))
	w.Add(scrape(t, body("600", "300", "200", "50"), t0.Add(time.Second)))
	w.Add(scrape(t, body("1000", "500", "300", "100"), t0.Add(2*time.Second)))
	st := w.Summary()
	require.NotNil(t, st.PrefixCacheHitRate)
	assert.InDelta(t, 0.5, *st.PrefixCacheHitRate, 1e-12)
}

func TestPrefixCacheHitRateNames(t *testing.T) {
	rate := func(m map[string]float64) any {
		if r := PrefixCacheHitRate(m); r != nil {
			return *r
		}
		return nil
	}
	// Before vLLM 0.9: the gpu_ names.
	assert.Equal(t, 0.25, rate(map[string]float64{"vllm:gpu_prefix_cache_queries_total": 400, "vllm:gpu_prefix_cache_hits_total": 100}))
	// Both exposed (a server in the deprecation window): the new names win.
	assert.Equal(t, 0.5, rate(map[string]float64{"vllm:prefix_cache_queries_total": 4, "vllm:prefix_cache_hits_total": 2,
		"vllm:gpu_prefix_cache_queries_total": 4, "vllm:gpu_prefix_cache_hits_total": 1}))
	// No token queried, a queries counter without hits, or nothing: unknown.
	assert.Nil(t, rate(map[string]float64{"vllm:prefix_cache_queries_total": 0, "vllm:prefix_cache_hits_total": 0}))
	assert.Nil(t, rate(map[string]float64{"vllm:prefix_cache_queries_total": 10}))
	assert.Nil(t, rate(nil))
}
