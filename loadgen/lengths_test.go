package loadgen

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moments draws n lengths with a fixed seed and returns their mean and standard deviation.
func moments(l Lengths, n int) (mean, std float64, min, max int) {
	r := rand.New(rand.NewPCG(42, 1))
	min, max = math.MaxInt, 0
	var sum, sum2 float64
	for range n {
		v := l.Sample(r)
		sum += float64(v)
		sum2 += float64(v) * float64(v)
		min, max = int(math.Min(float64(min), float64(v))), int(math.Max(float64(max), float64(v)))
	}
	mean = sum / float64(n)
	return mean, math.Sqrt(sum2/float64(n) - mean*mean), min, max
}

// Each distribution's sample mean and standard deviation are within 4 standard errors of the values its
// definition gives (n = 40000, fixed seed).
func TestLengthsMoments(t *testing.T) {
	const n = 40000
	se := func(sd float64) float64 { return 4 * sd / math.Sqrt(n) }
	for _, c := range []struct {
		l              Lengths
		mean, sd, sdTo float64 // sdTo: tolerance on the standard deviation
		lo, hi         int
	}{
		// Discrete uniform on 10..20: mean 15, variance ((20−10+1)² − 1)/12 = 10.
		{UniformLengths(10, 20), 15, math.Sqrt(10), 0.05, 10, 20},
		// Rounding adds 1/12 to the variance of a normal.
		{NormalLengths(500, 50), 500, math.Sqrt(2500 + 1.0/12), 1, 0, 0},
		// Lognormal with mean 500 and sd 200: σ² = ln(1.16), and its sd's standard error is larger (kurtosis).
		{LogNormalLengths(500, 200), 500, 200, 8, 0, 0},
		// 1 with weight 1, 10..19 with weight 3: mean 0.25 + 0.75·14.5 = 11.125;
		// E[X²] = 0.25 + 0.75·(Σ k², k=10..19)/10 = 0.25 + 0.75·(2470 − 285)/10 = 0.25 + 0.75·218.5.
		{HistogramLengths(LengthBin{1, 1, 1}, LengthBin{10, 19, 3}), 11.125, math.Sqrt(0.25 + 0.75*218.5 - 11.125*11.125), 0.1, 1, 19},
	} {
		require.NoError(t, c.l.Validate())
		mean, sd, lo, hi := moments(c.l, n)
		assert.InDelta(t, c.mean, mean, se(c.sd), "%s mean", c.l)
		assert.InDelta(t, c.sd, sd, c.sdTo, "%s sd", c.l)
		if c.hi > 0 {
			assert.Equal(t, c.lo, lo, "%s min", c.l)
			assert.Equal(t, c.hi, hi, "%s max", c.l)
		}
	}
	mean, sd, _, _ := moments(FixedLengths(7), 10)
	assert.Equal(t, 7.0, mean)
	assert.Equal(t, 0.0, sd)
	// Bounds clamp: a normal with mean 1 is never below 1, and a bounded one never above its max.
	_, _, lo, _ := moments(NormalLengths(1, 10), 1000)
	assert.Equal(t, 1, lo)
	b, err := ParseLengths("normal:100,50,90-110")
	require.NoError(t, err)
	_, _, lo, hi := moments(b, 1000)
	assert.Equal(t, 90, lo)
	assert.Equal(t, 110, hi)
}

func TestParseLengths(t *testing.T) {
	for s, want := range map[string]Lengths{
		"512":               FixedLengths(512),
		"fixed:64":          FixedLengths(64),
		"uniform:128-1024":  UniformLengths(128, 1024),
		"normal:512,64":     NormalLengths(512, 64),
		"lognormal:300,100": LogNormalLengths(300, 100),
		"normal:10,2,5-15":  {Kind: LengthsNormal, Mean: 10, Std: 2, Min: 5, Max: 15},
	} {
		got, err := ParseLengths(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for s, want := range map[string]string{
		"":                 "want a whole number",
		"0":                "want a whole number >= 1",
		"uniform:5":        "want LO-HI",
		"uniform:9-3":      "1 <= min <= max",
		"normal:0,1":       "mean >= 1",
		"normal:5":         "MEAN,STD",
		"gamma:1,2":        `unknown kind "gamma"`,
		"hist:/no/such":    "no such file",
		"normal:10,1,9-x":  "whole numbers",
		"lognormal:10,-1":  "std >= 0",
		"normal:10,1,20-5": "max 5 below min 20",
	} {
		_, err := ParseLengths(s)
		if assert.Error(t, err, s) {
			assert.Contains(t, err.Error(), want, s)
		}
	}
}

func TestReadLengthHistogram(t *testing.T) {
	l, err := ReadLengthHistogram(strings.NewReader("length,count\n# from production\n100,3\n200-299, 1\n"))
	require.NoError(t, err)
	assert.Equal(t, HistogramLengths(LengthBin{100, 100, 3}, LengthBin{200, 299, 1}), l)
	for in, want := range map[string]string{
		"100,3\n200,x\n":  "record 2: weight",
		"abc,1\n":         `length "abc"`,
		"100,0\n":         "every weight is 0",
		"100,1,2\n":       "wrong number of fields",
		"length,weight\n": "no bins",
		"0-5,1\n":         "want 1 <= lo <= hi",
	} {
		_, err := ReadLengthHistogram(strings.NewReader(in))
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), want, in)
		}
	}
}
