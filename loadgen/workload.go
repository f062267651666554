package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Synthetic describes generated prompts whose lengths are given in tokens, as vLLM's `bench serve` random
// and prefix-repetition datasets are: input lengths from a distribution, made exact with the server's
// tokenizer; output lengths from a distribution, sent as max_tokens with ignore_eos. Generate builds them.
type Synthetic struct {
	// Count is how many prompts to generate. In shared-prefix mode (Prefixes > 0) 0 means
	// Prefixes × SuffixesPerPrefix.
	Count int
	// Input is each prompt's length in tokens, as the server counts usage.prompt_tokens (a chat template's
	// tokens included). In shared-prefix mode it is the length after the prefix (the suffix).
	Input Lengths
	// Output is each prompt's max_tokens.
	Output Lengths
	// IgnoreEOS is each prompt's "ignore_eos"; nil means true, as vLLM's benchmark sends for synthetic
	// data, so that every request generates its max_tokens.
	IgnoreEOS *bool
	// MinTokens, when > 0, is each prompt's "min_tokens" (capped at its max_tokens).
	MinTokens int
	// Prefixes, when > 0, selects shared-prefix mode: Prefixes distinct prefixes of PrefixTokens tokens
	// each, and SuffixesPerPrefix distinct suffixes for each (lengths from Input), so a server with prefix
	// caching serves the prefix from cache after its first request. The prompts are shuffled (Seed).
	Prefixes int
	// PrefixTokens is the length of each shared prefix, tokens.
	PrefixTokens int
	// SuffixesPerPrefix is the number of prompts sharing each prefix; 0 means 1.
	SuffixesPerPrefix int
	// Chat makes chat prompts (one user message) instead of completions prompts.
	Chat bool
	// Seed makes the lengths and the text reproducible.
	Seed uint64
	// Tokenizer counts tokens as the server does (a *ServerTokenizer for vLLM's /tokenize). Nil, or one
	// answering ErrNoTokenizer, falls back to WordTokenizer: lengths are then approximate, and Workload
	// says so.
	Tokenizer Tokenizer
}

// Workload is a generated set of prompts and how far their lengths can be trusted.
type Workload struct {
	// Prompts are the generated prompts, each with its max_tokens, ignore_eos and min_tokens.
	Prompts []Prompt
	// InputTokens is each prompt's length in tokens as the tokenizer counted it.
	InputTokens []int
	// Exact is true when every length was counted by the server's tokenizer and hit its target.
	Exact bool
	// Note says, when Exact is false, why the lengths are approximate (for the run's warnings).
	Note string
}

// maxRefine bounds the count-and-adjust rounds for one prompt's length.
const maxRefine = 12

