package serverstats

import (
	"bytes"
	"hash/maphash"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	dto "github.com/prometheus/client_model/go"
)

// maxInterned bounds each of a scanner's tables kept between parses (label pairs, label blocks, names): a
// full table takes no more entries, and starts afresh at the next parse.
const maxInterned = 1 << 16

// scanner reads the families a Window reads (vllm:*, process_start_time_seconds) from a Prometheus text
// exposition (format 0.0.4) and skips every other sample line unread. It accepts a subset of what expfmt's
// TextParser accepts and gives the same families for it; on anything outside that subset (an error, a quoted
// or braces-first name, an escape in HELP, a summary, a fractional histogram count, ...) it reports false and
// the caller parses the body with expfmt. Label pairs, label blocks and what it learnt of each metric name are
// kept across parses; not safe for concurrent use.
type scanner struct {
	pairs  map[string]*dto.LabelPair   // raw `name\xffvalue` → pair, kept across parses
	blocks map[string][]*dto.LabelPair // 'h' or 's' (histogram or not) and a line's labels as written → its pairs, kept across parses
	seed   maphash.Seed

	fams      map[string]*famState
	key       []byte
	spans     []labelSpan
	sorted    []labelSpan
	readLines []byte      // the body's lines that appendReadLines keeps, gathered as they are read
	line      []byte      // the sample line being read
	le        []byte      // its le value as written, nil when none
	recent    [4]resolved // the names of recent sample lines and what they resolved to
	metrics   slab[dto.Metric]
	ptrs      slab[*dto.LabelPair]
	floats    slab[float64]
	uints     slab[uint64]
	ints      slab[int64]
	cnts      slab[dto.Counter]
	gauges    slab[dto.Gauge]
	untyped   slab[dto.Untyped]
	hists     slab[dto.Histogram]
	buckets   slab[dto.Bucket]
	famSlab   slab[famState]
	mfs       slab[dto.MetricFamily]
	memo      map[string]*famMemo // what earlier parses learnt of each metric name, kept across parses
}

// famState is what the scanner knows of one metric name met in a comment or a read sample line.
type famState struct {
	mf    *dto.MetricFamily // nil for a family a Window does not read
	typ   dto.MetricType
	typed bool // a TYPE line or a sample set its type
	help  bool
	first *dto.Metric // a histogram's first series, and the hash of its labels other than le
	h0    uint64
	hists map[uint64]*dto.Metric // its later series by the same hash
	last  *dto.Metric            // the histogram series of the family's last line
	memo  *famMemo
}

// famMemo is what a scanner keeps of a metric name from one parse to the next: the name, its family's last
// help text, the le bounds of its last histogram series in the order written, the most buckets a series of
// it had, and scratch for its lines. Strings and pointers are shared between parses' families, never
// changed once shared.
type famMemo struct {
	name     string
	help     *string
	les      []leBound
	nb       int
	key      []byte      // the labels other than le of the family's last line in this parse, as written
	pfx      []byte      // a line whose le was read, up to its value's opening '"' included
	pfxSpans []labelSpan // that line's labels before le
}

// metricTypes backs the families' Type pointers, one shared value per type.
var metricTypes = [...]dto.MetricType{dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_SUMMARY,
	dto.MetricType_UNTYPED, dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM}

// leBound is an le label value as written and the bound it parsed to.
type leBound struct {
	raw string
	v   float64
}

// resolved is a metric name of a sample line and the family it resolved to.
type resolved struct {
	name []byte
	f    *famState
	suf  int
}

// labelSpan is one label of a sample line: the offsets in the line of its name and of its value as written
// (escapes kept).
type labelSpan struct{ n0, n1, v0, v1 int32 }

// suffix kinds of a sample name that resolved to a summary's or histogram's family.
const (
	sufNone = iota
	sufCount
	sufSum
)

func newScanner() *scanner {
	return &scanner{pairs: map[string]*dto.LabelPair{}, blocks: map[string][]*dto.LabelPair{}, memo: map[string]*famMemo{}, seed: maphash.MakeSeed()}
}

