package serverstats

import (
	"bytes"
	"time"
)

// Parser parses the successive /metrics bodies of one server under one model filter. A Window reads only a
// body's vllm:* families and process_start_time_seconds; when those sample lines and every comment line are
// byte for byte the last parsed body's (an idle server: only its process and runtime values moved), Parse
// returns the last Scrape again, dated at, instead of parsing the body. A body that does not end in a newline
// (cut short) is always parsed. The label pairs of its parses are shared from one parse to the next (at most
// 65,536 kept). Not safe for concurrent use.
type Parser struct {
	model string
	key   []byte // the read lines of the last body that parsed
	last  Scrape
	ok    bool // last and key hold a successful parse
	sc    *scanner
}

// NewParser returns a Parser keeping only series whose model_name is model (empty: all), as Parse does.
func NewParser(model string) *Parser { return &Parser{model: model, sc: newScanner()} }

// Parse is the package's Parse(body, at, model) for this Parser's model, reusing the last result when the
// lines a Window reads and the comment lines are unchanged (see Parser). Errors are Parse's, for a body it
// parses; a failed parse leaves the Parser as it was.
func (p *Parser) Parse(body []byte, at time.Time) (Scrape, error) {
	if p.ok && len(body) > 0 && body[len(body)-1] == '\n' && sameReadLines(body, p.key) {
		s := p.last
		s.At = at
		return s, nil
	}
	if p.sc == nil {
		p.sc = newScanner()
	}
	s, scanned, err := parseWith(p.sc, body, at, p.model)
	if err != nil {
		return s, err
	}
	if scanned {
		p.key, p.sc.readLines = p.sc.readLines, p.key[:0]
	} else {
		p.key = appendReadLines(p.key[:0], body)
	}
	p.last, p.ok = s, true
	return s, nil
}

// appendReadLines appends to dst every comment line of body (# HELP, # TYPE, any other: they do not move on an
// idle server) and every sample line of a family a Window reads (vllm:*, process_start_time_seconds), blanks
// before the name allowed, as the text format allows them.
func appendReadLines(dst, body []byte) []byte {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i+1], body[i+1:]
		} else {
			body = nil
		}
		if isReadLine(line) {
			dst = append(dst, line...)
		}
	}
	return dst
}

// sameReadLines says whether body's read lines (appendReadLines) are key, stopping at the first that differs.
func sameReadLines(body, key []byte) bool {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i+1], body[i+1:]
		} else {
			body = nil
		}
		if isReadLine(line) {
			if !bytes.HasPrefix(key, line) {
				return false
			}
			key = key[len(line):]
		}
	}
	return len(key) == 0
}

// isReadLine says whether a line is one appendReadLines keeps: a comment, or a sample of vllm:* or
// process_start_time_seconds, blanks before the name allowed.
func isReadLine(line []byte) bool {
	name := skipBlank(line)
	return len(name) > 0 && name[0] == '#' || bytes.HasPrefix(name, []byte("vllm:")) || isFamily(name, processStart)
}

// isFamily reports whether the text at the start of s is the metric name fam, whole.
func isFamily(s []byte, fam string) bool {
	if !bytes.HasPrefix(s, []byte(fam)) {
		return false
	}
	rest := s[len(fam):]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '{' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}
