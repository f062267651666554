package sweep

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	vassert "github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/loadgen"
)

// Each mistake is refused before anything runs, naming the field.
func TestRunRefusesBadOptions(t *testing.T) {
	ok := Options{Mode: Concurrency, Loads: []float64{1, 2}, SLO: []string{"p(99) ttft < 1s"}}
	for _, tc := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.Mode = "qps" }, `sweep: Options.Mode "qps": want "concurrency" or "rate"`},
		{func(o *Options) { o.Search = &Search{Lo: 1, Hi: 2} }, "sweep: set exactly one of Options.Loads (a ladder) and Options.Search (bisection)"},
		{func(o *Options) { o.Loads = nil }, "sweep: set exactly one of Options.Loads"},
		{func(o *Options) { o.SLO = nil }, "sweep: no SLO: set Options.SLO or Options.Checks"},
		{func(o *Options) { o.Load.Concurrency = 3 }, "sweep: Options.Load.Concurrency and Rate are set per step: leave them 0"},
		{func(o *Options) { o.Loads = []float64{1, 2.5} }, "sweep: load 2.5 (Loads[1] or a Search bound): want a finite concurrency > 0, whole"},
		{func(o *Options) { o.Loads = []float64{2, 1} }, "sweep: Options.Loads must increase: Loads[1] = 1 after 2"},
		{func(o *Options) { o.Loads, o.Search = nil, &Search{Lo: 4, Hi: 4} }, "sweep: Options.Search: want 0 < Lo < Hi (finite) and Resolution ≥ 0, got Lo 4, Hi 4, Resolution 0"},
		{func(o *Options) { o.SLO = []string{"p(99) ttfb < 1s"} }, `ttfb`},
		{func(o *Options) { o.Checks = []vassert.Check{vassert.ErrorRateBelow(2)} }, "error_rate < 2: error_rate is a fraction from 0 to 1"},
		{func(o *Options) { o.KneeMetric = "ttft.p98" }, "sweep: Options.KneeMetric: "},
	} {
		o := ok
		tc.edit(&o)
		res, err := Run(context.Background(), o)
		assert.Nil(t, res)
		require.Error(t, err, tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// A rate step sets the open loop's rate and, by default, one second of warm-up requests (rounded up); a
// concurrency step one per worker; a negative Warmup none.
func TestStepLoad(t *testing.T) {
	r := &runner{opts: Options{Mode: Rate, Load: loadgen.LoadConfig{Requests: 10}}}
	lc := r.stepLoad(2.5)
	assert.Equal(t, 2.5, lc.Rate)
	assert.Equal(t, 0, lc.Concurrency)
	assert.Equal(t, 3, lc.Warmup)
	r.opts.Mode = Concurrency
	lc = r.stepLoad(8)
	assert.Equal(t, 8, lc.Concurrency)
	assert.Equal(t, 8, lc.Warmup)
	r.opts.Load.Warmup = -1
	assert.Equal(t, 0, r.stepLoad(8).Warmup)
	r.opts.Load.Warmup = 5
	assert.Equal(t, 5, r.stepLoad(8).Warmup)
	assert.Equal(t, "rate_2.5", stepID(Rate, 2.5))
	assert.Equal(t, "concurrency_16", stepID(Concurrency, 16))
}

func ExampleFindKnee() {
	// TTFT p99 (ms) by concurrency: flat while requests fit the server's batch, then each doubling queues.
	loads := []float64{1, 2, 4, 8, 16}
	ttft := []float64{100, 100, 100, 200, 400}
	if i, ok := FindKnee(loads, ttft, 0); ok {
		fmt.Printf("knee at concurrency %v (%v ms)\n", loads[i], ttft[i])
	}
	// Output: knee at concurrency 4 (100 ms)
}

// MaxSteps is the ladder's length, or for a search its two bounds and one midpoint per halving down to the
// resolution: rate 10..170 at the default resolution (160/16 = 10): 160, 80, 40, 20 > 10 → 2 + 4 = 6.
func TestMaxSteps(t *testing.T) {
	assert.Equal(t, 5, Options{Loads: []float64{1, 2, 4, 8, 16}}.MaxSteps())
	assert.Equal(t, 6, Options{Mode: Rate, Search: &Search{Lo: 10, Hi: 170}}.MaxSteps())
	assert.Equal(t, 2, Options{Mode: Concurrency, Search: &Search{Lo: 3, Hi: 4}}.MaxSteps())
}
