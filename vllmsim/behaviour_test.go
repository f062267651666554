package vllmsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The role-only chunk leaves with the first token (not before its due time); with EarlyRoleChunk it leaves at
// admission, even when the first token never comes.
func TestRoleChunkTiming(t *testing.T) {
	const ttft = 30 * time.Millisecond
	s := New(t, Config{TTFTBase: ttft})
	r := stream(t, s.URL+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"stream":true}`)
	require.Len(t, r.events, 4)
	assert.Contains(t, r.events[0].data, `"delta":{"role":"assistant","content":""}`)
	assert.GreaterOrEqual(t, r.events[0].at, ttft, "the role chunk waits for the first token")

	early := New(t, Config{TTFTBase: time.Hour, EarlyRoleChunk: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := post(t, ctx, early.URL+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"stream":true}`)
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "\n\n") {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		require.NoError(t, err)
	}
	assert.Contains(t, got.String(), `"delta":{"role":"assistant","content":""}`)
}

func TestEOSMinTokensIgnoreEOS(t *testing.T) {
	s := New(t, Config{EOSAfterTokens: 3})
	for _, c := range []struct {
		extra  string
		n      int
		finish string
	}{
		{``, 3, "stop"},
		{`,"min_tokens":5`, 5, "stop"},
		{`,"min_tokens":10`, 10, "length"},
		{`,"ignore_eos":true`, 10, "length"},
		{`,"ignore_eos":false,"min_tokens":2`, 3, "stop"},
	} {
		cs := decodeChunks(t, stream(t, s.URL+"/v1/completions", `{"prompt":"x","max_tokens":10,"stream":true,"stream_options":{"include_usage":true}`+c.extra+`}`).events)
		require.Len(t, cs, c.n+1, c.extra)
		require.NotNil(t, cs[c.n-1].Choices[0].FinishReason, c.extra)
		assert.Equal(t, c.finish, *cs[c.n-1].Choices[0].FinishReason, c.extra)
		assert.Equal(t, c.n, cs[c.n].Usage.CompletionTokens, c.extra)

		resp := post(t, context.Background(), s.URL+"/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"max_tokens":10`+c.extra+`}`)
		var body struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		assert.Equal(t, c.n, body.Usage.CompletionTokens, c.extra)
		assert.Equal(t, c.finish, body.Choices[0].FinishReason, c.extra)
	}
	fams := scrape(t, s)
	assert.Equal(t, 6.0, value(t, fams, "vllm:request_success_total", map[string]string{"finished_reason": "stop"}))
	assert.Equal(t, 4.0, value(t, fams, "vllm:request_success_total", map[string]string{"finished_reason": "length"}))

	resp := post(t, context.Background(), s.URL+"/v1/completions", `{"prompt":"x","max_tokens":4,"min_tokens":5}`)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestContinuousUsageAndReasoningTokens(t *testing.T) {
	s := New(t, Config{ReasoningTokens: 2})
	r := stream(t, s.URL+"/v1/chat/completions",
		`{"messages":[{"role":"user","content":"a b c"}],"max_tokens":4,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`)
	cs := decodeChunks(t, r.events)
	require.Len(t, cs, 6) // role, 4 tokens, final usage
	for k := 0; k < 5; k++ {
		require.NotNil(t, cs[k].Usage, "chunk %d", k)
		assert.Equal(t, 3+ChatTokensPerMessage, cs[k].Usage.PromptTokens)
		assert.Equal(t, k, cs[k].Usage.CompletionTokens, "chunk %d carries the tokens sent so far", k)
		assert.Equal(t, 3+ChatTokensPerMessage+k, cs[k].Usage.TotalTokens)
	}
	assert.Contains(t, r.events[5].data, `"completion_tokens_details":{"reasoning_tokens":2}`)
	assert.NotContains(t, r.events[1].data, "completion_tokens_details")

	// Without include_usage, continuous_usage_stats adds nothing (vLLM needs both).
	r = stream(t, s.URL+"/v1/chat/completions",
		`{"messages":[{"role":"user","content":"a"}],"max_tokens":2,"stream":true,"stream_options":{"continuous_usage_stats":true}}`)
	for _, e := range r.events {
		assert.NotContains(t, e.data, "usage")
	}
}

func TestPrefixCacheCounters(t *testing.T) {
	words := func(n int, w string) string { return strings.TrimSpace(strings.Repeat(w+" ", n)) }
	send := func(s *Server, prompt string) {
		resp := post(t, context.Background(), s.URL+"/v1/completions", fmt.Sprintf(`{"prompt":%q,"max_tokens":1}`, prompt))
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	s := New(t, Config{})
	shared := words(40, "p")
	send(s, shared)                            // 40 queried, 0 hit; caches blocks 1-2
	send(s, shared)                            // hits 2 whole blocks: 32 (at most 39 tokens)
	send(s, shared+" "+words(9, "q"))          // 49 tokens: blocks 1-2 hit (32), block 3 new
	send(s, words(32, "p"))                    // 32 tokens: at most 31 may hit, so 1 block: 16
	send(s, words(10, "q")+" "+words(30, "p")) // another first block: no hit
	fams := scrape(t, s)
	assert.Equal(t, float64(40+40+49+32+40), value(t, fams, "vllm:prefix_cache_queries_total", nil))
	assert.Equal(t, float64(0+32+32+16+0), value(t, fams, "vllm:prefix_cache_hits_total", nil))

	off := New(t, Config{NoPrefixCaching: true})
	send(off, shared)
	send(off, shared)
	fams = scrape(t, off)
	assert.Equal(t, 0.0, value(t, fams, "vllm:prefix_cache_hits_total", nil))
}

// A prompt's first request pays prefill for every token (lower bound only: tests never bound speed from above).
func TestPrefixCacheFirstRequestPaysPrefill(t *testing.T) {
	const per = 5 * time.Millisecond
	s := New(t, Config{TTFTPerPromptToken: per})
	body := fmt.Sprintf(`{"prompt":%q,"max_tokens":1,"stream":true}`, strings.TrimSpace(strings.Repeat("w ", 33)))
	assert.GreaterOrEqual(t, stream(t, s.URL+"/v1/completions", body).events[0].at, 33*per)
	stream(t, s.URL+"/v1/completions", body)
	assert.Equal(t, 32.0, value(t, scrape(t, s), "vllm:prefix_cache_hits_total", nil))
}

// n > 1: each choice has its own tokens, chunks carry their choice's index, each choice's last token has the
// finish reason, usage counts every choice's tokens, and choice 0 is what n=1 sends.
func TestSeveralChoices(t *testing.T) {
	s := New(t, Config{ReasoningTokens: 1})
	r := stream(t, s.URL+"/v1/chat/completions",
		`{"messages":[{"role":"user","content":"a b"}],"max_tokens":3,"n":2,"stream":true,"stream_options":{"include_usage":true}}`)
	cs := decodeChunks(t, r.events)
	require.Len(t, cs, 2+2*3+1) // 2 role chunks, 3 steps × 2 choices, usage
	texts := map[int]string{}
	finishes := map[int]int{}
	for i, c := range cs[:8] {
		require.Len(t, c.Choices, 1)
		ch := c.Choices[0]
		assert.Equal(t, i%2, ch.Index, "chunk %d: choices alternate", i)
		if i < 2 {
			require.NotNil(t, ch.Delta.Role)
			continue
		}
		if ch.Delta.Content != nil {
			texts[ch.Index] += *ch.Delta.Content
		}
		if ch.FinishReason != nil {
			finishes[ch.Index]++
			assert.Equal(t, "length", *ch.FinishReason)
			assert.GreaterOrEqual(t, i, 6, "only the last step finishes")
		}
	}
	assert.Equal(t, map[int]int{0: 1, 1: 1}, finishes)
	assert.NotEqual(t, texts[0], texts[1])
	assert.Equal(t, 6, cs[8].Usage.CompletionTokens)
	assert.Contains(t, r.events[8].data, `"reasoning_tokens":2`)

	one := decodeChunks(t, stream(t, s.URL+"/v1/chat/completions",
		`{"messages":[{"role":"user","content":"a b"}],"max_tokens":3,"stream":true}`).events)
	var text0 string
	for _, c := range one[2:] { // one[0] is the role chunk, one[1] the reasoning token

		text0 += *c.Choices[0].Delta.Content
	}
	assert.Equal(t, texts[0], text0)

	resp := post(t, context.Background(), s.URL+"/v1/completions", `{"prompt":"a b","max_tokens":3,"n":3}`)
	defer resp.Body.Close()
	var body struct {
		Choices []struct {
			Index int    `json:"index"`
			Text  string `json:"text"`
		} `json:"choices"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Len(t, body.Choices, 3)
	for c, ch := range body.Choices {
		assert.Equal(t, c, ch.Index)
		assert.Len(t, strings.Fields(ch.Text), 3)
	}
	assert.Equal(t, 9, body.Usage.CompletionTokens)
	assert.Equal(t, 9.0+6+3, value(t, scrape(t, s), "vllm:generation_tokens_total", nil))
}

// With TokensPerChunk 3 and 2 reasoning tokens, 9 tokens go out as [0] (the first alone), [1] (the last
// reasoning token), [2 3 4], [5 6 7], [8] (the last): usage 1, 2, 5, 8, 9 with continuous_usage_stats; the
// text is that of the same request sent one token per chunk.
func TestTokensPerChunkGroupsTokens(t *testing.T) {
	body := `{"messages":[{"role":"user","content":"a b c"}],"max_tokens":9,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`
	text := func(cs []chunk) (reasoning, content []string) {
		for _, c := range cs {
			if len(c.Choices) == 0 || c.Choices[0].Delta == nil {
				continue
			}
			if d := c.Choices[0].Delta; d.ReasoningContent != nil {
				reasoning = append(reasoning, *d.ReasoningContent)
			} else if d.Content != nil && *d.Content != "" {
				content = append(content, *d.Content)
			}
		}
		return reasoning, content
	}
	one := decodeChunks(t, stream(t, New(t, Config{ReasoningTokens: 2}).URL+"/v1/chat/completions", body).events)
	grouped := decodeChunks(t, stream(t, New(t, Config{ReasoningTokens: 2, TokensPerChunk: 3}).URL+"/v1/chat/completions", body).events)
	require.Len(t, one, 11)    // role, 9 tokens, usage
	require.Len(t, grouped, 7) // role, 5 chunks, usage
	var counts []int
	for _, c := range grouped[1:6] {
		require.NotNil(t, c.Usage)
		counts = append(counts, c.Usage.CompletionTokens)
	}
	assert.Equal(t, []int{1, 2, 5, 8, 9}, counts)
	r1, c1 := text(one)
	rg, cg := text(grouped)
	assert.Equal(t, r1, rg, "reasoning tokens one per chunk either way")
	require.Len(t, c1, 7)
	assert.Equal(t, []string{c1[0] + c1[1] + c1[2], c1[3] + c1[4] + c1[5], c1[6]}, cg)
	require.NotNil(t, grouped[5].Choices[0].FinishReason)
	assert.Equal(t, "length", *grouped[5].Choices[0].FinishReason)
}

// With n = 2 and TokensPerChunk 2, 3 tokens per choice go out as [0] and [1 2] for each choice in turn;
// continuous usage counts every choice's tokens sent so far: 1, 2, then 2 + 2 = 4 and 4 + 2 = 6.
func TestTokensPerChunkWithSeveralChoices(t *testing.T) {
	s := New(t, Config{TokensPerChunk: 2})
	cs := decodeChunks(t, stream(t, s.URL+"/v1/completions",
		`{"prompt":"a b","max_tokens":3,"n":2,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`).events)
	require.Len(t, cs, 5) // 2 choices × 2 chunks, usage
	var idx, counts []int
	for _, c := range cs[:4] {
		require.Len(t, c.Choices, 1)
		require.NotNil(t, c.Usage)
		idx, counts = append(idx, c.Choices[0].Index), append(counts, c.Usage.CompletionTokens)
	}
	assert.Equal(t, []int{0, 1, 0, 1}, idx)
	assert.Equal(t, []int{1, 2, 4, 6}, counts)
	assert.Equal(t, 6, cs[4].Usage.CompletionTokens)
}
