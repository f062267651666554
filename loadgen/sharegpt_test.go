package loadgen

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

func TestReadShareGPTList(t *testing.T) {
	es, err := LoadShareGPT("testdata/sharegpt.json")
	require.NoError(t, err)
	require.Len(t, es, 7)
	assert.Equal(t, "sys", es[2].ID)
	assert.Equal(t, []Message{{"system", "answer in one line"}, {"user", "why does latency rise under heavy load today"},
		{"assistant", "requests wait in the queue for free blocks"}, {"user", "and how do I measure it well"},
		{"assistant", "send load at a fixed rate and read the ttft percentiles"}}, es[2].Messages)
	assert.Equal(t, 50, es[3].OutputLen)
	assert.Equal(t, "sql-lora", es[3].Model)
	assert.Equal(t, "testdata/sharegpt.json: entry 3", es[3].Where)
}

func TestReadShareGPTLines(t *testing.T) {
	es, err := LoadShareGPT("testdata/sharegpt.jsonl")
	require.NoError(t, err)
	require.Len(t, es, 3)
	assert.Equal(t, "chat-lora", es[1].Model)
	assert.Equal(t, 16, es[1].OutputLen)
	assert.Equal(t, "describe the scheduler in brief", textOf(es[1].Messages[0].Content))
	assert.Equal(t, "testdata/sharegpt.jsonl: line 3", es[1].Where, "the blank line 2 counts")
	assert.Equal(t, "assistant", es[2].Messages[1].Role)
}

// Errors name the file, the entry or line, and the field.
func TestReadShareGPTErrors(t *testing.T) {
	for in, want := range map[string]string{
		`[{"conversations": [{"from": "robot", "value": "x"}]}]`:                      `d: entry 0: conversations[0].from "robot"`,
		`[{"id": 1, "conversations": [{"from": "human", "value": 3}]}]`:               `d: entry 0: conversations[0].value is not a string`,
		`[{"conversations": [{"from": "human", "value": "x"}]}, {"id": "no turns"}]`:  `d: entry 1: neither "conversations" nor "messages"`,
		"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n{bad":            `d: line 2: invalid character`,
		`{"output_len": 0, "messages": [{"role": "user", "content": "x"}]}`:           `d: line 1: output_len 0 is not ≥ 1`,
		`{"model": "a", "lora": "b", "messages": [{"role": "user", "content": "x"}]}`: `d: line 1: "model", "lora" and "adapter" name different models`,
		`{"messages": [{"role": "tool", "content": "x"}]}`:                            `d: line 1: messages[0]: role "tool"`,
		`[{"conversations": [{"from": "human", "value": "x"}]}`:                       `d: after entry 0`,
		"  \n": `d: the dataset is empty`,
	} {
		_, err := ReadShareGPT(strings.NewReader(in), "d")
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}

// The filters as vLLM's: entries lengths counted by hand (one token per word here, for the word tokenizer
// and the simulator's /tokenize alike).
func TestDatasetFilters(t *testing.T) {
	es, err := LoadShareGPT("testdata/sharegpt.json")
	require.NoError(t, err)
	sim := vllmsim.New(t, vllmsim.Config{})
	for _, tok := range []Tokenizer{nil, &ServerTokenizer{BaseURL: sim.URL}} {
		got, err := Dataset{Entries: es, MaxPromptLen: 20, Tokenizer: tok}.Prompts(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tok != nil, got.Exact)
		if tok == nil {
			assert.Contains(t, got.Note, "approximate")
		}
		assert.Equal(t, [5]int{7, 4, 1, 1, 1}, [5]int{got.Examined, got.Kept, got.TooShort, got.TooLong, got.NoReply})
		byID := map[string]Prompt{}
		for _, p := range got.Prompts {
			byID[p.ID] = p
		}
		assert.Equal(t, 14, byID["plain"].MaxTokens, "the reply's 14 words")
		assert.Equal(t, 8, byID["sys"].MaxTokens)
		assert.Equal(t, []Message{{"system", "answer in one line"}, {"user", "why does latency rise under heavy load today"}}, byID["sys"].Messages)
		assert.Equal(t, 50, byID["explicit"].MaxTokens)
		assert.Equal(t, "sql-lora", byID["explicit"].Model)
		assert.Equal(t, []Message{{"user", "thanks a lot for that"}}, byID["gptfirst"].Messages, "a reply before any question is not sent")
	}
}

// With MultiTurn each entry is a session of its exchanges; MaxTotalLen bounds the whole conversation.
func TestDatasetMultiTurn(t *testing.T) {
	es, err := LoadShareGPT("testdata/sharegpt.json")
	require.NoError(t, err)
	got, err := Dataset{Entries: es[2:3], MultiTurn: true}.Prompts(context.Background())
	require.NoError(t, err)
	require.Len(t, got.Prompts, 1)
	p := got.Prompts[0]
	assert.Equal(t, []Message{{"system", "answer in one line"}}, p.Messages)
	assert.Equal(t, []Turn{{"why does latency rise under heavy load today", 8}, {"and how do I measure it well", 11}}, p.Turns)
	// 8+8+7+11 = 34 tokens in all.
	_, err = Dataset{Entries: es[2:3], MultiTurn: true, MaxTotalLen: 33}.Prompts(context.Background())
	assert.ErrorContains(t, err, "1 too long")
	got, err = Dataset{Entries: es[2:3], MultiTurn: true, MaxTotalLen: 34}.Prompts(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, got.Kept)
}

// Count entries are taken in the seeded order: the first Count of a PCG permutation that pass the filters.
func TestDatasetSeededSample(t *testing.T) {
	es, err := LoadShareGPT("testdata/sharegpt.json")
	require.NoError(t, err)
	pass := map[string]bool{"plain": true, "sys": true, "explicit": true, "gptfirst": true}
	for seed := range uint64(5) {
		var want []string
		examined := 0
		for _, i := range rand.New(rand.NewPCG(seed, 0x73686172)).Perm(len(es)) {
			if len(want) == 2 {
				break
			}
			examined++
			if pass[es[i].ID] {
				want = append(want, es[i].ID)
			}
		}
		got, err := Dataset{Entries: es, Count: 2, Seed: seed, MaxPromptLen: 20}.Prompts(context.Background())
		require.NoError(t, err)
		ids := []string{got.Prompts[0].ID, got.Prompts[1].ID}
		assert.Equal(t, want, ids, "seed %d", seed)
		assert.Equal(t, examined, got.Examined, "seed %d", seed)
	}
}
