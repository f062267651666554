package serverstats

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vmtest/vmtest/snapshot"
)

// replicaName is what a replica's name may be: it keys vllm_metrics.replicas, server_statistics.replicas and
// the replica_<name>_<field> CSV columns, and is part of a threshold's metric name
// (replica.<name>.server.ttft.p99), so it is kept to letters, digits and '_'.
var replicaName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// CheckReplicaNames returns an error naming the first replica name that is empty, not made of 1–64 letters,
// digits and '_', or given twice (names differing only in case count as the same); nil when all are valid.
func CheckReplicaNames(names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		switch {
		case !replicaName.MatchString(n):
			return fmt.Errorf("replica %d: name %q: want 1–64 letters, digits or '_'", i, n)
		case seen[strings.ToLower(n)]:
			return fmt.Errorf("replica %d: name %q is given twice; give each replica its own name", i, n)
		}
		seen[strings.ToLower(n)] = true
	}
	return nil
}

// Fleet tracks several replicas of one model (each a server with its own /metrics), one Window each, and
// computes their aggregate: the figures the one-server road gives, over all replicas at once (DESIGN.md,
// "Several servers"). Any source of scrapes (direct /metrics, Prometheus) feeds it one round at a time with
// Commit. Create it with NewFleet. Not safe for concurrent use: its owner guards it.
//
// Aggregate per interval (Commit's snapshot.VLLM): RequestQueueSize, ActiveBatchSize, the three counter
// totals and the three rates are sums over replicas; KVCacheUsagePercent is the mean over replicas of each
// one's (itself the mean over its engines); ScrapeIntervalS is the replicas' mean; the Server* latency figures
// come from the step's bucket increases of every series of every replica, merged per `le` on the bounds every
// series has (as engines are within one server). The aggregate of an interval is unknown (every server field
// nil) unless every replica's scrape was committed in this round and in the one before (a replica that
// missed a round would bring a step of two intervals into the sum).
//
// Aggregate over the window (Summary): counters and histogram increases are those of every series of every
// replica (each replica's Window survives its own gaps and restarts, so this is exact whatever failed); the
// queue and batch gauges' Mean and Max are the sums over replicas of each one's Mean and Max over its own
// scrapes (PromQL: sum(avg_over_time(g[W])), sum(max_over_time(g[W])); Max is thus the most the replicas
// held, each at its own peak, as unsynchronised scrapes never see the sum at one instant); KV-cache Mean is
// the mean over replicas of each one's Mean (avg(avg_over_time(g[W]))) and Max the largest of any replica
// (max(max_over_time(g[W]))). Samples is the replicas' scrapes that exposed the gauge, summed. None of these
// depends on how scrapes were grouped into rounds.
type Fleet struct {
	names []string
	wins  []*Window

	rounds   int  // Commit calls
	complete int  // rounds in which every replica was committed
	prevAll  bool // every replica was committed in the previous round

	acc     histAcc  // scratch
	buckets []Bucket // scratch
}

// NewFleet returns a Fleet of empty Windows named names (CheckReplicaNames), each with minRate as its
// MinRateInterval. The error names the bad name; at least one name is needed.
func NewFleet(names []string, minRate time.Duration) (*Fleet, error) {
	if len(names) == 0 {
		return nil, errors.New("no replica")
	}
	if err := CheckReplicaNames(names); err != nil {
		return nil, err
	}
	f := &Fleet{names: slices.Clone(names)}
	for range names {
		w := NewWindow()
		w.MinRateInterval = minRate
		f.wins = append(f.wins, w)
	}
	return f, nil
}

// Names returns the replicas' names, in the order NewFleet got them (a copy).
func (f *Fleet) Names() []string { return slices.Clone(f.names) }

// Window returns replica i's tracker (read it only under the owner's lock).
func (f *Fleet) Window(i int) *Window { return f.wins[i] }

// Commit takes one round: scrapes[i] is replica i's scrape, nil when it failed this round (len(scrapes) must
// be the number of replicas). Each scrape goes into its replica's Window (Add); out gets the aggregate
// interval figures (see Fleet) and out.Replicas one entry per replica (Window.FillInterval; all nil for a
// replica that failed). Client-side fields are left alone. The events are the Windows', each message
// prefixed with "replica <name>: ".
func (f *Fleet) Commit(scrapes []*Scrape, out *snapshot.VLLM) []snapshot.Event {
	var events []snapshot.Event
	all := true
	reps := make(map[string]snapshot.VLLM, len(f.names))
	for i, s := range scrapes {
		var v snapshot.VLLM
		if s == nil || s.Families == nil {
			all = false
			reps[f.names[i]] = v
			continue
		}
		for _, e := range f.wins[i].Add(*s) {
			e.Message = "replica " + f.names[i] + ": " + e.Message
			events = append(events, e)
		}
		f.wins[i].FillInterval(&v)
		reps[f.names[i]] = v
	}
	f.rounds++
	known := all && f.prevAll
	f.prevAll = all
	f.fillAggregate(out, reps, all, known)
	out.Replicas = reps
	if all {
		f.complete++
	}
	return events
}

