package assert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vmtest/vmtest/summary"
)

// Threshold is a parsed threshold expression (see ParseThreshold): a metric of the summary, an operator and a
// limit in the metric's unit.
type Threshold struct {
	// Expr is the expression as given.
	Expr string
	// Metric is the canonical summary.Lookup name the expression names, e.g. "ttft.p99" for "p(99) ttft".
	Metric string
	// Op is one of "<", "<=", ">", ">=", "==", "!=".
	Op string
	// Limit is the limit in Unit: a duration converted to ms, a percentage to a fraction for a fraction.
	Limit float64
	// Unit is the metric's unit (summary.Value.Unit).
	Unit string
	// LimitText is the limit as written, e.g. "150ms" or "1%"; a limit written without a unit has the unit it
	// was read in appended: "40" reads "40ms" for a latency, "50%" for a percentage, "0.01 (1%)" for a
	// fraction, "10 req/s" for a throughput.
	LimitText string
}

// ThresholdError is the error ParseThreshold returns for an expression it cannot read.
type ThresholdError struct {
	// Expr is the expression as given.
	Expr string
	// Pos is the byte offset in Expr where reading stopped.
	Pos int
	// Msg says what was expected there.
	Msg string
}

// Error gives the expression, then its Reason.
func (e *ThresholdError) Error() string {
	return fmt.Sprintf("vmtest: threshold %q: %s", e.Expr, e.Reason())
}

// Reason says what is wrong without naming the expression first: the position as a byte offset, what was
// expected, then the expression and a caret under the position, each on a line of its own after a tab.
func (e *ThresholdError) Reason() string {
	col := utf8.RuneCountInString(e.Expr[:min(max(e.Pos, 0), len(e.Expr))])
	return fmt.Sprintf("at byte %d: %s\n\t%s\n\t%s^", e.Pos, e.Msg, e.Expr, strings.Repeat(" ", col))
}

// BoundError is the error of a check of one summary figure against a limit (a threshold, ErrorRateBelow,
// ThroughputAbove) that does not hold: the figure is on the wrong side of the limit, or is not known.
type BoundError struct {
	// Check names the check when its reason does not (`threshold "ttft.p99 < 200ms"`); "" for a typed check.
	Check string
	// NotMet is true when the figure is proven on the wrong side of the limit, false when it is not known
	// (no summary, no data, a name summary.Lookup cannot resolve).
	NotMet bool
	// Reason says why without Check: "ttft.p99 = 250 ms, want < 200ms (n=..., window ..., run ...; data: ...)"
	// or "ttft.p99 < 200ms: no data (...)".
	Reason string
	err    error // summary.Lookup's, when it is the reason
}

// Error is "vmtest: ", Check and " not met: " (or ": " when the figure is not known), then Reason.
func (e *BoundError) Error() string {
	switch {
	case e.Check == "":
		return "vmtest: " + e.Reason
	case e.NotMet:
		return "vmtest: " + e.Check + " not met: " + e.Reason
	}
	return "vmtest: " + e.Check + ": " + e.Reason
}

// Unwrap is summary.Lookup's error when it is the reason, else nil.
func (e *BoundError) Unwrap() error { return e.err }

// Reason is why err, a check's verdict, says the check does not hold, without the check's own name: a
// BoundError's or a ThresholdError's Reason, else err's text without its "vmtest: " head.
func Reason(err error) string {
	var be *BoundError
	var te *ThresholdError
	switch {
	case errors.As(err, &be):
		return be.Reason
	case errors.As(err, &te):
		return te.Reason()
	}
	return strings.TrimPrefix(err.Error(), "vmtest: ")
}

// NoData says err, a check's verdict, is that the check's figure is not known (a BoundError with NotMet false:
// no summary, no data, a name the summary cannot resolve), which fails the check as surely as a figure on the
// wrong side of its limit; false for nil and for every other error.
func NoData(err error) bool {
	var be *BoundError
	return errors.As(err, &be) && !be.NotMet
}

