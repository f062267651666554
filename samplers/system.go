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

// hostReader is what the system sampler reads, in gopsutil's types: procfs directly on Linux
// (system_linux.go), gopsutil elsewhere (system_other.go); tests replace it.
type hostReader interface {
	cpuTimes(ctx context.Context) (cpu.TimesStat, error)
	memory(ctx context.Context) (*mem.VirtualMemoryStat, error)
	netIO(ctx context.Context) (psnet.IOCountersStat, error)
	diskIO(ctx context.Context) (map[string]disk.IOCountersStat, error)
}

// System samples the host (procfs on Linux, gopsutil v4 elsewhere, with gopsutil's meanings): CPU percent
// from two cpu.Times readings, memory, and network and disk byte counters with their rates over the
// interval; on Linux also the memory and CPU use, limit and quota of the process's cgroup (v2 or v1).
// Create it with NewSystem.
type System struct {
	host hostReader
	cg   *cgroupReader // nil outside Linux
	now  func() time.Time

	prevCPU  *cpu.TimesStat
	prevAt   time.Time
	prevNet  *psnet.IOCountersStat
	prevDisk *[2]float64
}

// NewSystem returns the host sampler. It reads nothing until the first Sample.
func NewSystem() *System {
	return &System{host: newHostReader(), cg: newCgroupReader("/"), now: time.Now}
}

// Name returns "system".
func (s *System) Name() string { return "system" }

const gib = 1 << 30

// minCPUSeconds is the least CPU time (all cores) between two readings for a CPU percent: 10 clock ticks at
// Linux's USER_HZ of 100, so that the ticks' rounding moves the figure by at most ~10 points. A 2 s interval
// on one core has 200, 100 ms on 1 core still 10; the last, short interval of a run (a final reading a few
// ms after a tick) has a few, and its CPU percent is unknown rather than a figure made of rounding (its
// rate_interval_s shows how short it was; the summary leaves such intervals out).
const minCPUSeconds = 0.1

// cpuDelta returns the (busy, total) CPU-seconds between two readings as psutil's cpu_percent counts them:
// total is every state except guest and guest_nice (Linux already counts those inside user and nice); busy is
// total − idle − iowait. Each state's change is clamped at 0, as psutil does: idle and iowait can step back
// (a VM's or sandbox's /proc/stat, CPU hotplug), which would otherwise make busy time negative.
func cpuDelta(a, b cpu.TimesStat) (busy, total float64) {
	d := func(x, y float64) float64 { return max(y-x, 0) }
	idle := d(a.Idle, b.Idle) + d(a.Iowait, b.Iowait)
	busy = d(a.User, b.User) + d(a.System, b.System) + d(a.Nice, b.Nice) + d(a.Irq, b.Irq) +
		d(a.Softirq, b.Softirq) + d(a.Steal, b.Steal)
	return busy, busy + idle
}

// wholeDisks sums read and write bytes over physical whole disks, so no byte is counted twice: it leaves
// out partitions of another listed device (isPartition), and virtual block devices that sit on top of the
// physical ones or in memory (loop, ram, zram, device-mapper dm-*, software RAID md*).
func wholeDisks(m map[string]disk.IOCountersStat) (read, write float64) {
	for name, st := range m {
		if virtualDisk(name) {
			continue
		}
		partition := false
		for other := range m {
			if other != name && isPartition(name, other) {
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

func virtualDisk(name string) bool {
	for _, p := range []string{"loop", "ram", "zram", "dm-", "md"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// isPartition reports whether name is a partition of disk, by the kernel's naming: the disk name followed by
// a number when the disk name ends in a letter (sda → sda1, vdb → vdb2), or by "p" and a number when it ends
// in a digit (nvme0n1 → nvme0n1p1, mmcblk0 → mmcblk0p1). So nvme0n10 is not a partition of nvme0n1, nor sdaa
// of sda.
func isPartition(name, disk string) bool {
	rest, ok := strings.CutPrefix(name, disk)
	if !ok || rest == "" || disk == "" {
		return false
	}
	if last := disk[len(disk)-1]; last >= '0' && last <= '9' {
		if rest, ok = strings.CutPrefix(rest, "p"); !ok {
			return false
		}
	}
	if rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
// others are kept. CPUPercent and the rates are over the interval since the previous call, whose length is
// RateIntervalS; they are nil on the first call, and a part's figure is nil on the call after that part failed.
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
			busy, dtot := cpuDelta(*s.prevCPU, t)
			// Below minCPUSeconds of CPU time (a few clock ticks) the ratio is mostly rounding: unknown, not a figure.
			if dtot >= minCPUSeconds {
				pct := math.Round(busy/dtot*100*1e6) / 1e6 // the counters are float sums: drop their noise
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
	if s.cg != nil {
		if err := s.cg.sample(&out, dt); err != nil {
			errs = append(errs, fmt.Errorf("cgroup: %w", err))
		}
	}
	if dt > 0 {
		// Every rate above is over (prevAt, now]: a part that failed last time left no base (nil prev), so none
		// spans a longer interval.
		out.RateIntervalS = snapshot.F(dt)
	}
	s.prevAt = now
	return Reading{System: &out, Err: errors.Join(errs...)}
}
