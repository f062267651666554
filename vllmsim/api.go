package vllmsim

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// apiRequest holds the request fields the simulator reads; others are
// accepted and ignored, as sampling parameters do not change a simulation.
type apiRequest struct {
	Model               *string         `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage         bool `json:"include_usage"`
		ContinuousUsageStats bool `json:"continuous_usage_stats"`
	} `json:"stream_options"`
	N         *int `json:"n"`
	MinTokens *int `json:"min_tokens"`
	IgnoreEOS bool `json:"ignore_eos"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// parsed is a validated request.
type parsed struct {
	stream          bool
	includeUsage    bool
	continuousUsage bool // usage on every chunk (stream_options.continuous_usage_stats with include_usage)
	promptTokens    int
	promptHash      uint64
	maxTokens       int
	minTokens       int
	n               int // choices
	ignoreEOS       bool
	blocks          []uint64 // chained hashes of the prompt's whole blocks (prefix cache keys)
	adapter         string   // the LoRA adapter the request named ("" for the base model)
	adapterJSON     []byte   // adapter as a JSON string
}

// modelName is the model a response names: the adapter the request asked for, else base.
func (p *parsed) modelName(base string) string {
	if p.adapter == "" {
		return base
	}
	return p.adapter
}

// requestError is a 4xx answer: status, offending parameter, message.
type requestError struct {
	status int
	param  string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(param, format string, args ...any) *requestError {
	return &requestError{status: 400, param: param, msg: fmt.Sprintf(format, args...)}
}

// parseRequest decodes and validates a completions (chat=false) or chat
// completions request against cfg. t is scratch for the prompt's token ids and
// blocks for its block hashes (p.blocks reuses it).
func parseRequest(body []byte, chat bool, cfg *Config, t *tokenizer, blocks []uint64) (parsed, *requestError) {
	var p parsed
	var req apiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return p, badRequest("", "invalid JSON body: %v", err)
	}
	if req.Model != nil && !cfg.serves(*req.Model) {
		return p, &requestError{status: 404, param: "model",
			msg: fmt.Sprintf("The model `%s` does not exist.", *req.Model)}
	}
	if req.Model != nil && *req.Model != cfg.Model {
		p.adapter = *req.Model
		p.adapterJSON, _ = json.Marshal(*req.Model)
	}
	p.n = 1
	if req.N != nil {
		if *req.N < 1 || *req.N > MaxN {
			return p, badRequest("n", "n must be from 1 to %d, got %d", MaxN, *req.N)
		}
		p.n = *req.N
	}
	if req.StreamOptions != nil && !req.Stream {
		return p, badRequest("stream_options", "Stream options can only be defined when `stream=True`.")
	}
	p.stream = req.Stream
	p.includeUsage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	p.continuousUsage = p.includeUsage && req.StreamOptions.ContinuousUsageStats
	p.ignoreEOS = req.IgnoreEOS
	t.ids = t.ids[:0]

	if chat {
		if req.Messages == nil {
			return p, badRequest("messages", "field `messages` is required")
		}
		if len(req.Messages) == 0 {
			return p, badRequest("messages", "`messages` must not be empty")
		}
		for i, m := range req.Messages {
			if m.Role == "" {
				return p, badRequest("messages", "messages[%d].role is required", i)
			}
			text, err := messageText(m.Content)
			if err != nil {
				return p, badRequest("messages", "messages[%d].content: %v", i, err)
			}
			t.message(m.Role, text)
			p.promptHash = fnv64(fnv64(p.promptHash, m.Role), text)
		}
		p.promptTokens = len(t.ids)
	} else {
		if len(req.Prompt) == 0 || string(req.Prompt) == "null" {
			return p, badRequest("prompt", "field `prompt` is required")
		}
		h, rerr := tokenizePrompt(t, req.Prompt)
		if rerr != nil {
			return p, rerr
		}
		p.promptTokens, p.promptHash = len(t.ids), h
	}
	if !cfg.NoPrefixCaching {
		p.blocks = blockHashes(blocks[:0], t.ids)
	}

	p.maxTokens = cfg.DefaultMaxTokens
	mt := req.MaxTokens
	if chat && req.MaxCompletionTokens != nil {
		mt = req.MaxCompletionTokens
	}
	if mt != nil {
		if *mt < 1 {
			return p, badRequest("max_tokens", "max_tokens must be at least 1, got %d.", *mt)
		}
		p.maxTokens = *mt
	}
	if req.MinTokens != nil {
		if *req.MinTokens < 0 || *req.MinTokens > p.maxTokens {
			return p, badRequest("min_tokens", "min_tokens must be in [0, max_tokens=%d], got %d.", p.maxTokens, *req.MinTokens)
		}
		p.minTokens = *req.MinTokens
	}
	if total := p.promptTokens + p.maxTokens; total > cfg.MaxModelLen {
		return p, badRequest("max_tokens", "This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			cfg.MaxModelLen, total, p.promptTokens, p.maxTokens)
	}
	if total := p.promptTokens + p.n*p.maxTokens; total > cfg.KVCacheTokens {
		return p, badRequest("max_tokens", "request needs %d KV-cache tokens, more than the simulated capacity of %d", total, cfg.KVCacheTokens)
	}
	return p, nil
}

// messageText returns a chat message's text: a string, null, or an array
// of content parts whose "text" fields are joined with spaces.
func messageText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", err
		}
		var b []byte
		for i, pt := range parts {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, pt.Text...)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("want a string or an array of content parts")
}
