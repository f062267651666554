package samplers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeHost struct {
	cpu    []cpu.TimesStat
	mem    mem.VirtualMemoryStat
	net    []psnet.IOCountersStat
	disk   []map[string]disk.IOCountersStat
	i      int
	netErr error
	cpuErr error
}

func (f *fakeHost) cpuTimes(context.Context) (cpu.TimesStat, error) {
	if f.cpuErr != nil {
		return cpu.TimesStat{}, f.cpuErr
	}
	return f.cpu[f.i], nil
}
func (f *fakeHost) memory(context.Context) (*mem.VirtualMemoryStat, error) {
	m := f.mem
	return &m, nil
}
func (f *fakeHost) netIO(context.Context) (psnet.IOCountersStat, error) {
	if f.netErr != nil {
		return psnet.IOCountersStat{}, f.netErr
	}
	return f.net[f.i], nil
}
func (f *fakeHost) diskIO(context.Context) (map[string]disk.IOCountersStat, error) {
	return f.disk[f.i], nil
}

func TestSystemSamplerComputesRatesFromTwoReadings(t *testing.T) {
	f := &fakeHost{
		// Between the two readings: busy = (30−10)+(15−5)+(1−0)+(2−1)=32 (user, system, irq, steal),
		// idle +60, iowait +8 → total 100; CPU% = 32/100·100 = 32.
		cpu: []cpu.TimesStat{
			{User: 10, System: 5, Idle: 100, Iowait: 2, Irq: 0, Steal: 1, Guest: 3},
			{User: 30, System: 15, Idle: 160, Iowait: 10, Irq: 1, Steal: 2, Guest: 50},
		},
		mem: mem.VirtualMemoryStat{Total: 64 << 30, Available: 48 << 30},
		net: []psnet.IOCountersStat{{BytesSent: 1000, BytesRecv: 5000}, {BytesSent: 3000, BytesRecv: 4000}},
		disk: []map[string]disk.IOCountersStat{
			{"sda": {ReadBytes: 100, WriteBytes: 200}, "sda1": {ReadBytes: 100, WriteBytes: 200}, "loop0": {ReadBytes: 9999}},
			{"sda": {ReadBytes: 500, WriteBytes: 600}, "sda1": {ReadBytes: 500, WriteBytes: 600}, "loop0": {ReadBytes: 99999}},
		},
	}
	clock := time.Unix(1000, 0)
	s := &System{host: f, now: func() time.Time { return clock }}

	r := s.Sample(context.Background())
	require.NoError(t, r.Err)
	require.NotNil(t, r.System)
	assert.Nil(t, r.System.CPUPercent, "first reading has no CPU percent")
	assert.Nil(t, r.System.NetworkSentBytesPerSecond)
	assert.Nil(t, r.System.RateIntervalS, "first reading: no interval")
	assert.InDelta(t, 16.0, *r.System.MemoryGB, 1e-9)
	assert.InDelta(t, 48.0, *r.System.MemoryAvailableGB, 1e-9)
	assert.InDelta(t, 64.0, *r.System.MemoryTotalGB, 1e-9)
	assert.InDelta(t, 100.0, *r.System.DiskReadBytes, 0, "partitions and loop devices are not double counted")

	f.i, clock = 1, clock.Add(2*time.Second)
	r = s.Sample(context.Background())
	require.NoError(t, r.Err)
	assert.InDelta(t, 32.0, *r.System.CPUPercent, 1e-9)
	require.NotNil(t, r.System.RateIntervalS)
	assert.Equal(t, 2.0, *r.System.RateIntervalS, "CPU percent and rates over the 2 s since the previous reading")
	assert.InDelta(t, 1000.0, *r.System.NetworkSentBytesPerSecond, 1e-9) // (3000−1000)/2 s
	assert.Nil(t, r.System.NetworkRecvBytesPerSecond, "a counter that went down is a reset, not a negative rate")
	assert.InDelta(t, 200.0, *r.System.DiskReadBytesPerSecond, 1e-9) // (500−100)/2 s
	assert.InDelta(t, 200.0, *r.System.DiskWriteBytesPerSecond, 1e-9)
}

func TestSystemSamplerKeepsOtherPartsWhenOneFails(t *testing.T) {
	f := &fakeHost{
		cpu:    []cpu.TimesStat{{User: 1, Idle: 1}},
		mem:    mem.VirtualMemoryStat{Total: 8 << 30, Available: 2 << 30},
		disk:   []map[string]disk.IOCountersStat{{"nvme0n1": {ReadBytes: 7}, "nvme0n1p1": {ReadBytes: 7}}},
		netErr: errors.New("no /proc/net/dev"),
	}
	s := &System{host: f, now: time.Now}
	r := s.Sample(context.Background())
	require.Error(t, r.Err)
	assert.Contains(t, r.Err.Error(), "network counters: no /proc/net/dev")
	assert.Nil(t, r.System.NetworkSentBytes)
	assert.InDelta(t, 6.0, *r.System.MemoryGB, 1e-9)
	assert.InDelta(t, 7.0, *r.System.DiskReadBytes, 0)
}

