package serverstats

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCandidates(t *testing.T) {
	assert.Equal(t, []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}, Candidates(FieldKVCacheUsagePercent))
	assert.Equal(t, []string{"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"}, Candidates(FieldITLSeconds))
	assert.Nil(t, Candidates("nope"))
	c := Candidates(FieldITLSeconds)
	c[0] = "changed"
	assert.Equal(t, "vllm:inter_token_latency_seconds", Candidates(FieldITLSeconds)[0], "a copy")
}
