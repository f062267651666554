package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/vmtest/vmtest/loadgen"
)

// workloadFlags are `vmtest load`'s flags for synthetic prompts (loadgen.Synthetic) and for ignore_eos and
// min_tokens.
type workloadFlags struct {
	input, output loadgen.Lengths
	numPrompts    int
	prefixes      int
	prefixTokens  int
	suffixes      int
	ignoreEOS     bool
	minTokens     int
	seed          uint64
	set           map[string]bool
}

// lengthsFlag parses a loadgen.Lengths flag value with loadgen.ParseLengths.
type lengthsFlag struct{ l *loadgen.Lengths }

func (f lengthsFlag) String() string {
	if f.l == nil || f.l.Kind == "" {
		return ""
	}
	return f.l.String()
}

func (f lengthsFlag) Set(s string) error {
	l, err := loadgen.ParseLengths(s)
	if err == nil {
		*f.l = l
	}
	return err
}

func (w *workloadFlags) register(fs *flag.FlagSet) {
	const dists = `: N, uniform:LO-HI, normal:MEAN,STD, lognormal:MEAN,STD (each with an optional ,MIN-MAX) or hist:FILE.csv ("LENGTH,WEIGHT" or "LO-HI,WEIGHT" per line)`
	fs.Var(lengthsFlag{&w.input}, "input-tokens", "synthetic prompts: prompt lengths in tokens, made exact with the server's /tokenize"+dists)
	fs.Var(lengthsFlag{&w.output}, "output-tokens", "synthetic prompts: max_tokens of each (default -max-tokens)"+dists)
	fs.IntVar(&w.numPrompts, "num-prompts", 0, "synthetic prompts: how many to generate (default 200, or prefixes × suffixes)")
	fs.IntVar(&w.prefixes, "prefixes", 0, "synthetic prompts: shared-prefix mode with this many distinct prefixes (then -input-tokens is each suffix's length)")
	fs.IntVar(&w.prefixTokens, "prefix-tokens", 0, "shared-prefix mode: tokens in each prefix")
	fs.IntVar(&w.suffixes, "suffixes-per-prefix", 0, "shared-prefix mode: prompts sharing each prefix (default 1)")
	fs.BoolVar(&w.ignoreEOS, "ignore-eos", false, `send "ignore_eos" (default true for synthetic prompts, unset otherwise)`)
	fs.IntVar(&w.minTokens, "min-tokens", 0, `send "min_tokens": the server generates at least this many tokens`)
	fs.Uint64Var(&w.seed, "seed", 0, "seed of the open loop's schedule and of synthetic prompts' lengths and text")
}

// check validates the flags against each other, after parsing; set names the flags given.
func (w *workloadFlags) check(set map[string]bool, promptsGiven bool) error {
	w.set = set
	synthetic := set["input-tokens"]
	switch {
	case synthetic && promptsGiven:
		return fmt.Errorf("-input-tokens generates the prompts: it excludes -prompts and -prompt")
	case !synthetic && (set["output-tokens"] || set["num-prompts"] || set["prefixes"] || set["prefix-tokens"] || set["suffixes-per-prefix"]):
		return fmt.Errorf("-output-tokens, -num-prompts, -prefixes, -prefix-tokens and -suffixes-per-prefix need -input-tokens (synthetic prompts)")
	case w.numPrompts < 0 || w.prefixes < 0 || w.prefixTokens < 0 || w.suffixes < 0 || w.minTokens < 0:
		return fmt.Errorf("-num-prompts, -prefixes, -prefix-tokens, -suffixes-per-prefix and -min-tokens must not be negative")
	}
	return nil
}

// apply sets lc's prompts (synthetic ones when -input-tokens was given, counted with the server's /tokenize),
// ignore_eos, min_tokens and seed. It returns the warning to put in the run's files when the prompts' lengths
// are approximate.
func (w *workloadFlags) apply(ctx context.Context, lc *loadgen.LoadConfig, stdout io.Writer) (string, error) {
	lc.Seed = w.seed
	if w.set["ignore-eos"] {
		lc.Params.IgnoreEOS = loadgen.Bool(w.ignoreEOS)
	}
	lc.Params.MinTokens = w.minTokens
	if !w.set["input-tokens"] {
		return "", nil
	}
	s := loadgen.Synthetic{
		Count: w.numPrompts, Input: w.input, Output: w.output, MinTokens: w.minTokens, Chat: true, Seed: w.seed,
		Prefixes: w.prefixes, PrefixTokens: w.prefixTokens, SuffixesPerPrefix: w.suffixes,
		Tokenizer: &loadgen.ServerTokenizer{BaseURL: lc.Client.BaseURL, Model: lc.Params.Model, APIKey: lc.Client.APIKey},
	}
	if s.Count == 0 && s.Prefixes == 0 {
		s.Count = 200
	}
	if !w.set["output-tokens"] {
		if lc.Params.MaxTokens < 1 {
			return "", fmt.Errorf("-max-tokens 0 leaves the output length to the server: give -output-tokens for synthetic prompts")
		}
		s.Output = loadgen.FixedLengths(lc.Params.MaxTokens)
	}
	if w.set["ignore-eos"] {
		s.IgnoreEOS = loadgen.Bool(w.ignoreEOS)
	}
	wl, err := s.Generate(ctx)
	if err != nil {
		return "", err
	}
	lc.Prompts = wl.Prompts
	exact := "exact (the server's /tokenize)"
	if !wl.Exact {
		exact = "approximate"
	}
	fmt.Fprintf(stdout, "vmtest: load: %d synthetic chat prompts, input %s tokens (%s), output %s tokens\n", len(wl.Prompts), w.input, exact, s.Output)
	return wl.Note, nil
}
