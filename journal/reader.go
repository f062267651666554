package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// MaxLine bounds one journal line, bytes; a longer line is skipped (and counted) without being held whole.
const MaxLine = 64 << 20

// ErrNotJournal is wrapped by Read's error for a file of another tool or format.
var ErrNotJournal = errors.New("not a vmtest journal")

// ErrVersion is wrapped by Read's error for a journal of another version.
var ErrVersion = errors.New("unsupported journal version")

// Run is what a journal holds: the run's header and everything appended up to its last whole line.
type Run struct {
	// Header is the snapshots file's first line (or the requests file's, when that is all there is).
	Header Header
	// Ticks are the last Header.MaxSnapshots ticks, oldest first; SnapshotsDropped counts those before them.
	Ticks            []Tick
	SnapshotsDropped int
	// Rows are the request rows, in the order recorded; Gaps[i] the ITL chunk gaps of Rows[i] (ms).
	Rows []recorder.Record
	Gaps [][]float64
	// Requests are the tallies of the last tick (zero before one); Sources its source statuses.
	Requests recorder.Counts
	Sources  map[string]summary.SourceStatus
	// Events are the events up to the last tick; Server the last server-side statistics appended (nil if none).
	Events []snapshot.Event
	Server *serverstats.Stats
	// Skipped counts the lines that could not be read: cut by a kill while writing, or corrupt.
	Skipped int
}

// Read reads the journal at p up to the last whole line of each file. It returns an error naming the file
// for one that is of another tool or format (wrapping ErrNotJournal), of another version (ErrVersion), of
// another run than the others, or unreadable; a missing file is no error as long as one file has a header.
func Read(p Paths) (*Run, error) {
	run := &Run{}
	var heads []Header
	for _, path := range []string{p.Prev, p.Snapshots} {
		h, ok, err := readFile(path, KindSnapshots, run.addTick)
		if err != nil {
			return nil, err
		}
		run.Skipped += h.skipped
		if ok {
			heads = append(heads, h.Header)
		}
	}
	h, ok, err := readFile(p.Requests, KindRequests, run.addRequest)
	if err != nil {
		return nil, err
	}
	run.Skipped += h.skipped
	if ok {
		heads = append(heads, h.Header)
	}
	if len(heads) == 0 {
		return nil, fmt.Errorf("journal %s: no file with a header", p.Snapshots)
	}
	run.Header = heads[0]
	for _, o := range heads[1:] {
		if o.RunID != run.Header.RunID {
			return nil, fmt.Errorf("journal %s: files of two runs (%q and %q)", p.Snapshots, run.Header.RunID, o.RunID)
		}
	}
	run.bound()
	return run, nil
}

// bound keeps the last MaxSnapshots ticks, as the collector keeps them in memory.
func (r *Run) bound() {
	if n := r.Header.MaxSnapshots; n > 0 && len(r.Ticks) > n {
		r.Ticks = r.Ticks[len(r.Ticks)-n:]
	}
	if len(r.Ticks) > 0 {
		r.SnapshotsDropped = r.Ticks[0].Seq
	}
}

func (r *Run) addTick(line []byte) error {
	var t Tick
	if err := json.Unmarshal(line, &t); err != nil {
		return err
	}
	if len(r.Ticks) > 0 && t.Seq <= r.Ticks[len(r.Ticks)-1].Seq {
		return fmt.Errorf("snapshot %d after %d", t.Seq, r.Ticks[len(r.Ticks)-1].Seq)
	}
	if t.EventsAll {
		r.Events = nil
	}
	r.Events = append(r.Events, t.Events...)
	if t.Server != nil {
		r.Server = t.Server
	}
	r.Requests, r.Sources = t.Requests, t.Sources
	t.Events, t.Server, t.Sources = nil, nil, nil // kept once, in Run
	r.Ticks = append(r.Ticks, t)
	return nil
}

func (r *Run) addRequest(line []byte) error {
	var l requestLine
	if err := json.Unmarshal(line, &l); err != nil {
		return err
	}
	var gaps []float64
	if len(l.ITLNS) > 0 {
		gaps = make([]float64, len(l.ITLNS))
		for i, ns := range l.ITLNS {
			gaps[i] = gapMS(ns)
		}
	}
	r.Rows = append(r.Rows, l.record())
	r.Gaps = append(r.Gaps, gaps)
	return nil
}

type fileHead struct {
	Header
	skipped int
}

// readFile reads one journal file: its header (ok false when the file does not exist or is empty, as a kill
// between creating it and writing its header leaves it), then each line through add; a line cut short, too
// long or that add refuses is skipped and counted.
func readFile(path, kind string, add func([]byte) error) (fileHead, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileHead{}, false, nil
	}
	if err != nil {
		return fileHead{}, false, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return fileHead{}, false, nil
	}
	h, err := parse(f, kind, add)
	if err != nil {
		return h, false, fmt.Errorf("journal %s: %w", path, err)
	}
	return h, true, nil
}

// parse reads a journal file of kind from r: its header line, then every line through add. A line cut short
// (no final newline), longer than MaxLine or that add refuses is skipped and counted. The error wraps
// ErrNotJournal or ErrVersion for a first line of another tool, kind or version.
func parse(r io.Reader, kind string, add func([]byte) error) (fileHead, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, whole, err := readLine(br)
	if err == io.EOF {
		return fileHead{}, fmt.Errorf("%w: the file is empty", ErrNotJournal)
	}
	if err != nil {
		return fileHead{}, err
	}
	h, err := parseHeader(first, whole, kind)
	if err != nil {
		return fileHead{}, err
	}
	fh := fileHead{Header: h}
	for {
		line, whole, err := readLine(br)
		if err == io.EOF {
			return fh, nil
		}
		if err != nil {
			return fh, err
		}
		if !whole || add(line) != nil {
			fh.skipped++
		}
	}
}

func parseHeader(line []byte, whole bool, kind string) (Header, error) {
	var h Header
	if !whole || json.Unmarshal(line, &h) != nil || h.Format == "" {
		return h, fmt.Errorf("%w: the first line is not a journal header (want {\"format\":%q,...})", ErrNotJournal, Format)
	}
	if h.Format != Format {
		return h, fmt.Errorf("%w: format %q (want %q)", ErrNotJournal, h.Format, Format)
	}
	if h.Version != Version {
		return h, fmt.Errorf("%w %d: this vmtest reads version %d", ErrVersion, h.Version, Version)
	}
	if h.Kind != kind {
		return h, fmt.Errorf("%w: a %q journal where a %q one was expected", ErrNotJournal, h.Kind, kind)
	}
	return h, nil
}

// readLine returns the next line without its newline; whole is false for a line cut short by the end of the
// input or longer than MaxLine (then only its start is returned). It returns io.EOF at the end.
func readLine(br *bufio.Reader) (line []byte, whole bool, err error) {
	var buf bytes.Buffer
	for {
		chunk, err := br.ReadSlice('\n')
		if buf.Len() < MaxLine {
			buf.Write(chunk[:min(len(chunk), MaxLine-buf.Len())])
		}
		switch {
		case err == nil:
			b := buf.Bytes()
			return b[:len(b)-min(1, len(b))], len(chunk) > 0 && buf.Len() < MaxLine, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if buf.Len() == 0 {
				return nil, false, io.EOF
			}
			return buf.Bytes(), false, nil
		default:
			return nil, false, err
		}
	}
}
