package serverstats

import (
	"slices"
	"strings"
)

// rateFields names the snapshot rate each counter field's per-interval increase gives (by cGen...cSuccess).
var rateFields = [...]string{cGen: "tokens_per_second", cPrompt: "prompt_tokens_per_second", cSuccess: "requests_per_second"}

// goneCounters reports each series of a rate's counter that the previous scrape had and this one lacks: the
// interval's increase of that counter is unknown (the window keeps the series' last value).
func (w *Window) goneCounters() {
	for ci, rate := range rateFields {
		f := scalarFields[ci].Field
		name := w.curNames[f]
		if name == "" || w.prevNames[f] != name {
			continue
		}
		for _, cs := range w.cByName[name] {
			if cs.seenAt == w.scrapes-1 && w.scrapes > 1 {
				w.events.reset(cs.id + " is gone (last " + fmtF(cs.prev) + "): " + rate + " is null for this interval")
			}
		}
	}
}

// exposureEvents reports what the scrape exposes when it changes: the catalogue fields not exposed (on the
// first scrape only when some are), a field read from another name than in the previous scrape, and, once,
// several model_name values summed over.
func (w *Window) exposureEvents(s Scrape) {
	missing := w.missing[:0]
	for _, m := range catalogue {
		if m.Field != FieldPreemptions && s.NamesUsed[m.Field] == "" {
			missing = append(missing, m.Field)
		}
	}
	slices.Sort(missing)
	w.missing = missing
	first := w.scrapes == 1
	if changed := !slices.Equal(w.notExposed, missing); changed {
		switch {
		case len(missing) > 0:
			parts := make([]string, len(missing))
			for i, f := range missing {
				parts[i] = f + " (looked for " + strings.Join(Candidates(f), ", ") + ")"
			}
			w.events.add("not exposed by the server, left null: " + strings.Join(parts, "; "))
		case !first:
			w.events.add("every field is exposed again")
		}
		w.notExposed = slices.Clone(missing)
	}
	if !first {
		for _, m := range catalogue {
			now, was := s.NamesUsed[m.Field], w.prevNames[m.Field]
			if now != "" && was != "" && was != now {
				w.events.add(m.Field + " now read from " + now + " (was " + was + ")")
			}
		}
	}
	if s.Model == "" && len(s.Models) > 1 && !w.warnedMany {
		w.warnedMany = true
		w.events.add("several model_name values (" + s.modelList() + "): summing over them; set the model (vmtest Options.Model, or the command's -metrics-model) to read one")
	}
}

// NamesUsed returns, for the last scrape added, each exposed catalogue field mapped to the metric name it was
// read from (a copy; empty before the first scrape).
func (w *Window) NamesUsed() map[string]string {
	out := make(map[string]string, len(w.lastNames))
	for k, v := range w.lastNames {
		out[k] = v
	}
	return out
}

// NotExposed returns the catalogue fields (FieldPreemptions aside) the last scrape added did not expose,
// sorted; nil before the first scrape or when every field is exposed.
func (w *Window) NotExposed() []string { return slices.Clone(w.notExposed) }