// parse returns the read families of body with at least one series, keyed by name; false when body is
// outside the scanner's subset (see scanner).
func (s *scanner) parse(body []byte) (map[string]*dto.MetricFamily, bool) {
	s.begin()
	defer func() { s.line, s.le = nil, nil }() // the body is not kept
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			if len(skipBlank(body)) > 0 { // a last line cut short: expfmt's "unexpected end of input"
				return nil, false
			}
			break
		}
		raw := body[:i+1]
		line := skipBlank(raw[:i])
		body = body[i+1:]
		if len(line) > 0 && (line[0] == '#' || bytes.HasPrefix(line, []byte("vllm:")) || isFamily(line, processStart)) {
			s.readLines = append(s.readLines, raw...)
		}
		ok := true
		switch {
		case len(line) == 0:
		case line[0] == '#':
			s.recent = [4]resolved{}
			ok = s.comment(line[1:])
		case line[0] == '{' || line[0] == '"':
			ok = false
		case isReadName(line):
			ok = s.sample(line)
		}
		if !ok {
			return nil, false
		}
	}
	out := make(map[string]*dto.MetricFamily, 64)
	for name, f := range s.fams {
		if f.mf != nil && len(f.mf.Metric) > 0 {
			out[name] = f.mf
		}
	}
	return out, true
}

// begin readies the scanner for a body: no family yet, each slab sized by the last parse, a full table
// emptied.
func (s *scanner) begin() {
	if s.fams == nil {
		s.fams = map[string]*famState{}
	}
	clear(s.fams)
	s.recent = [4]resolved{}
	s.readLines = s.readLines[:0]
	for _, r := range []interface{ reset() }{&s.metrics, &s.ptrs, &s.floats, &s.uints, &s.ints, &s.cnts,
		&s.gauges, &s.untyped, &s.hists, &s.buckets, &s.famSlab, &s.mfs} {
		r.reset()
	}
	if len(s.memo) >= maxInterned {
		clear(s.memo)
	}
	if len(s.pairs) >= maxInterned || len(s.blocks) >= maxInterned {
		s.pairs, s.blocks = map[string]*dto.LabelPair{}, map[string][]*dto.LabelPair{}
	}
}

// isReadName says whether a sample line (blanks trimmed) is of a family a Window reads.
func isReadName(line []byte) bool {
	if bytes.HasPrefix(line, []byte("vllm:")) {
		return true
	}
	return bytes.HasPrefix(line, []byte(processStart)) && (len(line) == len(processStart) || !isNameByte(line[len(processStart)]))
}

// comment handles the text after a line's '#': HELP and TYPE set their family's help and type, other
// comments are skipped.
func (s *scanner) comment(rest []byte) bool {
	rest = skipBlank(rest)
	kw := rest[:tokenEnd(rest)]
	rest = rest[len(kw):]
	if len(rest) == 0 || string(kw) != "HELP" && string(kw) != "TYPE" {
		return true
	}
	rest = skipBlank(rest)
	n := nameEnd(rest)
	if n == 0 {
		return false
	}
	if n == len(rest) {
		return true
	}
	if rest[n] != ' ' && rest[n] != '\t' {
		return false
	}
	f, _ := s.resolve(rest[:n])
	rest = skipBlank(rest[n:])
	if len(rest) == 0 {
		return true
	}
	if string(kw) == "HELP" {
		if f.help || bytes.IndexByte(rest, '\\') >= 0 {
			return false
		}
		f.help = true
		if f.mf != nil {
			if mo := f.memo; mo.help == nil || *mo.help != string(rest) {
				h := string(rest)
				mo.help = &h
			}
			f.mf.Help = f.memo.help
		}
		return true
	}
	if f.typed {
		return false
	}
	var t dto.MetricType
	switch string(rest) {
	case "counter":
		t = dto.MetricType_COUNTER
	case "gauge":
		t = dto.MetricType_GAUGE
	case "untyped":
		t = dto.MetricType_UNTYPED
	case "histogram":
		t = dto.MetricType_HISTOGRAM
	case "summary":
		t = dto.MetricType_SUMMARY
	default:
		return false
	}
	if f.mf != nil && !isScalarType(t) && (t != dto.MetricType_HISTOGRAM || f.mf.GetName() == processStart) {
		return false
	}
	s.setType(f, t)
	return true
}

