//go:build linux

package samplers

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"
)

// hostCPUPerTick runs whole host-sampler ticks and reports this process's CPU time per tick (user + system,
// from getrusage, every thread), its share of a core at the default 2 s interval, and context switches per
// tick. With every > 0 the ticks are that far apart on the wall clock, as the collector's are, so the figure
// includes what waking up costs (cold caches, the runtime's timers); s nil is such a tick that reads nothing,
// the share of the wake-up alone. With every 0 the ticks run back to back.
func hostCPUPerTick(b *testing.B, s *System, every time.Duration) {
	ctx := context.Background()
	if s != nil {
		if r := s.Sample(ctx); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	cpu0, csw0 := benchRusage(b)
	start, ticks := time.Now(), 0
	for b.Loop() {
		ticks++
		if every > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(ticks) * every)))
		}
		if s == nil {
			continue
		}
		if r := s.Sample(ctx); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	cpu1, csw1 := benchRusage(b)
	perTick := float64((cpu1 - cpu0).Nanoseconds()) / float64(ticks)
	b.ReportMetric(perTick/1e6, "cpu-ms/tick")
	b.ReportMetric(100*perTick/float64(2*time.Second), "%core@2s")
	b.ReportMetric(float64(csw1-csw0)/float64(ticks), "ctxsw/tick")
}

func benchRusage(b *testing.B) (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), int64(ru.Nvcsw + ru.Nivcsw)
}

// BenchmarkSystemCPUPerTick is one tick of the host sampler as NewSystem builds it, ticks back to back.
func BenchmarkSystemCPUPerTick(b *testing.B) { hostCPUPerTick(b, NewSystem(), 0) }

// BenchmarkSystemCPUPer2sTick is BenchmarkSystemCPUPerTick with the ticks 2 s apart (each op is 2 s: run with
// e.g. -benchtime=15x); BenchmarkIdleCPUPer2sTick is the same wake-ups reading nothing, to subtract.
func BenchmarkSystemCPUPer2sTick(b *testing.B) { hostCPUPerTick(b, NewSystem(), 2*time.Second) }

// BenchmarkIdleCPUPer2sTick: see BenchmarkSystemCPUPer2sTick.
func BenchmarkIdleCPUPer2sTick(b *testing.B) { hostCPUPerTick(b, nil, 2*time.Second) }

// BenchmarkSystemCPUPerTickGopsutil is the reference: the same ticks read through gopsutil v4, as the
// sampler did before it read procfs itself.
func BenchmarkSystemCPUPerTickGopsutil(b *testing.B) {
	hostCPUPerTick(b, &System{host: gopsutilBench{}, now: time.Now}, 0)
}

// BenchmarkSystemCPUPer2sTickGopsutil is the reference for BenchmarkSystemCPUPer2sTick.
func BenchmarkSystemCPUPer2sTickGopsutil(b *testing.B) {
	hostCPUPerTick(b, &System{host: gopsutilBench{}, now: time.Now}, 2*time.Second)
}

type gopsutilBench struct{}

func (gopsutilBench) cpuTimes(ctx context.Context) (cpu.TimesStat, error) {
	ts, err := cpu.TimesWithContext(ctx, false)
	if err != nil || len(ts) == 0 {
		return cpu.TimesStat{}, errors.Join(err, errors.New("no cpu row"))
	}
	return ts[0], nil
}

func (gopsutilBench) memory(ctx context.Context) (*mem.VirtualMemoryStat, error) {
	return mem.VirtualMemoryWithContext(ctx)
}

func (gopsutilBench) netIO(ctx context.Context) (psnet.IOCountersStat, error) {
	ns, err := psnet.IOCountersWithContext(ctx, false)
	if err != nil || len(ns) == 0 {
		return psnet.IOCountersStat{}, errors.Join(err, errors.New("no net row"))
	}
	return ns[0], nil
}

func (gopsutilBench) diskIO(ctx context.Context) (map[string]disk.IOCountersStat, error) {
	return disk.IOCountersWithContext(ctx)
}
