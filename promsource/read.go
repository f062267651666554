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
	m, err := c.Samples(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, t := range Targets(m, c.cfg.TargetLabels, c.cfg.Model) {
		if err := t.checkModel(c.cfg.Model); err != nil {
			return nil, err
		}
		w, iv, ev := t.Replay(0)
		out = append(out, Result{Target: t.Labels, Name: t.Name(), Stats: w.Summary(), Intervals: iv, Events: ev})
	}
	return out, nil
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
