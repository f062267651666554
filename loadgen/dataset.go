package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
)

// Dataset turns ShareGPT-format entries (ReadShareGPT) into prompts as vLLM's benchmark does: entries are
// shuffled (Seed), each is measured in tokens and kept or skipped by the length filters, until Count are
// kept. Each prompt's max_tokens is the reference reply's length in tokens, or the entry's explicit output
// length.
type Dataset struct {
	// Entries are the dataset's conversations. Required.
	Entries []Entry
	// Count is how many prompts to keep; 0: every entry that passes the filters.
	Count int
	// Seed orders the entries before they are taken.
	Seed uint64
	// MultiTurn makes each entry a session (Prompt.Turns) of all its user turns, each turn's max_tokens the
	// length of the reply that follows it. Otherwise, as vLLM's benchmark, only the first user turn is sent
	// (after any system messages before it), its max_tokens the first reply's length.
	MultiTurn bool
	// MinLen skips an entry whose first user message or first reply is shorter, tokens; 0: 4 (vLLM's);
	// negative: no minimum.
	MinLen int
	// MaxPromptLen skips an entry with a longer user message, tokens; 0: 1024 (vLLM's); negative: no limit.
	MaxPromptLen int
	// MaxTotalLen skips an entry whose prompt and output together (every turn's, for a session) are longer,
	// tokens; 0: 2048 (vLLM's); negative: no limit.
	MaxTotalLen int
	// Tokenizer counts tokens as the server does (a *ServerTokenizer for vLLM's /tokenize). Nil, or one
	// answering ErrNoTokenizer, falls back to WordTokenizer: lengths are then approximate, and Prompts says so.
	Tokenizer Tokenizer
}

// DatasetPrompts is what Dataset.Prompts returns: the prompts, the entries skipped by each filter, and how
// far the lengths can be trusted.
type DatasetPrompts struct {
	// Prompts are the kept entries' prompts (sessions with MultiTurn), in the seeded order.
	Prompts []Prompt
	// Examined is how many entries were looked at; Kept how many became prompts.
	Examined, Kept int
	// TooShort, TooLong and NoReply count the skipped entries: under MinLen, over MaxPromptLen or
	// MaxTotalLen, and without a user message followed by a reply (and no explicit output length).
	TooShort, TooLong, NoReply int
	// Exact is true when every length was counted by the server's tokenizer.
	Exact bool
	// Note says, when Exact is false, why the lengths are approximate (for the run's warnings).
	Note string
}

// Summary says in one line what was kept and skipped, and whether lengths are approximate.
func (d DatasetPrompts) Summary() string {
	s := fmt.Sprintf("dataset: %d prompts from %d entries examined (skipped: %d too short, %d too long, %d without a reply)",
		d.Kept, d.Examined, d.TooShort, d.TooLong, d.NoReply)
	if !d.Exact {
		s += "; " + d.Note
	}
	return s
}

// Prompts builds the prompts. Errors name the bad field, or the tokenizer's failure with the entry.
func (d Dataset) Prompts(ctx context.Context) (DatasetPrompts, error) {
	if len(d.Entries) == 0 {
		return DatasetPrompts{}, errors.New("loadgen: Dataset.Entries is empty")
	}
	if d.Count < 0 {
		return DatasetPrompts{}, fmt.Errorf("loadgen: Dataset.Count %d is negative", d.Count)
	}
	tok, out, err := d.tokenizer(ctx)
	if err != nil {
		return DatasetPrompts{}, err
	}
	order := rand.New(rand.NewPCG(d.Seed, 0x73686172)).Perm(len(d.Entries))
	for _, i := range order {
		if d.Count > 0 && out.Kept == d.Count {
			break
		}
		out.Examined++
		p, verdict, err := d.prompt(ctx, tok, &d.Entries[i])
		if err != nil {
			return DatasetPrompts{}, err
		}
		switch verdict {
		case keep:
			out.Prompts = append(out.Prompts, p)
			out.Kept++
		case tooShort:
			out.TooShort++
		case tooLong:
			out.TooLong++
		case noReply:
			out.NoReply++
		}
	}
	if out.Kept == 0 {
		return out, fmt.Errorf("loadgen: no dataset entry passed the filters: %s", out.Summary())
	}
	return out, nil
}

// tokenizer returns the tokenizer to count with, probing the given one once, and the result's Exact/Note.
func (d Dataset) tokenizer(ctx context.Context) (Tokenizer, DatasetPrompts, error) {
	approx := WordTokenizer{ChatOverhead: 4}
	if d.Tokenizer == nil {
		return approx, DatasetPrompts{Note: "lengths are approximate (no tokenizer given): words counted as tokens"}, nil
	}
	_, err := d.Tokenizer.Count(ctx, Prompt{Text: "probe"})
	switch {
	case errors.Is(err, ErrNoTokenizer):
		return approx, DatasetPrompts{Note: "lengths are approximate (" + err.Error() + "): words counted as tokens"}, nil
	case err != nil:
		return nil, DatasetPrompts{}, err
	}
	return d.Tokenizer, DatasetPrompts{Exact: true}, nil
}

// bound returns v, or def when v is 0, or no bound (1<<62) when v is negative.
func bound(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 1 << 62
	}
	return v
}
