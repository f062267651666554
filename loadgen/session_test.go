package loadgen

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

// A session's turns are sent in order, each with the replies received so far: turn k's prompt_tokens is
// what the simulator's tokenizer counts for the grown conversation (one token per whitespace word and
// vllmsim.ChatTokensPerMessage per message; each simulator output token is one word, so a reply of n output
// tokens is n words). Think time passes between turns, through the injected sleep.
func TestSessionGrowsConversation(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{})
	system := "you are brief"
	users := []string{"hello there", "tell me more about caches", "and then"}
	maxTokens := []int{5, 3, 7}
	session := Prompt{ID: "s", Messages: []Message{{Role: "system", Content: system}}}
	for k, u := range users {
		session.Turns = append(session.Turns, Turn{Content: u, MaxTokens: maxTokens[k]})
	}
	var mu sync.Mutex
	var slept []time.Duration
	sink := &sliceSink{}
	cfg := LoadConfig{
		Client: ClientConfig{BaseURL: sim.URL}, Prompts: []Prompt{session}, Params: Params{IgnoreEOS: Bool(true)},
		Concurrency: 1, Requests: 2, ThinkTime: 3 * time.Second, Sink: sink,
		sleep: func(context.Context, time.Duration) bool {
			mu.Lock()
			slept = append(slept, 3*time.Second)
			mu.Unlock()
			return true
		},
	}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	recs := sink.all()
	require.Len(t, recs, 6, "2 sessions × 3 turns")
	assert.Equal(t, 6, res.Sent)
	assert.Len(t, slept, 4, "think time between turns, not before the first")
	words := func(s string) int { return len(strings.Fields(s)) }
	per := vllmsim.ChatTokensPerMessage
	for s := range 2 {
		want := words(system) + per
		for k := range users {
			r := recs[3*s+k]
			require.Equal(t, recorder.OutcomeOK, r.Outcome, "%v", r.Err)
			assert.Equal(t, k+1, r.Turn)
			want += words(users[k]) + per
			assert.Equal(t, want, r.PromptTokens, "session %d turn %d", s, k+1)
			assert.Equal(t, maxTokens[k], r.OutputTokens)
			want += r.OutputTokens + per // the assistant's reply, sent back in the next turn
		}
	}
}

// A session stops after a turn that fails: there is no reply to send back.
func TestSessionStopsAfterFailure(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{MaxModelLen: 40})
	session := Prompt{Turns: []Turn{{Content: "one two", MaxTokens: 20}, {Content: "three", MaxTokens: 30}, {Content: "four"}}}
	sink := &sliceSink{}
	_, err := Run(context.Background(), LoadConfig{Client: ClientConfig{BaseURL: sim.URL}, Prompts: []Prompt{session},
		Params: Params{IgnoreEOS: Bool(true)}, Requests: 1, Sink: sink})
	require.NoError(t, err)
	recs := sink.all()
	require.Len(t, recs, 2, "turn 2 (6+20+5+30 > 40 tokens) fails, turn 3 is not sent")
	assert.Equal(t, recorder.OutcomeOK, recs[0].Outcome)
	assert.Equal(t, recorder.OutcomeFailed, recs[1].Outcome)
}

func TestSessionValidate(t *testing.T) {
	for _, p := range []Prompt{
		{Text: "x", Turns: []Turn{{Content: "a"}}},
		{Turns: []Turn{{Content: nil}}},
		{Turns: []Turn{{Content: "a", MaxTokens: -1}}},
		{Turns: []Turn{{Content: "a"}}, MinTokens: -2},
	} {
		assert.Error(t, p.validate(), "%+v", p)
	}
	assert.NoError(t, Prompt{Turns: []Turn{{Content: "a"}}}.validate())
}

// In an open loop a session is one arrival holding one MaxConcurrency slot to its end: with one slot, the
// session that got it first ends its last turn before the other's first turn starts, and only first turns
// carry an intended start. Which gets it first is the scheduler's: arrival 1, 1 ms after arrival 0, can reach
// the slot first when arrival 0's goroutine is not run in that millisecond (a loaded machine).
func TestSessionHoldsOpenLoopSlot(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{TTFTBase: time.Millisecond})
	session := Prompt{Turns: []Turn{{Content: "a b", MaxTokens: 2}, {Content: "c d", MaxTokens: 2}}}
	sink := &sliceSink{}
	_, err := Run(context.Background(), LoadConfig{Client: ClientConfig{BaseURL: sim.URL}, Prompts: []Prompt{session},
		Rate: 1000, MaxConcurrency: 1, Requests: 2, Sink: sink})
	require.NoError(t, err)
	recs := sink.all()
	require.Len(t, recs, 4)
	byID := map[string]recorder.Request{}
	for _, r := range recs {
		require.Equal(t, recorder.OutcomeOK, r.Outcome, "%v", r.Err)
		byID[r.ID] = r
	}
	first, second := "0", "1"
	if byID["1/1"].Start.Before(byID["0/1"].Start) {
		first, second = "1", "0"
	}
	assert.False(t, byID[second+"/1"].Start.Before(byID[first+"/2"].End), "session %s started before session %s ended", second, first)
	for _, s := range []string{"0", "1"} {
		assert.False(t, byID[s+"/1"].IntendedStart.IsZero(), "session %s's first turn", s)
		assert.True(t, byID[s+"/2"].IntendedStart.IsZero(), "session %s's second turn", s)
	}
}

