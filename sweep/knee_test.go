package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Worked by hand from the definition in FindKnee's doc.
func TestFindKnee(t *testing.T) {
	// Flat to x = 4, then rising by 1 per step: xn = (x−1)/7, yn = 0 up to x = 4, then (x−4)/4.
	// d = 0, 1/7, 2/7, 3/7, 4/7−1/4 = 0.321, 5/7−2/4 = 0.214, 6/7−3/4 = 0.107, 0.
	// S = 0: the local maximum at x = 4 (d = 0.429) is followed by 0.321 < 0.429: the knee.
	// S = 1: threshold 3/7 − 1/7 = 0.286; 0.321 is not below it, 0.214 is: still x = 4.
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	ys := []float64{10, 10, 10, 10, 20, 30, 40, 50}
	for _, s := range []float64{0, 1} {
		i, ok := FindKnee(xs, ys, s)
		assert.True(t, ok)
		assert.Equal(t, 3, i, "S=%v", s)
	}
	// S = 2: threshold 3/7 − 2/7 = 1/7; d never falls below it before the end (last d = 0 is below!):
	// d[7] = 0 < 0.143, so the knee is still found at the last point's drop.
	i, ok := FindKnee(xs, ys, 2)
	assert.True(t, ok)
	assert.Equal(t, 3, i)
	// S = 4: threshold 3/7 − 4/7 < 0: d never falls below it: no knee.
	_, ok = FindKnee(xs, ys, 4)
	assert.False(t, ok)

	// A doubling ladder 1, 2, 4, 8, 16 where latency rises past 4: xn = 0, 1/15, 3/15, 7/15, 1;
	// yn = 0, 0, 0, 1/3, 1; d = 0, 0.067, 0.2, 0.133, 0: the knee is at 4.
	i, ok = FindKnee([]float64{1, 2, 4, 8, 16}, []float64{100, 100, 100, 200, 400}, 0)
	assert.True(t, ok)
	assert.Equal(t, 2, i)

	// A straight line has d = 0 everywhere: no knee. So have flat latency, two points, and a concave curve
	// (d ≤ 0: it bends the other way).
	_, ok = FindKnee([]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}, 0)
	assert.False(t, ok)
	_, ok = FindKnee([]float64{1, 2, 3, 4}, []float64{5, 5, 5, 5}, 0)
	assert.False(t, ok)
	_, ok = FindKnee([]float64{1, 2}, []float64{1, 9}, 0)
	assert.False(t, ok)
	_, ok = FindKnee([]float64{1, 2, 3, 4}, []float64{0, 8, 9, 10}, 0)
	assert.False(t, ok)
	// Latency rising only at the last step: d = 0, 1/3, 2/3, 0; the drop at the end makes x = 3 the knee.
	i, ok = FindKnee([]float64{1, 2, 3, 4}, []float64{0, 0, 0, 1}, 0)
	assert.True(t, ok)
	assert.Equal(t, 2, i)
}
