package recorder

import (
	"math"
	"testing"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Past the exact cap a distribution moves into the sketch: count, mean, std, min and max stay exact, and the
// percentiles stay within the sketch's relative accuracy of numpy's.
func TestDistSwitchesToSketchWithinAccuracy(t *testing.T) {
	d := dist{exactCapacity: 1000}
	var all []float64
	for i := 0; i < 20000; i++ {
		// A skewed, deterministic set: 1 ms .. ~1000 ms.
		v := 1 + math.Pow(float64((i*7919)%20000)/20000, 3)*1000
		d.add(v)
		all = append(all, v)
	}
	require.True(t, d.approximate())
	got := d.stats()
	want := ComputeStats(all)
	assert.True(t, got.Approximate)
	assert.Equal(t, want.N, got.N)
	assert.InDelta(t, *want.Mean, *got.Mean, 1e-9)
	assert.InDelta(t, *want.Std, *got.Std, 1e-9)
	assert.Equal(t, *want.Min, *got.Min)
	assert.Equal(t, *want.Max, *got.Max)
	for _, pair := range [][2]*float64{{want.P50, got.P50}, {want.P90, got.P90}, {want.P95, got.P95}, {want.P99, got.P99}} {
		rel := math.Abs(*pair[1]-*pair[0]) / *pair[0]
		assert.Less(t, rel, 0.01, "want %v got %v", *pair[0], *pair[1])
	}
}

func TestDistExactBelowCap(t *testing.T) {
	d := dist{exactCapacity: 10}
	for _, v := range []float64{120, 95, 110, 400, 105, 98, 130, 101, 99, 2500, math.NaN()} {
		d.add(v)
	}
	s := d.stats()
	assert.False(t, s.Approximate)
	assert.Equal(t, 10, s.N)
	assert.InDelta(t, 2311, *s.P99, 1e-9)
}

// The sketch a dist fills is the one DDSketch.Add would fill with the same values (byte for byte, zero and
// negative values included), and its mean, M2, min and max are Welford's over the values in order, computed
// here one value at a time.
func TestDistSketchAndMomentsMatchOneAtATime(t *testing.T) {
	d := dist{exactCapacity: 100}
	ref := oneAtATime{sk: newSketch()}
	for i := 0; i < 5000; i++ {
		v := 0.01 + math.Pow(float64((i*7919)%5000)/5000, 3)*9000
		switch i {
		case 150:
			v = 0
		case 151:
			v = -3
		case 152:
			v = 1e-320 // below the mapping's indexable range: the zero bin
		}
		d.add(v)
		ref.add(t, v)
	}
	ref.check(t, &d)
	c := d.detached()
	c.add(7)
	assert.Equal(t, ref.sk.GetCount(), d.sk.GetCount(), "a detached copy adds to its own sketch")
	assert.Equal(t, ref.sk.GetCount()+1, c.sk.GetCount())
}

// addGaps fills the sketch and the moments as DDSketch.Add and Welford's update one gap at a time do: byte for
// byte, over more gaps than one batch, runs of equal gaps, gaps in neighbouring bins, zero and negative gaps,
// with the switch to the sketch inside a call.
func TestDistAddGapsMatchesOneAtATime(t *testing.T) {
	t0 := time.Now()
	ts := []time.Time{t0}
	at := t0
	for i := 0; i < 300; i++ {
		g := time.Duration(10+(i*7919)%37) * time.Millisecond
		switch {
		case i%50 < 20: // a run of equal gaps: one bin
			g = 10 * time.Millisecond
		case i%50 < 30: // creeping up by 0.1 %: pairs in one bin and in neighbouring bins
			g = 20*time.Millisecond + time.Duration(i%50-20)*20*time.Microsecond
		case i == 130:
			g = 0
		case i == 131:
			g = -3 * time.Millisecond
		}
		at = at.Add(g)
		ts = append(ts, at)
	}
	d := dist{exactCapacity: 100}
	d.addGaps(ts[:40]) // 39 gaps
	d.addGaps(ts[39:200])
	d.addGaps(ts[199:])
	ref := oneAtATime{sk: newSketch()}
	for i := 1; i < len(ts); i++ {
		v := float64(ts[i].Sub(ts[i-1])) / 1e6
		ref.add(t, v)
	}
	ref.check(t, &d)
	assert.Equal(t, 300, d.n)
	assert.Equal(t, -3.0, d.minV)
}

// oneAtATime is the reference a dist is checked against: DDSketch.Add and Welford's update, one value at a time.
type oneAtATime struct {
	sk               *ddsketch.DDSketch
	n                int
	mean, m2, lo, hi float64
}

func (o *oneAtATime) add(t *testing.T, v float64) {
	require.NoError(t, o.sk.Add(v))
	o.n++
	delta := v - o.mean
	o.mean += delta / float64(o.n)
	o.m2 += delta * (v - o.mean)
	if o.n == 1 || v < o.lo {
		o.lo = v
	}
	if o.n == 1 || v > o.hi {
		o.hi = v
	}
}

// check asserts that d's sketch encodes byte for byte as o's and that its count and moments are o's.
func (o *oneAtATime) check(t *testing.T, d *dist) {
	t.Helper()
	require.NotNil(t, d.sk)
	var got, want []byte
	d.sk.Encode(&got, true)
	o.sk.Encode(&want, true)
	assert.Equal(t, want, got)
	assert.Equal(t, o.n, d.n)
	assert.Equal(t, [4]float64{o.mean, o.m2, o.lo, o.hi}, [4]float64{d.mean, d.m2, d.minV, d.maxV})
}
