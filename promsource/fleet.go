package promsource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// fleetState is what a Sampler following several targets keeps: one serverstats.Fleet, a replica per target.
type fleetState struct {
	f       *serverstats.Fleet
	names   []string    // replica names (ReplicaNames)
	targets []string    // each replica's Target.Name
	last    []time.Time // each replica's last scrape taken in
}

// Replicas maps each replica name to its target's labels as PromQL text when the Sampler follows several
// targets (nil before the first committed reading and with one target).
func (s *Sampler) Replicas() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fleet == nil {
		return nil
	}
	out := make(map[string]string, len(s.fleet.names))
	for i, n := range s.fleet.names {
		out[n] = s.fleet.targets[i]
	}
	return out
}

// firstFleet is the first reading when several targets match: it fixes them as the replicas and, once
// committed, takes each one's latest scrape as its baseline.
func (s *Sampler) firstFleet(ts []Target) samplers.Reading {
	for _, t := range ts {
		if err := t.checkModel(s.c.cfg.Model); err != nil {
			return s.fail(err)
		}
	}
	names := ReplicaNames(ts)
	targets := make([]string, len(ts))
	news := make([][]serverstats.Scrape, len(ts))
	parts := make(map[string]string, len(ts))
	for i, t := range ts {
		targets[i], news[i], parts[names[i]] = t.Name(), t.Scrapes[len(t.Scrapes)-1:], ""
	}
	return samplers.Reading{VLLM: &snapshot.VLLM{}, Parts: parts, Commit: func(r *samplers.Reading) {
		f, err := serverstats.NewFleet(names, s.minRate)
		if err != nil { // ReplicaNames gives valid, distinct names
			r.Err = fmt.Errorf("promsource: %w", err)
			return
		}
		fl := &fleetState{f: f, names: names, targets: targets, last: make([]time.Time, len(names))}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fleet = fl
		r.Events = append(r.Events, fl.commit(news, r.VLLM)...)
	}}
}

// sampleFleet reads the samples of the followed targets newer than each one's last (a target silent for
// over DefaultLookback: only those newer than the other targets' last). The round it commits holds, per replica, the newest new scrape (its earlier new ones go into its
// Window first) or nil when it has none. Parts names each replica ("" when read or not yet due); Err joins,
// each prefixed "replica <name>: ", a query failure, a Config.Model the target lacks, and no sample newer
// than its last for over DefaultLookback; a target that matches but was not there at the first reading is
// named in Err and left out.
func (s *Sampler) sampleFleet(ctx context.Context, fl *fleetState) samplers.Reading {
	s.mu.Lock()
	last := slices.Clone(fl.last)
	s.mu.Unlock()
	now := s.now()
	from := queryFrom(last, now.Add(-s.lookback))
	parts := make(map[string]string, len(fl.names))
	var errs []error
	failed := func(i int, err error) {
		parts[fl.names[i]] = err.Error()
		errs = append(errs, fmt.Errorf("replica %s: %w", fl.names[i], err))
	}
	m, err := s.c.Samples(ctx, from, now)
	if err != nil {
		for i := range fl.names {
			failed(i, err)
		}
		return samplers.Reading{VLLM: &snapshot.VLLM{}, Err: errors.Join(errs...), Parts: parts}
	}
	news := make([][]serverstats.Scrape, len(fl.names))
	for _, t := range Targets(m, s.c.cfg.TargetLabels, s.c.cfg.Model) {
		i := slices.Index(fl.targets, t.Name())
		if i < 0 {
			errs = append(errs, fmt.Errorf("promsource: target %s matches but was not there at the first reading: left out", t.Name()))
			continue
		}
		if err := t.checkModel(s.c.cfg.Model); err != nil {
			failed(i, err)
			continue
		}
		for _, sc := range t.Scrapes {
			if sc.At.After(last[i]) {
				news[i] = append(news[i], sc)
			}
		}
	}
	for i, n := range fl.names {
		if _, bad := parts[n]; !bad && len(news[i]) == 0 && now.Sub(last[i]) > s.lookback {
			failed(i, fmt.Errorf("promsource: no sample of %s newer than %s on %s", fl.targets[i], last[i].UTC().Format(time.RFC3339Nano), s.c.shownURL()))
		}
		if _, ok := parts[n]; !ok {
			parts[n] = ""
		}
	}
	r := samplers.Reading{VLLM: &snapshot.VLLM{}, Err: errors.Join(errs...), Parts: parts}
	if slices.ContainsFunc(news, func(sc []serverstats.Scrape) bool { return len(sc) > 0 }) {
		r.Commit = func(r *samplers.Reading) {
			s.mu.Lock()
			defer s.mu.Unlock()
			r.Events = append(r.Events, fl.commit(news, r.VLLM)...)
		}
	}
	return r
}

// queryFrom is the earliest of last not before stale, or the earliest of all when every one is: a target
// that went silent does not stretch every later query back to its last sample.
func queryFrom(last []time.Time, stale time.Time) time.Time {
	var from time.Time
	for _, l := range last {
		if !l.Before(stale) && (from.IsZero() || l.Before(from)) {
			from = l
		}
	}
	if from.IsZero() {
		from = slices.MinFunc(last, time.Time.Compare)
	}
	return from
}

// commit adds each replica's new scrapes, all but the newest straight to its Window and the newest in one
// Fleet round (nil for a replica with none), and fills out (serverstats.Fleet.Commit). Call under s.mu.
func (fl *fleetState) commit(news [][]serverstats.Scrape, out *snapshot.VLLM) []snapshot.Event {
	round := make([]*serverstats.Scrape, len(news))
	var ev []snapshot.Event
	for i, sc := range news {
		if len(sc) == 0 {
			continue
		}
		for _, x := range sc[:len(sc)-1] {
			for _, e := range fl.f.Window(i).Add(x) {
				e.Message = "replica " + fl.names[i] + ": " + e.Message
				ev = append(ev, e)
			}
		}
		round[i] = &sc[len(sc)-1]
		fl.last[i] = round[i].At
	}
	return append(ev, fl.f.Commit(round, out)...)
}
