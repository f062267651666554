//go:build unix

package samplers

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// smiCPUPerTick takes b.N ticks every 2 s (the default interval, in real time: a tick's cost after 2 s idle
// is not the cost of a hot loop) and reports this process's CPU per tick from getrusage(RUSAGE_SELF):
// user+system of every thread, the Go runtime's own wake-ups included. s nil measures the idle process alone.
// child-cpu-ns/tick is what the reaped children used (for the fake: its shell, and a cat and a sleep per
// loop iteration, and the compute-apps calls), reported so that nothing is hidden; real nvidia-smi costs
// differ.
func smiCPUPerTick(b *testing.B, s *GPUSampler) {
	const tick = 2 * time.Second
	ctx := context.Background()
	if s != nil {
		if r := s.Sample(ctx); r.Err != nil || len(r.GPU) != 8 {
			b.Fatal(r.Err, len(r.GPU))
		}
	}
	self0, child0 := smiRusage(b, syscall.RUSAGE_SELF), smiRusage(b, syscall.RUSAGE_CHILDREN)
	start, ticks := time.Now(), 0
	for b.Loop() {
		ticks++
		time.Sleep(time.Until(start.Add(time.Duration(ticks) * tick)))
		if s == nil {
			continue
		}
		c, cancel := context.WithTimeout(ctx, tick*3/4)
		r := s.Sample(c)
		cancel()
		if r.Err != nil || len(r.GPU) != 8 {
			b.Fatal(r.Err, len(r.GPU))
		}
	}
	self := smiRusage(b, syscall.RUSAGE_SELF) - self0
	if s != nil {
		_ = s.Close() // reaps the loop, so that its CPU is counted in RUSAGE_CHILDREN
	}
	child := smiRusage(b, syscall.RUSAGE_CHILDREN) - child0
	perTick := float64(self.Nanoseconds()) / float64(ticks)
	b.ReportMetric(perTick, "cpu-ns/tick")
	b.ReportMetric(100*perTick/float64(tick), "%core@2s")
	b.ReportMetric(float64(child.Nanoseconds())/float64(ticks), "child-cpu-ns/tick")
}

// BenchmarkSMICPUPerTick is the nvidia-smi source's cost to this process at the default interval: a loop-mode
// fake printing 8 H200 rows every 2 s, one Sample per 2 s tick, the compute processes refreshed every 5th
// tick. Subtract BenchmarkSMICPUPerTickIdle (the same process with no sampler) for the source's own share.
// Each op is a 2 s tick: run with e.g. -benchtime=15x.
func BenchmarkSMICPUPerTick(b *testing.B) {
	s, _ := smiLoopSampler(b, smiBenchFake(b), 2*time.Second, nil)
	smiCPUPerTick(b, s)
}

// BenchmarkSMICPUPerTickIdle is BenchmarkSMICPUPerTick's baseline: the same 2 s ticks with nothing sampled.
func BenchmarkSMICPUPerTickIdle(b *testing.B) { smiCPUPerTick(b, nil) }

func smiRusage(b *testing.B, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