// durationMS is the length of each duration unit in milliseconds.
var durationMS = map[string]float64{
	"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "μs": 1e-3, "ms": 1, "s": 1e3, "m": 60e3, "h": 3600e3,
}

// aggregation returns the statistic an aggregation word before the metric appends to the metric name: a
// statistic of the metric registry that is not a percentile (summary.Statistics: mean, avg, median, med, std,
// min, max); ok false for any other word.
func aggregation(word string) (stat string, ok bool) {
	if n, isP := strings.CutPrefix(word, "p"); isP && n != "" && strings.Trim(n, "0123456789") == "" {
		return "", false // a percentile: p99, written "p(99)"
	}
	return word, slices.Contains(summary.Statistics(), word)
}

// keptPercentiles lists the percentiles the registry keeps, as messages print them: "50, 90, 95 or 99".
func keptPercentiles() string {
	ps := summary.Percentiles()
	if len(ps) < 2 {
		return strings.Join(ps, "")
	}
	return strings.Join(ps[:len(ps)-1], ", ") + " or " + ps[len(ps)-1]
}

// ParseThreshold reads a threshold expression in the spirit of k6's thresholds, naming the metric in the
// expression:
//
//	threshold   = [aggregation] metric operator number [unit]
//	aggregation = "p(" percentile ")" | "p" percentile | "mean" | "avg" | "median" | "med" | "min" | "max" | "std"
//	percentile  = "50" | "90" | "95" | "99"
//	metric      = a summary.Lookup name: letter { letter | digit | "_" | "." }
//	operator    = "<" | "<=" | ">" | ">=" | "==" | "!="
//	number      = ["+" | "-"] digits ["." digits] [("e" | "E") ["+" | "-"] digits]
//	unit        = "ns" | "us" | "µs" | "ms" | "s" | "m" | "h" | "%" | the metric's own unit ("req/s", "W", ...)
//
// Spaces may separate every part, including a number and its unit, but not the digits of a number. An
// aggregation before the metric is the same as a statistic after it: "p(99) ttft" is "ttft.p99", "avg
// gpu.utilization" is "gpu.utilization.avg"; only a percentile takes parentheses ("avg(ttft)" is an error).
// Names and words are case-insensitive; "latency" and "e2e_latency" are other names for "e2e", so "p(99)
// latency" is "e2e.p99" (summary.Summary.Lookup lists every name).
//
// Units: a duration is converted to milliseconds and applies only to metrics in ms; a percentage applies to
// metrics in % as is and to fractions (error_rate) divided by 100. A number without a unit is in the metric's
// unit: milliseconds for a latency (k6 likewise reads a bare number as milliseconds for a time metric), a
// fraction for error_rate (0.01 is 1%), % for utilization. Threshold.LimitText, and so every failure message,
// shows that unit: "p(99) ttft < 40" fails with "want < 40ms". Examples:
//
//	p(99) ttft < 150ms    p(90) e2e <= 2s    mean tpot < 20ms    max itl < 1s    ttft.p99 < 150ms
//	error_rate < 1%       error_rate < 0.01  throughput > 10     gpu.utilization.mean > 50    requests.failed == 0
//
// An expression it cannot read gives a *ThresholdError with the byte offset and what was expected there. So
// does one that reads but cannot mean what was written: a metric name outside summary.Lookup's families (the
// message names the nearest valid names), a unit that does not fit the metric (the message lists those that
// do), a negative limit (no metric but a temperature is negative), a threshold that always or never holds
// over the metric's range (a fraction lies in [0, 1], a percentage in [0, 100]: "error_rate <= 100%",
// "gpu.utilization.avg > 100", "ttft.p99 < 0"), a latency compared with 0 by "<=", "==", ">" or "!=" (it
// holds only, or fails only, at exactly 0), a latency limit above 0 but under MinLatencyLimit ("ttft.p99 <
// 0.5us", "ttft.p99 < 0.0005"; as the typed checks refuse it), and a fraction compared with a plain number of 1
// or more ("error_rate < 1" would pass unless every request failed; 1% is "error_rate < 0.01" or "error_rate < 1%").
func ParseThreshold(expr string) (Threshold, error) {
	p := &exprParser{src: expr}
	t, err := p.parse()
	if err != nil {
		return Threshold{}, err
	}
	t.Expr = expr
	return t, nil
}

