package loadgen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

// Kinds of Lengths distributions.
const (
	LengthsFixed     = "fixed"
	LengthsUniform   = "uniform"
	LengthsNormal    = "normal"
	LengthsLogNormal = "lognormal"
	LengthsHistogram = "histogram"
)

// Lengths is a distribution of lengths in tokens (prompt or output lengths), drawn by Sample. Build it with
// FixedLengths, UniformLengths, NormalLengths, LogNormalLengths, HistogramLengths or ParseLengths. Every draw
// is a whole number of tokens in [max(Min, 1), Max] (Max 0: no upper bound).
type Lengths struct {
	// Kind is LengthsFixed, LengthsUniform, LengthsNormal, LengthsLogNormal or LengthsHistogram.
	Kind string
	// Mean is the fixed length, or the mean of a normal or lognormal distribution, tokens.
	Mean float64
	// Std is the standard deviation of a normal or lognormal distribution, tokens.
	Std float64
	// Min and Max bound every draw, tokens (a uniform distribution's range, inclusive); a draw outside them
	// is clamped. Max 0: no upper bound.
	Min, Max int
	// Bins are a histogram's bins.
	Bins []LengthBin
}

// LengthBin is one bin of a histogram of lengths: lengths Lo..Hi (inclusive, tokens), drawn uniformly,
// with relative weight Weight.
type LengthBin struct {
	Lo, Hi int
	Weight float64
}

// FixedLengths is n tokens every time.
func FixedLengths(n int) Lengths {
	return Lengths{Kind: LengthsFixed, Mean: float64(n), Min: n, Max: n}
}

// UniformLengths draws whole lengths uniformly from lo..hi inclusive (vLLM's random dataset with a range ratio).
func UniformLengths(lo, hi int) Lengths { return Lengths{Kind: LengthsUniform, Min: lo, Max: hi} }

// NormalLengths draws mean + std·N(0,1), rounded to the nearest whole token and clamped to at least 1.
func NormalLengths(mean, std float64) Lengths {
	return Lengths{Kind: LengthsNormal, Mean: mean, Std: std, Min: 1}
}

// LogNormalLengths draws from the lognormal distribution whose mean and standard deviation are mean and std
// tokens (σ² = ln(1 + std²/mean²), μ = ln(mean) − σ²/2), rounded and clamped to at least 1.
func LogNormalLengths(mean, std float64) Lengths {
	return Lengths{Kind: LengthsLogNormal, Mean: mean, Std: std, Min: 1}
}

// HistogramLengths draws a bin with probability proportional to its weight, then a length uniformly in it.
func HistogramLengths(bins ...LengthBin) Lengths { return Lengths{Kind: LengthsHistogram, Bins: bins} }

// Validate returns an error naming what is wrong with l, nil when it can be sampled.
func (l Lengths) Validate() error {
	switch l.Kind {
	case LengthsFixed:
		if l.Mean < 1 || l.Mean != math.Trunc(l.Mean) {
			return fmt.Errorf("fixed length %v: want a whole number >= 1", l.Mean)
		}
	case LengthsUniform:
		if l.Min < 1 || l.Max < l.Min {
			return fmt.Errorf("uniform lengths %d..%d: want 1 <= min <= max", l.Min, l.Max)
		}
	case LengthsNormal, LengthsLogNormal:
		if !(l.Mean >= 1) || !(l.Std >= 0) || math.IsInf(l.Mean, 0) || math.IsInf(l.Std, 0) {
			return fmt.Errorf("%s lengths mean %v std %v: want mean >= 1 and std >= 0", l.Kind, l.Mean, l.Std)
		}
		if l.Max != 0 && l.Max < max(l.Min, 1) {
			return fmt.Errorf("%s lengths: max %d below min %d", l.Kind, l.Max, max(l.Min, 1))
		}
	case LengthsHistogram:
		if len(l.Bins) == 0 {
			return errors.New("histogram lengths: no bins")
		}
		total := 0.0
		for i, b := range l.Bins {
			if b.Lo < 1 || b.Hi < b.Lo || !(b.Weight >= 0) || math.IsInf(b.Weight, 0) {
				return fmt.Errorf("histogram bin %d (%d-%d, weight %v): want 1 <= lo <= hi and a weight >= 0", i+1, b.Lo, b.Hi, b.Weight)
			}
			total += b.Weight
		}
		if !(total > 0) {
			return errors.New("histogram lengths: every weight is 0")
		}
	case "":
		return errors.New("lengths: no distribution given")
	default:
		return fmt.Errorf("lengths: unknown kind %q; want fixed, uniform, normal, lognormal or histogram", l.Kind)
	}
	return nil
}

// Sample draws one length, tokens. l must be valid (Validate).
func (l Lengths) Sample(r *rand.Rand) int {
	var v float64
	switch l.Kind {
	case LengthsFixed:
		return int(l.Mean)
	case LengthsUniform:
		return l.Min + r.IntN(l.Max-l.Min+1)
	case LengthsNormal:
		v = l.Mean + l.Std*r.NormFloat64()
	case LengthsLogNormal:
		s2 := math.Log1p(l.Std * l.Std / (l.Mean * l.Mean))
		v = math.Exp(math.Log(l.Mean) - s2/2 + math.Sqrt(s2)*r.NormFloat64())
	case LengthsHistogram:
		return l.sampleBin(r)
	}
	n := int(math.Round(v))
	if lo := max(l.Min, 1); n < lo {
		n = lo
	}
	if l.Max > 0 && n > l.Max {
		n = l.Max
	}
	return n
}

