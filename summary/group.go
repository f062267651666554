package summary

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/recorder"
)

// Prefixes of the names of one group's request figures: "model.<name>.ttft.p99" is ttft.p99 over the
// requests that named model <name> (recorder.Summary.ByModel), "turn.<k>.ttft.p99" over the k-th turns of
// multi-turn sessions, k from 1 (recorder.Summary.ByTurn[k-1]). The figure after the prefix is any
// client-side request figure (groupHeads); a model name may hold dots ("model.org/m-1.5b.e2e.p50").
const (
	ModelPrefix = "model."
	TurnPrefix  = "turn."
)

// groupHeads are the first parts of the registry entries a group has: the figures read from the requests
// alone (recorder.Summary), not from the client process, the GPUs, the server or the host.
var groupHeads = []string{"ttft", "ttfot", "tpot", "itl", "e2e", "latency", "e2e_latency", "ttft_from_intended",
	"e2e_from_intended", "time_to_reject", "send_lag", "error_rate", "request_throughput", "throughput",
	"output_token_throughput", "total_token_throughput", "goodput", "goodput_requests", "requests"}

// resolveGroup resolves name when it starts with ModelPrefix or TurnPrefix (ok true), into the entry of its
// figure with args naming the group; a bad group or figure gives an *UnknownMetricError whose suggestions
// carry the group's prefix. The model keeps the case it is written in; Lookup matches it case-insensitively.
func resolveGroup(name string) (r resolved, ok bool, err error) {
	t := strings.TrimSpace(name)
	var kind string
	for _, p := range []string{ModelPrefix, TurnPrefix} {
		if len(t) > len(p) && strings.EqualFold(t[:len(p)], p) {
			kind, t = p, t[len(p):]
		}
	}
	if kind == "" {
		return resolved{}, false, nil
	}
	bad := func(reason, figure, prefix string) error {
		if r, err := groupFigure(name, figure, prefix); err == nil {
			return &UnknownMetricError{Name: name, Reason: reason, Suggestions: []string{r.name}}
		}
		return &UnknownMetricError{Name: name, Reason: reason, Suggestions: groupSuggestions(figure, prefix)}
	}
	if kind == TurnPrefix {
		k, figure, _ := strings.Cut(t, ".")
		turn, aerr := strconv.Atoi(k)
		if aerr != nil || turn < 1 {
			return resolved{}, true, bad("a turn's figure is turn.<k>.<figure>, k from 1, e.g. turn.1.ttft.p99", figure, "turn.1.")
		}
		if head, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(figure)), "."); head == "itl" {
			return resolved{}, true, &UnknownMetricError{Name: name, Reason: "ITL is not kept per turn (a turn's " +
				"request is in its model's figures, which have it: model.<name>.itl.*, and in itl.*)"}
		}
		r, err = groupFigure(name, figure, "turn."+strconv.Itoa(turn)+".")
		r.a.turn = turn
		return r, true, err
	}
	// A model name may hold dots: the first split whose rest is a figure wins.
	first := ""
	for i := strings.IndexByte(t, '.'); i > 0; i = next(t, i) {
		model, figure := t[:i], t[i+1:]
		if first == "" {
			first = figure
			if _, err := resolve(figure); err == nil && !isGroupFigure(figure) { // model.a.server.ttft.p99
				return resolved{}, true, groupFigureErr(name, figure, ModelPrefix+model+".")
			}
		}
		if r, err = groupFigure(name, figure, ModelPrefix+model+"."); err == nil {
			r.a.model = model
			return r, true, nil
		}
	}
	if first == "" {
		return resolved{}, true, bad("a model's figure is model.<name>.<figure>, e.g. model.base.ttft.p99", t, "model.<name>.")
	}
	_, err = groupFigure(name, first, ModelPrefix+t[:len(t)-len(first)-1]+".")
	return resolved{}, true, err
}

// ModelOf returns the model that a model.<name>.<figure> name addresses, as Lookup resolves it (a name may
// hold dots: "model.org/m-1.5b.e2e.p50" is model "org/m-1.5b"), spelled as written; false for any other name
// and for one Lookup refuses.
func ModelOf(name string) (string, bool) {
	r, ok, err := resolveGroup(name)
	if !ok || err != nil || r.a.model == "" {
		return "", false
	}
	return r.a.model, true
}