type exprParser struct {
	src string
	pos int
}

func (p *exprParser) fail(pos int, format string, a ...any) error {
	return &ThresholdError{Expr: p.src, Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// ident reads letter { letter | digit | "_" | "." | "-" | "/" | ":" } and returns it ("" when there is
// none): "-", "/" and ":" are for the model names of model.<name>.* ("model.org/m-7b:lora.ttft.p99").
func (p *exprParser) ident() string {
	start := p.pos
	if p.pos >= len(p.src) || !isLetter(p.src[p.pos]) {
		return ""
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if !isLetter(c) && !isDigit(c) && !strings.ContainsRune("_.-/:", rune(c)) {
			break
		}
		p.pos++
	}
	return p.src[start:p.pos]
}

// digits reads a run of decimal digits.
func (p *exprParser) digits() string {
	start := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// percentileStat maps a percentile as written to the statistic Lookup keeps: "99" → "p99", for the
// percentiles of summary.Percentiles.
func percentileStat(s string) (string, bool) {
	if slices.Contains(summary.Percentiles(), s) {
		return "p" + s, true
	}
	return "", false
}

const exampleExpr = `e.g. "p(99) ttft < 150ms"`

func (p *exprParser) parse() (Threshold, error) {
	var t Threshold
	p.skipSpace()
	if p.pos == len(p.src) {
		return t, p.fail(p.pos, "empty expression; expected [aggregation] metric operator value, %s", exampleExpr)
	}

	// [aggregation] metric
	aggPos, stat := p.pos, ""
	if len(p.src)-p.pos >= 2 && strings.EqualFold(p.src[p.pos:p.pos+2], "p(") {
		p.pos += 2
		p.skipSpace()
		numPos := p.pos
		num := p.digits()
		if p.pos < len(p.src) && p.src[p.pos] == '.' {
			p.pos++
			num += "." + p.digits()
		}
		if num == "" {
			return t, p.fail(numPos, `expected a percentile (%s) after "p("`, keptPercentiles())
		}
		var ok bool
		if stat, ok = percentileStat(num); !ok {
			return t, p.fail(numPos, "percentile %s is not kept; expected %s", num, keptPercentiles())
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return t, p.fail(p.pos, `expected ")" after "p(%s"`, num)
		}
		p.pos++
		p.skipSpace()
	} else {
		word := p.ident()
		if word == "" {
			return t, p.fail(p.pos, "expected a metric name or an aggregation (p(99), mean, avg, median, min, max, std), %s", exampleExpr)
		}
		after := p.pos
		lw := strings.ToLower(word)
		if p.pos < len(p.src) && p.src[p.pos] == '(' {
			if msg := parenAggregation(lw, p.src[p.pos+1:]); msg != "" {
				return t, p.fail(p.pos, "%s", msg)
			}
		}
		p.skipSpace()
		if p.pos < len(p.src) && isLetter(p.src[p.pos]) {
			// Two words: the first must be an aggregation.
			if a, ok := aggregation(lw); ok {
				stat = a
			} else if n, ok := strings.CutPrefix(lw, "p"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
				if stat, ok = percentileStat(n); !ok {
					return t, p.fail(aggPos+1, "percentile %s is not kept; expected %s", n, keptPercentiles())
				}
			} else {
				return t, p.fail(after, "expected an operator (<, <=, >, >=, ==, !=) after the metric %q", word)
			}
		} else {
			p.pos = aggPos // the word is the metric; read it again below
		}
	}
	metricPos := p.pos
	metric := p.ident()
	if metric == "" {
		return t, p.fail(p.pos, "expected a metric name after the aggregation %q", strings.TrimSpace(p.src[aggPos:metricPos]))
	}
	name := metric
	if stat != "" {
		name += "." + stat
	}
	v, err := lookupStatic(name)
	if err != nil {
		note := ""
		if stat != "" {
			note = fmt.Sprintf("the aggregation %q with the metric %q", strings.TrimSpace(p.src[aggPos:metricPos]), metric)
		}
		return t, p.fail(metricPos, "%s", unknownMetricText(err, note))
	}
	t.Metric, t.Unit = v.Name, v.Unit
	p.skipSpace()

	// operator
	opPos := p.pos
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(p.src[p.pos:], op) {
			t.Op = op
			p.pos += len(op)
			break
		}
	}
	if t.Op == "" {
		return t, p.fail(opPos, "expected an operator (<, <=, >, >=, ==, !=) after the metric %q", metric)
	}
	p.skipSpace()

	// number
	numPos := p.pos
	if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
		p.pos++
	}
	intPart := p.digits()
	frac := ""
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		frac = p.digits()
	}
	if intPart == "" && frac == "" {
		return t, p.fail(numPos, "expected a number after %q", t.Op)
	}
	if p.pos+1 < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		save := p.pos
		p.pos++
		if p.src[p.pos] == '+' || p.src[p.pos] == '-' {
			p.pos++
		}
		if p.digits() == "" {
			p.pos = save // not an exponent
		}
	}
	num, err := strconv.ParseFloat(p.src[numPos:p.pos], 64)
	if err != nil || math.IsInf(num, 0) {
		return t, p.fail(numPos, "expected a finite number, got %q", p.src[numPos:p.pos])
	}
	numEnd := p.pos
	p.skipSpace()

	// [unit]
	unitPos := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != ' ' && p.src[p.pos] != '\t' {
		p.pos++
	}
	unit := p.src[unitPos:p.pos]
	if unit == "" {
		p.pos = numEnd
	}
	t.LimitText = strings.TrimSpace(p.src[numPos:p.pos])
	switch f, isDur := durationMS[unit]; {
	case unit == "":
		t.Limit = num
		t.LimitText = withAssumedUnit(t.LimitText, num, t.Unit)
	case isDur:
		if t.Unit != summary.UnitMS {
			return t, p.fail(unitPos, "a duration does not apply to %s (unit %s); expected a plain number%s", t.Metric, t.Unit, unitHint(t.Unit))
		}
		t.Limit = num * f
	case unit == "%":
		switch t.Unit {
		case summary.UnitPercent:
			t.Limit = num
		case summary.UnitFraction:
			t.Limit = num / 100
		default:
			return t, p.fail(unitPos, "a percentage does not apply to %s (unit %s); expected a plain number%s", t.Metric, t.Unit, unitHint(t.Unit))
		}
	case strings.EqualFold(unit, t.Unit):
		t.Limit = num
	default:
		space := ""
		if isDigit(unit[0]) || unit[0] == '.' {
			space = " (is there a space inside the number?)"
		}
		return t, p.fail(unitPos, "unknown unit %q for %s (unit %s)%s; expected %s", unit, t.Metric, t.Unit, space, unitsFor(t.Unit))
	}
	if math.IsInf(t.Limit, 0) {
		return t, p.fail(numPos, "%s is not a finite limit in %s", t.LimitText, t.Unit)
	}
	if msg := pointless(t, unit == ""); msg != "" {
		return t, p.fail(numPos, "%s", msg)
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return t, p.fail(p.pos, "expected the end of the expression after %q", t.LimitText)
	}
	return t, nil
}

