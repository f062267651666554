package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	sse "github.com/tmaxmax/go-sse"
)

type sseEvent struct{ data, typ string }

// readOwn reads body with sseReader through a reader that returns one byte at a time when oneByte.
func readOwn(body []byte, max int, oneByte bool) ([]sseEvent, error) {
	var r io.Reader = bytes.NewReader(body)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	sr := newSSEReader(r, max)
	var evs []sseEvent
	for {
		d, ty, err := sr.next()
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, sseEvent{string(d), string(ty)})
	}
}

// readGoSSE reads body with go-sse, the library the client used before: the reference.
func readGoSSE(body []byte, max int) ([]sseEvent, error) {
	var evs []sseEvent
	for ev, err := range sse.Read(bytes.NewReader(body), &sse.ReadConfig{MaxEventSize: max}) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, sseEvent{ev.Data, ev.Type})
	}
	return evs, nil
}

// checkSSEAgrees fails t unless sseReader gives body's events as go-sse does, read whole or a byte at a time.
// Both bound an event, go-sse by its whole text and sseReader by each line and by its data, so a body that
// either refuses as too long is not compared (TestSSEReaderBoundsEvents checks the bound).
func checkSSEAgrees(t *testing.T, body []byte) {
	t.Helper()
	const max = 1 << 16
	ref := body
	if lateBOM(body) {
		// go-sse drops it and the spec does not (TestSSEReaderKeepsALateBOM): to sseReader it begins an
		// unknown field's name, as "x" does to go-sse.
		ref = bytes.Replace(body, []byte("\xEF\xBB\xBF"), []byte("x"), 1)
	}
	want, werr := readGoSSE(ref, max)
	for _, oneByte := range []bool{false, true} {
		got, gerr := readOwn(body, max, oneByte)
		if errors.Is(werr, bufio.ErrTooLong) || errors.Is(gerr, bufio.ErrTooLong) {
			continue // bounded differently past the limit; each refuses with ErrTooLong
		}
		if (gerr == nil) != (werr == nil) || len(got) != len(want) {
			t.Fatalf("body %q (one byte at a time: %v): sseReader %q, %v; go-sse %q, %v", body, oneByte, got, gerr, want, werr)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("body %q (one byte at a time: %v): event %d: sseReader %q, go-sse %q", body, oneByte, i, got[i], want[i])
			}
		}
	}
}

var sseCases = []string{
	"data: {\"a\":1}\n\ndata: [DONE]\n\n",
	"data: a\r\n\r\ndata:b\r\rdata:  c\n\n",
	"\xEF\xBB\xBFdata: bom\n\n",
	": comment\n\nevent: ping\ndata: {}\n\ndata:\n\nid: 7\n\n",
	"event: error\ndata: plain\ndata: second line\n\n",
	"data: unfinished event\n",
	"data: unfinished line",
	"retry: 10\n\nunknown: x\ndata\n\n",
	"id: a\x00b\n\ndata: x\n\n\n\n\n",
	"data: x\r",
	"data: x\r\n",
	"\n\n\r\r\r\ndata: late\n\n",
	"event: a\nevent: b\ndata: x\n\n",
	"data: x\n\nevent: only\n\n",
}

// sseReader reads what go-sse reads: line ends, the BOM, fields, comments, dispatch and the end of input.
func TestSSEReaderAgreesWithGoSSE(t *testing.T) {
	for _, c := range sseCases {
		checkSSEAgrees(t, []byte(c))
	}
}

// lateBOM says body begins with line ends and then a UTF-8 BOM. go-sse v0.12.0 drops that BOM (it skips blank
// lines before its first event and then drops a BOM at the event's start); the WHATWG event-stream format drops
// only a BOM that begins the stream, so sseReader keeps it, as part of the next line's field name.
func lateBOM(body []byte) bool {
	rest := bytes.TrimLeft(body, "\r\n")
	return len(rest) < len(body) && bytes.HasPrefix(rest, []byte("\xEF\xBB\xBF"))
}

// A BOM after leading blank lines is not the stream's first character: "\uFEFFdata" is a field the spec
// ignores, so the event has no field and is not dispatched; the next event is read.
func TestSSEReaderKeepsALateBOM(t *testing.T) {
	for _, body := range []string{"\n\xEF\xBB\xBFdata:\n\ndata: y\n\n", "\r\n\r\xEF\xBB\xBFdata: x\n\ndata: y\n\n"} {
		if !lateBOM([]byte(body)) {
			t.Fatalf("%q: lateBOM false", body)
		}
		for _, oneByte := range []bool{false, true} {
			got, err := readOwn([]byte(body), 1<<16, oneByte)
			if err != nil || len(got) != 1 || got[0] != (sseEvent{"y", ""}) {
				t.Errorf("%q (one byte at a time: %v): %q, %v; want one event \"y\"", body, oneByte, got, err)
			}
		}
	}
}

// An event past the limit is bufio.ErrTooLong, whether its data is one long line or many short ones.
func TestSSEReaderBoundsEvents(t *testing.T) {
	long := "data: " + string(bytes.Repeat([]byte("x"), 200)) + "\n\n"
	many := string(bytes.Repeat([]byte("data: xxxxxxxxxx\n"), 30)) + "\n"
	for _, body := range []string{long, many} {
		_, err := readOwn([]byte(body), 100, false)
		if !errors.Is(err, bufio.ErrTooLong) {
			t.Errorf("%.20q…: %v, want bufio.ErrTooLong", body, err)
		}
	}
	evs, err := readOwn([]byte("data: "+string(bytes.Repeat([]byte("x"), 90))+"\n\n"), 100, true)
	if err != nil || len(evs) != 1 || len(evs[0].data) != 90 {
		t.Errorf("an event under the limit: %d events, %v", len(evs), err)
	}
}

// FuzzSSEReader: for any body, sseReader reads the events go-sse reads.
func FuzzSSEReader(f *testing.F) {
	for _, c := range sseCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSSEAgrees(t, body) })
}

// zeroReader returns no bytes and no error, forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// A reader that returns nothing forever ends the reading with io.ErrNoProgress, as bufio.Scanner does.
func TestSSEReaderGivesUpOnNoProgress(t *testing.T) {
	_, _, err := newSSEReader(zeroReader{}, 100).next()
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("%v, want io.ErrNoProgress", err)
	}
}
