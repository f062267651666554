package summary

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// part is one dotted part of a registry name: a word, a choice of statistics, or a placeholder.
type part struct {
	word   string       // the word a name must have here; "" for a choice or a placeholder
	choice []string     // the statistics one of which a name has here, as the registry writes them
	ph     *placeholder // the placeholder, or nil
}

// placeholder is a part of a registry name that stands for a key of the summary: a GPU or a MIG device.
type placeholder struct {
	// name is how the registry writes it: "<gpu>".
	name string
	// doc says what it stands for, in README.md's legend.
	doc string
	// fits reports whether a (lower-case) word is one of its keys.
	fits func(w string) bool
	// bind records the key w in a.
	bind func(a *args, w string)
	// examples are the keys Names spells it as.
	examples []string
}

// placeholders are every placeholder registry names may use.
var placeholders = []*placeholder{
	{name: "<gpu>", doc: "`gpu`, all GPUs together (avg the mean of the GPUs' averages, max the largest, energy the sum), " +
		"or `gpu_<i>`, GPU i alone (`gpu_0.power_w.max`)",
		fits: func(w string) bool { return w == "gpu" || isIndexed(w, "gpu_") },
		bind: func(a *args, w string) {
			if w != "gpu" {
				a.gpu = w
			}
		},
		examples: []string{"gpu", "gpu_0"}},
	{name: "<gpu_i>", doc: "`gpu_<i>`, GPU i alone",
		fits: func(w string) bool { return isIndexed(w, "gpu_") }, bind: func(a *args, w string) { a.gpu = w },
		examples: []string{"gpu_0"}},
	{name: "<mig>", doc: "a MIG device of that GPU by its key in the summary's `mig_devices`: `gi<G>_ci<C>` " +
		"(GPU and compute instance), `gi<G>` or `mig<i>` (`gpu_0.mig.gi1_ci0.memory_used_mb.max`)",
		fits: isMIGKey, bind: func(a *args, w string) { a.mig = w }, examples: []string{"gi1_ci0"}},
}

// isIndexed reports whether w is prefix followed by a decimal number.
func isIndexed(w, prefix string) bool {
	d, ok := strings.CutPrefix(w, prefix)
	return ok && d != "" && strings.Trim(d, "0123456789") == ""
}

// isMIGKey reports whether w is a key of GPUStats.MIG: gi<G>_ci<C>, gi<G> or mig<i>.
func isMIGKey(w string) bool {
	if gi, ci, ok := strings.Cut(w, "_"); ok {
		return isIndexed(gi, "gi") && isIndexed(ci, "ci")
	}
	return isIndexed(w, "gi") || isIndexed(w, "mig")
}

// pattern is one way to write an entry's names: its Name or one of its Synonyms.
type pattern struct {
	metric int    // index in registry
	parts  []part // as written
	canon  []part // the entry's Name, part by part: a synonym's words are spelled canonically from it
}

// patterns are every entry's names, parsed once.
var patterns = parsePatterns(registry)

// byHead indexes patterns by their first part: the patterns that start with that word, and under "" those
// that start with a placeholder (which any word may fit). Only these can fit a name's first part.
var byHead = indexHeads(patterns)

func indexHeads(ps []pattern) map[string][]pattern {
	m := map[string][]pattern{}
	for _, p := range ps {
		head := p.parts[0].word // "" for a placeholder; no name starts with a choice
		m[head] = append(m[head], p)
	}
	return m
}

// parsePatterns parses every Name and synonym of ms; it panics on a malformed one (a registry bug, which
// TestRegistryIsWellFormed would show at once).
func parsePatterns(ms []Metric) []pattern {
	var out []pattern
	for i, m := range ms {
		base := parseName(m.Name)
		out = append(out, pattern{metric: i, parts: base, canon: base})
		for _, syn := range m.Synonyms {
			sp := parseName(syn)
			if len(sp) > len(base) {
				panic("summary: registry: synonym " + syn + " is longer than " + m.Name)
			}
			out = append(out, pattern{metric: i, parts: append(sp, base[len(sp):]...), canon: base})
		}
	}
	return out
}

func parseName(name string) []part {
	var ps []part
	for _, p := range strings.Split(name, ".") {
		switch {
		case placeholderNamed(p) != nil:
			ps = append(ps, part{ph: placeholderNamed(p)})
		case strings.HasPrefix(p, "<") && strings.HasSuffix(p, ">"):
			ps = append(ps, part{choice: strings.Split(p[1:len(p)-1], "|")})
		case p == "" || strings.ContainsAny(p, "<>|") || strings.ToLower(p) != p:
			panic("summary: registry: bad name part " + strconv.Quote(p) + " in " + name)
		default:
			ps = append(ps, part{word: p})
		}
	}
	return ps
}