// parenAggregation returns the message for an aggregation written as a function call ("avg(ttft)",
// "p99(ttft)"), which the grammar does not take, or "" when word is no aggregation. rest is the text after
// the parenthesis.
func parenAggregation(word, rest string) string {
	stat, ok := aggregation(word)
	pct := ""
	if !ok {
		n, isP := strings.CutPrefix(word, "p")
		if !isP || n == "" || strings.Trim(n, "0123456789") != "" {
			return ""
		}
		if stat, ok = percentileStat(n); !ok {
			return ""
		}
		pct = n
	}
	inner := &exprParser{src: rest}
	inner.skipSpace()
	metric := inner.ident()
	if metric == "" {
		metric = "ttft"
	}
	prefix := word + " " + metric
	if pct != "" {
		prefix = "p(" + pct + ") " + metric
	}
	name := metric + "." + stat
	if d, err := summary.Describe(name); err == nil {
		name = d.Name // canonical: "avg(ttft)" suggests ttft.mean
	}
	return fmt.Sprintf(`%q takes no parentheses; write %q or %q (only a percentile takes them: "p(99) ttft")`,
		word+"(", prefix, name)
}

// withAssumedUnit appends to a limit written without a unit the unit it was read in, so that a message
// shows what was compared: "40" → "40ms", "50" → "50%", "10" → "10 req/s", "0.01" → "0.01 (1%)".
func withAssumedUnit(text string, num float64, unit string) string {
	switch unit {
	case summary.UnitMS, summary.UnitPercent:
		return text + unit
	case summary.UnitFraction:
		return text + " (" + strconv.FormatFloat(100*num, 'g', 4, 64) + "%)"
	}
	return text + " " + unit
}

