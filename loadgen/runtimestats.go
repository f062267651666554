package loadgen

import (
	"math"
	"runtime/metrics"
	"time"
)

// Names of the runtime/metrics the driver reads.
const (
	metricSchedLatencies = "/sched/latencies:seconds"
	metricCPUUser        = "/cpu/classes/user:cpu-seconds"
	metricCPUGC          = "/cpu/classes/gc/total:cpu-seconds"
	metricCPUScavenge    = "/cpu/classes/scavenge/total:cpu-seconds"
)

// runtimeCPU is the Go runtime's estimate of CPU time spent by Go code, the GC and the scavenger.
func runtimeCPU() time.Duration {
	s := []metrics.Sample{{Name: metricCPUUser}, {Name: metricCPUGC}, {Name: metricCPUScavenge}}
	metrics.Read(s)
	var sec float64
	for _, x := range s {
		if x.Value.Kind() == metrics.KindFloat64 {
			sec += x.Value.Float64()
		}
	}
	return time.Duration(sec * float64(time.Second))
}

// schedSnapshot is a copy of the cumulative /sched/latencies:seconds histogram: how long goroutines waited in
// the run queue before running.
type schedSnapshot struct {
	counts  []uint64
	buckets []float64
}

func readSched() schedSnapshot {
	s := []metrics.Sample{{Name: metricSchedLatencies}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return schedSnapshot{}
	}
	h := s[0].Value.Float64Histogram()
	return schedSnapshot{counts: append([]uint64(nil), h.Counts...), buckets: h.Buckets}
}

// schedQuantiles returns the q-quantiles of the scheduling latencies observed between before and after, each
// as the upper bound of the histogram bucket it falls in (the lower bound for the +Inf bucket), and the
// upper bound of the highest non-empty bucket as the maximum. ok is false when nothing was observed.
func schedQuantiles(before, after schedSnapshot, qs ...float64) (quant []time.Duration, max time.Duration, ok bool) {
	if len(after.counts) == 0 || len(before.counts) != len(after.counts) {
		return nil, 0, false
	}
	delta := make([]uint64, len(after.counts))
	var total uint64
	for i := range delta {
		delta[i] = after.counts[i] - before.counts[i]
		total += delta[i]
	}
	if total == 0 {
		return nil, 0, false
	}
	bound := func(i int) time.Duration {
		b := after.buckets[i+1]
		if math.IsInf(b, 1) {
			b = after.buckets[i]
		}
		return time.Duration(b * float64(time.Second))
	}
	quant = make([]time.Duration, len(qs))
	for k, q := range qs {
		rank := uint64(math.Ceil(q * float64(total)))
		if rank < 1 {
			rank = 1
		}
		var cum uint64
		for i, c := range delta {
			cum += c
			if cum >= rank {
				quant[k] = bound(i)
				break
			}
		}
	}
	for i := len(delta) - 1; i >= 0; i-- {
		if delta[i] > 0 {
			max = bound(i)
			break
		}
	}
	return quant, max, true
}
