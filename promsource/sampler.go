package promsource

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// DefaultLookback is how far back a Sampler's first reading looks for the target's latest scrape, its
// window's baseline: a minute covers any scrape interval in common use.
const DefaultLookback = time.Minute

// Sampler is the collector's server source read live from Prometheus (a samplers.ServerSource, Name "vllm"):
// each reading fetches the samples newer than the last one it took in, rebuilds their scrapes and, once the
// collector keeps the reading, adds them in order to the trackers and fills the snapshot's server fields.
// The first reading fixes the targets followed. One target: one serverstats.Window, and the snapshot's
// fields from its last step (FillInterval), as a direct scrape of one server; a second target appearing later
// is an error of the reading naming both. Several targets: each is a replica of one serverstats.Fleet, named
// by ReplicaNames, as a direct run over several servers (fleet.go). Samples Prometheus has not stored yet
// when the last reading is taken (up to a scrape interval plus its ingestion) are not in the window. Create
// it with NewSampler; Sample is not called concurrently with itself, the rest may be.
type Sampler struct {
	c        *Client
	lookback time.Duration
	minRate  time.Duration
	now      func() time.Time

	mu     sync.Mutex
	w      *serverstats.Window // one target
	target string              // the target followed ("" before the first commit, or with several)
	last   time.Time           // timestamp of the last scrape added (one target)
	fleet  *fleetState         // several targets (nil before the first commit, or with one)
}

var _ samplers.ServerSource = (*Sampler)(nil)

// NewSampler returns a Sampler over cfg (Config.Validate's errors) whose Window gives no rate over a step
// shorter than minRate (serverstats.Window.MinRateInterval).
func NewSampler(cfg Config, minRate time.Duration) (*Sampler, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	w := serverstats.NewWindow()
	w.MinRateInterval = minRate
	return &Sampler{c: c, lookback: DefaultLookback, minRate: minRate, now: time.Now, w: w}, nil
}

// Name is "vllm": the sampler fills vllm_metrics as the direct scrape does.
func (s *Sampler) Name() string { return serverstats.Source }

// Close closes the client's idle connections.
func (s *Sampler) Close() error { s.c.Close(); return nil }

// Target returns the followed target's labels as PromQL text: "" before the first committed reading and
// when several targets are followed (Replicas).
func (s *Sampler) Target() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.target
}

// Sample reads the samples newer than the last committed ones (the first reading: each target's latest
// scrape within DefaultLookback) and changes no state; its Commit adds the new scrapes to the trackers and
// fills the VLLM part. With several targets, see fleet.go. A reading with no newer sample (Prometheus has not
// scraped since) has every VLLM field nil and no error. Errors (Reading.Err, no Commit): the query fails; no
// target matches; with one target followed, another matches or the target is not the one followed so far;
// Config.Model is not among the target's model_name values; no sample is newer than the last one taken in
// for over DefaultLookback.
func (s *Sampler) Sample(ctx context.Context) samplers.Reading {
	s.mu.Lock()
	from, target, fl := s.last, s.target, s.fleet
	s.mu.Unlock()
	if fl != nil {
		return s.sampleFleet(ctx, fl)
	}
	now := s.now()
	first := from.IsZero()
	if first {
		from = now.Add(-s.lookback)
	}
	m, err := s.c.Samples(ctx, from, now)
	if err != nil {
		return samplers.Reading{VLLM: &snapshot.VLLM{}, Err: err}
	}
	ts := Targets(m, s.c.cfg.TargetLabels, s.c.cfg.Model)
	switch {
	case len(ts) == 0 && first:
		return s.fail(fmt.Errorf("promsource: no vllm:* series matches %s on %s", s.c.cfg.Selector(), s.c.shownURL()))
	case len(ts) == 0 && now.Sub(from) > s.lookback:
		return s.fail(fmt.Errorf("promsource: no sample of %s newer than %s on %s", target, from.UTC().Format(time.RFC3339Nano), s.c.shownURL()))
	case len(ts) == 0:
		return samplers.Reading{VLLM: &snapshot.VLLM{}} // Prometheus has not scraped since: this tick's fields stay null
	case len(ts) > 1 && first:
		return s.firstFleet(ts)
	case len(ts) > 1:
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = t.Name()
		}
		return s.fail(fmt.Errorf("promsource: %d targets match %s: %s; the first reading followed one (%s)", len(ts), s.c.cfg.Selector(), strings.Join(names, "; "), target))
	case target != "" && ts[0].Name() != target:
		return s.fail(fmt.Errorf("promsource: the target changed from %s to %s", target, ts[0].Name()))
	}
	t := ts[0]
	if err := t.checkModel(s.c.cfg.Model); err != nil {
		return s.fail(err)
	}
	scrapes := t.Scrapes
	if first {
		scrapes = scrapes[len(scrapes)-1:]
	}
	return samplers.Reading{VLLM: &snapshot.VLLM{}, Commit: func(r *samplers.Reading) {
		r.Events = append(r.Events, s.commit(t.Name(), scrapes, r.VLLM)...)
	}}
}

func (s *Sampler) fail(err error) samplers.Reading {
	return samplers.Reading{VLLM: &snapshot.VLLM{}, Err: err}
}

// commit adds the scrapes of a kept reading and fills out from the last step.
func (s *Sampler) commit(target string, scrapes []serverstats.Scrape, out *snapshot.VLLM) []snapshot.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ev []snapshot.Event
	for _, sc := range scrapes {
		ev = append(ev, s.w.Add(sc)...)
	}
	s.w.FillInterval(out)
	s.target, s.last = target, scrapes[len(scrapes)-1].At
	return ev
}

// ServerStats returns the statistics over every committed scrape: serverstats.Window.Summary with one
// target, serverstats.Fleet.Summary with several; false before the first.
func (s *Sampler) ServerStats() (serverstats.Stats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fleet != nil {
		return s.fleet.f.Summary(), true
	}
	st := s.w.Summary()
	return st, st.Scrapes > 0
}