// fillAggregate sets out's server fields from the replicas' (reps) and the Windows' steps: gauges and totals
// when every replica was committed this round (all), rates and quantiles when in the previous one too (known).
func (f *Fleet) fillAggregate(out *snapshot.VLLM, reps map[string]snapshot.VLLM, all, known bool) {
	vals := make([]snapshot.VLLM, len(f.names))
	for i, n := range f.names {
		vals[i] = reps[n]
	}
	pick := func(get func(*snapshot.VLLM) *float64, ok bool) []*float64 {
		if !ok {
			return nil
		}
		xs := make([]*float64, len(vals))
		for i := range vals {
			xs[i] = get(&vals[i])
		}
		return xs
	}
	out.RequestQueueSize = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.RequestQueueSize }, all))
	out.ActiveBatchSize = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.ActiveBatchSize }, all))
	out.KVCacheUsagePercent = meanAll(pick(func(v *snapshot.VLLM) *float64 { return v.KVCacheUsagePercent }, all))
	out.GenerationTokensTotal = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.GenerationTokensTotal }, all))
	out.PromptTokensTotal = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.PromptTokensTotal }, all))
	out.RequestSuccessTotal = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.RequestSuccessTotal }, all))
	out.ScrapeIntervalS = meanAll(pick(func(v *snapshot.VLLM) *float64 { return v.ScrapeIntervalS }, known))
	out.TokensPerSecond = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.TokensPerSecond }, known))
	out.PromptTokensPerSecond = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.PromptTokensPerSecond }, known))
	out.RequestsPerSecond = sumAll(pick(func(v *snapshot.VLLM) *float64 { return v.RequestsPerSecond }, known))
	setIntervalQuantiles(out, func(hi int) *Histogram {
		if !known {
			return nil
		}
		return f.stepHistogram(hi)
	})
}

// stepHistogram merges histogram field hi's last step over every replica; nil when any replica's step is not
// fully known.
func (f *Fleet) stepHistogram(hi int) *Histogram {
	f.acc = histAcc{parts: f.acc.parts[:0]}
	for _, w := range f.wins {
		if !w.stepKnown(hi) {
			return nil
		}
		w.histParts(&f.acc, hi, true, "", false)
	}
	var h *Histogram
	h, f.buckets = f.acc.histogram(f.metric(hi), f.buckets)
	return h
}

