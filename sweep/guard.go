package sweep

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// errStoppedEarly is the cause with which a step's load is cancelled once its SLO can no longer be met.
var errStoppedEarly = fmt.Errorf("sweep: the step's SLO can no longer be met")

// rule is one SLO threshold a step can be judged on before it ends (see decidable).
type rule struct {
	t     assert.Threshold
	name  string                         // the latency's name, e.g. "ttft"
	get   func(*recorder.Record) float64 // the request's figure in ms (NaN when unknown); nil for error_rate
	q     float64                        // the percentile, 0–100
	need  int                            // requests over the limit that decide it: planned − ⌊(planned−1)·q/100⌋
	count int                            // requests seen so far over the limit (or, for error_rate, not OK)
	group string                         // "model <name>" or "turn <k>" for a group's threshold, "" for the totals
	in    func(*recorder.Record) bool    // whether a request is in the group; nil for the totals
}

// perRequest are the latency metrics a percentile threshold can be decided on from single requests: the
// recorder's own per-request figures (recorder.RecordOf).
var perRequest = map[string]func(*recorder.Record) float64{
	"ttft":               func(r *recorder.Record) float64 { return r.TTFTMS },
	"e2e":                func(r *recorder.Record) float64 { return r.E2EMS },
	"tpot":               func(r *recorder.Record) float64 { return r.TPOTMS },
	"ttft_from_intended": func(r *recorder.Record) float64 { return r.TTFTFromIntendedMS },
	"e2e_from_intended":  func(r *recorder.Record) float64 { return r.E2EFromIntendedMS },
}

// decidable returns the rule for t when a step of planned measured requests can fail it before it ends,
// else ok false. Two kinds can: "error_rate < e" (or <=), and an upper limit on a client percentile
// ("p(99) ttft < L", "e2e.p90 <= L") of TTFT, E2E, TPOT or their from-intended forms; each of the totals or
// of one group's requests (model.<name>.*, turn.<k>.*).
func decidable(t assert.Threshold, planned int) (rule, bool) {
	if planned <= 0 || (t.Op != "<" && t.Op != "<=") {
		return rule{}, false
	}
	group, in, figure := groupOf(t.Metric)
	ru, ok := decidableFigure(t, figure, planned)
	ru.group, ru.in = group, in
	return ru, ok
}

// groupOf splits a threshold's metric into the group it names ("model <name>", "turn <k>"; "" for the
// totals), the test of a request's membership (nil for the totals), and the figure after the group's prefix.
// A model's name may hold dots: the figure is "error_rate" or the last two parts.
func groupOf(metric string) (group string, in func(*recorder.Record) bool, figure string) {
	switch {
	case strings.HasPrefix(metric, summary.TurnPrefix):
		k, fig, _ := strings.Cut(strings.TrimPrefix(metric, summary.TurnPrefix), ".")
		turn, err := strconv.Atoi(k)
		if err != nil {
			return "", nil, metric
		}
		return "turn " + k, func(r *recorder.Record) bool { return r.Turn == turn }, fig
	case strings.HasPrefix(metric, summary.ModelPrefix):
		rest := strings.TrimPrefix(metric, summary.ModelPrefix)
		cut := strings.LastIndexByte(rest, '.')
		if !strings.HasSuffix(rest, ".error_rate") && cut > 0 {
			cut = strings.LastIndexByte(rest[:cut], '.')
		}
		if cut <= 0 {
			return "", nil, metric
		}
		model := rest[:cut]
		return "model " + model, func(r *recorder.Record) bool { return strings.EqualFold(r.Model, model) }, rest[cut+1:]
	}
	return "", nil, metric
}

// decidableFigure is decidable for figure, t's metric without its group's prefix.
func decidableFigure(t assert.Threshold, figure string, planned int) (rule, bool) {
	if figure == "error_rate" {
		return rule{t: t}, true
	}
	name, stat, ok := cutLast(figure)
	get := perRequest[name]
	if !ok || get == nil || len(stat) < 2 || stat[0] != 'p' {
		return rule{}, false
	}
	var q float64
	if _, err := fmt.Sscanf(stat[1:], "%g", &q); err != nil || q <= 0 || q > 100 {
		return rule{}, false
	}
	need := planned - int(math.Floor(float64(planned-1)*q/100))
	return rule{t: t, name: name, get: get, q: q, need: need}, true
}