// next returns the index of the next dot in t after i, or -1.
func next(t string, i int) int {
	j := strings.IndexByte(t[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// groupFigure resolves figure, which must be one of a group's figures (groupHeads), as the figure of a
// group whose names start with prefix; errors are *UnknownMetricError for name.
func groupFigure(name, figure, prefix string) (resolved, error) {
	if !isGroupFigure(figure) {
		return resolved{}, groupFigureErr(name, figure, prefix)
	}
	r, err := resolve(figure)
	if err != nil {
		if u, ok := err.(*UnknownMetricError); ok {
			u.Name = name
			for i, s := range u.Suggestions {
				u.Suggestions[i] = prefix + s
			}
		}
		return resolved{}, err
	}
	r.name = prefix + r.name
	return r, nil
}

// isGroupFigure reports whether figure starts with one of groupHeads.
func isGroupFigure(figure string) bool {
	head, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(figure)), ".")
	return slices.Contains(groupHeads, head)
}

// groupFigureErr is the error for figure, not one of a group's figures, after prefix.
func groupFigureErr(name, figure, prefix string) error {
	return &UnknownMetricError{Name: name, Suggestions: groupSuggestions(figure, prefix),
		Reason: "a group's figures are the client's request figures (" + strings.Join(groupHeads, ", ") + ")"}
}

// groupSuggestions are up to three of a group's names nearest figure, each after prefix.
func groupSuggestions(figure, prefix string) []string {
	var sugg []string
	for _, n := range Nearest(strings.ToLower(figure), groupNames(), 3) {
		sugg = append(sugg, prefix+n)
	}
	return sugg
}

// groupNames are the registry's spelled-out names a group has, the candidates of its suggestions.
func groupNames() []string {
	var out []string
	for _, n := range spelled {
		head, _, _ := strings.Cut(n, ".")
		if slices.Contains(groupHeads, head) {
			out = append(out, n)
		}
	}
	return out
}

// readGroup reads r, a group's figure (r.a.model or r.a.turn set), from s's group; a model or turn s does
// not have gives v not Known with a note listing those it has.
func (s *Summary) readGroup(r resolved, v Value) Value {
	g, key, note := s.group(r.a)
	if g == nil {
		v.Note = note
		return v
	}
	if r.a.model != "" { // the run's own spelling of the model
		v.Name = ModelPrefix + key + strings.TrimPrefix(r.name, ModelPrefix+r.a.model)
	}
	one := *s
	one.Requests = *g
	return r.metric.read(&one, r.a, v)
}

// group returns the request figures of the model or turn a names and the model's name as the run spells it,
// or nil and a note saying which the run has.
func (s *Summary) group(a args) (*recorder.Summary, string, string) {
	if a.turn > 0 {
		var turns []string
		for i, t := range s.Requests.ByTurn {
			if t.Total > 0 {
				turns = append(turns, strconv.Itoa(i+1))
			}
		}
		if a.turn <= len(s.Requests.ByTurn) && s.Requests.ByTurn[a.turn-1].Total > 0 {
			return &s.Requests.ByTurn[a.turn-1], "", ""
		}
		if len(turns) == 0 {
			return nil, "", fmt.Sprintf("no turn %d in this run (no request was a turn of a multi-turn session)", a.turn)
		}
		return nil, "", fmt.Sprintf("no turn %d in this run (turns: %s)", a.turn, strings.Join(turns, ", "))
	}
	names := slices.Sorted(maps.Keys(s.Requests.ByModel))
	for _, k := range names {
		if strings.EqualFold(k, a.model) {
			g := s.Requests.ByModel[k]
			return &g, k, ""
		}
	}
	if len(names) == 0 {
		return nil, "", "no model " + a.model + " in this run (no request named a model)"
	}
	return nil, "", "no model " + a.model + " in this run (models: " + strings.Join(names, ", ") + ")"
}