func placeholderNamed(name string) *placeholder {
	for _, ph := range placeholders {
		if ph.name == name {
			return ph
		}
	}
	return nil
}

// String writes the part as the registry does.
func (p part) String() string {
	switch {
	case p.ph != nil:
		return p.ph.name
	case p.choice != nil:
		return "<" + strings.Join(p.choice, "|") + ">"
	}
	return p.word
}

// statSynonyms are other names of a statistic, taken when the choice lists the statistic but not the name.
var statSynonyms = map[string]string{"avg": "mean", "mean": "avg", "median": "p50", "med": "p50"}

// canonical returns the canonical spelling of w in this part, or false when w does not fit it. A statistic's
// canonical spelling is the one the choice lists, "p50" for "median" or "med".
func (p part) canonical(w string) (string, bool) {
	switch {
	case p.ph != nil:
		return w, p.ph.fits(w)
	case p.choice != nil:
		if (w == "median" || w == "med") && slices.Contains(p.choice, "p50") {
			return "p50", true // even where the choice lists "median" too, for the reader
		}
		if slices.Contains(p.choice, w) {
			return w, true
		}
		if s, ok := statSynonyms[w]; ok && slices.Contains(p.choice, s) {
			return s, true
		}
		return "", false
	}
	return p.word, w == p.word
}

// resolved is a name matched against the registry.
type resolved struct {
	metric  *Metric
	name    string // canonical, "replica.<name>." included
	a       args
	replica string // the replica's name as written, lower case, for a replica.<name>.server.* name; "" otherwise
}

// matchLen returns how many leading parts of ws fit pat.
func (pat pattern) matchLen(ws []string) int {
	n := 0
	for n < len(ws) && n < len(pat.parts) {
		if _, ok := pat.parts[n].canonical(ws[n]); !ok {
			break
		}
		n++
	}
	return n
}

// bind returns the canonical spelling of the first k parts of ws, which fit pat, and the args they give.
func (pat pattern) bind(ws []string, k int) ([]string, args) {
	var a args
	canon := make([]string, k)
	for n, w := range ws[:k] {
		p := pat.parts[n]
		c, _ := p.canonical(w)
		switch {
		case p.ph != nil:
			p.ph.bind(&a, c)
		case p.choice != nil:
			a.stat = c
		case p.word != "":
			c = pat.canon[n].word
		}
		canon[n] = c
	}
	return canon, a
}

// resolve finds the registry entry name belongs to, a replica's name (replica.<name>.server.*, see
// ReplicaPrefix) resolving to its server.* entry. A name outside every entry gives an *UnknownMetricError
// whose Reason says what is wrong with it where some entry fits its first part(s).
func resolve(name string) (resolved, error) {
	if n := strings.ToLower(strings.TrimSpace(name)); strings.HasPrefix(n, ReplicaPrefix) {
		return resolveReplica(name, n)
	}
	if r, ok, err := resolveGroup(name); ok {
		return r, err
	}
	return resolveRegistry(name)
}

// resolveRegistry finds the registry entry of name, which is neither a replica's nor a group's (see resolve).
func resolveRegistry(name string) (resolved, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	ws := strings.Split(n, ".")
	if slices.Contains(ws, "") {
		return resolved{}, &UnknownMetricError{Name: name, Reason: "empty name part", Suggestions: Nearest(n, spelled, 3)}
	}
	var best []pattern
	bestLen := 0
	for _, group := range [...][]pattern{byHead[ws[0]], byHead[""]} {
		for _, pat := range group {
			k := pat.matchLen(ws)
			if k == len(ws) && k == len(pat.parts) {
				canon, a := pat.bind(ws, k)
				return resolved{metric: &registry[pat.metric], name: strings.Join(canon, "."), a: a}, nil
			}
			switch {
			case k > bestLen:
				best, bestLen = []pattern{pat}, k
			case k == bestLen && k > 0:
				best = append(best, pat)
			}
		}
	}
	var prefix []string
	if bestLen > 0 {
		prefix, _ = best[0].bind(ws, bestLen)
	}
	return resolved{}, &UnknownMetricError{Name: name, Reason: reason(ws, best, bestLen, prefix), Suggestions: Nearest(n, spelled, 3)}
}

