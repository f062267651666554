package loadgen

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

func TestAppendReply(t *testing.T) {
	var b strings.Builder
	for _, data := range []string{
		`{"choices":[{"delta":{"content":"Hel"}}]}`,
		`{"choices":[{"text":"lo"}]}`,
		`{"choices":[{"message":{"content":" wörld"}}]}`,
		`{"choices":[]}`, `not json`,
	} {
		appendReply(&b, []byte(data))
	}
	assert.Equal(t, "Hello wörld", b.String())
	assert.Equal(t, "w", capBytes("wö", 2), "a cut never splits a character")
}

// Without streaming, the reply comes from the whole response's message content: turn 2's prompt_tokens
// count turn 1's reply, as in TestSessionGrowsConversation.
func TestSessionNoStream(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{})
	sink := &sliceSink{}
	_, err := Run(context.Background(), LoadConfig{Client: ClientConfig{BaseURL: sim.URL},
		Prompts: []Prompt{{Turns: []Turn{{Content: "a b c", MaxTokens: 6}, {Content: "d"}}}},
		Params:  Params{NoStream: true, IgnoreEOS: Bool(true), MaxTokens: 2}, Requests: 1, Sink: sink})
	require.NoError(t, err)
	recs := sink.all()
	require.Len(t, recs, 2)
	require.Equal(t, recorder.OutcomeOK, recs[1].Outcome, "%v", recs[1].Err)
	per := vllmsim.ChatTokensPerMessage
	assert.Equal(t, 3+per+6+per+1+per, recs[1].PromptTokens)
}
