package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vmtest/vmtest/recorder"
)

// Turn is one user turn of a multi-turn session (Prompt.Turns).
type Turn struct {
	// Content is the user message's content, encoded as given (a string, or a list of content parts).
	Content any
	// MaxTokens, when > 0, is this turn's max_tokens (for a dataset, the length of its reference reply);
	// 0 uses the prompt's, then Params'.
	MaxTokens int
}

// UnmarshalJSON reads a turn of a prompts file's "turns": the user message's content (a string, or a list
// of content parts, kept as given) or an object {"content": ..., "max_tokens": N}. Null content is an error.
func (t *Turn) UnmarshalJSON(b []byte) error {
	var o struct {
		Content   json.RawMessage `json:"content"`
		MaxTokens int             `json:"max_tokens"`
	}
	raw := b
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		if err := json.Unmarshal(b, &o); err != nil {
			return fmt.Errorf("turn: %w", err)
		}
		raw, t.MaxTokens = o.Content, o.MaxTokens
	}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errors.New(`turn: no content: want a string, a list of content parts or {"content": ..., "max_tokens": N}`)
	}
	return json.Unmarshal(raw, &t.Content)
}

// validateSession checks a session prompt: no text prompt, every turn with content and max_tokens ≥ 0.
func (p Prompt) validateSession() error {
	if p.Text != "" {
		return errors.New(`a session (turns) cannot have a completions "prompt"`)
	}
	for k, t := range p.Turns {
		switch {
		case t.Content == nil:
			return fmt.Errorf("turn %d has no content (null)", k+1)
		case t.MaxTokens < 0:
			return fmt.Errorf("turn %d: max_tokens %d is negative", k+1, t.MaxTokens)
		}
	}
	return nil
}

// turnPrompt is the request of turn k (0-based) of session p over history, the messages so far.
func (p *Prompt) turnPrompt(k int, history []Message) Prompt {
	q := Prompt{ID: p.ID, Messages: history, MaxTokens: p.MaxTokens, IgnoreEOS: p.IgnoreEOS,
		MinTokens: p.MinTokens, Model: p.Model}
	if mt := p.Turns[k].MaxTokens; mt > 0 {
		q.MaxTokens = mt
	}
	if q.MaxTokens > 0 && q.MinTokens > q.MaxTokens {
		q.MinTokens = q.MaxTokens
	}
	return q
}

// single is the prompt a warm-up request sends for p: p itself, or a session's first turn.
func (p *Prompt) single() *Prompt {
	if len(p.Turns) == 0 {
		return p
	}
	q := p.turnPrompt(0, append(append([]Message(nil), p.Messages...), Message{Role: "user", Content: p.Turns[0].Content}))
	return &q
}

// session sends the turns of session p (measured index i) one after another, each with the history so
// far: p.Messages, then each earlier turn's user message and the reply received for it. It stops after a
// turn that did not succeed (there is no reply to send back), when ctx ends or the run stops, and when the
// run's Duration has passed; ThinkTime passes between turns. The first turn carries the open loop's
// intended start and slot wait. It returns the last turn's pause.
func (r *run) session(ctx context.Context, i int, p *Prompt, intended time.Time, slotWait time.Duration) pause {
	history := append(make([]Message, 0, len(p.Messages)+2*len(p.Turns)), p.Messages...)
	var last pause
	for k := range p.Turns {
		if k > 0 {
			if !r.think(ctx) {
				return last
			}
			r.sent.Add(1)
			intended, slotWait = time.Time{}, 0
		}
		history = append(history, Message{Role: "user", Content: p.Turns[k].Content})
		q := p.turnPrompt(k, history)
		var reply strings.Builder
		rec, noConn := r.sendOne(withReply(ctx, &reply), i, &q, k+1, intended, slotWait)
		last = r.pauseAfter(&rec, noConn)
		if rec.Outcome != recorder.OutcomeOK {
			return last
		}
		history = append(history, Message{Role: "assistant", Content: reply.String()})
	}
	return last
}

// think waits LoadConfig.ThinkTime before a session's next turn; it reports false when the run ended
// meanwhile or its Duration has passed.
func (r *run) think(ctx context.Context) bool {
	if r.cfg.ThinkTime > 0 {
		sleep := r.cfg.sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		if !sleep(ctx, r.cfg.ThinkTime) {
			return false
		}
	}
	if ctx.Err() != nil || r.stopped() {
		return false
	}
	return r.cfg.Duration == 0 || time.Since(r.start) < r.cfg.Duration
}

// sleepCtx waits d; it reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
