package loadgen

import (
	"bufio"
	"bytes"
	"io"
)

// sseReader reads server-sent events (the WHATWG event-stream format) as go-sse's sse.Read does, without
// allocating per event: lines end in "\n", "\r\n" or "\r"; a UTF-8 BOM that begins the stream is dropped
// (go-sse also drops one after leading blank lines; the spec does not); "data" lines are joined with "\n",
// "event" sets the type, "id" (without a NUL) marks the event as present, other fields and comments are
// ignored; a blank line dispatches the event when it had any of those; at the end of the input an event not
// ended by a blank line is dropped. It reads from r only when its buffer holds no complete line, so an event
// is complete as of the most recent read (progressReader's time). A line or an event's data longer than max
// bytes is bufio.ErrTooLong.
type sseReader struct {
	r          io.Reader
	max        int
	buf        []byte // unread input is buf[start:end]
	start, end int
	data       []byte // the current event's data, each line followed by "\n"
	typ        []byte
	dirty      bool // the current event has a data, event or id field
	eof        bool
	err        error // the read error that ended the input (nil for io.EOF)
	begun      bool  // the BOM check was done
	empty      int   // reads in a row that returned no bytes and no error
}

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{r: r, max: max, buf: make([]byte, min(4096, max+2))}
}

// next returns the next event's data and type, views valid until the next call; err is io.EOF at the end
// of the input, bufio.ErrTooLong for an event over max, or the reader's error.
func (s *sseReader) next() (data, typ []byte, err error) {
	for {
		line, ok, err := s.line()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		if len(line) == 0 {
			if !s.dirty {
				continue
			}
			data, typ = s.data, s.typ
			if len(data) > 0 {
				data = data[:len(data)-1]
			}
			s.data, s.typ, s.dirty = s.data[:0], s.typ[:0], false
			return data, typ, nil
		}
		if err := s.field(line); err != nil {
			return nil, nil, err
		}
	}
}

// field applies one non-blank line to the current event.
func (s *sseReader) field(line []byte) error {
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if len(s.data)+len(value)+1 > s.max {
			return bufio.ErrTooLong
		}
		s.data = append(append(s.data, value...), '\n')
		s.dirty = true
	case "event":
		s.typ = append(s.typ[:0], value...)
		s.dirty = true
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			s.dirty = true
		}
	}
	return nil
}

// line returns the next complete line without its end, or ok false after reading more input.
func (s *sseReader) line() (line []byte, ok bool, err error) {
	if !s.begun && (s.end-s.start >= 3 || s.eof) {
		s.begun = true
		if bytes.HasPrefix(s.buf[s.start:s.end], []byte("\xEF\xBB\xBF")) {
			s.start += 3
		}
	}
	if s.begun {
		b := s.buf[s.start:s.end]
		if i := lineEnd(b); i >= 0 {
			n := i + 1
			if b[i] == '\r' {
				if i+1 == len(b) && !s.eof {
					return nil, false, s.fill() // "\r" at the end: a "\n" may follow
				}
				if i+1 < len(b) && b[i+1] == '\n' {
					n++
				}
			}
			s.start += n
			return b[:i], true, nil
		}
	}
	if s.eof {
		if s.err != nil {
			return nil, false, s.err
		}
		return nil, false, io.EOF // an unfinished line or event is dropped
	}
	return nil, false, s.fill()
}

// fill reads more input, growing the buffer up to max bytes of line.
func (s *sseReader) fill() error {
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) > s.max {
			return bufio.ErrTooLong
		}
		nb := make([]byte, min(2*len(s.buf), s.max+2))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if n == 0 && err == nil {
		if s.empty++; s.empty >= 100 {
			err = io.ErrNoProgress // as bufio.Scanner gives up on a reader that returns nothing
		}
	} else {
		s.empty = 0
	}
	if err != nil {
		s.eof = true
		if err != io.EOF {
			s.err = err
		}
	}
	return nil
}

// lineEnd is the index of the first "\r" or "\n" in b, or -1.
func lineEnd(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		n = len(b)
	}
	if r := bytes.IndexByte(b[:n], '\r'); r >= 0 {
		return r
	}
	if n == len(b) {
		return -1
	}
	return n
}