// The real gopsutil path on this machine: values present and sane.
func TestSystemSamplerRealHost(t *testing.T) {
	s := NewSystem()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r := s.Sample(ctx)
	require.NotNil(t, r.System)
	require.NotNil(t, r.System.MemoryTotalGB, "err: %v", r.Err)
	assert.Greater(t, *r.System.MemoryTotalGB, 0.1)
	// Wait until the host has counted ≥ minCPUSeconds of CPU time (all cores) since the first reading.
	t0, err := s.host.cpuTimes(ctx)
	require.NoError(t, err)
	for {
		t1, err := s.host.cpuTimes(ctx)
		require.NoError(t, err)
		if _, total := cpuDelta(t0, t1); total >= 2*minCPUSeconds {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r = s.Sample(ctx)
	require.NotNil(t, r.System.CPUPercent, "err: %v", r.Err)
	assert.GreaterOrEqual(t, *r.System.CPUPercent, 0.0)
	assert.LessOrEqual(t, *r.System.CPUPercent, 100.0)
}

func TestWholeDisksCountsEachByteOnce(t *testing.T) {
	d := func(r uint64) disk.IOCountersStat { return disk.IOCountersStat{ReadBytes: r} }
	read, _ := wholeDisks(map[string]disk.IOCountersStat{
		"sda": d(100), "sda1": d(60), "sda2": d(40), // a disk and its partitions: 100
		"sdaa":    d(1000),                         // another disk, not a partition of sda: 1000
		"nvme0n1": d(10000), "nvme0n1p1": d(10000), // 10000
		"nvme0n10": d(100000),                                                      // another namespace, not a partition of nvme0n1: 100000
		"dm-0":     d(7), "dm-10": d(7), "md0": d(7), "loop3": d(7), "zram0": d(7), // virtual: 0
	})
	assert.Equal(t, 111100.0, read)
	assert.True(t, isPartition("mmcblk0p1", "mmcblk0"))
	assert.False(t, isPartition("mmcblk01", "mmcblk0"))
	assert.False(t, isPartition("sda", "sda"))
}

// A CPU percent from less than minCPUSeconds of CPU time (the run's last, short interval) is unknown: 7 clock
// ticks between two readings (0.07 CPU-s: 35 ms on 2 cores) all idle would read 0 %, a figure of rounding.
// 50 ticks (0.5 CPU-s) give one: 10 busy of 50 → 20 %.
func TestSystemCPUPercentNeedsEnoughCPUTime(t *testing.T) {
	f := &fakeHost{
		cpu: []cpu.TimesStat{{User: 10, Idle: 100}, {User: 10, Idle: 100.07}, {User: 10.1, Idle: 100.47}},
		mem: mem.VirtualMemoryStat{Total: 8 << 30, Available: 4 << 30},
		net: []psnet.IOCountersStat{{}, {}, {}}, disk: []map[string]disk.IOCountersStat{{}, {}, {}},
	}
	clock := time.Unix(1000, 0)
	s := &System{host: f, now: func() time.Time { return clock }}
	s.Sample(context.Background())
	f.i, clock = 1, clock.Add(35*time.Millisecond)
	r := s.Sample(context.Background())
	assert.Nil(t, r.System.CPUPercent, "0.07 CPU-s")
	f.i, clock = 2, clock.Add(250*time.Millisecond)
	r = s.Sample(context.Background())
	require.NotNil(t, r.System.CPUPercent, "0.5 CPU-s since the reading before")
	assert.InDelta(t, 20.0, *r.System.CPUPercent, 1e-9)
}

// A state counter that steps back (idle in a VM's or sandbox's /proc/stat) counts as 0, as psutil clamps it:
// user +0.6, system +0.2, iowait +0.2, idle −0.1 → 0.8 busy of 1.0 CPU-s = 80 % (CI's sandbox once gave no
// figure at all, its busy time having "fallen").
func TestSystemCPUPercentClampsCountersThatStepBack(t *testing.T) {
	f := &fakeHost{
		cpu: []cpu.TimesStat{{User: 10, System: 5, Idle: 100, Iowait: 5}, {User: 10.6, System: 5.2, Idle: 99.9, Iowait: 5.2}},
		net: make([]psnet.IOCountersStat, 2), disk: make([]map[string]disk.IOCountersStat, 2),
	}
	clock := time.Unix(1000, 0)
	s := &System{host: f, now: func() time.Time { return clock }}
	s.Sample(context.Background())
	f.i, clock = 1, clock.Add(time.Second)
	r := s.Sample(context.Background())
	require.NotNil(t, r.System.CPUPercent)
	assert.InDelta(t, 80.0, *r.System.CPUPercent, 1e-9)
}

// A failed CPU reading leaves no base: the next CPU percent is nil rather than one spanning two intervals, so
// every CPU percent covers RateIntervalS, the time since the sampler's previous reading.
func TestSystemSamplerCPUPercentNeverSpansAFailedReading(t *testing.T) {
	f := &fakeHost{
		cpu: []cpu.TimesStat{{User: 10, Idle: 90}, {}, {User: 20, Idle: 180}, {User: 80, Idle: 220}},
		net: make([]psnet.IOCountersStat, 4), disk: make([]map[string]disk.IOCountersStat, 4),
	}
	clock := time.Unix(1000, 0)
	s := &System{host: f, now: func() time.Time { return clock }}
	r := s.Sample(context.Background())
	require.NoError(t, r.Err)

	f.i, f.cpuErr, clock = 1, errors.New("no /proc/stat"), clock.Add(2*time.Second)
	r = s.Sample(context.Background())
	require.Error(t, r.Err)
	assert.Nil(t, r.System.CPUPercent)

	f.i, f.cpuErr, clock = 2, nil, clock.Add(2*time.Second)
	r = s.Sample(context.Background())
	require.NoError(t, r.Err)
	assert.Nil(t, r.System.CPUPercent, "no base after the failed reading: not a percent over 4 s")
	assert.Equal(t, 2.0, *r.System.RateIntervalS)

	f.i, clock = 3, clock.Add(1500*time.Millisecond)
	r = s.Sample(context.Background())
	require.NoError(t, r.Err)
	// busy +60, idle +40: 60 %, over the 1.5 s since the previous reading.
	assert.InDelta(t, 60.0, *r.System.CPUPercent, 1e-9)
	assert.Equal(t, 1.5, *r.System.RateIntervalS)
}
