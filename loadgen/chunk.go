package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
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

// wireUsage is the usage object. Its counts are read without failing the chunk's parse, so that a count
// that is negative, fractional or past int64 is reported as invalid (usage.validate).
type wireUsage struct {
	PromptTokens     usageCount `json:"prompt_tokens"`
	CompletionTokens usageCount `json:"completion_tokens"`
	// CompletionTokensDetails carries reasoning_tokens (a reasoning model's share of completion_tokens).
	CompletionTokensDetails *struct {
		ReasoningTokens usageCount `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// usageCount is one token count as the server sent it.
type usageCount struct {
	n   int64
	bad string // the text sent, capped, when it is not a whole number in int64 (or JSON null)
}

// UnmarshalJSON reads a whole number in int64; anything else is kept (capped) as bad.
func (u *usageCount) UnmarshalJSON(b []byte) error {
	*u = usageCount{}
	if n, ok := parseWhole(b); ok {
		u.n = n
	} else if string(b) != "null" {
		u.bad = capText(string(b), 64)
	}
	return nil
}

// parseWhole parses an optionally negative decimal integer that fits int64, without allocating.
func parseWhole(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// maxUsageTokens is the largest token count a usage object may carry: more than any context window, small
// enough that summing a run's counts cannot overflow.
const maxUsageTokens = 1<<31 - 1

// validate returns the prompt and completion token counts, or an error wrapping ErrInvalidUsage naming the
// first field that is not a whole number in [0, maxUsageTokens] (an absent or null field counts as 0).
func (u *wireUsage) validate() (prompt, completion int, err error) {
	prompt, err = u.PromptTokens.check("prompt_tokens")
	if err != nil {
		return 0, 0, err
	}
	completion, err = u.CompletionTokens.check("completion_tokens")
	return prompt, completion, err
}

func (u usageCount) check(field string) (int, error) {
	switch {
	case u.bad != "":
		return 0, fmt.Errorf("%w: %s %s is not a whole number in int64", ErrInvalidUsage, field, u.bad)
	case u.n < 0:
		return 0, fmt.Errorf("%w: %s %d is negative", ErrInvalidUsage, field, u.n)
	case u.n > maxUsageTokens:
		return 0, fmt.Errorf("%w: %s %d is over %d", ErrInvalidUsage, field, u.n, maxUsageTokens)
	}
	return int(u.n), nil
}

// chunkInfo is what one chunk means for timing.
type chunkInfo struct {
	token   bool // carries a generated token in any channel
	content bool // carries visible content (chat content or completions text)
	finish  string
	usage   wireUsage // valid when hasUsage
	err     *StreamError
	// hasUsage is true when the chunk had a usage object (not null).
	hasUsage bool
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
	if ci, ok := scanChunk(data); ok {
		return ci, nil
	}
	return decodeChunk(data)
}

// decodeChunk is parseChunk with encoding/json: the reference scanChunk agrees with.
func decodeChunk(data []byte) (chunkInfo, error) {
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
		ci.err = &StreamError{Raw: excerpt(data, MaxErrorText)}
		ci.err.setFields(w.Message, w.Type, w.Code)
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
			ci.finish = capText(*c.FinishReason, MaxFinishReason)
		}
	}
	if w.Usage != nil {
		ci.usage, ci.hasUsage = *w.Usage, true
	}
	return ci, nil
}

// Caps on the text a server sends that a request's record keeps (bytes; a capped text ends in "…").
const (
	// MaxErrorText caps StreamError.Message and StreamError.Raw, and HTTPError.Body.
	MaxErrorText = 1024
	// MaxErrorField caps StreamError.Type and StreamError.Code.
	MaxErrorField = 128
	// MaxFinishReason caps recorder.Request.FinishReason.
	MaxFinishReason = 64
)

// StreamError is an {"error": ...} event inside a 200 stream (or an error object in a 200 body), as vLLM
// sends when generation fails after the response has started. The request's outcome is failed. Its texts
// are the server's, capped (MaxErrorText, MaxErrorField) with "…" and Truncated set when cut.
type StreamError struct {
	// Message is the error's "message" field.
	Message string
	// Type is the error's "type" field (for example "BadRequestError"), when present.
	Type string
	// Code is the error's "code" field as sent (a number such as 500, or a string), when present.
	Code string
	// Raw is the error object as the server sent it (trimmed, at most MaxErrorText bytes).
	Raw string
	// Truncated is true when Message, Type, Code or Raw was cut at its cap.
	Truncated bool
}

// Error formats the error's type, code and message (or the raw object when it has no message).
func (e *StreamError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Raw
	}
	var b strings.Builder
	b.WriteString("loadgen: error event in stream: ")
	if e.Type != "" {
		b.WriteString(e.Type)
	}
	if e.Code != "" {
		if e.Type != "" {
			b.WriteByte(' ')
		}
		b.WriteString("(code " + e.Code + ")")
	}
	if e.Type != "" || e.Code != "" {
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}

// setFields sets the capped message, type and code (a JSON string's content, or a number's text).
func (e *StreamError) setFields(msg, typ string, code json.RawMessage) {
	e.Truncated = e.Truncated || len(msg) > MaxErrorText || len(typ) > MaxErrorField
	e.Message, e.Type = capText(msg, MaxErrorText), capText(typ, MaxErrorField)
	c := bytes.TrimSpace(code)
	var s string
	if json.Unmarshal(c, &s) == nil {
		c = []byte(s)
	} else if string(c) == "null" {
		c = nil
	}
	e.Truncated = e.Truncated || len(c) > MaxErrorField
	e.Code = excerpt(c, MaxErrorField)
}

func newStreamError(raw json.RawMessage) *StreamError {
	t := bytes.TrimSpace(raw)
	se := &StreamError{Raw: excerpt(t, MaxErrorText), Truncated: len(t) > MaxErrorText}
	var obj struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		se.setFields(obj.Message, obj.Type, obj.Code)
	} else {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			se.setFields(s, "", nil)
		}
	}
	return se
}

// capText returns s cut to at most n bytes (at a character boundary, valid as text) with "…" when cut.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// excerpt returns at most n bytes of b, trimmed, valid as text, with "…" when cut.
func excerpt(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) <= n {
		return string(bytes.ToValidUTF8(b, []byte("?")))
	}
	return string(bytes.ToValidUTF8(b[:n], nil)) + "…"
}