// unitsFor lists the units a limit for a metric in unit may carry, each once.
func unitsFor(unit string) string {
	switch unit {
	case summary.UnitMS:
		return "ns, us, µs, ms, s, m or h (a plain number is ms)"
	case summary.UnitFraction:
		return "% (a plain number is a fraction: 0.01 is 1%)"
	case summary.UnitPercent:
		return "% (a plain number is in %)"
	}
	return unit + " (a plain number is in " + unit + ")"
}

// pointless returns why a parsed threshold could never fail or never pass, or "". Every metric but a
// temperature is never negative; a fraction lies in [0, 1] and a percentage in [0, 100]. A fraction compared
// with a plain number of 1 or more is refused too: "error_rate < 1" reads as "< 100%", not "< 1%".
func pointless(t Threshold, plain bool) string {
	if t.Unit == summary.UnitCelsius {
		return ""
	}
	lo, hi, rng := 0.0, math.Inf(1), "never below 0"
	switch t.Unit {
	case summary.UnitFraction:
		hi, rng = 1, "a fraction from 0 to 1"
	case summary.UnitPercent:
		hi, rng = 100, "a percentage from 0 to 100"
	}
	switch {
	case t.Limit < lo:
		return fmt.Sprintf("negative limit %s: %s is %s", t.LimitText, t.Metric, rng)
	case t.Unit == summary.UnitFraction && plain && t.Limit >= 1:
		return fractionTooLarge(t.Metric, t.Op, t.Limit)
	case t.Unit == summary.UnitMS:
		if msg := pointlessLatency(t); msg != "" {
			return msg
		}
	}
	var always, never bool
	switch L := t.Limit; t.Op {
	case "<":
		always, never = L > hi, L <= lo
	case "<=":
		always, never = L >= hi, L < lo
	case ">":
		always, never = L < lo, L >= hi
	case ">=":
		always, never = L <= lo, L > hi
	case "==":
		never = L < lo || L > hi
	case "!=":
		always = L < lo || L > hi
	}
	verdict := ""
	switch {
	case always:
		verdict = "always holds, so it could never fail"
	case never:
		verdict = "never holds, so it could never pass"
	default:
		return ""
	}
	return fmt.Sprintf("%q %s: %s is %s", t.Metric+" "+t.Op+" "+t.LimitText, verdict, t.Metric, rng)
}