func (l Lengths) sampleBin(r *rand.Rand) int {
	total := 0.0
	for _, b := range l.Bins {
		total += b.Weight
	}
	u := r.Float64() * total
	for _, b := range l.Bins {
		if u < b.Weight {
			return b.Lo + r.IntN(b.Hi-b.Lo+1)
		}
		u -= b.Weight
	}
	last := l.Bins[len(l.Bins)-1] // u landed on the total through rounding
	return last.Lo + r.IntN(last.Hi-last.Lo+1)
}

// String formats l in the syntax ParseLengths reads (a histogram by its bins' count).
func (l Lengths) String() string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch l.Kind {
	case LengthsFixed:
		return g(l.Mean)
	case LengthsUniform:
		return fmt.Sprintf("uniform:%d-%d", l.Min, l.Max)
	case LengthsNormal, LengthsLogNormal:
		s := l.Kind + ":" + g(l.Mean) + "," + g(l.Std)
		if l.Max > 0 {
			s += fmt.Sprintf(",%d-%d", max(l.Min, 1), l.Max)
		}
		return s
	case LengthsHistogram:
		return fmt.Sprintf("histogram(%d bins)", len(l.Bins))
	}
	return l.Kind
}

// ParseLengths reads a distribution of lengths in tokens, for flags: "512" or "fixed:512"; "uniform:128-1024";
// "normal:MEAN,STD" or "lognormal:MEAN,STD", each optionally with ",MIN-MAX" bounds; "hist:FILE" (see
// ReadLengthHistogram). Errors name the bad part.
func ParseLengths(s string) (Lengths, error) {
	s = strings.TrimSpace(s)
	kind, arg, ok := strings.Cut(s, ":")
	if !ok {
		kind, arg = LengthsFixed, s
	}
	var l Lengths
	var err error
	switch kind {
	case LengthsFixed:
		n, aerr := strconv.Atoi(strings.TrimSpace(arg))
		if aerr != nil {
			return Lengths{}, fmt.Errorf("lengths %q: want a whole number of tokens", s)
		}
		l = FixedLengths(n)
	case LengthsUniform:
		var lo, hi int
		lo, hi, err = parseRange(arg)
		l = UniformLengths(lo, hi)
	case LengthsNormal, LengthsLogNormal:
		l, err = parseMeanStd(kind, arg)
	case "hist", LengthsHistogram:
		l, err = LoadLengthHistogram(arg)
		if err != nil {
			return Lengths{}, err
		}
	default:
		return Lengths{}, fmt.Errorf("lengths %q: unknown kind %q; want N, uniform:LO-HI, normal:MEAN,STD, lognormal:MEAN,STD or hist:FILE", s, kind)
	}
	if err != nil {
		return Lengths{}, fmt.Errorf("lengths %q: %w", s, err)
	}
	if err := l.Validate(); err != nil {
		return Lengths{}, fmt.Errorf("lengths %q: %w", s, err)
	}
	return l, nil
}

func parseRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("range %q: want LO-HI", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("range %q: want whole numbers LO-HI", s)
	}
	return lo, hi, nil
}

func parseMeanStd(kind, s string) (Lengths, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 && len(parts) != 3 {
		return Lengths{}, fmt.Errorf("want %s:MEAN,STD[,MIN-MAX]", kind)
	}
	mean, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	std, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err1 != nil || err2 != nil {
		return Lengths{}, fmt.Errorf("want numbers %s:MEAN,STD", kind)
	}
	l := Lengths{Kind: kind, Mean: mean, Std: std, Min: 1}
	if len(parts) == 3 {
		lo, hi, err := parseRange(parts[2])
		if err != nil {
			return Lengths{}, err
		}
		l.Min, l.Max = lo, hi
	}
	return l, nil
}

// ReadLengthHistogram reads a histogram of lengths as CSV: one bin per record, "LENGTH,WEIGHT" or
// "LO-HI,WEIGHT" (tokens, inclusive; a relative weight, e.g. a count of requests). Blank lines and lines
// starting with # are skipped, and so is a first record whose weight is not a number (a header). Errors
// name the 1-based record.
func ReadLengthHistogram(r io.Reader) (Lengths, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 2
	cr.TrimLeadingSpace = true
	var bins []LengthBin
	for rec := 1; ; rec++ {
		f, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Lengths{}, fmt.Errorf("length histogram: %w", err)
		}
		w, werr := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if werr != nil && rec == 1 {
			continue // header
		}
		if werr != nil {
			return Lengths{}, fmt.Errorf("length histogram record %d: weight %q is not a number", rec, f[1])
		}
		lo, hi, rerr := parseRange(f[0])
		if rerr != nil {
			n, nerr := strconv.Atoi(strings.TrimSpace(f[0]))
			if nerr != nil {
				return Lengths{}, fmt.Errorf("length histogram record %d: length %q: want N or LO-HI", rec, f[0])
			}
			lo, hi = n, n
		}
		bins = append(bins, LengthBin{Lo: lo, Hi: hi, Weight: w})
	}
	l := HistogramLengths(bins...)
	if err := l.Validate(); err != nil {
		return Lengths{}, err
	}
	return l, nil
}

// LoadLengthHistogram reads a histogram file with ReadLengthHistogram; errors name the file.
func LoadLengthHistogram(path string) (Lengths, error) {
	f, err := os.Open(path)
	if err != nil {
		return Lengths{}, fmt.Errorf("loadgen: %w", err)
	}
	defer f.Close()
	l, err := ReadLengthHistogram(f)
	if err != nil {
		return Lengths{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}
