package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

// Against a simulated reasoning model (the first 3 of 6 tokens in reasoning_content, 20 ms apart), the first
// content is the 4th token-bearing chunk, and the reasoning tokens come from usage.completion_tokens_details.
// (The simulator keeps its schedule from admission, so a first token written late on a loaded machine leaves
// less than 3 intervals before the content: that bound is checked only under VMTEST_TIMING=1.)
func TestReasoningModelFirstContentAndReasoningTokens(t *testing.T) {
	const tpot = 20 * time.Millisecond
	sim := vllmsim.New(t, vllmsim.Config{ReasoningTokens: 3, TimePerOutputToken: tpot})
	sink := &sliceSink{}
	_, err := Run(context.Background(), LoadConfig{
		Client: ClientConfig{BaseURL: sim.URL}, Prompts: ChatPrompts("think first"),
		Params: Params{MaxTokens: 6}, Concurrency: 1, Requests: 2, Sink: sink,
	})
	require.NoError(t, err)
	for _, r := range sink.all() {
		require.False(t, r.FirstContent.IsZero())
		require.Len(t, r.TokenTimes, 6)
		assert.Equal(t, r.TokenTimes[3], r.FirstContent)
		assert.False(t, r.FirstContent.Before(r.FirstToken)) // chunks read together share a time
		if os.Getenv("VMTEST_TIMING") == "1" {
			assert.GreaterOrEqual(t, r.FirstContent.Sub(r.FirstToken), 3*tpot)
		}
		assert.Equal(t, 3, r.ReasoningTokens)
		assert.Equal(t, 6, r.OutputTokens)
	}
}
