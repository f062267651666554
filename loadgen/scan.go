package loadgen

// chunkScanner reads the few fields of a streaming chunk that timing needs (choices[].text, delta/message
// content, reasoning_content, reasoning, tool_calls, function_call, finish_reason, usage) without
// encoding/json's reflection and allocations. It gives up (ok false) on anything that encoding/json might
// read differently: an error object, a key repeated or matching a field only without regard to case, a value
// of an unexpected type, a string with escapes where its value matters, any syntax error. parseChunk then
// decodes the chunk with encoding/json, so the two always agree (TestScanChunkAgrees, FuzzScanChunk).
type chunkScanner struct {
	b     []byte
	i     int
	depth int // nesting of the value skip is reading
	bad   bool
}

// maxScanDepth bounds the nesting skip follows; deeper input is left to encoding/json (which has its own
// limit).
const maxScanDepth = 256

// scanChunk reads data as parseChunk would; ok is false when parseChunk must decode it instead.
func scanChunk(data []byte) (ci chunkInfo, ok bool) {
	s := chunkScanner{b: data}
	var seen uint8
	for ok := s.open('{', '}'); ok; ok = s.more('}') {
		switch key := s.key(); {
		case string(key) == "choices":
			seen = s.once(seen, 1)
			s.choices(&ci)
		case string(key) == "usage":
			seen = s.once(seen, 2)
			ci.usage, ci.hasUsage = s.usage()
		case string(key) == "object":
			seen = s.once(seen, 4)
			if v, isStr := s.plainString(); !isStr || string(v) == "error" {
				s.bad = true
			}
		case string(key) == "message" || string(key) == "type":
			s.plainString()
		case s.known(key, "choices", "usage", "object", "message", "type", "code", "error"):
			s.bad = true // "error" is the rare path; "code", a case variant or a repeat is left to encoding/json
		default:
			s.skip()
		}
	}
	s.ws()
	if s.bad || s.i != len(s.b) {
		return chunkInfo{}, false
	}
	return ci, true
}

// once marks bit in seen, or fails the scan when it was already set (a repeated key).
func (s *chunkScanner) once(seen, bit uint8) uint8 {
	if seen&bit != 0 {
		s.bad = true
	}
	return seen | bit
}

// known reports whether key is one of names without regard to case (encoding/json matches keys so): a key
// that is neither a field nor its case variant can be skipped.
func (s *chunkScanner) known(key []byte, names ...string) bool {
	for _, n := range names {
		if len(n) == len(key) && equalFoldASCII(n, key) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a string, b []byte) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x|0x20 != y|0x20 || (x|0x20) < 'a' || (x|0x20) > 'z' {
			if x != y {
				return false
			}
		}
	}
	return true
}

// choices reads the choices array (or null) into ci.
func (s *chunkScanner) choices(ci *chunkInfo) {
	if s.null() {
		return
	}
	for ok := s.open('[', ']'); ok; ok = s.more(']') {
		s.choice(ci)
	}
}

// choice reads one choice object into ci; a null choice fails the scan (left to encoding/json).
func (s *chunkScanner) choice(ci *chunkInfo) {
	var seen uint8
	for ok := s.open('{', '}'); ok; ok = s.more('}') {
		switch key := s.key(); {
		case string(key) == "text":
			seen = s.once(seen, 1)
			if s.nonEmptyString() {
				ci.token, ci.content = true, true
			}
		case string(key) == "delta":
			seen = s.once(seen, 2)
			s.delta(ci)
		case string(key) == "message":
			seen = s.once(seen, 4)
			s.delta(ci)
		case string(key) == "finish_reason":
			seen = s.once(seen, 8)
			if s.null() {
				break
			}
			if v, isStr := s.plainString(); isStr && len(v) > 0 {
				ci.finish = capText(string(v), MaxFinishReason)
			}
		case s.known(key, "text", "delta", "message", "finish_reason"):
			s.bad = true
		default:
			s.skip()
		}
	}
}

// delta reads a delta or message object (or null) into ci.
func (s *chunkScanner) delta(ci *chunkInfo) {
	if s.null() {
		return
	}
	var seen uint8
	for ok := s.open('{', '}'); ok; ok = s.more('}') {
		switch key := s.key(); {
		case string(key) == "content":
			seen = s.once(seen, 1)
			if s.nonEmptyString() {
				ci.token, ci.content = true, true
			}
		case string(key) == "reasoning_content":
			seen = s.once(seen, 2)
			ci.token = s.nonEmptyString() || ci.token
		case string(key) == "reasoning":
			seen = s.once(seen, 4)
			ci.token = s.nonEmptyString() || ci.token
		case string(key) == "tool_calls":
			seen = s.once(seen, 8)
			ci.token = s.nonEmptyValue() || ci.token
		case string(key) == "function_call":
			seen = s.once(seen, 16)
			ci.token = s.nonEmptyValue() || ci.token
		case s.known(key, "content", "reasoning_content", "reasoning", "tool_calls", "function_call"):
			s.bad = true
		default:
			s.skip()
		}
	}
}

// usage reads the usage object; ok is false for null. Counts must be whole numbers in int64 or null.
func (s *chunkScanner) usage() (u wireUsage, ok bool) {
	if s.null() {
		return u, false
	}
	var seen uint8
	for ok := s.open('{', '}'); ok; ok = s.more('}') {
		switch key := s.key(); {
		case string(key) == "prompt_tokens":
			seen = s.once(seen, 1)
			u.PromptTokens = s.count()
		case string(key) == "completion_tokens":
			seen = s.once(seen, 2)
			u.CompletionTokens = s.count()
		case string(key) == "completion_tokens_details":
			seen = s.once(seen, 4)
			s.details(&u)
		case s.known(key, "prompt_tokens", "completion_tokens", "completion_tokens_details"):
			s.bad = true
		default:
			s.skip()
		}
	}
	return u, true
}

