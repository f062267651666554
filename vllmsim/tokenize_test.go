package vllmsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tokenizeResp posts body to /tokenize and decodes the answer.
func tokenizeResp(t *testing.T, s *Server, body string) (int, tokenizeResponse, string) {
	t.Helper()
	resp := post(t, context.Background(), s.URL+"/tokenize", body)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var tr tokenizeResponse
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(raw, &tr), "%s", raw)
	}
	return resp.StatusCode, tr, string(raw)
}

// usageOf sends a non-streaming request and returns its usage.prompt_tokens.
func usageOf(t *testing.T, s *Server, path, body string) int {
	t.Helper()
	resp := post(t, context.Background(), s.URL+path, body)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var r struct {
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r.Usage.PromptTokens
}

func TestTokenizeMatchesUsage(t *testing.T) {
	s := New(t, Config{MaxModelLen: 4096})
	// "alpha beta  gamma\tdelta" is 4 words.
	code, tr, raw := tokenizeResp(t, s, `{"model":"vmtest-sim","prompt":"alpha beta  gamma\tdelta","return_token_strs":true}`)
	require.Equal(t, http.StatusOK, code, raw)
	assert.Equal(t, 4, tr.Count)
	assert.Equal(t, 4096, tr.MaxModelLen)
	require.Len(t, tr.Tokens, 4)
	assert.Equal(t, []string{"alpha", "beta", "gamma", "delta"}, tr.TokenStrs)
	assert.Equal(t, tr.Tokens[0], int(firstWordID+fnv64(0, "alpha")%wordIDs), "a word's id is its FNV-1a hash")
	assert.Equal(t, 4, usageOf(t, s, "/v1/completions", `{"prompt":"alpha beta  gamma\tdelta","max_tokens":1}`))

	// Chat: 2 + 3 words and 4 tokens per message (<|im_start|> role ... <|im_end|> \n).
	msgs := `[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hello"},{"type":"text","text":"there world"}]}]`
	code, tr, raw = tokenizeResp(t, s, `{"messages":`+msgs+`,"add_generation_prompt":true,"return_token_strs":true}`)
	require.Equal(t, http.StatusOK, code, raw)
	assert.Equal(t, 5+2*ChatTokensPerMessage, tr.Count)
	assert.Equal(t, []string{"<|im_start|>", "system", "be", "brief", "<|im_end|>", "\n",
		"<|im_start|>", "user", "hello", "there", "world", "<|im_end|>", "\n"}, tr.TokenStrs)
	assert.Equal(t, tr.Count, usageOf(t, s, "/v1/chat/completions", `{"messages":`+msgs+`,"max_tokens":1}`))

	// Token ids are counted one each; without return_token_strs there is no token_strs field.
	code, tr, raw = tokenizeResp(t, s, `{"prompt":[5,6,7]}`)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []int{5, 6, 7}, tr.Tokens)
	assert.NotContains(t, raw, "token_strs")
	assert.Equal(t, 3, usageOf(t, s, "/v1/completions", `{"prompt":[5,6,7],"max_tokens":1}`))
}

func TestTokenizeErrors(t *testing.T) {
	s := New(t, Config{})
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"prompt":"a","messages":[{"role":"user","content":"b"}]}`, 400, "exactly one of"},
		{`{}`, 400, "exactly one of"},
		{`{"model":"other","prompt":"a"}`, 404, "does not exist"},
		{`{"prompt":[1,"x"]}`, 400, "integers"},
		{`{"messages":[{"content":"x"}]}`, 400, "role is required"},
		{`{"prompt":`, 400, "invalid JSON"},
	} {
		code, _, raw := tokenizeResp(t, s, c.body)
		assert.Equal(t, c.code, code, c.body)
		assert.Contains(t, raw, c.want, c.body)
	}
}
