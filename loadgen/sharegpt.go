package loadgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Entry is one conversation of a ShareGPT-format dataset, as ReadShareGPT reads it.
type Entry struct {
	// ID is the entry's "id" ("" when absent).
	ID string
	// Messages is the conversation in order: roles "system", "user" and "assistant".
	Messages []Message
	// OutputLen is the entry's explicit expected output length ("output_len" or "max_tokens"), tokens; 0
	// when absent (the reference replies' lengths are then used).
	OutputLen int
	// Model is the entry's "model" (or "lora", or "adapter"): the model or LoRA adapter its requests name.
	Model string
	// Where names the entry for errors: "file.json: entry 3" or "file.jsonl: line 3".
	Where string
}

// wireEntry is an entry as a dataset file holds it: vLLM's ShareGPT ("conversations" of "from"/"value") or
// OpenAI-style "messages".
type wireEntry struct {
	ID            json.RawMessage `json:"id"`
	Conversations []struct {
		From  string `json:"from"`
		Value any    `json:"value"`
	} `json:"conversations"`
	Messages  []Message `json:"messages"`
	OutputLen *int      `json:"output_len"`
	MaxTokens *int      `json:"max_tokens"`
	Model     string    `json:"model"`
	LoRA      string    `json:"lora"`
	Adapter   string    `json:"adapter"`
}

// roles maps ShareGPT's "from" values (and the OpenAI roles) to chat roles.
var roles = map[string]string{
	"human": "user", "user": "user",
	"gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "model": "assistant",
	"system": "system",
}

// ReadShareGPT reads a ShareGPT-format dataset: either the JSON list vLLM's benchmark reads (an array of
// {"id", "conversations": [{"from": "human"|"gpt"|"system", "value": ...}, ...]}) or JSON Lines with one
// such object per line; an entry may carry OpenAI-style "messages" [{"role", "content"}] instead, an
// explicit output length ("output_len" or "max_tokens", tokens ≥ 1) and a model ("model", "lora" or
// "adapter"). name is used in errors, which name the entry (0-based in a list, as Python indexes it) or the
// 1-based line, and the field. Unknown fields are ignored.
func ReadShareGPT(r io.Reader, name string) ([]Entry, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var es []Entry
	if first == '[' {
		es, err = readList(br, name)
	} else {
		es, err = readLines(br, name)
	}
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("%s: no entry in the dataset", name)
	}
	return es, nil
}

// LoadShareGPT reads the dataset file at path with ReadShareGPT.
func LoadShareGPT(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	defer f.Close()
	return ReadShareGPT(f, path)
}

// firstByte peeks the first byte that is not white space (nor a byte-order mark's).
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return 0, errors.New("the dataset is empty")
		}
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF: // white space, a UTF-8 byte-order mark
			continue
		}
		return b, br.UnreadByte()
	}
}

// readList reads a JSON array of entries.
func readList(r io.Reader, name string) ([]Entry, error) {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var es []Entry
	for i := 0; dec.More(); i++ {
		where := fmt.Sprintf("%s: entry %d", name, i)
		var w wireEntry
		if err := dec.Decode(&w); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		e, err := w.entry(where)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: after entry %d: %w", name, len(es)-1, err)
	}
	return es, nil
}

// readLines reads JSON Lines of entries; blank lines are skipped.
func readLines(br *bufio.Reader, name string) ([]Entry, error) {
	var es []Entry
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			where := fmt.Sprintf("%s: line %d", name, lineNo)
			var w wireEntry
			if jerr := json.Unmarshal(line, &w); jerr != nil {
				return nil, fmt.Errorf("%s: %w", where, jerr)
			}
			e, verr := w.entry(where)
			if verr != nil {
				return nil, verr
			}
			es = append(es, e)
		}
		if err == io.EOF {
			return es, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading line %d: %w", name, lineNo, err)
		}
	}
}

// entry checks w and converts it; errors start with where and name the field.
func (w *wireEntry) entry(where string) (Entry, error) {
	e := Entry{Where: where, ID: strings.Trim(string(w.ID), `"`)}
	switch {
	case len(w.Conversations) > 0 && len(w.Messages) > 0:
		return e, fmt.Errorf(`%s: both "conversations" and "messages" are set`, where)
	case len(w.Conversations) == 0 && len(w.Messages) == 0:
		return e, fmt.Errorf(`%s: neither "conversations" nor "messages" is set`, where)
	}
	for k, c := range w.Conversations {
		role, ok := roles[strings.ToLower(c.From)]
		if !ok {
			return e, fmt.Errorf(`%s: conversations[%d].from %q is not human, gpt or system`, where, k, c.From)
		}
		s, isStr := c.Value.(string)
		if !isStr {
			return e, fmt.Errorf(`%s: conversations[%d].value is not a string`, where, k)
		}
		e.Messages = append(e.Messages, Message{Role: role, Content: s})
	}
	for k, m := range w.Messages {
		role, ok := roles[m.Role]
		if !ok || m.Content == nil {
			return e, fmt.Errorf(`%s: messages[%d]: role %q is not user, assistant or system, or content is missing`, where, k, m.Role)
		}
		e.Messages = append(e.Messages, Message{Role: role, Content: m.Content})
	}
	var err error
	if e.OutputLen, err = outputLen(w.OutputLen, w.MaxTokens); err != nil {
		return e, fmt.Errorf("%s: %w", where, err)
	}
	if e.Model, err = entryModel(w.Model, w.LoRA, w.Adapter); err != nil {
		return e, fmt.Errorf("%s: %w", where, err)
	}
	return e, nil
}

// outputLen is the explicit output length of "output_len" and "max_tokens" (which must agree), 0 for none.
func outputLen(outLen, maxTokens *int) (int, error) {
	switch {
	case outLen != nil && *outLen < 1:
		return 0, fmt.Errorf("output_len %d is not ≥ 1", *outLen)
	case maxTokens != nil && *maxTokens < 1:
		return 0, fmt.Errorf("max_tokens %d is not ≥ 1", *maxTokens)
	case outLen != nil && maxTokens != nil && *outLen != *maxTokens:
		return 0, fmt.Errorf("output_len %d and max_tokens %d differ", *outLen, *maxTokens)
	case outLen != nil:
		return *outLen, nil
	case maxTokens != nil:
		return *maxTokens, nil
	}
	return 0, nil
}

// entryModel is the one model named by "model", "lora" and "adapter" ("" for none).
func entryModel(names ...string) (string, error) {
	model := ""
	for _, n := range names {
		if n != "" && model != "" && n != model {
			return "", fmt.Errorf(`"model", "lora" and "adapter" name different models (%q, %q)`, model, n)
		}
		if n != "" {
			model = n
		}
	}
	return model, nil
}

// textOf is the text of a message's content: a string, or the "text" of each part of a list of content
// parts, joined by spaces.
func textOf(content any) string {
	switch c := content.(type) {
	case string:
		return c
	case []any:
		var parts []string
		for _, p := range c {
			if m, ok := p.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					parts = append(parts, t)
				}
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}
