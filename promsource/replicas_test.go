package promsource_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/serverstats"
)

func TestReplicaNames(t *testing.T) {
	long := strings.Repeat("x", 70)
	ts := []promsource.Target{
		{Labels: map[string]string{"pod": "vllm-0", "instance": "10.0.0.7:8000"}},
		{Labels: map[string]string{"instance": "10.0.0.8:8000", "job": "vllm"}},
		{Labels: map[string]string{"pod": "vllm.0"}}, // sanitises to vllm_0, taken
		{Labels: map[string]string{"pod": "VLLM_0"}}, // case ignored: taken, and so is _2
		{Labels: map[string]string{"job": "vllm"}},
		{Labels: map[string]string{"pod": long}},
		{Labels: map[string]string{"pod": long + "y"}},
	}
	got := promsource.ReplicaNames(ts)
	require.Equal(t, []string{"vllm_0", "10_0_0_8_8000", "vllm_0_2", "VLLM_0_3", "_job__vllm__", strings.Repeat("x", 64), strings.Repeat("x", 62) + "_2"}, got)
	require.NoError(t, serverstats.CheckReplicaNames(got))
}
