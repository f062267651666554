//go:build !linux

package samplers

import (
	"context"
	"errors"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"
)

func newHostReader() hostReader { return gopsutilReader{} }

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
