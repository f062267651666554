package serverstats

import (
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/snapshot"
)

// Caps on what a Window and a Scrape keep of a server's metrics, whatever the server exposes. Each cap that
// was reached is an Event the first time and a line of Stats.Limits.
const (
	// MaxSeries is the most counter and histogram series a Window tracks; series first seen once it tracks
	// that many are left out of every figure.
	MaxSeries = 8192
	// MaxEngines is the most `engine` label values with their own Stats.PerEngine figures; the series of
	// later engines count in the totals only.
	MaxEngines = 256
	// MaxLabelValue is the most bytes of a label value kept (in series ids, engines, finish reasons and
	// model names); a longer value is cut and marked "…" plus an 8-hex-digit FNV-1a hash of the whole value,
	// so that distinct values stay distinct.
	MaxLabelValue = 128
	// MaxModels is the most model_name values a Scrape lists (Scrape.Models).
	MaxModels = 64
	// MaxSeriesID is the most bytes of a series' identity (name{label="value",...}) kept; a longer one (many
	// labels) is cut like a label value.
	MaxSeriesID = 1024
	// MaxEvents is the most events a Window returns over its life; one more says that the rest were not listed.
	MaxEvents = 1000
	// MaxEventText caps one event's message (bytes; a cut message ends in "…").
	MaxEventText = 2048
	// MaxRestartTimes is the most restart times a Stats lists (Stats.RestartTimes: the first ones seen);
	// Stats.Restarts counts them all.
	MaxRestartTimes = 100
)

// capLabelText returns s cut to at most n bytes (at a character boundary) with "…" when cut.
func capLabelText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// capLabel returns v, or v cut at MaxLabelValue bytes (at a character boundary), "…" and the hash of v.
func capLabel(v string) string { return capHashed(v, MaxLabelValue) }

// capID is capLabel for a series identity, at MaxSeriesID bytes.
func capID(id string) string { return capHashed(id, MaxSeriesID) }

func capHashed(v string, n int) string {
	if len(v) <= n {
		return v
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(v))
	sum := strconv.FormatUint(uint64(h.Sum32()), 16)
	return strings.ToValidUTF8(v[:n], "") + "…" + strings.Repeat("0", 8-len(sum)) + sum
}

// capEvents passes one Add's events on while the Window has returned fewer than MaxEvents, then one event
// saying the rest are not listed, then none.
func (w *Window) capEvents(ev []snapshot.Event) []snapshot.Event {
	l := &w.lim
	if l.events+len(ev) <= MaxEvents {
		l.events += len(ev)
		return ev
	}
	if l.events > MaxEvents {
		return nil
	}
	ev = ev[:MaxEvents-l.events]
	ev = append(ev, snapshot.Event{Time: w.last, Source: Source,
		Message: "more than MaxEvents (" + strconv.Itoa(MaxEvents) + ") events from the server's metrics: the rest are not listed (Stats.Limits still counts the caps and invalid values)"})
	l.events = MaxEvents + 1
	return ev
}

// limits is what a Window's caps left out, and the values it refused as invalid.
type limits struct {
	untracked    int                 // most series left out of one scrape (MaxSeries)
	pending      int                 // scratch: series left out of the scrape being added
	engines      map[string]struct{} // engines with their own figures (at most MaxEngines)
	enginesOver  map[string]struct{} // scratch: engines past the cap in the scrape being added
	overEngines  int                 // most engines past the cap in one scrape
	cutLabels    bool                // a label value was longer than MaxLabelValue
	invalid      int                 // values refused as invalid
	invalidKinds map[string]bool     // "name: reason" already told in an event (at most maxInvalidKinds)
	firstInvalid string              // the first value refused, with its reason
	told         uint8               // which caps were told in an event (toldSeries, ...)
	events       int                 // events returned by Add so far (MaxEvents + 1 once capped)
}

const (
	toldSeries uint8 = 1 << iota
	toldEngines
	toldLabels
	toldInvalidMore
)

// maxInvalidKinds bounds the distinct (metric name, reason) pairs told in events.
const maxInvalidKinds = 32

