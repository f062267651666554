package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

// Against a simulated reasoning model (the first 3 of 6 tokens in reasoning_content, 20 ms apart), the first
// content arrives at least 3 token intervals after the first token, and the reasoning tokens come from
// usage.completion_tokens_details.
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
		assert.GreaterOrEqual(t, r.FirstContent.Sub(r.FirstToken), 3*tpot)
		assert.Equal(t, 3, r.ReasoningTokens)
		assert.Equal(t, 6, r.OutputTokens)
	}
}
