package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// Writer appends one run's journal. It is not safe for concurrent use: the collector calls it from its tick,
// one tick at a time.
type Writer struct {
	paths  Paths
	head   Header
	snaps  appendFile
	reqs   appendFile
	seq    int // snapshots appended over the run
	inSeg  int // snapshots in the current segment
	events int // events appended so far
	server *serverstats.Stats
	buf    bytes.Buffer // a tick's line
	rows   []byte       // an interval's request rows
	writes int
}

// Entry is what one interval appends: the tick's snapshot and state, and the request rows recorded since
// the previous Append (recorder.TakeJournal's rows and gaps).
type Entry struct {
	// Snapshot is the tick's snapshot.
	Snapshot snapshot.Snapshot
	// Requests are the request tallies at the tick.
	Requests recorder.Counts
	// Sources is every source's status at the tick.
	Sources map[string]summary.SourceStatus
	// Events are all the events so far (the Writer appends those it has not yet).
	Events []snapshot.Event
	// Server is the server-side statistics over the run so far; nil when unchanged since the previous Entry.
	Server *serverstats.Stats
	// Rows and Gaps are the request rows since the previous Append and their ITL chunk gaps (ms), index by index.
	Rows []recorder.Record
	Gaps [][]float64
	// ITLSketch is the ITL distribution's state once it is a sketch (recorder.Recorder.ITLSketch); nil before.
	ITLSketch *recorder.SketchState
}

// Create creates the journal's snapshots and requests files at paths (an existing one is an error, not
// replaced) and writes their headers, then writes the checks file with no check (SetChecks, which replaces
// one already there). h.Format, h.Version, h.Kind and h.Segment are set here, and h.Writer to Self when nil.
// h.MaxSnapshots must be 1 to MaxBound, h.MaxRequests at most MaxBound (Read refuses the header otherwise).
func Create(paths Paths, h Header) (*Writer, error) {
	if h.MaxSnapshots <= 0 || h.MaxSnapshots > MaxBound {
		return nil, fmt.Errorf("journal: MaxSnapshots = %d: must be 1 to %d", h.MaxSnapshots, MaxBound)
	}
	if h.MaxRequests > MaxBound {
		return nil, fmt.Errorf("journal: MaxRequests = %d: must be at most %d", h.MaxRequests, MaxBound)
	}
	if !(h.IntervalS > 0) {
		return nil, fmt.Errorf("journal: IntervalS = %g: must be positive", h.IntervalS)
	}
	h.Format, h.Version, h.Segment = Format, Version, 0
	if h.Writer == nil {
		h.Writer = Self()
	}
	w := &Writer{paths: paths, head: h}
	snaps, err := w.open(paths.Snapshots, KindSnapshots, 0)
	if err != nil {
		return nil, err
	}
	w.snaps = newAppendFile(snaps)
	reqs, err := w.open(paths.Requests, KindRequests, 0)
	if err != nil {
		w.snaps.Close()
		os.Remove(paths.Snapshots)
		return nil, err
	}
	w.reqs = newAppendFile(reqs)
	if err := w.SetChecks(nil); err != nil {
		_ = w.Remove()
		return nil, err
	}
	return w, nil
}

// open creates path exclusively and writes its header line.
func (w *Writer) open(path, kind string, segment int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	h := w.head
	h.Kind, h.Segment = kind, segment
	b, err := json.Marshal(h)
	if err == nil {
		_, err = f.Write(append(b, '\n'))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: write header of %s: %w", path, err)
	}
	return f, nil
}

// Paths returns the journal's files.
func (w *Writer) Paths() Paths { return w.paths }

// Writes returns the number of write calls made after the headers: at most one per file per Append.
func (w *Writer) Writes() int { return w.writes }

// rowSize is the bytes a binary row takes with 15 ITL gaps of ~10 ms, to size an interval's buffer at once.
const rowSize = 192

// Append appends one interval: one write to the requests file when there are rows (binary, appendRow), one to the snapshots file.
// When the snapshots file already holds Header.MaxSnapshots ticks, it first becomes Paths.Prev and a new one
// begins. Errors name the file.
func (w *Writer) Append(e Entry) error {
	if len(e.Rows) > 0 {
		b := slices.Grow(w.rows[:0], len(e.Rows)*rowSize)
		for i := range e.Rows {
			var gaps []float64
			if i < len(e.Gaps) {
				gaps = e.Gaps[i]
			}
			b = appendRow(b, &e.Rows[i], gaps)
		}
		w.rows = b
		if err := w.write(w.reqs, b); err != nil {
			return err
		}
	}
	first := false
	if w.inSeg >= w.head.MaxSnapshots {
		if err := w.rotate(); err != nil {
			return err
		}
		first = true
	}
	if e.Server != nil {
		w.server = e.Server
	}
	t := Tick{Seq: w.seq, Snapshot: e.Snapshot, Requests: e.Requests, Sources: e.Sources, Server: e.Server,
		ITLSketch: e.ITLSketch}
	if first {
		t.Events, t.EventsAll, t.Server = e.Events, true, w.server
	} else if w.events < len(e.Events) {
		t.Events = e.Events[w.events:]
	}
	w.buf.Reset()
	if err := json.NewEncoder(&w.buf).Encode(t); err != nil {
		return fmt.Errorf("journal: encode snapshot: %w", err)
	}
	if err := w.write(w.snaps, w.buf.Bytes()); err != nil {
		return err
	}
	w.events = len(e.Events)
	w.seq++
	w.inSeg++
	return nil
}

func (w *Writer) write(f appendFile, data []byte) error {
	w.writes++
	if err := f.append(data); err != nil {
		return fmt.Errorf("journal: append to %s: %w", f.Name(), err)
	}
	return nil
}

// rotate turns the full snapshots file into Paths.Prev and begins the next segment.
func (w *Writer) rotate() error {
	if err := w.snaps.Close(); err != nil {
		return fmt.Errorf("journal: close %s: %w", w.paths.Snapshots, err)
	}
	if err := os.Rename(w.paths.Snapshots, w.paths.Prev); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	f, err := w.open(w.paths.Snapshots, KindSnapshots, w.seq/w.head.MaxSnapshots)
	if err != nil {
		return err
	}
	w.snaps, w.inSeg = newAppendFile(f), 0
	return nil
}

// Close closes the files, leaving them on disk.
func (w *Writer) Close() error {
	return errors.Join(w.snaps.Close(), w.reqs.Close())
}

// Remove closes and deletes the journal's files: call it once the run's own files are written.
func (w *Writer) Remove() error {
	_ = w.Close()
	var errs []error
	for _, p := range []string{w.paths.Snapshots, w.paths.Prev, w.paths.Requests, w.paths.Checks} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("journal: %w", err))
		}
	}
	return errors.Join(errs...)
}
