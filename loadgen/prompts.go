package loadgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Message is one chat message of a /v1/chat/completions request, as the OpenAI Chat Completions API defines it.
type Message struct {
	// Role is "system", "user", "assistant" or "tool".
	Role string `json:"role"`
	// Content is a string, or any JSON-encodable value the server accepts as content (for example a list of
	// content parts). It is encoded as given.
	Content any `json:"content"`
}

// Prompt is one request's input. Exactly one of Text and Messages is set: Text goes to /v1/completions as
// "prompt", Messages to /v1/chat/completions as "messages" (see ClientConfig.Endpoint for overriding that).
type Prompt struct {
	// ID is copied into recorder.Request.ID (optional).
	ID string `json:"id,omitempty"`
	// Text is a completions prompt.
	Text string `json:"prompt,omitempty"`
	// Messages is a chat conversation.
	Messages []Message `json:"messages,omitempty"`
	// MaxTokens, when > 0, overrides Params.MaxTokens for this prompt (the per-request output length that
	// vLLM's bench serve datasets carry).
	MaxTokens int `json:"max_tokens,omitempty"`
	// IgnoreEOS, when not nil, overrides Params.IgnoreEOS for this prompt ("ignore_eos").
	IgnoreEOS *bool `json:"ignore_eos,omitempty"`
	// MinTokens, when > 0, overrides Params.MinTokens for this prompt ("min_tokens").
	MinTokens int `json:"min_tokens,omitempty"`
	// Model, when set, overrides Params.Model for this prompt: a model or LoRA adapter name the server
	// serves (see Mix). It is recorded as recorder.Request.Model.
	Model string `json:"model,omitempty"`
	// Turns, when set, makes the prompt a multi-turn session (see Session): Messages is then its context
	// (for example a system message, possibly empty) and Turns its user turns, sent one after another.
	Turns []Turn `json:"-"`
}

// IsChat reports whether p is a chat prompt (Messages set).
func (p Prompt) IsChat() bool { return len(p.Messages) > 0 }

func (p Prompt) validate() error {
	switch {
	case p.Text != "" && len(p.Messages) > 0:
		return errors.New("both prompt and messages are set")
	case len(p.Turns) > 0:
		if err := p.validateSession(); err != nil {
			return err
		}
	case p.Text == "" && len(p.Messages) == 0:
		return errors.New(`neither a non-empty "prompt" nor "messages" is set`)
	}
	switch {
	case p.MaxTokens < 0:
		return fmt.Errorf("max_tokens %d is negative", p.MaxTokens)
	case p.MinTokens < 0:
		return fmt.Errorf("min_tokens %d is negative", p.MinTokens)
	case p.MaxTokens > 0 && p.MinTokens > p.MaxTokens:
		return fmt.Errorf("min_tokens %d is above max_tokens %d", p.MinTokens, p.MaxTokens)
	}
	return nil
}

// ReadPrompts reads prompts from JSON Lines: one object per line, either {"prompt": "..."} or
// {"messages": [{"role": ..., "content": ...}, ...]}, each optionally with "id", "max_tokens", "min_tokens",
// "ignore_eos" and "model". A line with "turns" is a multi-turn session (Prompt.Turns): its "messages", if
// any, are the context, and each turn is a user message's content (a string or a list of content parts) or
// {"content": ..., "max_tokens": N} (Turn.UnmarshalJSON). Blank lines
// are skipped; lines may be of any length. Unknown fields are ignored. A line that is not valid JSON or that
// has neither (or both) of "prompt" and "messages" is an error naming its 1-based line number; an input with
// no prompt at all is an error too.
func ReadPrompts(r io.Reader) ([]Prompt, error) {
	br := bufio.NewReader(r)
	var prompts []Prompt
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			p, jerr := promptLine(line)
			if jerr != nil {
				return nil, fmt.Errorf("loadgen: prompts line %d: %w", lineNo, jerr)
			}
			if verr := p.validate(); verr != nil {
				return nil, fmt.Errorf("loadgen: prompts line %d: %w", lineNo, verr)
			}
			prompts = append(prompts, p)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("loadgen: reading prompts at line %d: %w", lineNo, err)
		}
	}
	if len(prompts) == 0 {
		return nil, errors.New("loadgen: no prompts in input")
	}
	return prompts, nil
}

// promptLine decodes one line of ReadPrompts: a Prompt and its "turns"; "turns": [] is an error.
func promptLine(line []byte) (Prompt, error) {
	var l struct {
		Prompt
		Turns *[]Turn `json:"turns"`
	}
	if err := json.Unmarshal(line, &l); err != nil {
		return Prompt{}, err
	}
	if l.Turns != nil {
		if len(*l.Turns) == 0 {
			return Prompt{}, errors.New(`"turns" is empty: a session needs at least one user turn`)
		}
		l.Prompt.Turns = *l.Turns
	}
	return l.Prompt, nil
}

// LoadPrompts reads a JSON Lines prompt file with ReadPrompts. Errors name the file and, for a bad line, its
// 1-based line number.
func LoadPrompts(path string) ([]Prompt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	defer f.Close()
	ps, err := ReadPrompts(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

// TextPrompts turns plain strings into completions prompts.
func TextPrompts(texts ...string) []Prompt {
	ps := make([]Prompt, len(texts))
	for i, t := range texts {
		ps[i] = Prompt{Text: t}
	}
	return ps
}

// ChatPrompts turns plain strings into single-turn chat prompts (one "user" message each).
func ChatPrompts(texts ...string) []Prompt {
	ps := make([]Prompt, len(texts))
	for i, t := range texts {
		ps[i] = Prompt{Messages: []Message{{Role: "user", Content: t}}}
	}
	return ps
}
