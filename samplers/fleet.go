package samplers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// ReplicaScraper takes one scrape of one replica's series without changing any tracker: VLLM (its /metrics)
// is one. Scrape is never called concurrently with itself; it returns promptly when ctx is done.
type ReplicaScraper interface {
	Scrape(ctx context.Context) (serverstats.Scrape, error)
}

// Replica is one server of a Fleet: its name (serverstats.CheckReplicaNames) and where its scrapes come from.
type Replica struct {
	// Name keys the replica's figures (snapshot.VLLM.Replicas, serverstats.Stats.Replicas) and its source
	// status ("vllm.<Name>"); 1–64 letters, digits or '_'.
	Name string
	// Scraper takes the replica's scrapes: a VLLM for its /metrics.
	Scraper ReplicaScraper
}

// Fleet is the ServerSource of several replicas (Name "vllm"): each tick it scrapes every replica
// concurrently within Sample's deadline and, when the collector keeps the reading, commits the round to one
// serverstats.Fleet (one Window per replica, and their aggregate). A replica whose scrape fails is named in
// the reading's Err ("replica b: GET ...") and gets null figures for that tick; the others' figures are kept,
// and the aggregate of the interval is null (serverstats.Fleet). Create it with NewFleet.
type Fleet struct {
	reps []Replica

	mu    sync.Mutex
	fleet *serverstats.Fleet
}

// NewFleet returns the source of replicas; minRate is every Window's MinRateInterval (the collector gives half
// its Interval). The error names a bad or repeated replica name or a nil Scraper; at least one replica is
// needed.
func NewFleet(replicas []Replica, minRate time.Duration) (*Fleet, error) {
	names := make([]string, len(replicas))
	for i, r := range replicas {
		if r.Scraper == nil {
			return nil, fmt.Errorf("replica %d (%q): nil Scraper", i, r.Name)
		}
		names[i] = r.Name
	}
	f, err := serverstats.NewFleet(names, minRate)
	if err != nil {
		return nil, err
	}
	return &Fleet{reps: append([]Replica(nil), replicas...), fleet: f}, nil
}

// Name returns "vllm", the key of this source in snapshot.Snapshot.Errors.
func (f *Fleet) Name() string { return "vllm" }

// Replicas returns the replicas' names in order.
func (f *Fleet) Replicas() []string { return f.fleet.Names() }

// Sample scrapes every replica at once and returns when all have answered or ctx is done (each scrape is
// bounded by ctx). It changes no state: Commit takes the round into the trackers and fills the VLLM part (the
// aggregate, and VLLM.Replicas). Err joins the failed replicas' errors, each prefixed "replica <name>: ";
// Parts has each replica's own ("" when read).
func (f *Fleet) Sample(ctx context.Context) Reading {
	scrapes := make([]*serverstats.Scrape, len(f.reps))
	errs := make([]error, len(f.reps))
	var wg sync.WaitGroup
	for i, r := range f.reps {
		wg.Go(func() {
			s, err := r.Scraper.Scrape(ctx)
			if err != nil {
				errs[i] = fmt.Errorf("replica %s: %w", r.Name, err)
				return
			}
			scrapes[i] = &s
		})
	}
	wg.Wait()
	parts := make(map[string]string, len(f.reps))
	for i, r := range f.reps {
		parts[r.Name] = ""
		if errs[i] != nil {
			parts[r.Name] = strings.TrimPrefix(errs[i].Error(), "replica "+r.Name+": ")
		}
	}
	return Reading{VLLM: &snapshot.VLLM{}, Err: errors.Join(errs...), Parts: parts, Commit: func(r *Reading) {
		f.mu.Lock()
		defer f.mu.Unlock()
		r.Events = append(r.Events, f.fleet.Commit(scrapes, r.VLLM)...)
	}}
}

// ServerStats returns the aggregate statistics with each replica's (serverstats.Fleet.Summary), and false
// before any replica's first committed scrape.
func (f *Fleet) ServerStats() (serverstats.Stats, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.fleet.Summary()
	for _, r := range st.Replicas {
		if r.Scrapes > 0 {
			return st, true
		}
	}
	return st, false
}

// Close closes every replica's scraper that is an io.Closer (VLLM: its idle connections); it returns their
// errors joined.
func (f *Fleet) Close() error {
	var errs []error
	for _, r := range f.reps {
		if c, ok := r.Scraper.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
