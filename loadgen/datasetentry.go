package loadgen

import (
	"context"
	"fmt"
)

// verdict is what the length filters decide for one entry.
type verdict int

const (
	keep verdict = iota
	tooShort
	tooLong
	noReply
)

// exchange is one user message and the reply that follows it in an entry.
type exchange struct {
	user     any
	reply    string
	hasReply bool
}

// split returns an entry's system messages before its first user message, and its exchanges. An
// assistant message that follows no user message, and a system message after the first user message, are
// not sent.
func split(msgs []Message) (context []Message, ex []exchange) {
	for _, m := range msgs {
		switch {
		case m.Role == "system" && len(ex) == 0:
			context = append(context, m)
		case m.Role == "user":
			ex = append(ex, exchange{user: m.Content})
		case m.Role == "assistant" && len(ex) > 0 && !ex[len(ex)-1].hasReply:
			ex[len(ex)-1].reply, ex[len(ex)-1].hasReply = textOf(m.Content), true
		}
	}
	return context, ex
}

// prompt turns entry e into a prompt (a session with MultiTurn) and the filters' verdict.
func (d Dataset) prompt(ctx context.Context, tok Tokenizer, e *Entry) (Prompt, verdict, error) {
	sys, ex := split(e.Messages)
	if e.OutputLen == 0 && len(ex) > 0 && !ex[len(ex)-1].hasReply {
		ex = ex[:len(ex)-1] // a last question without a reply has no output length
	}
	if !d.MultiTurn && len(ex) > 1 {
		ex = ex[:1]
	}
	if len(ex) == 0 {
		return Prompt{}, noReply, nil
	}
	ins, outs, err := d.lengths(ctx, tok, e, ex)
	if err != nil {
		return Prompt{}, keep, err
	}
	if v := d.judge(ins, outs); v != keep {
		return Prompt{}, v, nil
	}
	p := Prompt{ID: e.ID, Model: e.Model}
	if !d.MultiTurn {
		p.Messages = append(append([]Message(nil), sys...), Message{Role: "user", Content: ex[0].user})
		p.MaxTokens = outs[0]
		return p, keep, nil
	}
	p.Messages = sys
	for k := range ex {
		p.Turns = append(p.Turns, Turn{Content: ex[k].user, MaxTokens: outs[k]})
	}
	return p, keep, nil
}

// lengths counts each exchange's user message and output (the explicit output length, else the reply's),
// tokens.
func (d Dataset) lengths(ctx context.Context, tok Tokenizer, e *Entry, ex []exchange) (ins, outs []int, err error) {
	count := func(s string) (int, error) {
		n, err := tok.Count(ctx, Prompt{Text: s})
		if err != nil {
			return 0, fmt.Errorf("loadgen: %s: counting tokens: %w", e.Where, err)
		}
		return n, nil
	}
	for _, x := range ex {
		in, err := count(textOf(x.user))
		if err != nil {
			return nil, nil, err
		}
		out := e.OutputLen
		if out == 0 {
			if out, err = count(x.reply); err != nil {
				return nil, nil, err
			}
		}
		ins, outs = append(ins, in), append(outs, out)
	}
	return ins, outs, nil
}

// judge applies the length filters: the first exchange's input and output at least MinLen, every input at
// most MaxPromptLen, all inputs and outputs together at most MaxTotalLen.
func (d Dataset) judge(ins, outs []int) verdict {
	minLen, maxPrompt, maxTotal := bound(d.MinLen, 4), bound(d.MaxPromptLen, 1024), bound(d.MaxTotalLen, 2048)
	if d.MinLen < 0 {
		minLen = 0
	}
	if ins[0] < minLen || outs[0] < minLen {
		return tooShort
	}
	total := 0
	for k := range ins {
		if ins[k] > maxPrompt {
			return tooLong
		}
		total += ins[k] + outs[k]
	}
	if total > maxTotal {
		return tooLong
	}
	return keep
}