// pointlessLatency returns why a latency threshold (unit ms) cannot mean what was written, or "": a limit
// above 0 but under MinLatencyLimit (as the typed checks refuse it: likely a slip of the unit), or, for a
// figure that is never 0 (canBeZero), a comparison with 0 that holds only at exactly 0 ("<= 0", "== 0") or
// everywhere but there ("> 0", "!= 0"), as a latency is never below 0.
func pointlessLatency(t Threshold) string {
	expr := t.Metric + " " + t.Op + " " + t.LimitText
	least := float64(MinLatencyLimit) / float64(time.Millisecond)
	switch {
	case t.Limit > 0 && t.Limit < least:
		return fmt.Sprintf("%q: a latency limit under %v is likely a slip of the unit (a plain number is ms); write e.g. %q",
			expr, MinLatencyLimit, t.Metric+" "+t.Op+" 500ms")
	case t.Limit != 0 || canBeZero(t.Metric):
		return ""
	case t.Op == "<=" || t.Op == "==":
		return fmt.Sprintf("%q holds only at exactly 0, so it asks for no latency at all: %s is never below 0; want a positive limit, e.g. %q",
			expr, t.Metric, t.Metric+" < 500ms")
	case t.Op == ">" || t.Op == "!=":
		return fmt.Sprintf("%q fails only at exactly 0, so it checks nothing: %s is never below 0; want a positive limit, e.g. %q",
			expr, t.Metric, t.Metric+" < 500ms")
	}
	return ""
}

// canBeZero reports whether the latency figure metric (a summary.Lookup name) can be exactly 0 in a real
// run: any .min or .std (std is 0 over one value), ITL (per-token ITL records 0 ms gaps within a chunk),
// TPOT (0 when every token came in the first chunk), and the waits send_lag and server.queue_time.
func canBeZero(metric string) bool {
	family, stat := metric, ""
	if i := strings.LastIndexByte(metric, '.'); i >= 0 {
		family, stat = metric[:i], metric[i+1:]
	}
	if stat == "min" || stat == "std" {
		return true
	}
	switch family {
	case "itl", "tpot", "send_lag", "server.queue_time":
		return true
	}
	return false
}

func unitHint(unit string) string {
	switch unit {
	case summary.UnitMS:
		return " or a duration"
	case summary.UnitFraction, summary.UnitPercent:
		return " or a percentage"
	}
	return " (in " + unit + ")"
}

// holds reports whether value op limit.
func holds(value float64, op string, limit float64) bool {
	switch op {
	case "<":
		return value < limit
	case "<=":
		return value <= limit
	case ">":
		return value > limit
	case ">=":
		return value >= limit
	case "==":
		return value == limit
	case "!=":
		return value != limit
	}
	return false
}

// String returns the expression as given.
func (t Threshold) String() string { return t.Expr }

// eval returns nil when the summary's figure for t.Metric satisfies the threshold (Expr's check).
func (t Threshold) eval(s *summary.Summary) error {
	label := fmt.Sprintf("threshold %q", t.Expr)
	return checkBound(s, label, t.Metric, t.Op, t.Limit, t.LimitText)
}