func cutLast(metric string) (name, stat string, ok bool) {
	i := len(metric) - 1
	for i >= 0 && metric[i] != '.' {
		i--
	}
	if i <= 0 {
		return "", "", false
	}
	return metric[:i], metric[i+1:], true
}

// guard passes every request on to the step's sink and cancels the step's load the moment one rule is
// decided: no way the rest of the step's planned requests could end can make its threshold hold.
//
// Why each decision is final (planned = N measured requests, error_rate's denominator total − canceled ≤ N,
// successful requests n ≤ N; a group's requests are among them, so the same bounds hold for its figures):
//   - error_rate < e: once k requests ended not OK (failed, incomplete, rejected), the final rate is at least
//     k/N, so k/N ≥ e (k/N > e for <=) fails it whatever follows, cancelled requests included.
//   - pq of a latency < L: the numpy-linear pq of n values is at least the ⌊(n−1)q/100⌋-th smallest (0-based),
//     which is ≥ L once k ≥ n − ⌊(n−1)q/100⌋ values are ≥ L; that count is non-decreasing in n, so k ≥
//     N − ⌊(N−1)q/100⌋ (the rule's need) fails it for every n ≤ N. For <=, values > L are counted.
type guard struct {
	sink    recorder.Sink
	start   time.Time
	planned int
	cancel  context.CancelCauseFunc

	mu     sync.Mutex
	rules  []rule
	reason string
}

func newGuard(sink recorder.Sink, planned int, rules []rule, cancel context.CancelCauseFunc) *guard {
	return &guard{sink: sink, start: time.Now(), planned: planned, rules: slices.Clone(rules), cancel: cancel}
}

// RecordWarmup passes q, a warm-up request, to the step's sink when it takes warm-up requests
// (recorder.WarmupSink); no rule counts it.
func (g *guard) RecordWarmup(q recorder.Request) {
	if ws, ok := g.sink.(recorder.WarmupSink); ok {
		ws.RecordWarmup(q)
	}
}

// RecordClientCost passes the load run's cost to the step's sink when it takes it (recorder.ClientCostSink).
func (g *guard) RecordClientCost(c recorder.ClientCost) {
	if cs, ok := g.sink.(recorder.ClientCostSink); ok {
		cs.RecordClientCost(c)
	}
}

// RecordRequest records q in the step's sink, then counts it against each rule.
func (g *guard) RecordRequest(q recorder.Request) {
	g.sink.RecordRequest(q)
	rec := recorder.RecordOf(&q, g.start)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reason != "" || rec.Outcome == recorder.OutcomeCanceled {
		return
	}
	for i := range g.rules {
		r := &g.rules[i]
		if r.in != nil && !r.in(&rec) {
			continue
		}
		if r.get == nil {
			if rec.Outcome == recorder.OutcomeOK {
				continue
			}
			r.count++
			if rate := float64(r.count) / float64(g.planned); !holdsLimit(rate, r.t.Op, r.t.Limit) {
				g.stop(fmt.Sprintf("%d of %d planned requests%s did not succeed: error_rate is at least %.4g, want %s %s",
					r.count, g.planned, r.of(), rate, r.t.Op, r.t.LimitText), r.t.Expr)
				return
			}
			continue
		}
		if rec.Outcome != recorder.OutcomeOK {
			continue
		}
		v := r.get(&rec)
		if math.IsNaN(v) || holdsLimit(v, r.t.Op, r.t.Limit) {
			continue
		}
		r.count++
		if r.count >= r.need {
			over := "≥"
			if r.t.Op == "<=" {
				over = ">"
			}
			g.stop(fmt.Sprintf("%d successful requests%s have %s %s %s, and with at most %d planned, %d such decide the p%g",
				r.count, r.of(), r.name, over, r.t.LimitText, g.planned, r.need, r.q), r.t.Expr)
			return
		}
	}
}

// of names the rule's group in a message (" of model base"), "" for the totals.
func (r *rule) of() string {
	if r.group == "" {
		return ""
	}
	return " of " + r.group
}

func holdsLimit(v float64, op string, limit float64) bool {
	if op == "<=" {
		return v <= limit
	}
	return v < limit
}

// stop records why and cancels the step's load; called with g.mu held.
func (g *guard) stop(why, expr string) {
	g.reason = fmt.Sprintf("%sthreshold %q can no longer be met: %s", snapshot.StoppedEarlyPrefix, expr, why)
	g.cancel(errStoppedEarly)
}

// stopped returns why the step stopped early, "" when it did not.
func (g *guard) stopped() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reason
}
