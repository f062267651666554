package journal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

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

// ErrHeader is wrapped by Read's error for a journal header whose bounds or interval are out of range
// (max_snapshots or max_requests past MaxBound, max_snapshots or interval_s not positive).
var ErrHeader = errors.New("invalid journal header")

// MaxBound is the largest max_snapshots and max_requests Read accepts in a header: a year of snapshots at
// 2 s; a larger value is taken for a corrupt or hostile file, whose memory it would otherwise size.
const MaxBound = 1 << 24

// Run is what a journal holds: the run's header and everything appended up to its last whole line.
type Run struct {
	// Header is the snapshots file's first line (or the requests file's, when that is all there is).
	Header Header
	// Ticks are the last Header.MaxSnapshots ticks, oldest first; SnapshotsDropped counts those before them.
	Ticks            []Tick
	SnapshotsDropped int
	// Rows are the request rows, in the order recorded, at most the header's row bound (Header.Rows); Gaps[i]
	// the ITL chunk gaps of Rows[i] (ms), at most Rows[i].ITLGaps of them and recorder.ExactCap in all (nil
	// past that, as the recorder journals them once its ITL distribution is a sketch).
	Rows []recorder.Record
	Gaps [][]float64
	// Requests are the tallies of the last tick (zero before one); Sources its source statuses.
	Requests recorder.Counts
	Sources  map[string]summary.SourceStatus
	// Events are the events up to the last tick; Server the last server-side statistics appended (nil if none).
	Events []snapshot.Event
	Server *serverstats.Stats
	// ITLSketch is the last ITL sketch state appended (nil if the ITL distribution never became a sketch).
	ITLSketch *recorder.SketchState
	// Skipped counts the lines and rows that could not be taken: Cut + Unreadable + PastBound.
	Skipped int
	// Cut counts the lines and rows cut short by the end of their file (a kill while writing leaves one, the
	// last, in a file); Unreadable those that are whole but could not be read or were refused (the file is
	// damaged there); PastBound the request rows past the header's row bound. RowsCut and RowsUnreadable
	// are the request rows among Cut and Unreadable.
	Cut, Unreadable, PastBound int
	RowsCut, RowsUnreadable    int
	// RowsStoppedAt is the number of the request row whose frame could not be read (a length past the
	// bound), after which the rest of the requests file was not read; 0 when the whole file was read.
	RowsStoppedAt int
	// Damage describes the first MaxDamage lines and rows counted in Cut and Unreadable, in reading order.
	Damage []Damage
	// Checks is the checks file (nil when there is none: a journal written before they were, or one that
	// could not be read, ChecksErr then saying why).
	Checks    *Checks
	ChecksErr error

	ring     int // the index in Ticks of the oldest tick once Ticks holds MaxSnapshots
	seen     int // ticks taken
	lastSeq  int
	maxSnaps int
	maxRows  int // -1 before a header set it
	gaps     int // ITL gaps kept over Rows
	gapsFull bool
	ns       []int64 // a binary row's gaps, reused
}

// MaxDamage bounds the lines and rows Run.Damage describes (the rest are counted).
const MaxDamage = 16

// Damage is one line or row of a journal file that Read could not take.
type Damage struct {
	// File is the file's base name.
	File string
	// Line is the line's number in a file of JSON lines (its header is line 1); Row the row's number in a
	// requests file of binary rows (the first after its header is 1). The other is 0.
	Line, Row int
	// Last is true when nothing followed it in the file. Cut is true when the end of the file cut it short,
	// as a kill while writing leaves the last one; false for a whole line or row that could not be read.
	Last, Cut bool
	// Reason says why it could not be read (for Cut: "cut short by the end of the file").
	Reason string
}

// String says where the line or row is, whether it was the last of its file, and why it was skipped, e.g.
// "journal_x.jsonl line 7, not its last: unreadable (invalid character 'x' ...): the file is damaged there
// (a kill cuts only a file's last line)".
func (d Damage) String() string {
	where := fmt.Sprintf("%s line %d", d.File, d.Line)
	if d.Line == 0 {
		where = fmt.Sprintf("%s row %d", d.File, d.Row)
	}
	switch {
	case d.Cut:
		return where + ", its last: cut short by the end of the file (a kill while writing it)"
	case d.Last:
		return where + ", its last: unreadable (" + d.Reason + ")"
	}
	return where + ", not its last: unreadable (" + d.Reason + "): the file is damaged there (a kill cuts only a file's last line)"
}

