package samplers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/vmtest/vmtest/snapshot"
)

// hostReader is the gopsutil surface the system sampler uses; tests replace it.
type hostReader interface {
	cpuTimes(ctx context.Context) (cpu.TimesStat, error)
	memory(ctx context.Context) (*mem.VirtualMemoryStat, error)
	netIO(ctx context.Context) (psnet.IOCountersStat, error)
	diskIO(ctx context.Context) (map[string]disk.IOCountersStat, error)
}

type gopsutilReader struct{}

func (gopsutilReader) cpuTimes(ctx context.Context) (cpu.TimesStat, error) {
	ts, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return cpu.TimesStat{}, err
	}
	if len(ts) == 0 {
		return cpu.TimesStat{}, errors.New("cpu.Times returned no rows")
	}
	return ts[0], nil
}

func (gopsutilReader) memory(ctx context.Context) (*mem.VirtualMemoryStat, error) {
	return mem.VirtualMemoryWithContext(ctx)
}

func (gopsutilReader) netIO(ctx context.Context) (psnet.IOCountersStat, error) {
	ns, err := psnet.IOCountersWithContext(ctx, false)
	if err != nil {
		return psnet.IOCountersStat{}, err
	}
	if len(ns) == 0 {
		return psnet.IOCountersStat{}, errors.New("net.IOCounters returned no rows")
	}
	return ns[0], nil
}

func (gopsutilReader) diskIO(ctx context.Context) (map[string]disk.IOCountersStat, error) {
	return disk.IOCountersWithContext(ctx)
}

// System samples the host through gopsutil v4: CPU percent from two cpu.Times readings, memory, and
// network and disk byte counters with their rates over the interval. Create it with NewSystem.
type System struct {
	host hostReader
	now  func() time.Time

	prevCPU  *cpu.TimesStat
	prevAt   time.Time
	prevNet  *psnet.IOCountersStat
	prevDisk *[2]float64
}

// NewSystem returns the host sampler. It reads nothing until the first Sample.
func NewSystem() *System { return &System{host: gopsutilReader{}, now: time.Now} }

// Name returns "system".
func (s *System) Name() string { return "system" }

const gib = 1 << 30

// minCPUSeconds is the least CPU time (all cores) between two readings for a CPU percent: five clock ticks
// at Linux's USER_HZ of 100.
const minCPUSeconds = 0.05

// cpuTotals returns (busy, total) jiffies-seconds as psutil's cpu_percent counts them: total is every state
// except guest and guest_nice (Linux already counts those inside user and nice); busy is total − idle − iowait.
func cpuTotals(t cpu.TimesStat) (busy, total float64) {
	total = t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	return total - t.Idle - t.Iowait, total
}

// wholeDisks sums read and write bytes over devices that are not partitions of another listed device
// (sda1 of sda, nvme0n1p1 of nvme0n1) and not loop or ram devices, so no byte is counted twice.
func wholeDisks(m map[string]disk.IOCountersStat) (read, write float64) {
	for name, st := range m {
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
			continue
		}
		partition := false
		for other := range m {
			if other != name && strings.HasPrefix(name, other) {
				partition = true
				break
			}
		}
		if !partition {
			read += float64(st.ReadBytes)
			write += float64(st.WriteBytes)
		}
	}
	return read, write
}

// rate returns (cur − prev)/dt, or nil when there is no previous value, dt is not positive, or the counter
// went down (a reset is not a negative rate).
func rate(prev, cur, dt float64, havePrev bool) *float64 {
	if !havePrev || dt <= 0 || cur < prev {
		return nil
	}
	return snapshot.F((cur - prev) / dt)
}

// Sample reads the host. Each part that fails is left nil and its error joined into Reading.Err; the
// others are kept. CPUPercent and the rates are nil on the first call.
func (s *System) Sample(ctx context.Context) Reading {
	var out snapshot.System
	var errs []error
	now := s.now()
	dt := 0.0
	if !s.prevAt.IsZero() {
		dt = now.Sub(s.prevAt).Seconds()
	}

	if t, err := s.host.cpuTimes(ctx); err != nil {
		errs = append(errs, fmt.Errorf("cpu times: %w", err))
		s.prevCPU = nil
	} else {
		if s.prevCPU != nil {
			b0, t0 := cpuTotals(*s.prevCPU)
			b1, t1 := cpuTotals(t)
			// Below minCPUSeconds of CPU time (a few clock ticks) the ratio is mostly rounding: unknown, not a figure.
			if dtot := t1 - t0; dtot >= minCPUSeconds && b1 >= b0 {
				pct := math.Round((b1-b0)/dtot*100*1e6) / 1e6 // the counters are float sums: drop their noise
				out.CPUPercent = snapshot.F(min(max(pct, 0), 100))
			}
		}
		s.prevCPU = &t
	}

	if vm, err := s.host.memory(ctx); err != nil {
		errs = append(errs, fmt.Errorf("memory: %w", err))
	} else {
		out.MemoryTotalGB = snapshot.F(float64(vm.Total) / gib)
		out.MemoryAvailableGB = snapshot.F(float64(vm.Available) / gib)
		out.MemoryGB = snapshot.F(float64(vm.Total-vm.Available) / gib)
	}

	if n, err := s.host.netIO(ctx); err != nil {
		errs = append(errs, fmt.Errorf("network counters: %w", err))
		s.prevNet = nil
	} else {
		sent, recv := float64(n.BytesSent), float64(n.BytesRecv)
		out.NetworkSentBytes, out.NetworkRecvBytes = snapshot.F(sent), snapshot.F(recv)
		if p := s.prevNet; p != nil {
			out.NetworkSentBytesPerSecond = rate(float64(p.BytesSent), sent, dt, true)
			out.NetworkRecvBytesPerSecond = rate(float64(p.BytesRecv), recv, dt, true)
		}
		s.prevNet = &n
	}

	if m, err := s.host.diskIO(ctx); err != nil {
		errs = append(errs, fmt.Errorf("disk counters: %w", err))
		s.prevDisk = nil
	} else {
		rd, wr := wholeDisks(m)
		out.DiskReadBytes, out.DiskWriteBytes = snapshot.F(rd), snapshot.F(wr)
		if p := s.prevDisk; p != nil {
			out.DiskReadBytesPerSecond = rate(p[0], rd, dt, true)
			out.DiskWriteBytesPerSecond = rate(p[1], wr, dt, true)
		}
		s.prevDisk = &[2]float64{rd, wr}
	}
	s.prevAt = now
	return Reading{System: &out, Err: errors.Join(errs...)}
}