// engineOf returns the series' engine for per-engine figures: its capped `engine` label value while fewer
// than MaxEngines engines are admitted (or it is one of them), else "" (counted in the totals only).
func (w *Window) engineOf(raw string, ok bool) string {
	if !ok || raw == "" {
		return ""
	}
	e := w.label(raw)
	l := &w.lim
	if _, in := l.engines[e]; in {
		return e
	}
	if len(l.engines) < MaxEngines {
		if l.engines == nil {
			l.engines = map[string]struct{}{}
		}
		l.engines[e] = struct{}{}
		return e
	}
	if l.enginesOver == nil {
		l.enginesOver = map[string]struct{}{}
	}
	l.enginesOver[e] = struct{}{}
	return ""
}

// label caps a label value, noting that one was cut.
func (w *Window) label(v string) string {
	if len(v) <= MaxLabelValue {
		return v
	}
	w.lim.cutLabels = true
	return capLabel(v)
}

// room reports whether one more series may be tracked; when not, the series is counted as left out.
func (w *Window) room() bool {
	if len(w.counters)+len(w.hists) < MaxSeries {
		return true
	}
	w.lim.pending++
	return false
}

// refuse counts an invalid value of series id (of metric name): kind says what is wrong, detail the values.
// It tells it in an event the first time its name and kind are seen.
func (w *Window) refuse(name, id, kind, detail string) {
	l := &w.lim
	l.invalid++
	reason := kind + " (" + detail + ")"
	if l.firstInvalid == "" {
		l.firstInvalid = id + ": " + reason
	}
	key := name + ": " + kind
	if l.invalidKinds[key] {
		return
	}
	if len(l.invalidKinds) >= maxInvalidKinds {
		if l.told&toldInvalidMore == 0 {
			l.told |= toldInvalidMore
			w.events.add("more kinds of invalid values than " + strconv.Itoa(maxInvalidKinds) + ": left out, counted in limits, not told one by one")
		}
		return
	}
	if l.invalidKinds == nil {
		l.invalidKinds = map[string]bool{}
	}
	l.invalidKinds[key] = true
	w.events.add(id + ": " + reason + ": invalid, left out (later values of " + name + " with this fault are counted, not told)")
}

// limitEvents ends a scrape's bookkeeping of the caps: it tells each cap the first time it is reached.
func (w *Window) limitEvents() {
	l := &w.lim
	untracked := l.pending
	l.pending = 0
	l.untracked = max(l.untracked, untracked)
	l.overEngines = max(l.overEngines, len(l.enginesOver))
	l.enginesOver = nil // a map keeps its buckets when cleared
	if untracked > 0 && l.told&toldSeries == 0 {
		l.told |= toldSeries
		w.events.add(strconv.Itoa(untracked) + " series past MaxSeries (" + strconv.Itoa(MaxSeries) + ") not tracked: the window's figures leave them out")
	}
	if l.overEngines > 0 && l.told&toldEngines == 0 {
		l.told |= toldEngines
		w.events.add("more than MaxEngines (" + strconv.Itoa(MaxEngines) + ") engine label values: later engines count in the totals, not in per_engine")
	}
	if l.cutLabels && l.told&toldLabels == 0 {
		l.told |= toldLabels
		w.events.add("label values longer than MaxLabelValue (" + strconv.Itoa(MaxLabelValue) + " bytes) cut, marked … and a hash of the whole value")
	}
}

// notes returns Stats.Limits: one line per cap reached and for the values refused as invalid.
func (l *limits) notes() []string {
	var out []string
	if l.untracked > 0 {
		out = append(out, "series: up to "+strconv.Itoa(l.untracked)+" series per scrape past MaxSeries ("+strconv.Itoa(MaxSeries)+") not tracked; the figures leave them out")
	}
	if l.overEngines > 0 {
		out = append(out, "engines: up to "+strconv.Itoa(l.overEngines)+" engine label values per scrape past MaxEngines ("+strconv.Itoa(MaxEngines)+") counted in the totals only, not in per_engine")
	}
	if l.cutLabels {
		out = append(out, "labels: values longer than "+strconv.Itoa(MaxLabelValue)+" bytes cut, marked … and a hash of the whole value")
	}
	if l.events > MaxEvents {
		out = append(out, "events: more than MaxEvents ("+strconv.Itoa(MaxEvents)+") events from the server's metrics; the rest not listed")
	}
	if l.invalid > 0 {
		out = append(out, "invalid: "+strconv.Itoa(l.invalid)+" values left out; the first: "+l.firstInvalid)
	}
	return out
}