// skip counts d, a line or row of a file of kind that could not be taken (pastBound: a request row past the
// row bound, which is not described), and describes it in Damage while there is room.
func (r *Run) skip(kind string, d Damage, pastBound bool) {
	r.Skipped++
	switch {
	case pastBound:
		r.PastBound++
		return
	case d.Cut:
		r.Cut++
		if kind == KindRequests {
			r.RowsCut++
		}
	default:
		r.Unreadable++
		if kind == KindRequests {
			r.RowsUnreadable++
		}
	}
	if len(r.Damage) < MaxDamage {
		r.Damage = append(r.Damage, d)
	}
}

// SkippedText says how many lines and rows Read skipped and why, e.g. "1 line or row skipped: 1 cut short
// at the end of its file by the kill"; "no line skipped" when none was.
func (r *Run) SkippedText() string {
	if r.Skipped == 0 {
		return "no line skipped"
	}
	var why []string
	if r.Cut > 0 {
		why = append(why, fmt.Sprintf("%d cut short at the end of its file by the kill", r.Cut))
	}
	if r.Unreadable > 0 {
		why = append(why, fmt.Sprintf("%d unreadable within a file (damaged; the warnings say where)", r.Unreadable))
	}
	if r.PastBound > 0 {
		why = append(why, fmt.Sprintf("%d request rows past the row bound", r.PastBound))
	}
	what := "lines or rows"
	if r.Skipped == 1 {
		what = "line or row"
	}
	return fmt.Sprintf("%d %s skipped: %s", r.Skipped, what, strings.Join(why, ", "))
}

// Read reads the journal at p up to the last whole line of each file. It returns an error naming the file
// for one that is of another tool or format (wrapping ErrNotJournal), of another version (ErrVersion), of
// another run than the others, or unreadable; a missing file is no error as long as one file has a header.
func Read(p Paths) (*Run, error) {
	run := &Run{}
	var heads []Header
	for _, path := range []string{p.Prev, p.Snapshots} {
		h, ok, err := readFile(path, KindSnapshots, run)
		if err != nil {
			return nil, err
		}
		if ok {
			heads = append(heads, h.Header)
		}
	}
	h, ok, err := readFile(p.Requests, KindRequests, run)
	if err != nil {
		return nil, err
	}
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
	run.Checks, run.ChecksErr = readChecks(p.Checks, run.Header.RunID)
	return run, nil
}

// readHeader reads only the header line of the journal at p: that of its first file with one (Read's
// order); ok false when none can be read.
func readHeader(p Paths) (Header, bool) {
	for _, f := range []struct{ path, kind string }{{p.Prev, KindSnapshots}, {p.Snapshots, KindSnapshots}, {p.Requests, KindRequests}} {
		if h, err := readHeaderOf(f.path, f.kind); err == nil {
			return h, true
		}
	}
	return Header{}, false
}

// readHeaderOf reads the header line of the journal file of kind at path.
func readHeaderOf(path, kind string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	line, state, err := readLine(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return Header{}, err
	}
	return parseHeader(line, state == lineWhole, kind)
}

// Rows returns the row bound h names: MaxRequests, recorder.DefaultMaxRecords when absent (journals written
// before it was), 0 when negative (no rows kept).
func (h Header) Rows() int {
	switch {
	case h.MaxRequests == 0:
		return recorder.DefaultMaxRecords
	case h.MaxRequests < 0:
		return 0
	}
	return h.MaxRequests
}

// limit takes the bounds of the first header read.
func (r *Run) limit(h Header) {
	if r.maxSnaps == 0 {
		r.maxSnaps, r.maxRows = h.MaxSnapshots, h.Rows()
	}
}

