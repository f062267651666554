package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/vmtest/vmtest/loadgen"
)

// promptFlags are the flags that choose what `vmtest load` and `vmtest sweep` send: -model (one model, or a
// mix "a=3,b=1"), -prompts, -prompt, synthetic prompts (workloadFlags) and datasets (datasetFlags).
type promptFlags struct {
	file  string
	texts stringList
	wf    workloadFlags
	df    datasetFlags
}

// register adds the flags to fs; -model's value goes to *model.
func (p *promptFlags) register(fs *flag.FlagSet, model *string) {
	p.wf.register(fs)
	p.df.register(fs)
	fs.StringVar(model, "model", "", `model to request (default the first of the server's /v1/models), or a mix of models or LoRA adapters by weight, "a=3,b=1", drawn per request with -seed`)
	fs.StringVar(&p.file, "prompts", "", `JSON Lines prompt file: {"prompt": ...} or {"messages": [...]} per line, optional "max_tokens"; "turns": ["...", ...] makes a line a multi-turn session`)
	fs.Var(&p.texts, "prompt", "a chat prompt (repeatable; default a few built-in prompts)")
}

// check validates the flags against each other after parsing; set names the flags given, and *model is
// replaced by "" when -model is a mix.
func (p *promptFlags) check(set map[string]bool, model *string) error {
	given := p.file != "" || len(p.texts) > 0
	if p.file != "" && len(p.texts) > 0 {
		return fmt.Errorf("-prompts and -prompt exclude each other")
	}
	if err := p.wf.check(set, given); err != nil {
		return err
	}
	return p.df.check(set, model, given || set["input-tokens"], p.file != "")
}

// base returns the prompts of -prompts or -prompt (or the built-in ones), before apply replaces them; a
// -think-time without -multi-turn needs a session in the -prompts file.
func (p *promptFlags) base() ([]loadgen.Prompt, error) {
	ps, err := chosenPrompts(p.file, p.texts)
	if err == nil && p.df.think > 0 && !p.df.multiTurn && !slices.ContainsFunc(ps, func(q loadgen.Prompt) bool { return len(q.Turns) > 0 }) {
		return nil, fmt.Errorf(`-think-time: no line of -prompts %s has "turns": there is no session to pause in`, p.file)
	}
	return ps, err
}

// apply sets lc's prompts from synthetic lengths or a dataset and draws the model mix (lc's client and
// model must be resolved: both count tokens with the server's /tokenize). It prints each warning to stderr
// and returns them, to go in the run's files; the error names the part that failed.
func (p *promptFlags) apply(ctx context.Context, lc *loadgen.LoadConfig, cmd string, stdout, stderr io.Writer) ([]string, error) {
	var warnings []string
	for _, part := range []struct {
		name  string
		apply func(context.Context, *loadgen.LoadConfig, io.Writer) (string, error)
	}{{"synthetic prompts", p.wf.apply}, {"dataset", p.df.apply}} {
		note, err := part.apply(ctx, lc, stdout)
		if err != nil {
			return warnings, fmt.Errorf("%s: %w", part.name, err)
		}
		if note != "" {
			fmt.Fprintf(stderr, "vmtest %s: warning: %s\n", cmd, note)
			warnings = append(warnings, note)
		}
	}
	return warnings, nil
}
