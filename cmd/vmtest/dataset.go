package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vmtest/vmtest/loadgen"
)

// datasetFlags are `vmtest load`'s flags for ShareGPT-format datasets (loadgen.Dataset), multi-turn
// sessions and a mix of models (loadgen.Mix, given to -model as "a=3,b=1").
type datasetFlags struct {
	path, format string
	entries      int
	multiTurn    bool
	think        time.Duration
	mix          loadgen.Mix
}

// mixRequests is how many requests a model mix is drawn for in a run bounded by -duration alone, and
// maxMixRequests the most it is drawn for (a longer run cycles through the draw), so that the prompts it
// makes stay a few MiB.
const (
	mixRequests    = 1024
	maxMixRequests = 1 << 16
)

func (d *datasetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.path, "dataset", "", `ShareGPT-format dataset: the JSON list vLLM's benchmark reads, or JSON Lines of its entries ("conversations" or "messages"; optional "output_len", "model")`)
	fs.StringVar(&d.format, "dataset-format", "sharegpt", "format of -dataset: sharegpt (JSON list or JSON Lines, told apart by the first character)")
	fs.IntVar(&d.entries, "dataset-entries", 0, "dataset: how many entries to send, sampled with -seed after vLLM's length filters (default every entry that passes)")
	fs.BoolVar(&d.multiTurn, "multi-turn", false, "dataset: send each entry's user turns as one session, each reply received sent back with the next turn (default: the first turn only, as vLLM)")
	fs.DurationVar(&d.think, "think-time", 0, `multi-turn, or -prompts lines with "turns": pause between a session's turns`)
}

// check validates the flags after parsing; model is -model's value, replaced by "" when it is a mix
// ("a=3,b=1"); others says whether prompts come from elsewhere (-prompts, -prompt, -input-tokens), file
// whether from a -prompts file (whose sessions take -think-time).
func (d *datasetFlags) check(set map[string]bool, model *string, others, file bool) error {
	switch {
	case d.path != "" && others:
		return fmt.Errorf("-dataset excludes -prompts, -prompt and -input-tokens")
	case d.format != "sharegpt":
		return fmt.Errorf("-dataset-format %q: the only format is sharegpt", d.format)
	case d.path == "" && (set["dataset-entries"] || set["multi-turn"] || set["dataset-format"]):
		return fmt.Errorf("-dataset-entries, -multi-turn and -dataset-format need -dataset")
	case set["think-time"] && !d.multiTurn && !file:
		return fmt.Errorf("-think-time needs -multi-turn, or -prompts with sessions")
	case d.entries < 0 || d.think < 0:
		return fmt.Errorf("-dataset-entries and -think-time must not be negative")
	}
	if strings.ContainsAny(*model, "=,") {
		mix, err := loadgen.ParseMix(*model)
		if err != nil {
			return fmt.Errorf("-model: %w", err)
		}
		d.mix, *model = mix, ""
	}
	return nil
}

// apply sets lc's prompts from the dataset (counted with the server's /tokenize), its think time, and
// each prompt's model from the mix (drawn with lc.Seed over -requests, at most maxMixRequests, or
// mixRequests without; never over fewer requests than there are prompts). It returns
// the warning to put in the run's files when the lengths are approximate.
func (d *datasetFlags) apply(ctx context.Context, lc *loadgen.LoadConfig, stdout io.Writer) (string, error) {
	lc.ThinkTime = d.think
	note := ""
	if d.path != "" {
		es, err := loadgen.LoadShareGPT(d.path)
		if err != nil {
			return "", err
		}
		got, err := loadgen.Dataset{Entries: es, Count: d.entries, Seed: lc.Seed, MultiTurn: d.multiTurn,
			Tokenizer: &loadgen.ServerTokenizer{BaseURL: lc.Client.BaseURL, Model: lc.Params.Model, APIKey: lc.Client.APIKey},
		}.Prompts(ctx)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(stdout, "vmtest: load: %s\n", got.Summary())
		lc.Prompts, note = got.Prompts, got.Note
	}
	if d.mix != nil {
		n := min(lc.Requests, maxMixRequests)
		if n == 0 {
			n = mixRequests
		}
		n = max(n, len(lc.Prompts))
		lc.Prompts = d.mix.Apply(lc.Prompts, n, lc.Seed)
	}
	return note, nil
}
