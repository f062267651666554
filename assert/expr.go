package assert

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
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
	// LimitText is the limit as written, e.g. "150ms" or "1%".
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

// Error gives the position as a byte offset and a caret line under the expression.
func (e *ThresholdError) Error() string {
	col := utf8.RuneCountInString(e.Expr[:min(max(e.Pos, 0), len(e.Expr))])
	return fmt.Sprintf("vmtest: threshold %q: at byte %d: %s\n\t%s\n\t%s^", e.Expr, e.Pos, e.Msg, e.Expr, strings.Repeat(" ", col))
}

// durationMS is the length of each duration unit in milliseconds.
var durationMS = map[string]float64{
	"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "μs": 1e-3, "ms": 1, "s": 1e3, "m": 60e3, "h": 3600e3,
}

// aggregations maps an aggregation word before the metric to the statistic it appends to the metric name.
var aggregations = map[string]string{
	"mean": "mean", "avg": "mean", "median": "median", "med": "median", "min": "min", "max": "max", "std": "std",
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
// Spaces may separate every part, including a number and its unit. An aggregation before the metric is the
// same as a statistic after it: "p(99) ttft" is "ttft.p99", "avg gpu.utilization" is "gpu.utilization.avg";
// names and words are case-insensitive. A duration is converted to milliseconds and applies only to metrics
// in ms; a percentage applies to metrics in % as is and to fractions (error_rate) divided by 100; a plain
// number is in the metric's unit. Examples:
//
//	p(99) ttft < 150ms    p(90) e2e <= 2s    mean tpot < 20ms    max itl < 1s    ttft.p99 < 150ms
//	error_rate < 1%       throughput > 10    gpu.utilization.mean > 50          requests.failed == 0
//
// An expression it cannot read gives a *ThresholdError with the byte offset and what was expected there; a
// metric name outside summary.Lookup's families, or a unit that does not fit the metric, is such an error too.
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

// ident reads letter { letter | digit | "_" | "." } and returns it ("" when there is none).
func (p *exprParser) ident() string {
	start := p.pos
	if p.pos >= len(p.src) || !isLetter(p.src[p.pos]) {
		return ""
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if !isLetter(c) && !isDigit(c) && c != '_' && c != '.' {
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

// percentileStat maps a percentile as written to the statistic Lookup keeps.
func percentileStat(s string) (string, bool) {
	switch s {
	case "50", "90", "95", "99":
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
			return t, p.fail(numPos, `expected a percentile (50, 90, 95 or 99) after "p("`)
		}
		var ok bool
		if stat, ok = percentileStat(num); !ok {
			return t, p.fail(numPos, "percentile %s is not kept; expected 50, 90, 95 or 99", num)
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
		p.skipSpace()
		lw := strings.ToLower(word)
		if p.pos < len(p.src) && isLetter(p.src[p.pos]) {
			// Two words: the first must be an aggregation.
			if a, ok := aggregations[lw]; ok {
				stat = a
			} else if n, ok := strings.CutPrefix(lw, "p"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
				if stat, ok = percentileStat(n); !ok {
					return t, p.fail(aggPos+1, "percentile %s is not kept; expected 50, 90, 95 or 99", n)
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
	v, err := (*summary.Summary)(nil).Lookup(name)
	if err != nil {
		msg := err.Error()
		if stat != "" {
			msg = fmt.Sprintf("%s (the aggregation %q with the metric %q)", msg, strings.TrimSpace(p.src[aggPos:metricPos]), metric)
		}
		return t, p.fail(metricPos, "%s", msg)
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
		return t, p.fail(unitPos, "unknown unit %q for %s (unit %s); expected ns, us, µs, ms, s, m, h, %% or %s", unit, t.Metric, t.Unit, t.Unit)
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return t, p.fail(p.pos, "expected the end of the expression after %q", t.LimitText)
	}
	return t, nil
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

// Check returns nil when the summary's figure for t.Metric satisfies the threshold. Otherwise it returns an
// error naming the metric, its value and unit, the limit, n, the window, the run and the data file; a figure
// the summary does not have ("no data", summary.Value.Known false) is an error, never a pass. Comparisons are
// exact IEEE comparisons in the metric's unit.
func (t Threshold) Check(s *summary.Summary) error {
	label := fmt.Sprintf("threshold %q", t.Expr)
	return checkBound(s, label, t.Metric, t.Op, t.Limit, t.LimitText)
}

// checkBound checks that the Lookup figure metric of s satisfies op limit. label, when not empty, names the
// check in the message; limitText is the limit as the user gave it.
func checkBound(s *summary.Summary, label, metric, op string, limit float64, limitText string) error {
	prefix := "vmtest: "
	if label != "" {
		prefix += label + ": "
	}
	if s == nil {
		return fmt.Errorf("%s%s %s %s: no summary", prefix, metric, op, limitText)
	}
	v, err := s.Lookup(metric)
	if err != nil {
		return fmt.Errorf("%s%w", prefix, err)
	}
	if !v.Known {
		return fmt.Errorf("%s%s %s %s: no data (%s; run %s; data: %s)", prefix, v.Name, op, limitText, noDataNote(v), s.RunID, s.DataFile())
	}
	if holds(v.Value, op, limit) {
		return nil
	}
	if label != "" {
		prefix = "vmtest: " + label + " not met: "
	}
	return fmt.Errorf("%s%s = %s, want %s %s (n=%d, window %s, run %s; data: %s)",
		prefix, v.Name, formatValue(v.Value, v.Unit), op, limitText, v.N, windowText(v.WindowS), s.RunID, s.DataFile())
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

// formatValue formats a figure with its unit: ms with three decimals (as assert.go does), a fraction with its
// percentage beside it, counts as integers.
func formatValue(x float64, unit string) string {
	switch unit {
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

// CheckThreshold parses expr (see ParseThreshold) and checks it against s (see Threshold.Check). It returns
// the *ThresholdError of a bad expression, an error describing the violation, or nil when the threshold holds.
func CheckThreshold(s *summary.Summary, expr string) error {
	t, err := ParseThreshold(expr)
	if err != nil {
		return err
	}
	return t.Check(s)
}

// AssertThreshold checks every expression against s (see CheckThreshold), reports each error through
// tb.Errorf (the test goes on) and returns whether all held. A bad expression is reported as an error too.
func AssertThreshold(tb testing.TB, s *summary.Summary, exprs ...string) bool {
	tb.Helper()
	ok := true
	for _, e := range exprs {
		ok = report(tb, CheckThreshold(s, e)) && ok
	}
	return ok
}

// ErrBadThreshold matches (with errors.Is) every *ThresholdError.
var ErrBadThreshold = errors.New("vmtest: bad threshold expression")

// Is makes errors.Is(err, ErrBadThreshold) true for a *ThresholdError.
func (e *ThresholdError) Is(target error) bool { return target == ErrBadThreshold }