// Generate builds the prompts. Its errors name the bad field, or the tokenizer's failure.
func (s Synthetic) Generate(ctx context.Context) (Workload, error) {
	n, err := s.validate()
	if err != nil {
		return Workload{}, err
	}
	tok, exact, note := s.Tokenizer, true, ""
	if tok == nil {
		tok, exact, note = WordTokenizer{ChatOverhead: 4}, false, "no tokenizer given"
	}
	// Probe once, so that a server without /tokenize falls back before any work.
	if _, perr := tok.Count(ctx, s.prompt("probe")); errors.Is(perr, ErrNoTokenizer) {
		tok, exact, note = WordTokenizer{ChatOverhead: 4}, false, perr.Error()
	} else if perr != nil {
		return Workload{}, perr
	}
	g := &generator{s: s, tok: tok}
	prefixes := make([]string, s.Prefixes)
	for j := range prefixes {
		if prefixes[j], err = g.prefix(ctx, j); err != nil {
			return Workload{}, err
		}
	}
	lengths := rand.New(rand.NewPCG(s.Seed, 0x6c656e67))
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if s.Prefixes > 0 {
		lengths.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	w := Workload{Prompts: make([]Prompt, n), InputTokens: make([]int, n), Exact: exact}
	off := 0
	for i := range n {
		target := s.Input.Sample(lengths)
		head := ""
		if s.Prefixes > 0 {
			head = prefixes[order[i]%s.Prefixes]
			target += s.PrefixTokens
		}
		p, got, err := g.fit(ctx, order[i], head, target)
		if err != nil {
			return Workload{}, err
		}
		if got != target {
			off++
		}
		p.MaxTokens = s.Output.Sample(lengths)
		p.IgnoreEOS = Bool(s.IgnoreEOS == nil || *s.IgnoreEOS)
		p.MinTokens = min(s.MinTokens, p.MaxTokens)
		w.Prompts[i], w.InputTokens[i] = p, got
	}
	if off > 0 {
		w.Exact = false
		note = strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%d of %d prompts could not be fitted to their length exactly", off, n)
	}
	if !w.Exact {
		w.Note = "input lengths are approximate (" + note + "): prompt token counts may differ from the requested distribution"
	}
	return w, nil
}

// validate checks s and returns the number of prompts.
func (s Synthetic) validate() (int, error) {
	if err := s.Input.Validate(); err != nil {
		return 0, fmt.Errorf("loadgen: Synthetic.Input: %w", err)
	}
	if err := s.Output.Validate(); err != nil {
		return 0, fmt.Errorf("loadgen: Synthetic.Output: %w", err)
	}
	switch {
	case s.Count < 0:
		return 0, fmt.Errorf("loadgen: Synthetic.Count %d is negative", s.Count)
	case s.MinTokens < 0:
		return 0, fmt.Errorf("loadgen: Synthetic.MinTokens %d is negative", s.MinTokens)
	case s.Prefixes < 0 || s.SuffixesPerPrefix < 0:
		return 0, fmt.Errorf("loadgen: Synthetic.Prefixes %d and SuffixesPerPrefix %d must not be negative", s.Prefixes, s.SuffixesPerPrefix)
	case s.Prefixes > 0 && s.PrefixTokens < 1:
		return 0, fmt.Errorf("loadgen: Synthetic.PrefixTokens %d: shared-prefix mode needs prefixes of at least 1 token", s.PrefixTokens)
	case s.Prefixes == 0 && (s.PrefixTokens != 0 || s.SuffixesPerPrefix != 0):
		return 0, errors.New("loadgen: Synthetic.PrefixTokens and SuffixesPerPrefix need Prefixes > 0")
	}
	n := s.Count
	if n == 0 && s.Prefixes > 0 {
		n = s.Prefixes * max(s.SuffixesPerPrefix, 1)
	}
	if n == 0 {
		return 0, errors.New("loadgen: Synthetic.Count is 0: no prompt to generate")
	}
	return n, nil
}

// prompt wraps text as a prompt of the kind s makes.
func (s Synthetic) prompt(text string) Prompt {
	if s.Chat {
		return Prompt{Messages: []Message{{Role: "user", Content: text}}}
	}
	return Prompt{Text: text}
}

// generator makes the text of synthetic prompts: for each prompt a reproducible stream of common words.
type generator struct {
	s   Synthetic
	tok Tokenizer
}

// words returns the first n words of stream id as one string.
func (g *generator) words(stream uint64, n int) string {
	r := rand.New(rand.NewPCG(g.s.Seed, stream))
	var b strings.Builder
	for k := range n {
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(wordList[r.IntN(len(wordList))])
	}
	return b.String()
}

// variants is how many word streams are tried for one prompt: with a tokenizer that splits some words in
// several tokens, a stream's counts can step over the target, and another stream usually lands on it.
const variants = 8

// prefix is shared prefix j: PrefixTokens tokens as a completions prompt counts them.
func (g *generator) prefix(ctx context.Context, j int) (string, error) {
	p, _, err := g.best(ctx, 1<<40|uint64(j), "", g.s.PrefixTokens, false)
	return p.Text, err
}

// fit makes prompt i: head (a shared prefix, or nothing) then words, target tokens in all as the server counts
// the whole prompt. It returns the prompt and its count (the nearest reached when target cannot be hit).
func (g *generator) fit(ctx context.Context, i int, head string, target int) (Prompt, int, error) {
	return g.best(ctx, uint64(i), head, target, g.s.Chat)
}

// best tries the word streams of stream (variants of it) until one reaches target, and returns the first
// that does, else the nearest.
func (g *generator) best(ctx context.Context, stream uint64, head string, target int, chat bool) (Prompt, int, error) {
	var bestP Prompt
	bestC := -1
	for v := range uint64(variants) {
		p, c, err := g.fitStream(ctx, stream|v<<48, head, target, chat)
		if err != nil || c == target {
			return p, c, err
		}
		if bestC < 0 || abs(c-target) < abs(bestC-target) {
			bestP, bestC = p, c
		}
	}
	return bestP, bestC, nil
}

// fitStream fits one word stream to target with refine.
func (g *generator) fitStream(ctx context.Context, stream uint64, head string, target int, chat bool) (Prompt, int, error) {
	var p Prompt
	low := 1 // words at least: a prompt is never empty
	if head != "" {
		low = 0
	}
	got, err := g.refine(target, low, func(n int) (int, error) {
		text := g.words(stream, n)
		switch {
		case head != "" && text != "":
			text = head + " " + text
		case head != "":
			text = head
		}
		p = Prompt{Text: text}
		if chat {
			p = Prompt{Messages: []Message{{Role: "user", Content: text}}}
		}
		return g.tok.Count(ctx, p)
	})
	return p, got, err
}

// refine finds a word count n >= low for which try(n) (a token count) is target: it starts at one token per
// word, steps by the difference, and bisects once the counts bracket the target. It ends with try called
// on the best n found (target, else the nearest count, below rather than above on a tie) and returns that
// count.
func (g *generator) refine(target, low int, try func(n int) (int, error)) (int, error) {
	n := max(target, low)
	bestN, bestC := -1, 0
	below, above := low-1, -1 // the largest n counted below target, the smallest counted above
	for range maxRefine {
		c, err := try(n)
		if err != nil {
			return 0, err
		}
		if c == target {
			return c, nil
		}
		if d, bd := abs(c-target), abs(bestC-target); bestN < 0 || d < bd || d == bd && c < target {
			bestN, bestC = n, c
		}
		if c < target {
			below = max(below, n)
		} else if above < 0 || n < above {
			above = n
		}
		next := n + target - c
		if next <= below || above >= 0 && next >= above {
			if above < 0 {
				break
			}
			next = below + (above-below)/2
		}
		if next < low || next == n || next <= below || above >= 0 && next >= above {
			break
		}
		n = next
	}
	return try(bestN)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// wordList is the vocabulary of synthetic prompts: short common English words, one token each in the
// vocabularies of common tokenizers, so the first guess is close and few rounds are needed.
var wordList = strings.Fields(`the of and to in is it that for on was with as at by be this from or have an
they which one you had not but what all were when we there can your said use each she how their will other
about out many then them these so some her would make like him into time has look two more write go see
number no way could people my than first water been call who oil its now find long down day did get come
made may part over new sound take only little work know place year live me back give most very after thing
our just name good sentence man think say great where help through much before line right too mean old any
same tell boy follow came want show also around form three small set put end does another well large must
big even such because turn here why ask went men read need land different home us move try kind hand
picture again change off play spell air away animal house point page letter mother answer found study
still learn should world high every near add food between own below country plant last school father keep
tree never start city earth eye light thought head under story saw left few while along might close
something seem next hard open example begin life always those both paper together got group often run`)