func isScalarType(t dto.MetricType) bool {
	return t == dto.MetricType_COUNTER || t == dto.MetricType_GAUGE || t == dto.MetricType_UNTYPED
}

func (s *scanner) setType(f *famState, t dto.MetricType) {
	f.typ, f.typed = t, true
	if f.mf != nil {
		f.mf.Type = &metricTypes[t]
	}
}

// resolve finds or makes the family of a metric name as expfmt does: the name's own family, else the summary
// (for _count, _sum) or histogram (for _count, _sum, _bucket) it is a line of, else a new family.
func (s *scanner) resolve(name []byte) (*famState, int) {
	if f := s.fams[string(name)]; f != nil {
		return f, sufNone
	}
	suf, base := sufNone, name
	switch {
	case len(name) > 6 && string(name[len(name)-6:]) == "_count":
		suf, base = sufCount, name[:len(name)-6]
	case len(name) > 4 && string(name[len(name)-4:]) == "_sum":
		suf, base = sufSum, name[:len(name)-4]
	case len(name) > 7 && string(name[len(name)-7:]) == "_bucket":
		base = name[:len(name)-7]
	}
	if f := s.fams[string(base)]; f != nil && f.typ == dto.MetricType_HISTOGRAM && len(base) < len(name) {
		return f, suf
	}
	if f := s.fams[string(base)]; f != nil && f.typ == dto.MetricType_SUMMARY && suf != sufNone {
		return f, suf
	}
	mo := s.memo[string(name)]
	if mo == nil {
		mo = &famMemo{name: string(name)}
		if len(s.memo) < maxInterned {
			s.memo[mo.name] = mo
		}
	}
	f := s.famSlab.next()
	f.memo = mo
	if isReadName(name) {
		f.mf = s.mfs.next()
		f.mf.Name = &mo.name
	}
	s.fams[mo.name] = f
	return f, sufNone
}

// resolveRecent is resolve, remembering the last few names: a histogram's lines cycle through three.
func (s *scanner) resolveRecent(name []byte) (*famState, int) {
	for i := range s.recent {
		if r := &s.recent[i]; r.f != nil && string(r.name) == string(name) {
			return r.f, r.suf
		}
	}
	f, suf := s.resolve(name)
	copy(s.recent[1:], s.recent[:3])
	s.recent[0] = resolved{append([]byte(nil), name...), f, suf}
	return f, suf
}

// sample parses one sample line of a read family into its family.
func (s *scanner) sample(line []byte) bool {
	n := nameEnd(line)
	if n == 0 || n == len(line) || line[n] != ' ' && line[n] != '\t' && line[n] != '{' {
		return false
	}
	f, suf := s.resolveRecent(line[:n])
	if f.mf == nil {
		return false
	}
	if !f.typed {
		s.setType(f, dto.MetricType_UNTYPED)
	}
	hist := f.typ == dto.MetricType_HISTOGRAM
	if !hist && !isScalarType(f.typ) {
		return false
	}
	rest := skipBlank(line[n:])
	s.line, s.le = line, nil
	s.spans = s.spans[:0]
	if len(rest) > 0 && rest[0] == '{' {
		var ok bool
		if rest, ok = s.labels(rest[1:], f); !ok {
			return false
		}
	}
	vt := rest[:tokenEnd(rest)]
	v, ok := parseValue(vt)
	if !ok {
		return false
	}
	var ts *int64
	if rest = rest[len(vt):]; len(rest) > 0 {
		rest = skipBlank(rest)
		tt := rest[:tokenEnd(rest)]
		t, err := strconv.ParseInt(unsafeString(tt), 10, 64)
		if err != nil || len(tt) != len(rest) {
			return false
		}
		ts = s.ints.next()
		*ts = t
	}
	if hist {
		return s.histLine(f, suf, v, ts)
	}
	m := s.metric()
	m.TimestampMs = ts
	x := s.floats.next()
	*x = v
	switch f.typ {
	case dto.MetricType_COUNTER:
		c := s.cnts.next()
		c.Value, m.Counter = x, c
	case dto.MetricType_GAUGE:
		g := s.gauges.next()
		g.Value, m.Gauge = x, g
	default:
		u := s.untyped.next()
		u.Value, m.Untyped = x, u
	}
	f.mf.Metric = append(f.mf.Metric, m)
	return true
}