// checkBound checks that the Lookup figure metric of s satisfies op limit. label, when not empty, names the
// check in the message; limitText is the limit as the user gave it.
func checkBound(s *summary.Summary, label, metric, op string, limit float64, limitText string) error {
	if s == nil {
		return &BoundError{Check: label, Reason: fmt.Sprintf("%s %s %s: no summary", metric, op, limitText)}
	}
	v, err := s.Lookup(metric)
	if err != nil {
		return &BoundError{Check: label, Reason: err.Error(), err: err}
	}
	// A server percentile's histogram may prove more than interpolation in a wide bucket says: v.AtMost, an
	// upper bound, and v.Above, exceeded when the percentile falls in the +Inf bucket. A percentile proven
	// on the right side of the limit passes, one proven on the wrong side fails.
	provenWrong := false
	switch op {
	case "<", "<=":
		if v.AtMost != nil && holds(*v.AtMost, op, limit) {
			return nil
		}
		provenWrong = v.Above != nil && *v.Above >= limit // the percentile is > Above ≥ limit
	case ">", ">=":
		if v.Above != nil && *v.Above >= limit {
			return nil // the percentile is > Above ≥ limit
		}
		provenWrong = v.AtMost != nil && !holds(*v.AtMost, op, limit)
	}
	if !v.Known && !provenWrong {
		return &BoundError{Check: label, Reason: fmt.Sprintf("%s %s %s: no data (%s; run %s; data: %s)", v.Name, op, limitText, noDataNote(v), s.RunID, s.DataFileOf(v.Name))}
	}
	if !provenWrong && holds(v.Value, op, limit) {
		return nil
	}
	value := "unknown (" + v.Note + ")"
	switch {
	case v.Known:
		value = formatValue(v.Value, v.Unit)
	case v.Above != nil:
		value = fmt.Sprintf("above %s %s (it falls in the histogram's +Inf bucket)", boundText(*v.Above), v.Unit)
	}
	bound := ""
	switch {
	case v.Interpolated != nil && v.Known:
		bound = fmt.Sprintf(", the most its histogram allows (histogram_quantile interpolates %s in its bucket, above what the histogram's sum proves)",
			formatValue(*v.Interpolated, v.Unit))
	case v.AtMost != nil && v.Known:
		bound = fmt.Sprintf(", interpolated in its histogram bucket; the histogram proves it at most %s %s",
			boundText(*v.AtMost), v.Unit)
	case v.AtMost != nil:
		bound = fmt.Sprintf(", and at most %s %s by the histogram's sum", boundText(*v.AtMost), v.Unit)
	}
	return &BoundError{Check: label, NotMet: true, Reason: fmt.Sprintf("%s = %s%s, want %s %s (n=%d, window %s, run %s; data: %s)",
		v.Name, value, bound, op, limitText, v.N, windowText(v.WindowS), s.RunID, s.DataFileOf(v.Name))}
}

// boundText formats a histogram bound: whole from 1000 up (2560000, not 2.56e+06), else 4 significant digits
// (87.71, 0.000451).
func boundText(x float64) string {
	if math.Abs(x) >= 1000 {
		return strconv.FormatFloat(math.Round(x), 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// noDataNote says why a Value is unknown, starting with its n.
func noDataNote(v summary.Value) string {
	note := v.Note
	if note == "" {
		note = "not known"
	}
	if !strings.HasPrefix(note, "n=") {
		note = fmt.Sprintf("n=%d, %s", v.N, note)
	}
	return note
}

// windowText formats a window in seconds as assert.go does.
func windowText(w *float64) string {
	if w == nil {
		return "unknown"
	}
	return strconv.FormatFloat(*w, 'f', 1, 64) + " s"
}

// formatValue formats a figure with its unit: ms with three decimals (as assert.go does; 4 significant digits
// under 0.001 ms, which three decimals would show as 0), a fraction with its percentage beside it, counts as
// integers.
func formatValue(x float64, unit string) string {
	switch unit {
	case summary.UnitMS:
		if x != 0 && math.Abs(x) < 0.001 {
			return boundText(x) + " " + unit
		}
	case summary.UnitFraction:
		return fmt.Sprintf("%.4f (%.2f%%)", x, 100*x)
	case summary.UnitPercent:
		return fmt.Sprintf("%.3f%%", x)
	case summary.UnitRequests, summary.UnitTokens:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%.0f %s", x, unit)
		}
	}
	return fmt.Sprintf("%.3f %s", x, unit)
}

// ErrBadThreshold matches (with errors.Is) every *ThresholdError.
var ErrBadThreshold = errors.New("vmtest: bad threshold expression")

// Is makes errors.Is(err, ErrBadThreshold) and errors.Is(err, ErrInvalidCheck) true for a *ThresholdError.
func (e *ThresholdError) Is(target error) bool {
	return target == ErrBadThreshold || target == ErrInvalidCheck
}
