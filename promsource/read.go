package promsource

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// Interval is one target's per-interval server figures: the step from one scrape to the next.
type Interval struct {
	// At is the later scrape's sample timestamp.
	At time.Time
	// VLLM holds the server fields serverstats.Window.FillInterval sets (client-side fields nil).
	VLLM snapshot.VLLM
}

// Result is one target's figures over a window, computed by serverstats from the rebuilt scrapes.
type Result struct {
	// Target is the target's labels (Target.Labels): what tells the replicas apart.
	Target map[string]string
	// Name is Target as PromQL writes it (Target.Name).
	Name string
	// Stats is serverstats.Window.Summary over every scrape of the target in the window.
	Stats serverstats.Stats
	// Intervals has one entry per scrape after the first (FillInterval after each Add).
	Intervals []Interval
	// Events are what Window.Add reported (restarts, resets, fields not exposed), Source "vllm".
	Events []snapshot.Event
}

// Replay feeds t's scrapes in order through a new serverstats.Window (MinRateInterval minRate) and returns
// the window and each step's interval figures with the events Add returned.
func (t Target) Replay(minRate time.Duration) (*serverstats.Window, []Interval, []snapshot.Event) {
	w := serverstats.NewWindow()
	w.MinRateInterval = minRate
	var iv []Interval
	var ev []snapshot.Event
	for i, s := range t.Scrapes {
		ev = append(ev, w.Add(s)...)
		if i > 0 {
			var v snapshot.VLLM
			w.FillInterval(&v)
			iv = append(iv, Interval{At: s.At, VLLM: v})
		}
	}
	return w, iv, ev
}

// Read reads every selected target's samples with a timestamp in (from, to] (Client.Samples), rebuilds their
// scrapes (Targets) and replays them (Target.Replay, MinRateInterval 0), one Result per target sorted by
// name. Errors are Samples' and a Config.Model that a target's series do not carry (naming the models they
// have); no target with a vllm:* series is not an error (an empty slice).
func (c *Client) Read(ctx context.Context, from, to time.Time) ([]Result, error) {
	ts, err := c.targets(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(ts))
	for _, t := range ts {
		w, iv, ev := t.Replay(0)
		out = append(out, Result{Target: t.Labels, Name: t.Name(), Stats: w.Summary(), Intervals: iv, Events: ev})
	}
	return out, nil
}

// FleetResult is every selected target over a window as the replicas of one serverstats.Fleet.
type FleetResult struct {
	// Stats is the aggregate over the replicas (serverstats.Fleet.Summary, Replicas keyed by replica name);
	// with one target, that target's own Stats (no Replicas), as a one-server run gives.
	Stats serverstats.Stats
	// Replicas maps each replica name (ReplicaNames) to its target's Name.
	Replicas map[string]string
	// Targets is Read's result over the same samples.
	Targets []Result
}

// ReadFleet reads the window as Read does and feeds every target to one serverstats.Fleet (MinRateInterval
// 0), a replica each, named by ReplicaNames. Round k holds each target's k-th scrape in the window (nil
// where it has fewer); the whole-window figures do not depend on this grouping. Errors are Read's; no target
// gives a zero FleetResult.
func (c *Client) ReadFleet(ctx context.Context, from, to time.Time) (FleetResult, error) {
	ts, err := c.targets(ctx, from, to)
	if err != nil || len(ts) == 0 {
		return FleetResult{}, err
	}
	res := FleetResult{Replicas: map[string]string{}}
	names := ReplicaNames(ts)
	rounds := 0
	for i, t := range ts {
		w, iv, ev := t.Replay(0)
		res.Targets = append(res.Targets, Result{Target: t.Labels, Name: t.Name(), Stats: w.Summary(), Intervals: iv, Events: ev})
		res.Replicas[names[i]] = t.Name()
		rounds = max(rounds, len(t.Scrapes))
	}
	if len(ts) == 1 {
		res.Stats = res.Targets[0].Stats
		return res, nil
	}
	f, err := serverstats.NewFleet(names, 0)
	if err != nil {
		return FleetResult{}, fmt.Errorf("promsource: %w", err)
	}
	for k := range rounds {
		round := make([]*serverstats.Scrape, len(ts))
		for i, t := range ts {
			if k < len(t.Scrapes) {
				round[i] = &t.Scrapes[k]
			}
		}
		f.Commit(round, &snapshot.VLLM{})
	}
	res.Stats = f.Summary()
	return res, nil
}

// targets returns the selected targets' rebuilt scrapes in (from, to], checking Config.Model.
func (c *Client) targets(ctx context.Context, from, to time.Time) ([]Target, error) {
	m, err := c.Samples(ctx, from, to)
	if err != nil {
		return nil, err
	}
	ts := Targets(m, c.cfg.TargetLabels, c.cfg.Model)
	for _, t := range ts {
		if err := t.checkModel(c.cfg.Model); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// checkModel returns an error when model is set and the target's last scrape has model_name values but not
// this one, as serverstats.Parse does for a direct scrape.
func (t Target) checkModel(model string) error {
	if model == "" || len(t.Scrapes) == 0 {
		return nil
	}
	sc := t.Scrapes[len(t.Scrapes)-1]
	if len(sc.Models) == 0 || sc.ModelsCut || slices.Contains(sc.Models, model) {
		return nil
	}
	return fmt.Errorf("promsource: no series of %s with model_name=%q (Config.Model); it has %q", t.Name(), model, sc.Models)
}