// bound puts the ring of ticks in order, oldest first.
func (r *Run) bound() {
	if r.ring > 0 {
		slices.Reverse(r.Ticks[:r.ring])
		slices.Reverse(r.Ticks[r.ring:])
		slices.Reverse(r.Ticks)
		r.ring = 0
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
	if r.seen > 0 && t.Seq <= r.lastSeq {
		return fmt.Errorf("snapshot %d after %d", t.Seq, r.lastSeq)
	}
	if t.EventsAll {
		r.Events = nil
	}
	r.Events = append(r.Events, t.Events...)
	if t.Server != nil {
		r.Server = t.Server
	}
	if t.ITLSketch != nil {
		r.ITLSketch = t.ITLSketch
	}
	r.Requests, r.Sources = t.Requests, t.Sources
	t.Events, t.Server, t.Sources, t.ITLSketch = nil, nil, nil, nil // kept once, in Run
	r.seen++
	r.lastSeq = t.Seq
	switch {
	case r.maxSnaps <= 0 || len(r.Ticks) < r.maxSnaps:
		r.Ticks = append(r.Ticks, t)
	default:
		r.Ticks[r.ring] = t
		r.ring = (r.ring + 1) % len(r.Ticks)
	}
	return nil
}

// errRowBound is addRequest's error for a row past the header's row bound: the line is counted as skipped.
var errRowBound = errors.New("past the row bound")

// addRequest takes one version-1 requests line (JSON).
func (r *Run) addRequest(line []byte) error {
	if len(r.Rows) >= r.maxRows {
		return errRowBound
	}
	var l requestLine
	if err := json.Unmarshal(line, &l); err != nil {
		return err
	}
	l.ITLGaps = max(l.ITLGaps, 0)
	var ns []int64
	if len(l.ITLNS) > 0 && !r.gapsFull {
		var err error
		if ns, err = decodeGaps(l.ITLNS, l.ITLGaps); err != nil {
			return err
		}
	}
	r.addRow(l.record(), ns)
	return nil
}

// addBinaryRow takes one binary requests row (appendRow's payload) of a file of the given version (2 or 3).
func (r *Run) addBinaryRow(payload []byte, version int) error {
	if len(r.Rows) >= r.maxRows {
		return errRowBound
	}
	rec, ns, err := decodeRow(payload, r.ns[:0], version)
	r.ns = ns
	if err != nil {
		return err
	}
	rec.ITLGaps = max(rec.ITLGaps, 0)
	r.addRow(rec, ns)
	return nil
}

// addRow appends rec and its ITL chunk gaps (whole ns), keeping at most recorder.ExactCap gaps over the run.
func (r *Run) addRow(rec recorder.Record, ns []int64) {
	var gaps []float64
	if len(ns) > 0 && !r.gapsFull {
		if r.gaps+len(ns) > recorder.ExactCap {
			r.gapsFull = true
		} else {
			r.gaps += len(ns)
			gaps = make([]float64, len(ns))
			for i, v := range ns {
				gaps[i] = gapMS(v)
			}
		}
	}
	r.Rows = append(r.Rows, rec)
	r.Gaps = append(r.Gaps, gaps)
}

// decodeGaps decodes the first n values of the JSON array of integers raw, allocating for at most n.
func decodeGaps(raw json.RawMessage, n int) ([]int64, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("itl_ns: want an array of integers")
	}
	var out []int64
	for len(out) < n && dec.More() {
		var v int64
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("itl_ns: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

type fileHead struct {
	Header
	skipped int
}

// readFile reads one journal file into run: its header (ok false when the file does not exist or is empty,
// as a kill between creating it and writing its header leaves it), then each line; a line cut short, too
// long or that run refuses is skipped and counted.
func readFile(path, kind string, run *Run) (fileHead, bool, error) {
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
	from := len(run.Damage)
	h, err := parse(f, kind, run)
	for i := from; i < len(run.Damage); i++ {
		run.Damage[i].File = filepath.Base(path)
	}
	if err != nil {
		return h, false, fmt.Errorf("journal %s: %w", path, err)
	}
	return h, true, nil
}

// parse reads a journal file of kind from r into run: its header line, then every line (addTick or
// addRequest). A line cut short (no final newline), longer than MaxLine or that run refuses is skipped,
// counted and described (Run.skip; its Damage has no File). The error wraps ErrNotJournal or ErrVersion
// for a first line of another tool, kind or version, ErrHeader for a header out of range.
func parse(r io.Reader, kind string, run *Run) (fileHead, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, state, err := readLine(br)
	if err == io.EOF {
		return fileHead{}, fmt.Errorf("%w: the file is empty", ErrNotJournal)
	}
	if err != nil {
		return fileHead{}, err
	}
	h, err := parseHeader(first, state == lineWhole, kind)
	if err != nil {
		return fileHead{}, err
	}
	fh := fileHead{Header: h}
	run.limit(h)
	if kind == KindRequests && h.Version >= 2 {
		fh.skipped, err = run.readRows(br, h.Version)
		return fh, err
	}
	add := run.addTick
	if kind == KindRequests {
		add = run.addRequest
	}
	for n := 2; ; n++ {
		line, state, err := readLine(br)
		if err == io.EOF {
			return fh, nil
		}
		if err != nil {
			return fh, err
		}
		var why error
		switch state {
		case lineCut:
			why = errors.New("cut short by the end of the file")
		case lineLong:
			why = fmt.Errorf("longer than %d bytes", MaxLine)
		default:
			why = add(line)
		}
		if why != nil {
			fh.skipped++
			run.skip(kind, Damage{Line: n, Last: atEnd(br), Cut: state == lineCut, Reason: why.Error()}, errors.Is(why, errRowBound))
		}
	}
}

// atEnd reports whether br has nothing more to read.
func atEnd(br *bufio.Reader) bool {
	_, err := br.Peek(1)
	return err != nil
}

func parseHeader(line []byte, whole bool, kind string) (Header, error) {
	var h Header
	if !whole || json.Unmarshal(line, &h) != nil || h.Format == "" {
		return h, fmt.Errorf("%w: the first line is not a journal header (want {\"format\":%q,...})", ErrNotJournal, Format)
	}
	if h.Format != Format {
		return h, fmt.Errorf("%w: format %q (want %q)", ErrNotJournal, h.Format, Format)
	}
	if h.Version < 1 || h.Version > Version {
		return h, fmt.Errorf("%w %d: this vmtest reads versions 1 to %d", ErrVersion, h.Version, Version)
	}
	if h.Kind != kind {
		return h, fmt.Errorf("%w: a %q journal where a %q one was expected", ErrNotJournal, h.Kind, kind)
	}
	switch {
	case h.MaxSnapshots <= 0 || h.MaxSnapshots > MaxBound:
		return h, fmt.Errorf("%w: max_snapshots = %d: want 1 to %d", ErrHeader, h.MaxSnapshots, MaxBound)
	case h.MaxRequests > MaxBound:
		return h, fmt.Errorf("%w: max_requests = %d: want at most %d", ErrHeader, h.MaxRequests, MaxBound)
	case !(h.IntervalS > 0):
		return h, fmt.Errorf("%w: interval_s = %g: want a positive number of seconds", ErrHeader, h.IntervalS)
	}
	return h, nil
}

// readRows reads the binary rows (appendRow's) of a requests file of the given version (2 or 3) after its
// header into run, and
// returns the rows skipped: one cut short by the end of the file (a kill while writing), one whose CRC does
// not match or that r refuses; a frame whose length is past maxRow ends the reading (what follows it
// cannot be framed), counted as one.
func (r *Run) readRows(br *bufio.Reader, version int) (skipped int, err error) {
	var frame [rowFrame]byte
	var buf bytes.Buffer
	cut := func(row int) (int, error) {
		r.skip(KindRequests, Damage{Row: row, Last: true, Cut: true, Reason: "cut short by the end of the file"}, false)
		return skipped + 1, nil
	}
	for row := 1; ; row++ {
		switch _, err := io.ReadFull(br, frame[:]); {
		case err == io.EOF:
			return skipped, nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return cut(row)
		case err != nil:
			return skipped, err
		}
		n := binary.LittleEndian.Uint32(frame[:])
		if n > maxRow {
			r.skip(KindRequests, Damage{Row: row, Last: atEnd(br), Reason: fmt.Sprintf(
				"its frame gives a length of %d bytes, past %d: the rest of the file cannot be framed and was not read", n, maxRow)}, false)
			r.RowsStoppedAt = row
			return skipped + 1, nil
		}
		buf.Reset()
		got, err := io.CopyN(&buf, br, int64(n))
		if err != nil && err != io.EOF {
			return skipped, err
		}
		if got < int64(n) {
			return cut(row)
		}
		p := buf.Bytes()
		why := errors.New("its CRC-32C does not match")
		if crc32.Checksum(p, castagnoli) == binary.LittleEndian.Uint32(frame[4:]) {
			why = r.addBinaryRow(p, version)
		}
		if why != nil {
			skipped++
			r.skip(KindRequests, Damage{Row: row, Last: atEnd(br), Reason: why.Error()}, errors.Is(why, errRowBound))
		}
	}
}

// lineState is what readLine found: a whole line, one cut short by the end of the input, or one longer than
// MaxLine.
type lineState int

const (
	lineWhole lineState = iota
	lineCut
	lineLong
)

// readLine returns the next line without its newline and its state: lineCut for a line cut short by the end
// of the input, lineLong for one longer than MaxLine (then only its start is returned). It returns io.EOF at
// the end.
func readLine(br *bufio.Reader) (line []byte, state lineState, err error) {
	var buf bytes.Buffer
	for {
		chunk, err := br.ReadSlice('\n')
		if buf.Len() < MaxLine {
			buf.Write(chunk[:min(len(chunk), MaxLine-buf.Len())])
		}
		switch {
		case err == nil:
			b := buf.Bytes()
			if buf.Len() >= MaxLine {
				return b, lineLong, nil
			}
			return b[:len(b)-min(1, len(b))], lineWhole, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if buf.Len() == 0 {
				return nil, lineCut, io.EOF
			}
			return buf.Bytes(), lineCut, nil
		default:
			return nil, lineCut, err
		}
	}
}
