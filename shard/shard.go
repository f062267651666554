// Package shard spreads one load test over several processes (shards), on one machine or many (a
// Kubernetes Indexed Job), and merges their results: each shard drives its share of the load (Spec) and
// writes, beside its usual files, a shard file (File) holding its request distributions in a form that
// merges; Merge combines the shards' directories into one file set and summary.
package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment variables a shard reads its place from when the flags do not give it.
const (
	// EnvIndex is set by a Kubernetes Indexed Job (completionMode: Indexed) to the pod's completion index.
	EnvIndex = "JOB_COMPLETION_INDEX"
	// EnvCount is the number of shards (a Job's completions; Kubernetes sets no variable for it).
	EnvCount = "VMTEST_SHARD_COUNT"
)

// Spec is one shard's place: Index in [0, Count). The zero value (Count 0) is an unsharded run.
type Spec struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Sharded reports whether s is one shard of several or of one explicitly (Count ≥ 1).
func (s Spec) Sharded() bool { return s.Count > 0 }

// FromFlags returns the Spec of the flags' values (index, count; -1 when not given), each missing one taken
// from getenv's EnvIndex and EnvCount. No count anywhere and no -shard-index is the unsharded zero Spec,
// whatever EnvIndex says (Kubernetes sets it in every Indexed Job, sharded or not). The error names the
// flag or variable: -shard-index without a count, a count without an index, a value that is not a whole
// number, a count below 1, an index outside [0, count).
func FromFlags(index, count int, getenv func(string) string) (Spec, error) {
	idxFrom, cntFrom := "-shard-index", "-shard-count"
	read := func(v *int, from *string, env string) error {
		if *v >= 0 {
			return nil
		}
		s := strings.TrimSpace(getenv(env))
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("$%s %q: not a whole number", env, s)
		}
		*v, *from = n, "$"+env
		return nil
	}
	if err := read(&index, &idxFrom, EnvIndex); err != nil {
		return Spec{}, err
	}
	if err := read(&count, &cntFrom, EnvCount); err != nil {
		return Spec{}, err
	}
	switch {
	case count < 0 && (index < 0 || idxFrom != "-shard-index"):
		return Spec{}, nil // no count, and no index but Kubernetes's own: not sharded
	case count < 0:
		return Spec{}, fmt.Errorf("%s %d without a shard count: give -shard-count or $%s", idxFrom, index, EnvCount)
	case count < 1:
		return Spec{}, fmt.Errorf("%s %d: must be at least 1", cntFrom, count)
	case index < 0:
		return Spec{}, fmt.Errorf("%s %d without a shard index: give -shard-index or $%s", cntFrom, count, EnvIndex)
	case index >= count:
		return Spec{}, fmt.Errorf("%s %d: must be below the shard count %d (%s)", idxFrom, index, count, cntFrom)
	}
	return Spec{Index: index, Count: count}, nil
}

// Share returns this shard's part of total (workers, requests): total/Count, plus one for the first
// total%Count shards, so that the shares sum to total exactly. Unsharded, it is total.
func (s Spec) Share(total int) int {
	if s.Count <= 1 {
		return total
	}
	n := total / s.Count
	if s.Index < total%s.Count {
		n++
	}
	return n
}

// Rate returns this shard's part of an open loop's rate (requests/s): rate/Count. Independent Poisson
// streams of rate/Count sum to a Poisson stream of rate (superposition); gamma streams do not stay gamma.
func (s Spec) Rate(rate float64) float64 {
	if s.Count <= 1 {
		return rate
	}
	return rate / float64(s.Count)
}

// Seed returns the arrival-schedule seed of this shard: seed itself unsharded or for shard 0, else seed mixed
// with the index (SplitMix64's finalizer), so that the shards' arrival streams are independent.
func (s Spec) Seed(seed uint64) uint64 {
	if s.Index == 0 {
		return seed
	}
	z := seed + uint64(s.Index)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// PromptOffset returns where in a list of n prompts this shard starts: Index·n/Count, so that shards spread
// over the list instead of sending the same prompts in lock-step.
func (s Spec) PromptOffset(n int) int {
	if s.Count <= 1 || n == 0 {
		return 0
	}
	return s.Index * n / s.Count
}