// labels reads a sample's labels after its '{' into s.spans, checking them as expfmt does; for a histogram
// the le label is left out and its value kept in s.le. It returns the text after the '}' and the blanks that
// follow it. A histogram line that starts as the last one whose le was read, up to that le's value, takes
// that line's labels before le as they were read.
func (s *scanner) labels(rest []byte, f *famState) ([]byte, bool) {
	line, hist := s.line, f.typ == dto.MetricType_HISTOGRAM
	resume := hist && len(f.memo.pfx) > 0 && bytes.HasPrefix(line, f.memo.pfx)
	if resume {
		s.spans = append(s.spans, f.memo.pfxSpans...)
		rest = line[len(f.memo.pfx)-1:]
	}
	for {
		var n0, n1 int32
		if !resume {
			rest = skipBlank(rest)
			if len(rest) == 0 {
				return nil, false
			}
			if rest[0] == '}' {
				return skipBlank(rest[1:]), true
			}
			n := labelNameEnd(rest)
			if n == 0 {
				return nil, false
			}
			n0, n1 = int32(len(line)-len(rest)), int32(len(line)-len(rest)+n)
			rest = skipBlank(rest[n:])
			if len(rest) == 0 || rest[0] != '=' || string(line[n0:n1]) == "__name__" {
				return nil, false
			}
			rest = skipBlank(rest[1:])
			if len(rest) == 0 || rest[0] != '"' {
				return nil, false
			}
		}
		end, ok := quotedEnd(rest[1:])
		if !ok {
			return nil, false
		}
		v0 := int32(len(line) - len(rest) + 1)
		switch {
		case resume:
			s.le, resume = rest[1:1+end], false
		case hist && string(line[n0:n1]) == "le":
			s.le = rest[1 : 1+end]
			f.memo.pfx = append(f.memo.pfx[:0], line[:v0]...)
			f.memo.pfxSpans = append(f.memo.pfxSpans[:0], s.spans...)
		default:
			for _, sp := range s.spans {
				if string(line[sp.n0:sp.n1]) == string(line[n0:n1]) {
					return nil, false
				}
			}
			s.spans = append(s.spans, labelSpan{n0, n1, v0, v0 + int32(end)})
		}
		rest = skipBlank(rest[2+end:])
		if len(rest) == 0 || rest[0] != ',' && rest[0] != '}' {
			return nil, false
		}
		if rest[0] == ',' {
			rest = rest[1:]
		}
	}
}

// histLine adds one _bucket, _count or _sum line to its histogram series, made on the series' first line.
func (s *scanner) histLine(f *famState, suf int, v float64, ts *int64) bool {
	s.key = s.key[:0]
	for _, l := range s.spans {
		s.key = append(append(append(append(s.key, s.line[l.n0:l.n1]...), 0xff), s.line[l.v0:l.v1]...), 0xff)
	}
	m := f.last
	if m == nil || string(f.memo.key) != string(s.key) {
		f.memo.key = append(f.memo.key[:0], s.key...)
		if m = s.histSeries(f); m == nil {
			return false
		}
		f.last = m
	}
	le := math.NaN()
	if s.le != nil {
		var ok bool
		if le, ok = f.bound(len(m.Histogram.Bucket), s.le); !ok {
			return false
		}
	}
	if ts != nil {
		m.TimestampMs = ts
	}
	hg := m.Histogram
	switch {
	case suf == sufSum:
		x := s.floats.next()
		*x = v
		hg.SampleSum = x
	case suf == sufCount:
		u, ok := s.count(v)
		if !ok {
			return false
		}
		hg.SampleCount = u
	case !math.IsNaN(le):
		u, ok := s.count(v)
		if !ok {
			return false
		}
		b := s.buckets.next()
		ub := s.floats.next()
		*ub = le
		b.UpperBound, b.CumulativeCount = ub, u
		hg.Bucket = append(hg.Bucket, b)
		f.memo.nb = max(f.memo.nb, len(hg.Bucket))
	}
	return true
}

