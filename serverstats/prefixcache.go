package serverstats

// prefixCacheNames are the counter pairs (queried tokens, hit tokens) of vLLM's prefix cache, newest first:
// vllm:prefix_cache_queries_total / vllm:prefix_cache_hits_total (vLLM ≥ 0.9), and before them
// vllm:gpu_prefix_cache_queries_total / vllm:gpu_prefix_cache_hits_total (V1 before 0.9; hidden from 0.10).
// V0's gauge vllm:gpu_prefix_cache_hit_rate (a rate over V0's own window) is not read.
var prefixCacheNames = [...][2]string{
	{"vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total"},
	{"vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total"},
}

// PrefixCacheHitRate returns the prefix-cache hit rate over a window from its counter increases
// (Stats.CounterIncreases): hit tokens over queried tokens, a 0–1 fraction, read from the newest pair of
// names (prefixCacheNames) whose queries increased. It is nil when no pair has both an increase of its
// queries above 0 and an increase of its hits.
func PrefixCacheHitRate(increases map[string]float64) *float64 {
	for _, p := range prefixCacheNames {
		q, okQ := increases[p[0]]
		h, okH := increases[p[1]]
		if okQ && okH && q > 0 {
			r := min(max(h/q, 0), 1)
			return &r
		}
	}
	return nil
}
