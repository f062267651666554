package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Params are the request parameters sent with every prompt, named as in the OpenAI Completions and Chat
// Completions APIs that vLLM serves.
type Params struct {
	// Model is the "model" field; empty leaves it out (vLLM then serves its only model; OpenAI requires it).
	Model string
	// MaxTokens is "max_tokens", the requested output length (vLLM accepts it on both endpoints); 0 leaves it
	// out. Prompt.MaxTokens overrides it per prompt. It is recorded as recorder.Request.RequestedOutputTokens.
	MaxTokens int
	// Temperature is "temperature"; nil leaves it out (the server's default).
	Temperature *float64
	// TopP is "top_p"; nil leaves it out.
	TopP *float64
	// IgnoreEOS is "ignore_eos" (vLLM): true makes the server generate max_tokens whatever the model's
	// end-of-sequence token says, so requested and actual output lengths agree; nil leaves it out.
	// Prompt.IgnoreEOS overrides it per prompt.
	IgnoreEOS *bool
	// MinTokens is "min_tokens" (vLLM): the server suppresses end-of-sequence before this many output
	// tokens; 0 leaves it out. Prompt.MinTokens overrides it per prompt.
	MinTokens int
	// NoStream sends "stream": false and times the whole response as one chunk (FirstToken = End = when the
	// body was read). Default false: streaming with stream_options.include_usage, which is what TTFT needs.
	NoStream bool
	// ContinuousUsage asks for usage on every chunk (vLLM's stream_options.continuous_usage_stats), so that
	// each chunk's usage.completion_tokens tells how many tokens it carried and ITL is per token
	// (recorder.ITLPerToken); without it, or when some token-bearing chunk comes without usage, ITL is per
	// chunk. Default false: servers other than vLLM may refuse the unknown option. Ignored with NoStream.
	ContinuousUsage bool
	// Extra holds further top-level body fields, encoded as given (for example "seed": 1). It may not set
	// model, prompt, messages, max_tokens, stream, stream_options, temperature or top_p, which have their own
	// fields; "ignore_eos" (a bool) and "min_tokens" (a whole number) here stand for IgnoreEOS and MinTokens
	// (setting both is an error). "n" and "best_of" other than 1 are refused: one choice per request is timed.
	Extra map[string]any
}

// Float returns a pointer to v, for Params.Temperature and Params.TopP.
func Float(v float64) *float64 { return &v }

// Bool returns a pointer to v, for Params.IgnoreEOS and Prompt.IgnoreEOS.
func Bool(v bool) *bool { return &v }

var reservedBodyKeys = []string{"model", "prompt", "messages", "max_tokens", "stream", "stream_options", "temperature", "top_p"}

// encoder builds request bodies: the parameters that are the same for every request are encoded once.
type encoder struct {
	params Params
	model  []byte // JSON string
	tail   []byte // `,"stream":...,...}` — everything after max_tokens, including the closing brace
}

func newEncoder(p Params) (*encoder, error) {
	if p.MaxTokens < 0 {
		return nil, fmt.Errorf("loadgen: Params.MaxTokens %d is negative", p.MaxTokens)
	}
	for _, k := range reservedBodyKeys {
		if _, ok := p.Extra[k]; ok {
			return nil, fmt.Errorf("loadgen: Params.Extra may not set %q; use its own field", k)
		}
	}
	if err := oneChoice(p.Extra); err != nil {
		return nil, err
	}
	model, err := json.Marshal(p.Model)
	if err != nil {
		return nil, err
	}
	if err := p.liftExtra(); err != nil {
		return nil, err
	}
	if p.MinTokens < 0 {
		return nil, fmt.Errorf("loadgen: Params.MinTokens %d is negative", p.MinTokens)
	}
	fixed := map[string]any{}
	for k, v := range p.Extra {
		if k != "ignore_eos" && k != "min_tokens" {
			fixed[k] = v
		}
	}
	if p.NoStream {
		fixed["stream"] = false
	} else {
		fixed["stream"] = true
		so := map[string]any{"include_usage": true}
		if p.ContinuousUsage {
			so["continuous_usage_stats"] = true
		}
		fixed["stream_options"] = so
	}
	if p.Temperature != nil {
		fixed["temperature"] = *p.Temperature
	}
	if p.TopP != nil {
		fixed["top_p"] = *p.TopP
	}
	tail, err := json.Marshal(fixed) // sorted keys: stable bodies
	if err != nil {
		return nil, fmt.Errorf("loadgen: encoding Params.Extra: %w", err)
	}
	tail[0] = ',' // `{...}` → `,...}` to follow the per-request fields
	return &encoder{params: p, model: model, tail: tail}, nil
}

