package loadgen

import (
	"math"
	"math/rand/v2"
	"time"
)

// arrivals draws the inter-arrival gaps of an open-loop schedule: Gamma(shape=burstiness,
// scale=1/(rate·burstiness)), as vLLM's `bench serve` does. The mean gap is 1/rate whatever the burstiness;
// the coefficient of variation is 1/√burstiness (burstiness 1: a Poisson process, exponential gaps; below 1:
// burstier; above 1: more regular).
type arrivals struct {
	rng        *rand.Rand
	rate       float64
	burstiness float64
}

func newArrivals(rate, burstiness float64, seed uint64) *arrivals {
	return &arrivals{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rate: rate, burstiness: burstiness}
}

// next returns the next gap in seconds.
func (a *arrivals) next() float64 {
	if a.burstiness == 1 {
		return a.rng.ExpFloat64() / a.rate
	}
	return gammaVariate(a.rng, a.burstiness) / (a.rate * a.burstiness)
}

// nextDuration returns the next gap as a Duration.
func (a *arrivals) nextDuration() time.Duration {
	return time.Duration(a.next() * float64(time.Second))
}

// gammaVariate draws from Gamma(shape, 1) with Marsaglia and Tsang's method ("A simple method for generating
// gamma variables", ACM TOMS 26(3), 2000); shapes below 1 use the boost Gamma(shape+1)·U^(1/shape).
func gammaVariate(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := rng.Float64()
		for u == 0 {
			u = rng.Float64()
		}
		return gammaVariate(rng, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
