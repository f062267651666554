package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Tokenizer counts a prompt's tokens as the server counts its usage.prompt_tokens.
type Tokenizer interface {
	// Count returns p's length in tokens: Text as a completions prompt, Messages as a chat prompt (its chat
	// template included).
	Count(ctx context.Context, p Prompt) (int, error)
}

// ErrNoTokenizer: the server does not serve POST /tokenize (HTTP 404 or 405); lengths can then only be
// approximate (WordTokenizer).
var ErrNoTokenizer = errors.New("loadgen: the server has no /tokenize endpoint")

// maxTokenizeBody bounds a /tokenize answer (its token list): 16 MiB.
const maxTokenizeBody = 16 << 20

// ServerTokenizer counts tokens with the server's own tokenizer, vLLM's POST /tokenize (at BaseURL, not
// under /v1): {"model", "prompt"} or {"model", "messages", "add_generation_prompt": true}, answered with
// {"count", "max_model_len", "tokens"}.
type ServerTokenizer struct {
	// BaseURL is the server's base URL, e.g. "http://localhost:8000" (a trailing /v1 is dropped).
	BaseURL string
	// Model is the "model" field; empty leaves it out.
	Model string
	// APIKey, when set, is sent as a bearer token.
	APIKey string
	// HTTPClient sends the requests; nil: http.DefaultClient.
	HTTPClient *http.Client
}

// Count asks the server. It returns ErrNoTokenizer (wrapped) when the endpoint is not served, and an error
// naming the status and the server's message for any other refusal.
func (t *ServerTokenizer) Count(ctx context.Context, p Prompt) (int, error) {
	body := map[string]any{}
	if t.Model != "" {
		body["model"] = t.Model
	}
	if p.IsChat() {
		body["messages"] = p.Messages
		body["add_generation_prompt"] = true
	} else {
		body["prompt"] = p.Text
	}
	b, err := json.Marshal(body)
	if err != nil {
		return 0, fmt.Errorf("loadgen: tokenize: %w", err)
	}
	url := strings.TrimSuffix(strings.TrimSuffix(t.BaseURL, "/"), "/v1") + "/tokenize"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, fmt.Errorf("loadgen: tokenize: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if t.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.APIKey)
	}
	hc := t.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("loadgen: tokenize: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenizeBody+1))
	if err != nil {
		return 0, fmt.Errorf("loadgen: tokenize: reading the answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return 0, fmt.Errorf("%w (POST %s: HTTP %d)", ErrNoTokenizer, url, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("loadgen: tokenize: POST %s: HTTP %d: %s", url, resp.StatusCode, boundedText(raw, 200))
	case len(raw) > maxTokenizeBody:
		return 0, fmt.Errorf("loadgen: tokenize: POST %s: answer longer than %d bytes", url, maxTokenizeBody)
	}
	var tr struct {
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(raw, &tr); err != nil || tr.Count == nil || *tr.Count < 0 {
		return 0, fmt.Errorf("loadgen: tokenize: POST %s: want {\"count\": N, ...}, got %s", url, boundedText(raw, 200))
	}
	return *tr.Count, nil
}

// boundedText is at most n bytes of b, for error messages.
func boundedText(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// WordTokenizer approximates a tokenizer by counting whitespace-separated words (and ChatOverhead per
// message of a chat prompt). It is what the simulator counts exactly; against a real model's tokenizer
// the counts are only approximate.
type WordTokenizer struct {
	// ChatOverhead is the tokens added per chat message (role markers of a chat template).
	ChatOverhead int
}

// Count counts p's words (and ChatOverhead per message). Content other than a string counts as 0 words.
func (w WordTokenizer) Count(_ context.Context, p Prompt) (int, error) {
	if !p.IsChat() {
		return len(strings.Fields(p.Text)), nil
	}
	n := 0
	for _, m := range p.Messages {
		if s, ok := m.Content.(string); ok {
			n += len(strings.Fields(s))
		}
		n += w.ChatOverhead
	}
	return n, nil
}