// oneChoice refuses "n" or "best_of" other than 1 in extra: the client times one choice per request, and the
// chunks of several choices would be mixed into one TTFT, one ITL list and one E2E latency.
func oneChoice(extra map[string]any) error {
	for _, k := range []string{"n", "best_of"} {
		v, ok := extra[k]
		if !ok || v == nil {
			continue
		}
		if x, isNum := v.(float64); isNum && x == 1 {
			continue
		}
		if x, isInt := v.(int); isInt && x == 1 {
			continue
		}
		return fmt.Errorf("loadgen: Params.Extra[%q] = %v: the client times one choice per request (several "+
			"would be mixed into one TTFT, ITL list and E2E latency); send n = 1 and raise the concurrency instead", k, v)
	}
	return nil
}

// liftExtra moves "ignore_eos" and "min_tokens" from Extra into their fields, so that a prompt's own value
// replaces them in the body instead of repeating the key.
func (p *Params) liftExtra() error {
	if v, ok := p.Extra["ignore_eos"]; ok {
		b, isBool := v.(bool)
		switch {
		case !isBool:
			return fmt.Errorf("loadgen: Params.Extra[\"ignore_eos\"] is %T; want a bool", v)
		case p.IgnoreEOS != nil:
			return fmt.Errorf("loadgen: ignore_eos is set in both Params.IgnoreEOS and Params.Extra")
		}
		p.IgnoreEOS = &b
	}
	if v, ok := p.Extra["min_tokens"]; ok {
		var n int
		switch x := v.(type) {
		case int:
			n = x
		case float64:
			if x != float64(int(x)) {
				return fmt.Errorf("loadgen: Params.Extra[\"min_tokens\"] %v is not a whole number", x)
			}
			n = int(x)
		default:
			return fmt.Errorf("loadgen: Params.Extra[\"min_tokens\"] is %T; want a whole number", v)
		}
		if p.MinTokens != 0 {
			return fmt.Errorf("loadgen: min_tokens is set in both Params.MinTokens and Params.Extra")
		}
		p.MinTokens = n
	}
	return nil
}

// maxTokens is what a request with prompt pr asks for.
func (e *encoder) maxTokens(pr *Prompt) int {
	if pr.MaxTokens > 0 {
		return pr.MaxTokens
	}
	return e.params.MaxTokens
}

// modelOf is the model a request with prompt pr names ("" for none).
func (e *encoder) modelOf(pr *Prompt) string {
	if pr.Model != "" {
		return pr.Model
	}
	return e.params.Model
}

// ignoreEOS reports whether a request with prompt pr asks for ignore_eos.
func (e *encoder) ignoreEOS(pr *Prompt) bool {
	ie := cmpOr(pr.IgnoreEOS, e.params.IgnoreEOS)
	return ie != nil && *ie
}

// cmpOr is the first non-nil of a and b.
func cmpOr(a, b *bool) *bool {
	if a != nil {
		return a
	}
	return b
}

// body encodes one request. chat selects the messages form; a text prompt sent to chat becomes one user message.
func (e *encoder) body(pr *Prompt, chat bool) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(e.model) + len(e.tail) + len(pr.Text) + 64)
	if pr.Model != "" {
		m, err := json.Marshal(pr.Model)
		if err != nil {
			return nil, err
		}
		b.WriteString(`{"model":`)
		b.Write(m)
		b.WriteByte(',')
	} else if e.params.Model != "" {
		b.WriteString(`{"model":`)
		b.Write(e.model)
		b.WriteByte(',')
	} else {
		b.WriteByte('{')
	}
	if chat {
		b.WriteString(`"messages":`)
		msgs := pr.Messages
		if len(msgs) == 0 {
			msgs = []Message{{Role: "user", Content: pr.Text}}
		}
		m, err := json.Marshal(msgs)
		if err != nil {
			return nil, fmt.Errorf("loadgen: encoding messages: %w", err)
		}
		b.Write(m)
	} else {
		if len(pr.Messages) > 0 {
			return nil, fmt.Errorf("loadgen: a chat prompt (messages) cannot be sent to %s", Completions)
		}
		b.WriteString(`"prompt":`)
		t, err := json.Marshal(pr.Text)
		if err != nil {
			return nil, err
		}
		b.Write(t)
	}
	if mt := e.maxTokens(pr); mt > 0 {
		fmt.Fprintf(&b, `,"max_tokens":%d`, mt)
	}
	if ie := cmpOr(pr.IgnoreEOS, e.params.IgnoreEOS); ie != nil {
		fmt.Fprintf(&b, `,"ignore_eos":%t`, *ie)
	}
	if mt := max(pr.MinTokens, 0); mt > 0 || e.params.MinTokens > 0 {
		if mt == 0 {
			mt = e.params.MinTokens
		}
		fmt.Fprintf(&b, `,"min_tokens":%d`, mt)
	}
	if len(e.tail) > 2 {
		b.Write(e.tail)
	} else {
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}