// reason says why ws, whose first k parts (canonically prefix) fit the patterns best, fits none of them
// whole; "" when no pattern fits even its first part.
func reason(ws []string, best []pattern, k int, prefix []string) string {
	if k == 0 {
		return ""
	}
	p := strings.Join(prefix, ".")
	var next []part // the parts the best patterns have after the prefix, each once
	whole := false  // some best pattern ends with the prefix
	for _, pat := range best {
		if len(pat.parts) == k {
			whole = true
			continue
		}
		if !slices.ContainsFunc(next, func(q part) bool { return q.String() == pat.parts[k].String() }) {
			next = append(next, pat.parts[k])
		}
	}
	last := best[0].parts[k-1]
	switch {
	case len(ws) > k && whole && last.choice != nil:
		// ttft.p99.x: too long after a statistic
		return strings.Join(prefix[:k-1], ".") + " takes one statistic: " + strings.Join(prefix[:k-1], ".") + "." + last.String()
	case len(ws) > k && whole && len(next) == 0:
		return p + " is a whole name: nothing follows it"
	case len(ws) == k && len(next) == 1 && next[0].choice != nil:
		return p + " takes one statistic: " + p + "." + next[0].String()
	case len(ws) == k:
		return p + " is not a whole name; want " + p + "." + alternatives(next, true)
	case len(next) == 1 && next[0].choice != nil:
		return fmt.Sprintf("no statistic %q for %s; want %s", ws[k], p, orList(next[0].choice))
	}
	return fmt.Sprintf("no %q after %s; want %s", ws[k], p, alternatives(next, false))
}

// alternatives lists parts: "<a|b|c>" (bracket true) or "a, b or c".
func alternatives(ps []part, bracket bool) string {
	var ws []string
	for _, p := range ps {
		ws = append(ws, p.String())
	}
	if len(ws) == 1 {
		return ws[0]
	}
	if bracket {
		return "<" + strings.Join(ws, "|") + ">"
	}
	return orList(ws)
}

