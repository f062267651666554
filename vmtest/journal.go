package vmtest

import (
	"sync"

	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// journalState is the Collector's journal: open from start to finish, appended once per tick.
type journalState struct {
	w   *journal.Writer
	err error // the first error opening or appending; appending stops at it
	// checksGen counts the changes to the registered checks (under c.mu); the checks file is written
	// outside c.mu, under checksMu, and only with a list newer than checksWritten, so the newest list wins.
	checksGen     uint64
	checksMu      sync.Mutex
	checksWritten uint64 // under checksMu
	checksClosed  bool   // under checksMu: the journal was closed or removed; the file is not written again
}

// openJournal creates the journal beside the files Reserve claimed. A failure is logged; the run goes on
// without a journal.
func (c *Collector) openJournal() {
	h := journal.Header{RunID: c.runID, ConfigID: c.configID, TestName: c.name, Start: c.start,
		IntervalS: c.opts.Interval.Seconds(), MaxSnapshots: c.opts.MaxSnapshots, MaxRequests: c.opts.MaxRequests, GoodputSLOsMS: journal.GoodputMS(c.opts.Goodput),
		GPUKeys: report.GPUKeysOf(c.opts.GPUIDs), NoPNG: c.opts.NoPNG}
	c.journal.w, c.journal.err = journal.Create(journal.PathsFor(c.files), h)
	if c.journal.err != nil {
		c.logf("vmtest: %v (the run goes on without a journal: a killed run will leave no data)", c.journal.err)
	}
}

// journalTick appends snap, the run's state and the request rows recorded since the previous tick. Called
// with c.mu held, from tick.
func (c *Collector) journalTick(snap *snapshot.Snapshot, scraped bool) {
	j := &c.journal
	if j.w == nil || j.err != nil {
		return
	}
	rows, gaps, counts := c.rec.TakeJournal()
	srcs := make(map[string]summary.SourceStatus, len(c.sources))
	for k, v := range c.sources {
		srcs[k] = *v
	}
	var server *serverstats.Stats
	if scraped {
		if st, ok := c.server.ServerStats(); ok {
			server = &st
		}
	}
	var itl *recorder.SketchState
	if st, ok := c.rec.ITLSketch(); ok {
		itl = &st
	}
	j.err = j.w.Append(journal.Entry{Snapshot: *snap, Requests: counts, Sources: srcs, Events: c.events,
		Server: server, Rows: rows, Gaps: gaps, ITLSketch: itl})
}

// checksToJournal returns the registered checks as the journal keeps them, the writer and the list's
// generation, once the caller has changed c.checks; ok is false when there is no journal to write to.
// Called with c.mu held.
func (c *Collector) checksToJournal() (w *journal.Writer, checks []journal.Check, gen uint64, ok bool) {
	j := &c.journal
	if j.w == nil || j.err != nil {
		return nil, nil, 0, false
	}
	checks = make([]journal.Check, len(c.checks))
	for i, rc := range c.checks {
		checks[i] = journal.Check{Check: rc.check.String(), Threshold: rc.check.Expression(), From: rc.site}
	}
	j.checksGen++
	return j.w, checks, j.checksGen, true
}

// journalChecks writes checks, of generation gen, to the journal's checks file (journal.Writer.SetChecks), so
// that the rebuild of a run killed before it checked them evaluates its thresholds; a list older than the one
// written already is not written. Called without c.mu: the file's fsync does not hold up ticks.
func (c *Collector) journalChecks(w *journal.Writer, checks []journal.Check, gen uint64) error {
	j := &c.journal
	j.checksMu.Lock()
	defer j.checksMu.Unlock()
	if j.checksClosed || gen <= j.checksWritten {
		return nil
	}
	j.checksWritten = gen
	return w.SetChecks(checks)
}

// closeJournal removes the journal once the files are written (written true), else keeps it for
// `vmtest report DIR`; it logs an error met on the way. Called from finish.
func (c *Collector) closeJournal(written bool) {
	c.journal.checksMu.Lock() // a checks file written after the journal's removal would be left behind
	c.journal.checksClosed = true
	c.journal.checksMu.Unlock()
	c.mu.Lock() // a tick still running (a loop that did not stop in time) appends under c.mu: it then sees no writer
	w, jerr := c.journal.w, c.journal.err
	c.journal.w = nil
	c.mu.Unlock()
	if w == nil {
		return
	}
	if written {
		if err := w.Remove(); err != nil {
			c.logf("vmtest: %v", err)
		}
	} else {
		_ = w.Close()
		c.logf("vmtest: the journal stays in %s: `vmtest report %s` rebuilds the files from it", c.dir, c.dir)
	}
	if jerr != nil {
		c.logf("vmtest: %v (the journal stopped there)", jerr)
	}
}
