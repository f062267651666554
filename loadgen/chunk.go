package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// wireChunk is the part of an OpenAI streaming chunk (chat.completion.chunk or text_completion) that timing
// needs. Pointers and raw messages tell "absent or null" from "present".
type wireChunk struct {
	Object  string       `json:"object"`
	Choices []wireChoice `json:"choices"`
	Usage   *wireUsage   `json:"usage"`
	// Error is vLLM's and OpenAI's in-stream error object: {"error": {"message": ..., "type": ..., "code": ...}}.
	Error json.RawMessage `json:"error"`
	// Message is the top-level message of older vLLM error bodies ({"object": "error", "message": ...}).
	Message string `json:"message"`
	Type    string `json:"type"`
}

type wireChoice struct {
	// Text is the completions channel.
	Text string `json:"text"`
	// Delta is the chat streaming channel; Message is the chat non-streaming one.
	Delta        *wireDelta `json:"delta"`
	Message      *wireDelta `json:"message"`
	FinishReason *string    `json:"finish_reason"`
}

type wireDelta struct {
	Content          *string         `json:"content"`
	ReasoningContent *string         `json:"reasoning_content"`
	Reasoning        *string         `json:"reasoning"`
	ToolCalls        json.RawMessage `json:"tool_calls"`
	FunctionCall     json.RawMessage `json:"function_call"`
}

type wireUsage struct {
	PromptTokens            int `json:"prompt_tokens"`
	CompletionTokens        int `json:"completion_tokens"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// chunkInfo is what one chunk means for timing.
type chunkInfo struct {
	token   bool // carries a generated token in any channel
	content bool // carries visible content (chat content or completions text)
	finish  string
	usage   *wireUsage
	err     *StreamError
}

func nonEmpty(s *string) bool { return s != nil && *s != "" }

// nonEmptyJSON reports whether raw is present and not null, [] or {}.
func nonEmptyJSON(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return false
	}
	switch string(t) {
	case "null", "[]", "{}":
		return false
	}
	return true
}

// parseChunk interprets one SSE data payload (or a whole non-streaming response body).
func parseChunk(data []byte) (chunkInfo, error) {
	var w wireChunk
	if err := json.Unmarshal(data, &w); err != nil {
		return chunkInfo{}, fmt.Errorf("loadgen: chunk is not a JSON object: %w (%s)", err, excerpt(data, 200))
	}
	var ci chunkInfo
	if nonEmptyJSON(w.Error) {
		ci.err = newStreamError(w.Error)
		return ci, nil
	}
	if w.Object == "error" {
		ci.err = &StreamError{Message: w.Message, Type: w.Type, Raw: string(bytes.TrimSpace(data))}
		return ci, nil
	}
	for i := range w.Choices {
		c := &w.Choices[i]
		if c.Text != "" {
			ci.token, ci.content = true, true
		}
		for _, d := range [2]*wireDelta{c.Delta, c.Message} {
			if d == nil {
				continue
			}
			if nonEmpty(d.Content) {
				ci.token, ci.content = true, true
			}
			if nonEmpty(d.ReasoningContent) || nonEmpty(d.Reasoning) || nonEmptyJSON(d.ToolCalls) || nonEmptyJSON(d.FunctionCall) {
				ci.token = true
			}
		}
		if c.FinishReason != nil && *c.FinishReason != "" {
			ci.finish = *c.FinishReason
		}
	}
	ci.usage = w.Usage
	return ci, nil
}

// StreamError is an {"error": ...} event inside a 200 stream (or an error object in a 200 body), as vLLM
// sends when generation fails after the response has started. The request's outcome is failed.
type StreamError struct {
	// Message is the error's "message" field.
	Message string
	// Type is the error's "type" field (for example "BadRequestError"), when present.
	Type string
	// Raw is the error object as the server sent it (trimmed, at most 1 KiB).
	Raw string
}

// Error formats the error's type and message (or the raw object when it has no message).
func (e *StreamError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Raw
	}
	if e.Type != "" {
		return fmt.Sprintf("loadgen: error event in stream: %s: %s", e.Type, msg)
	}
	return "loadgen: error event in stream: " + msg
}

func newStreamError(raw json.RawMessage) *StreamError {
	se := &StreamError{Raw: excerpt(raw, 1024)}
	var obj struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		se.Message, se.Type = obj.Message, obj.Type
	} else {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			se.Message = s
		}
	}
	return se
}

// excerpt returns at most n bytes of b, trimmed, valid as text, with "…" when cut.
func excerpt(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) <= n {
		return string(bytes.ToValidUTF8(b, []byte("?")))
	}
	return string(bytes.ToValidUTF8(b[:n], nil)) + "…"
}