// orList joins words as "a", "a or b", "a, b or c".
func orList(ws []string) string {
	if len(ws) <= 1 {
		return strings.Join(ws, "")
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " or " + ws[len(ws)-1]
}

// Describe is what the registry says about one name, resolved: its canonical name, its entry, and what
// tables print for it. It returns Lookup's *UnknownMetricError for a name outside the registry.
func Describe(name string) (Described, error) {
	r, err := resolve(name)
	if err != nil {
		return Described{}, err
	}
	d := Described{Name: r.name, Metric: *r.metric, Label: r.metric.Label}
	switch {
	case r.replica != "":
		d.Label = "replica " + r.replica + " " + d.Label
	case r.a.model != "":
		d.Label = "model " + r.a.model + " " + d.Label
	case r.a.turn > 0:
		d.Label = "turn " + strconv.Itoa(r.a.turn) + " " + d.Label
	case r.a.mig != "":
		d.Label = r.a.gpu + " MIG " + r.a.mig + " " + d.Label
	case r.a.gpu != "":
		d.Label = r.a.gpu + " " + d.Label
	case strings.HasPrefix(r.metric.Name, "<gpu>."):
		d.Label = "GPU " + d.Label
	}
	if r.a.stat != "" {
		d.Label += " " + r.a.stat
	}
	switch {
	case r.metric.Bench != "":
		d.BenchUnit, d.BenchScale = r.metric.Bench, 1
	case r.metric.Unit == UnitMS && r.a.stat != "":
		rest := strings.TrimSuffix(r.name, "."+r.a.stat)
		d.BenchUnit, d.BenchScale = r.a.stat+"-"+strings.ReplaceAll(rest, ".", "-")+"-sec", 1e-3
	}
	return d, nil
}

// Described is one resolved name (see Describe).
type Described struct {
	// Name is the canonical name: "e2e.p99" for "latency.p99", "gpu_1.utilization.avg" for "GPU_1.utilization.mean".
	Name string
	// Metric is the registry entry the name belongs to (its Unit, Direction, Doc).
	Metric Metric
	// Label is a short column title: the entry's Label with the GPU and the statistic, "TTFT p99", "GPU
	// utilization avg", "gpu_1 power max".
	Label string
	// BenchUnit is the benchstat unit ("p99-ttft-sec", "req/s"), "" when the figure is not reported to
	// benchstat; a figure is multiplied by BenchScale (1e-3 from ms to s) before it is reported.
	BenchUnit  string
	BenchScale float64
}

// Names returns every name of the registry spelled out, each statistic of a choice in turn, a placeholder
// as its examples (<gpu> as "gpu" and "gpu_0", <mig> as "gi1_ci0"), synonyms included (after the entry's own names): the candidates of "did you mean".
func Names() []string {
	var out []string
	for _, pat := range patterns {
		names := []string{""}
		for _, p := range pat.parts {
			var ws []string
			switch {
			case p.ph != nil:
				ws = p.ph.examples
			case p.choice != nil:
				ws = p.choice
			default:
				ws = []string{p.word}
			}
			var next []string
			for _, n := range names {
				for _, w := range ws {
					if n != "" {
						w = n + "." + w
					}
					next = append(next, w)
				}
			}
			names = next
		}
		out = append(out, names...)
	}
	return out
}

// DirectionOf returns the Direction of a name from the registry (a replica's name, replica.<name>.server.*,
// that of its server.* entry); LowerIsBetter for a name outside it.
func DirectionOf(name string) Direction {
	r, err := resolve(name)
	if err != nil {
		return LowerIsBetter
	}
	return r.metric.Direction
}

// LatencyMetrics returns the client-side latency distributions Summary.Latency reads, by their canonical
// names, in registry order: ttft, tpot, itl, e2e, ttft_from_intended, e2e_from_intended.
func LatencyMetrics() []string {
	var out []string
	for _, m := range registry {
		if m.dist != nil {
			out = append(out, strings.SplitN(m.Name, ".", 2)[0])
		}
	}
	return out
}

// LatencyMetricsText lists the names Summary.Latency accepts, with their synonyms, as messages print it:
// "ttft, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended".
func LatencyMetricsText() string {
	var ws []string
	for _, m := range registry {
		if m.dist == nil {
			continue
		}
		w := strings.SplitN(m.Name, ".", 2)[0]
		if len(m.Synonyms) > 0 {
			w += " (also called " + orList(m.Synonyms) + ")"
		}
		ws = append(ws, w)
	}
	return orList(ws)
}

// LatencyNames returns every name Summary.Latency accepts, in lower case: LatencyMetrics, then their
// synonyms ("latency", "e2e_latency").
func LatencyNames() []string {
	out := LatencyMetrics()
	for _, m := range registry {
		if m.dist != nil {
			out = append(out, m.Synonyms...)
		}
	}
	return out
}

// latencyEntry returns the registry entry of the client-side latency distribution metric (a canonical name
// or a synonym, any case), or nil.
func latencyEntry(metric string) *Metric {
	m := strings.ToLower(metric)
	for i := range registry {
		e := &registry[i]
		if e.dist != nil && (strings.HasPrefix(e.Name, m+".") || slices.Contains(e.Synonyms, m)) {
			return e
		}
	}
	return nil
}

// families writes the registry's names compactly: consecutive names that differ in one word only are joined
// into one, that word becoming a choice ("requests.<ok|failed>"). Synonyms are not listed.
func families() []string {
	var out []string
	var group [][]part // the parts of the family being built; group[i] lists the words of part i
	flush := func() {
		if group == nil {
			return
		}
		ws := make([]string, len(group))
		for i, alts := range group {
			if len(alts) == 1 {
				ws[i] = alts[0].String()
			} else {
				ws[i] = alternatives(alts, true)
			}
		}
		out = append(out, strings.Join(ws, "."))
		group = nil
	}
	for _, m := range registry {
		ps := parseName(m.Name)
		if diff := differsIn(group, ps); diff >= 0 {
			group[diff] = append(group[diff], ps[diff])
			continue
		}
		flush()
		for _, p := range ps {
			group = append(group, []part{p})
		}
	}
	flush()
	return out
}

// differsIn returns the index of the one part in which ps differs from the family group (a word, where the
// family has words only), or -1 when ps does not join it.
func differsIn(group [][]part, ps []part) int {
	if len(group) != len(ps) {
		return -1
	}
	diff := -1
	for i, p := range ps {
		if len(group[i]) == 1 && group[i][0].String() == p.String() {
			continue
		}
		if diff >= 0 || p.word == "" || slices.ContainsFunc(group[i], func(q part) bool { return q.word == "" }) {
			return -1
		}
		diff = i
	}
	return diff
}

// Statistics returns the statistic words a registry name may end with, each once: every word of the
// registry's choices in registry order (p50, p90, p95, p99, mean, median, std, min, max, avg), then the
// synonyms that stand for one of them ("med"). Threshold expressions take the ones that are not percentiles
// as an aggregation before the metric ("avg gpu.utilization").
func Statistics() []string {
	var out []string
	for _, pat := range patterns {
		for _, p := range pat.parts {
			for _, w := range p.choice {
				if !slices.Contains(out, w) {
					out = append(out, w)
				}
			}
		}
	}
	for _, w := range slices.Sorted(maps.Keys(statSynonyms)) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// Percentiles returns the percentiles some registry name keeps, as numbers written ("50", "90", "95",
// "99"), in registry order.
func Percentiles() []string {
	var out []string
	for _, w := range Statistics() {
		if isIndexed(w, "p") {
			out = append(out, strings.TrimPrefix(w, "p"))
		}
	}
	return out
}