// histSeries finds or makes the histogram series of the current line's labels (other than le), in any order.
func (s *scanner) histSeries(f *famState) *dto.Metric {
	h := s.labelHash()
	if f.first != nil && f.h0 == h {
		return f.first
	}
	if m := f.hists[h]; m != nil {
		return m
	}
	m := s.metric()
	m.Histogram = s.hists.next()
	m.Histogram.Bucket = make([]*dto.Bucket, 0, max(f.memo.nb, 4))
	switch {
	case f.first == nil:
		f.first, f.h0 = m, h
	case f.hists == nil:
		f.hists = map[uint64]*dto.Metric{h: m}
	default:
		f.hists[h] = m
	}
	f.mf.Metric = append(f.mf.Metric, m)
	return m
}

// bound parses the le value of a series' bucket i, reusing the bound of bucket i of an earlier series when
// written the same; false when it is not a float.
func (f *famState) bound(i int, raw []byte) (float64, bool) {
	mo := f.memo
	if i < len(mo.les) && mo.les[i].raw == string(raw) {
		return mo.les[i].v, true
	}
	v, ok := parseValue(unescapeIfNeeded(raw))
	if ok && i <= len(mo.les) && i < 1024 {
		mo.les = append(mo.les[:i], leBound{string(raw), v})
	}
	return v, ok
}

// count is a histogram count as expfmt keeps a whole one; false for a negative or fractional count.
func (s *scanner) count(v float64) (*uint64, bool) {
	u := uint64(v)
	if v != float64(u) {
		return nil, false
	}
	p := s.uints.next()
	*p = u
	return p, true
}

// labelHash identifies a histogram series by its labels other than le, in any order.
func (s *scanner) labelHash() uint64 {
	sp, line := append(s.sorted[:0], s.spans...), s.line
	s.sorted = sp
	for i := 1; i < len(sp); i++ {
		for j := i; j > 0 && string(line[sp[j].n0:sp[j].n1]) < string(line[sp[j-1].n0:sp[j-1].n1]); j-- {
			sp[j], sp[j-1] = sp[j-1], sp[j]
		}
	}
	s.key = s.key[:0]
	for _, l := range sp {
		s.key = append(append(append(append(s.key, line[l.n0:l.n1]...), 0xff), line[l.v0:l.v1]...), 0xff)
	}
	return maphash.Bytes(s.seed, s.key)
}

// metric makes a series with the labels in s.spans, in the order written.
func (s *scanner) metric() *dto.Metric {
	m := s.metrics.next()
	if len(s.spans) == 0 {
		return m
	}
	first, last := s.spans[0], s.spans[len(s.spans)-1]
	s.key = append(append(s.key[:0], 's'), s.line[first.n0:last.v1]...)
	if s.le != nil {
		s.key[0] = 'h'
	}
	if ls, ok := s.blocks[string(s.key)]; ok {
		m.Label = ls
		return m
	}
	key := string(s.key)
	m.Label = s.ptrs.take(len(s.spans))
	for i, l := range s.spans {
		m.Label[i] = s.pair(l)
	}
	if len(s.blocks) < maxInterned {
		s.blocks[key] = m.Label
	}
	return m
}

// pair returns the interned label pair of a span.
func (s *scanner) pair(l labelSpan) *dto.LabelPair {
	rawName, raw := s.line[l.n0:l.n1], s.line[l.v0:l.v1]
	s.key = append(append(append(s.key[:0], rawName...), 0xff), raw...)
	if p := s.pairs[string(s.key)]; p != nil {
		return p
	}
	name, value := string(rawName), string(unescapeIfNeeded(raw))
	p := &dto.LabelPair{Name: &name, Value: &value}
	if len(s.pairs) < maxInterned {
		s.pairs[string(s.key)] = p
	}
	return p
}

