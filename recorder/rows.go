package recorder

import "slices"

// Chunk sizes of a recorder's rows, in rows (a Record is about 270 bytes).
const (
	firstRowChunk = 64   // the first chunk: a short test reserves little
	rowChunk      = 4096 // the largest chunk, about 1 MiB; chunks double from firstRowChunk up to it
)

// rows keeps a recorder's rows in chunks that never move once made: a row is copied in once, growth
// copies no earlier row, and a view of kept rows stays valid while later rows are added.
type rows struct {
	chunks [][]Record // each full but the last
	n      int        // rows kept
}

// push appends rec, making a new chunk when the last is full, never reserving room for more than bound rows
// in all. The caller checks that fewer than bound rows are kept.
func (w *rows) push(rec *Record, bound int) {
	last := len(w.chunks) - 1
	if last < 0 || len(w.chunks[last]) == cap(w.chunks[last]) {
		size := firstRowChunk
		if last >= 0 {
			size = min(2*cap(w.chunks[last]), rowChunk)
		}
		w.chunks = append(w.chunks, make([]Record, 0, min(size, bound-w.n)))
		last++
	}
	w.chunks[last] = append(w.chunks[last], *rec)
	w.n++
}

// views returns read-only views of rows from to the end, one per chunk they span, each capped at its
// length so that an append to it cannot write into the chunk.
func (w *rows) views(from int) [][]Record {
	var vs [][]Record
	at := 0
	for _, c := range w.chunks {
		if end := at + len(c); from < end {
			vs = append(vs, c[max(from-at, 0):len(c):len(c)])
		}
		at += len(c)
	}
	return vs
}

// joined returns the rows of views in order: the one view itself when there is one, else a new slice.
func joined(views [][]Record) []Record {
	switch len(views) {
	case 0:
		return nil
	case 1:
		return views[0]
	}
	return slices.Concat(views...)
}

// copyFrom returns a copy of the rows from index from to the end (an empty, non-nil slice when there are none).
func (w *rows) copyFrom(from int) []Record {
	out := make([]Record, 0, w.n-from)
	for _, v := range w.views(from) {
		out = append(out, v...)
	}
	return out
}
