package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Weighted is one model of a Mix and its share of the requests.
type Weighted struct {
	// Model is a model or LoRA adapter name the server serves (vLLM serves an adapter under its own name).
	Model string
	// Weight is the model's relative share, > 0: weights 3 and 1 send about 3 requests in 4 to the first.
	Weight float64
}

// Mix is a weighted choice among models or LoRA adapters: each request's model is drawn by weight.
type Mix []Weighted

// mixStream is the PCG stream of Mix draws, apart from the other seeded draws of a run.
const mixStream = 0x6d6978

// ParseMix reads "a=3,b=1" (a model's weight after "="; a model without one weighs 1). Errors name the
// entry: an empty or repeated model, or a weight that is not a finite number > 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for i, part := range strings.Split(s, ",") {
		name, w, hasW := strings.Cut(strings.TrimSpace(part), "=")
		weight := 1.0
		if hasW {
			var err error
			if weight, err = strconv.ParseFloat(strings.TrimSpace(w), 64); err != nil {
				return nil, fmt.Errorf("loadgen: model mix entry %d %q: weight: %w", i+1, part, err)
			}
		}
		m = append(m, Weighted{Model: strings.TrimSpace(name), Weight: weight})
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate returns an error naming the first entry with an empty or repeated model or a weight that is not
// a finite number > 0, or one for an empty mix.
func (m Mix) Validate() error {
	if len(m) == 0 {
		return errors.New("loadgen: model mix is empty")
	}
	seen := map[string]bool{}
	for i, w := range m {
		switch {
		case w.Model == "" || seen[w.Model]:
			return fmt.Errorf("loadgen: model mix entry %d: model %q is empty or repeated", i+1, w.Model)
		case !(w.Weight > 0) || math.IsInf(w.Weight, 0):
			return fmt.Errorf("loadgen: model mix entry %d (%s): weight %v is not a finite number > 0", i+1, w.Model, w.Weight)
		}
		seen[w.Model] = true
	}
	return nil
}

// Draw returns the models of n requests, each drawn by weight from a PCG seeded with seed: the same seed
// gives the same sequence.
func (m Mix) Draw(n int, seed uint64) []string {
	var total float64
	for _, w := range m {
		total += w.Weight
	}
	rng := rand.New(rand.NewPCG(seed, mixStream))
	out := make([]string, n)
	for i := range out {
		u := rng.Float64() * total
		k := 0
		for k < len(m)-1 && u >= m[k].Weight {
			u -= m[k].Weight
			k++
		}
		out[i] = m[k].Model
	}
	return out
}

// Apply returns n prompts, prompts[i % len(prompts)] for i < n, each naming the model Draw(n, seed) gives
// it, except a prompt that names its own model (a dataset entry's "model"), which keeps it. A run sending
// more than n requests cycles through them. The n prompts share their messages with prompts (each copy is
// about 120 bytes).
func (m Mix) Apply(prompts []Prompt, n int, seed uint64) []Prompt {
	if len(prompts) == 0 {
		return nil
	}
	models := m.Draw(n, seed)
	out := make([]Prompt, n)
	for i := range out {
		out[i] = prompts[i%len(prompts)]
		if out[i].Model == "" {
			out[i].Model = models[i]
		}
	}
	return out
}