// metric is the name histogram field hi was read from: the first replica's that read it; the names of the
// others if they differ, joined by ",".
func (f *Fleet) metric(hi int) string {
	var names []string
	for _, w := range f.wins {
		if n := w.names[histFields[hi]]; n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// sumAll is the sum of xs; nil when xs is empty or any is nil.
func sumAll(xs []*float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	var s float64
	for _, x := range xs {
		if x == nil {
			return nil
		}
		s += *x
	}
	return snapshot.F(s)
}

// meanAll is the mean of xs; nil when xs is empty or any is nil.
func meanAll(xs []*float64) *float64 {
	s := sumAll(xs)
	if s == nil {
		return nil
	}
	return snapshot.F(*s / float64(len(xs)))
}

// Summary returns the aggregate statistics over the whole window (see Fleet) with Replicas holding each
// replica's own (Window.Summary). Start and End are the earliest and latest scrape of any replica; Scrapes
// counts the rounds in which every replica was scraped; Restarts and CounterResets are sums over replicas,
// RestartTimes the replicas' merged in time order (the first MaxRestartTimes);
// Limits, NamesUsed and NotExposed are the replicas', NamesUsed and NotExposed of the first replica that has
// them, Limits each prefixed with "replica <name>: ". PerEngine is left out of the aggregate (engine labels
// are per replica): each replica's Stats has its own.
func (f *Fleet) Summary() Stats {
	st := Stats{Replicas: make(map[string]Stats, len(f.names)), Scrapes: f.complete}
	var reps []Stats
	for i, n := range f.names {
		r := f.wins[i].Summary()
		st.Replicas[n] = r
		reps = append(reps, r)
		st.Restarts += r.Restarts
		st.RestartTimes = append(st.RestartTimes, r.RestartTimes...)
		st.CounterResets += r.CounterResets
		for _, l := range r.Limits {
			st.Limits = append(st.Limits, "replica "+n+": "+l)
		}
		if r.Start != nil && (st.Start == nil || r.Start.Before(*st.Start)) {
			st.Start = r.Start
		}
		if r.End != nil && (st.End == nil || r.End.After(*st.End)) {
			st.End = r.End
		}
		for k, v := range r.NamesUsed {
			if _, ok := st.NamesUsed[k]; !ok {
				if st.NamesUsed == nil {
					st.NamesUsed = map[string]string{}
				}
				st.NamesUsed[k] = v
			}
		}
		for k, v := range r.CounterIncreases {
			if st.CounterIncreases == nil {
				st.CounterIncreases = map[string]float64{}
			}
			st.CounterIncreases[k] += v
		}
	}
	slices.SortStableFunc(st.RestartTimes, time.Time.Compare)
	if len(st.RestartTimes) > MaxRestartTimes {
		st.RestartTimes = st.RestartTimes[:MaxRestartTimes]
	}
	if st.Start != nil && st.End != nil && st.End.After(*st.Start) {
		st.DurationS = snapshot.F(st.End.Sub(*st.Start).Seconds())
	}
	st.Figures = f.figures(reps)
	st.PrefixCacheHitRate = PrefixCacheHitRate(st.CounterIncreases)
	st.NotExposed = fleetNotExposed(st.Figures, reps)
	if f.rounds > 0 {
		st.Coverage = snapshot.F(float64(f.complete) / float64(f.rounds))
	}
	return st
}

// figures computes the aggregate Figures over the window from the Windows and the replicas' summaries.
func (f *Fleet) figures(reps []Stats) Figures {
	var out Figures
	hists := [nHist]**Histogram{hTTFT: &out.TTFT, hE2E: &out.E2ELatency, hQueue: &out.QueueTime, hITL: &out.ITL}
	for hi, dst := range hists {
		f.acc = histAcc{parts: f.acc.parts[:0]}
		for _, w := range f.wins {
			w.histParts(&f.acc, hi, false, "", false)
		}
		*dst, f.buckets = f.acc.histogram(f.metric(hi), f.buckets)
	}
	sum := func(get func(*Figures) *float64) *float64 {
		var s *float64
		for i := range reps {
			if x := get(&reps[i].Figures); x != nil {
				s = snapshot.F(*x + orZero(s))
			}
		}
		return s
	}
	out.GenerationTokens = sum(func(g *Figures) *float64 { return g.GenerationTokens })
	out.PromptTokens = sum(func(g *Figures) *float64 { return g.PromptTokens })
	out.RequestSuccess = sum(func(g *Figures) *float64 { return g.RequestSuccess })
	out.Preemptions = sum(func(g *Figures) *float64 { return g.Preemptions })
	for i := range reps {
		for k, v := range reps[i].RequestSuccessByReason {
			if out.RequestSuccessByReason == nil {
				out.RequestSuccessByReason = map[string]float64{}
			}
			out.RequestSuccessByReason[k] += v
		}
	}
	out.RequestQueueSize = fleetGauge(reps, func(s *Stats) *Gauge { return s.RequestQueueSize }, false)
	out.ActiveBatchSize = fleetGauge(reps, func(s *Stats) *Gauge { return s.ActiveBatchSize }, false)
	out.KVCacheUsagePercent = fleetGauge(reps, func(s *Stats) *Gauge { return s.KVCacheUsagePercent }, true)
	return out
}

// fleetGauge combines the replicas' own whole-window gauges (see Fleet): Mean and Max summed, or for a
// fraction (mean) the mean of the Means and the largest Max; nil when no replica has the gauge.
func fleetGauge(reps []Stats, get func(*Stats) *Gauge, mean bool) *Gauge {
	var g Gauge
	var mu, mx float64
	n := 0
	for i := range reps {
		r := get(&reps[i])
		if r == nil || r.Mean == nil || r.Max == nil {
			continue
		}
		mu += *r.Mean
		switch {
		case !mean:
			mx += *r.Max
		case n == 0 || *r.Max > mx:
			mx = *r.Max
		}
		g.Samples += r.Samples
		n++
	}
	if n == 0 {
		return nil
	}
	if mean {
		mu /= float64(n)
	}
	g.Mean, g.Max = snapshot.F(mu), snapshot.F(mx)
	return &g
}

func orZero(x *float64) float64 {
	if x == nil {
		return 0
	}
	return *x
}

// fleetNotExposed says why each nil aggregate field is nil: the first replica's reason, or "no replica
// exposed it".
func fleetNotExposed(fig Figures, reps []Stats) map[string]string {
	nilFields := map[string]bool{}
	for hi, h := range [nHist]*Histogram{fig.TTFT, fig.E2ELatency, fig.QueueTime, fig.ITL} {
		nilFields[histFields[hi]] = h == nil
	}
	for ci, c := range []*float64{fig.GenerationTokens, fig.PromptTokens, fig.RequestSuccess, fig.Preemptions} {
		nilFields[scalarFields[ci].Field] = c == nil
	}
	for i, g := range []*Gauge{fig.RequestQueueSize, fig.ActiveBatchSize, fig.KVCacheUsagePercent} {
		nilFields[scalarFields[gQueue+i].Field] = g == nil
	}
	var out map[string]string
	for _, field := range slices.Sorted(maps.Keys(nilFields)) {
		if !nilFields[field] {
			continue
		}
		why := "no replica exposed it"
		for _, r := range reps {
			if w, ok := r.NotExposed[field]; ok {
				why = w
				break
			}
		}
		if out == nil {
			out = map[string]string{}
		}
		out[field] = why
	}
	return out
}