// quotedEnd returns the index of the '"' closing a label value that starts at b[0]; false on an escape
// other than \\, \" and \n, on invalid UTF-8, or when the line ends first.
func quotedEnd(b []byte) (int, bool) {
	if i := bytes.IndexByte(b, '"'); i >= 0 && bytes.IndexByte(b[:i], '\\') < 0 {
		return i, utf8.Valid(b[:i])
	}
	ascii := true
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c >= 0x80:
			ascii = false
		case c == '"':
			return i, ascii || utf8.Valid(b[:i])
		case c == '\\':
			if i+1 >= len(b) || b[i+1] != '\\' && b[i+1] != '"' && b[i+1] != 'n' {
				return 0, false
			}
			i++
		}
	}
	return 0, false
}

// unescapeIfNeeded returns a label value as written with its escapes (\\, \", \n) replaced.
func unescapeIfNeeded(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' {
			i++
			if c = raw[i]; c == 'n' {
				c = '\n'
			}
		}
		out = append(out, c)
	}
	return out
}

// parseValue parses a sample value or le bound as expfmt does (Go's float syntax, no hex exponent, no '_').
func parseValue(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if v, ok := parseDecimal(b); ok {
		return v, true
	}
	for _, c := range b {
		if c == 'p' || c == 'P' || c == '_' {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(unsafeString(b), 64)
	return v, err == nil
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal parses digits with an optional fraction ("42", "38.0", "0.25") of at most 15 digits in all:
// the digits make an integer below 2^53 and the power of ten is exact, so one division gives the correctly
// rounded value, as strconv.ParseFloat does. False for any other text.
func parseDecimal(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	n, digits, frac, dot := uint64(0), 0, 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	return float64(n) / pow10[frac], true
}

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func skipBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// tokenEnd is the length of the text before b's first blank.
func tokenEnd(b []byte) int {
	for i, c := range b {
		if c == ' ' || c == '\t' {
			return i
		}
	}
	return len(b)
}

func isNameByte(c byte) bool { return nameBytes[c] }

// nameBytes marks the bytes of a classic metric name: [a-zA-Z0-9_:].
var nameBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':'
	}
	return t
}()

// nameEnd is the length of the classic metric name at b's start; 0 when there is none or a byte that
// expfmt reads as part of a name follows it.
func nameEnd(b []byte) int {
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' || !isNameByte(b[0]) {
		return 0
	}
	i := 1
	for i < len(b) && isNameByte(b[i]) {
		i++
	}
	if i < len(b) && b[i] == '"' {
		return 0
	}
	return i
}

// labelNameEnd is nameEnd for a label name (no ':').
func labelNameEnd(b []byte) int {
	i := 0
	for i < len(b) && (b[i] >= 'a' && b[i] <= 'z' || b[i] >= 'A' && b[i] <= 'Z' || b[i] == '_' || i > 0 && b[i] >= '0' && b[i] <= '9') {
		i++
	}
	if i < len(b) && (b[i] == '"' || b[i] == ':') {
		return 0
	}
	return i
}

// slabMax is the most values in one backing array of a slab.
const slabMax = 4096

// slab hands out values of T from shared backing arrays, so that a parse makes few allocations; after a
// reset its first array is as large as the last parse needed.
type slab[T any] struct {
	buf  []T
	used int // values handed out since the last reset
	hint int // values the parse before used
}

func (s *slab[T]) reset() { s.buf, s.hint, s.used = nil, min(s.used, slabMax), 0 }

func (s *slab[T]) grow(n int) {
	size := min(max(2*cap(s.buf), 16), slabMax)
	if cap(s.buf) == 0 && s.hint > 0 {
		size = s.hint
	}
	s.buf = make([]T, 0, max(size, n))
}

func (s *slab[T]) next() *T {
	if len(s.buf) == cap(s.buf) {
		s.grow(1)
	}
	s.used++
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

// take returns n zero values as a slice of capacity n.
func (s *slab[T]) take(n int) []T {
	if len(s.buf)+n > cap(s.buf) {
		s.grow(n)
	}
	s.used += n
	i := len(s.buf)
	s.buf = s.buf[:i+n]
	return s.buf[i : i+n : i+n]
}