// details reads completion_tokens_details (or null) into u.
func (s *chunkScanner) details(u *wireUsage) {
	if s.null() {
		return
	}
	u.CompletionTokensDetails = &struct {
		ReasoningTokens usageCount `json:"reasoning_tokens"`
	}{}
	var seen uint8
	for ok := s.open('{', '}'); ok; ok = s.more('}') {
		switch key := s.key(); {
		case string(key) == "reasoning_tokens":
			seen = s.once(seen, 1)
			u.CompletionTokensDetails.ReasoningTokens = s.count()
		case s.known(key, "reasoning_tokens"):
			s.bad = true
		default:
			s.skip()
		}
	}
}

// count reads a token count: a whole number in int64, or null (0); anything else fails the scan.
func (s *chunkScanner) count() usageCount {
	if s.null() {
		return usageCount{}
	}
	at := s.i
	s.number()
	if s.bad {
		return usageCount{}
	}
	n, ok := parseWhole(s.b[at:s.i])
	if !ok {
		s.bad = true
	}
	return usageCount{n: n}
}

// open reads the opening byte of an object or array; ok is false when it is empty (its end is read too) or
// when begin does not come next (the scan fails).
func (s *chunkScanner) open(begin, end byte) bool {
	s.ws()
	if !s.next(begin) {
		s.bad = true
		return false
	}
	s.ws()
	if s.peek(end) {
		s.i++
		return false
	}
	return !s.bad
}

// key reads an object key and its colon. Only a plain key (see plainString) is read: any other fails the scan,
// as a key that needs decoding is left to encoding/json.
func (s *chunkScanner) key() []byte {
	k, _ := s.plainString()
	s.ws()
	if !s.next(':') {
		s.bad = true
	}
	return k
}

// plainString reads a string that has no escapes and only ASCII bytes, returning its bytes (a part of the
// input); isStr is false (and the scan fails) otherwise.
func (s *chunkScanner) plainString() ([]byte, bool) {
	s.ws()
	if !s.next('"') {
		s.bad = true
		return nil, false
	}
	at := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[at:s.i]
			s.i++
			return v, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			s.bad = true
			return nil, false
		}
		s.i++
	}
	s.bad = true
	return nil, false
}

// nonEmptyString reads a string or null and reports whether it decodes to a non-empty string (any escape
// decodes to at least one byte).
func (s *chunkScanner) nonEmptyString() bool {
	if s.null() {
		return false
	}
	if !s.peek('"') {
		s.bad = true
		return false
	}
	at := s.i
	s.str()
	return s.i-at > 2
}

// nonEmptyValue reads any JSON value and reports whether encoding/json would find it non-empty (nonEmptyJSON).
func (s *chunkScanner) nonEmptyValue() bool {
	s.ws()
	at := s.i
	s.skip()
	return !s.bad && nonEmptyJSON(s.b[at:s.i])
}

// skip reads any JSON value, checking its syntax.
func (s *chunkScanner) skip() {
	s.ws()
	if s.bad || s.i >= len(s.b) || s.depth >= maxScanDepth {
		s.bad = true
		return
	}
	s.depth++
	defer func() { s.depth-- }()
	switch c := s.b[s.i]; {
	case c == '"':
		s.str()
	case c == '{':
		for ok := s.open('{', '}'); ok && s.anyKey(); ok = s.more('}') {
			s.skip()
		}
	case c == '[':
		for ok := s.open('[', ']'); ok; ok = s.more(']') {
			s.skip()
		}
	case c == '-' || c >= '0' && c <= '9':
		s.number()
	case s.lit("true"), s.lit("false"), s.lit("null"):
	default:
		s.bad = true
	}
}

// more reads the separator after a member or element: true after ',', false after end (or on bad input).
func (s *chunkScanner) more(end byte) bool {
	s.ws()
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ',':
			s.i++
			return !s.bad
		case end:
			s.i++
			return false
		}
	}
	s.bad = true
	return false
}

// anyKey reads an object key (any string) and its colon; false on bad input.
func (s *chunkScanner) anyKey() bool {
	s.ws()
	if !s.peek('"') {
		s.bad = true
		return false
	}
	s.str()
	s.ws()
	if !s.next(':') {
		s.bad = true
	}
	return !s.bad
}

// str reads a string, checking its escapes and that it has no control characters.
func (s *chunkScanner) str() {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return
		case c < 0x20:
			s.bad = true
			return
		case c == '\\':
			if s.i+1 >= len(s.b) {
				s.bad = true
				return
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex4(s.b[s.i+2:s.i+6]) {
					s.bad = true
					return
				}
				s.i += 6
			default:
				s.bad = true
				return
			}
		default:
			s.i++
		}
	}
	s.bad = true
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *chunkScanner) number() {
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		s.bad = true
		return
	}
	if s.next('.') && s.digits() == 0 {
		s.bad = true
		return
	}
	if s.next('e') || s.next('E') {
		if !s.next('+') {
			s.next('-')
		}
		if s.digits() == 0 {
			s.bad = true
		}
	}
}

func (s *chunkScanner) digits() int {
	at := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - at
}

// lit reads the literal w when the input continues with it.
func (s *chunkScanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// null reads null when it is the next value.
func (s *chunkScanner) null() bool {
	s.ws()
	return s.lit("null")
}

func (s *chunkScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *chunkScanner) peek(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

// next consumes c when it comes next.
func (s *chunkScanner) next(c byte) bool {
	if s.peek(c) {
		s.i++
		return true
	}
	return false
}