// Client.Do sends one request: a session is refused with a failed record, not sent as its context alone.
func TestDoRefusesSession(t *testing.T) {
	c, err := NewClient(ClientConfig{BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	defer c.Close()
	rec := c.Do(context.Background(), Prompt{Turns: []Turn{{Content: "a"}}}, Params{})
	assert.Equal(t, recorder.OutcomeFailed, rec.Outcome)
	assert.ErrorContains(t, rec.Err, "session")
}

// A prompts file's line with "turns" is a session: its messages are the context, each turn a string, a list
// of content parts or an object with its own max_tokens; bad turns name their line.
func TestReadPromptsSessions(t *testing.T) {
	in := `{"id": "s1", "messages": [{"role": "system", "content": "be brief"}], "turns": ["hello there", {"content": "and more", "max_tokens": 3}], "max_tokens": 9}` + "\n" +
		`{"turns": [[{"type": "text", "text": "hi"}]], "model": "sql-lora"}` + "\n" +
		`{"prompt": "plain"}`
	ps, err := ReadPrompts(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, ps, 3)
	assert.Equal(t, []Message{{Role: "system", Content: "be brief"}}, ps[0].Messages)
	assert.Equal(t, []Turn{{Content: "hello there"}, {Content: "and more", MaxTokens: 3}}, ps[0].Turns)
	assert.Equal(t, 9, ps[0].MaxTokens)
	assert.Equal(t, []Turn{{Content: []any{map[string]any{"type": "text", "text": "hi"}}}}, ps[1].Turns)
	assert.Equal(t, "sql-lora", ps[1].Model)
	assert.Empty(t, ps[2].Turns)

	for _, bad := range []struct{ in, want string }{
		{`{"prompt": "a"}` + "\n" + `{"turns": []}`, `line 2: "turns" is empty`},
		{`{"turns": [null]}`, "line 1: turn: no content"},
		{`{"turns": [{"max_tokens": 3}]}`, "line 1: turn: no content"},
		{`{"turns": [{"content": "a", "max_tokens": -1}]}`, "line 1: turn 1: max_tokens -1 is negative"},
		{`{"prompt": "a", "turns": ["b"]}`, `line 1: a session (turns) cannot have a completions "prompt"`},
		{`{"turns": "b"}`, "line 1"},
	} {
		_, err := ReadPrompts(strings.NewReader(bad.in))
		assert.ErrorContains(t, err, bad.want, bad.in)
	}
}

// A session read from a prompts file is sent turn by turn: turn 2's prompt_tokens counts the system
// message, both user turns and turn 1's reply (the simulator counts one token per word and
// vllmsim.ChatTokensPerMessage per message; each output token is one word).
func TestPromptsFileSessionAgainstSimulator(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{})
	ps, err := ReadPrompts(strings.NewReader(`{"messages": [{"role": "system", "content": "you are brief"}], "turns": ["hello there", {"content": "tell me more", "max_tokens": 2}], "max_tokens": 4}`))
	require.NoError(t, err)
	sink := &sliceSink{}
	_, err = Run(context.Background(), LoadConfig{Client: ClientConfig{BaseURL: sim.URL}, Prompts: ps,
		Params: Params{IgnoreEOS: Bool(true)}, Concurrency: 1, Requests: 1, Sink: sink})
	require.NoError(t, err)
	recs := sink.all()
	require.Len(t, recs, 2)
	per := vllmsim.ChatTokensPerMessage
	assert.Equal(t, 3+per+2+per, recs[0].PromptTokens, "system 3 words, user 2 words")
	assert.Equal(t, 4, recs[0].OutputTokens, "the prompt's max_tokens")
	assert.Equal(t, 3+per+2+per+4+per+3+per, recs[1].PromptTokens, "+ the 4-word reply and 3 more user words")
	assert.Equal(t, 2, recs[1].OutputTokens, "the turn's own max_tokens")
	assert.Equal(t, []int{1, 2}, []int{recs[0].Turn, recs[1].Turn})
}
