//go:build linux && cgo

package nvml

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

// TestGPUCheck samples a real GPU through NVML and through nvidia-smi side by side and prints both, once a
// second for VMTEST_GPU_CHECK_SECONDS (default 10). It runs only when VMTEST_GPU_CHECK=1
// (scripts/gpu-check.sh sets it and puts load on the GPU meanwhile).
func TestGPUCheck(t *testing.T) {
	if os.Getenv("VMTEST_GPU_CHECK") != "1" {
		t.Skip("set VMTEST_GPU_CHECK=1 on a GPU machine (scripts/gpu-check.sh)")
	}
	seconds := 10
	if v := os.Getenv("VMTEST_GPU_CHECK_SECONDS"); v != "" {
		_, err := fmt.Sscan(v, &seconds)
		require.NoError(t, err)
	}
	nv, err := samplers.NewGPU(samplers.GPUConfig{Source: samplers.GPUSourceNVML})
	require.NoError(t, err)
	defer nv.Close()
	smi, err := samplers.NewGPU(samplers.GPUConfig{Source: samplers.GPUSourceNvidiaSMI, Interval: time.Second})
	require.NoError(t, err)
	defer smi.Close()
	require.Equal(t, samplers.GPUSourceNVML, nv.Source(), "NVML did not initialize: %v", nv.Reason())
	require.Equal(t, samplers.GPUSourceNvidiaSMI, smi.Source(), "nvidia-smi not usable: %v", smi.Reason())

	f := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprintf("%.1f", *p)
	}
	row := func(src, key string, g snapshot.GPU) string {
		return fmt.Sprintf("%-10s %-6s util=%-6s memutil=%-5s used=%-9s free=%-9s total=%-9s temp=%-5s power=%-7s sm=%-7s mem=%-7s energy_j=%-9s throttle=%v procs=%d unavailable=%v",
			src, key, f(g.Utilization), f(g.MemoryUtilizationPercent), f(g.MemoryUsedMB), f(g.MemoryFreeMB), f(g.MemoryTotalMB),
			f(g.TempC), f(g.PowerW), f(g.SMClockMHz), f(g.MemoryClockMHz), f(g.EnergyJ), g.ThrottleReasons, len(g.Processes), g.Unavailable)
	}
	var nvmlErrs, smiErrs int
	for i := 0; i < seconds; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 900*time.Millisecond)
		t0 := time.Now()
		a := nv.Sample(ctx)
		da := time.Since(t0)
		t1 := time.Now()
		b := smi.Sample(ctx)
		db := time.Since(t1)
		cancel()
		fmt.Printf("--- t=%ds  nvml %v  nvidia-smi %v\n", i, da.Round(time.Microsecond), db.Round(time.Microsecond))
		if a.Err != nil {
			nvmlErrs++
			fmt.Println("nvml error:", a.Err)
		}
		if b.Err != nil {
			smiErrs++
			fmt.Println("nvidia-smi error:", b.Err)
		}
		for _, e := range append(a.Events, b.Events...) {
			fmt.Println("event:", e.Message)
		}
		keys := map[string]bool{}
		for k := range a.GPU {
			keys[k] = true
		}
		for k := range b.GPU {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			if g, ok := a.GPU[k]; ok {
				fmt.Println(row("nvml", k, g))
				for _, m := range g.MIGDevices {
					id := func(p *int) string {
						if p == nil {
							return "null"
						}
						return fmt.Sprint(*p)
					}
					fmt.Printf("%-10s %-6s   MIG dev=%s gi=%s ci=%s %s %s used=%s free=%s total=%s unavailable=%v\n", "nvml", k,
						id(m.Index), id(m.GPUInstanceID), id(m.ComputeInstanceID), m.Profile, m.UUID,
						f(m.MemoryUsedMB), f(m.MemoryFreeMB), f(m.MemoryTotalMB), m.Unavailable)
				}
			}
			if g, ok := b.GPU[k]; ok {
				fmt.Println(row("nvidia-smi", k, g))
			}
		}
		time.Sleep(time.Until(t0.Add(time.Second)))
	}
	fmt.Println(strings.Repeat("-", 20), "errors: nvml", nvmlErrs, "nvidia-smi", smiErrs)
	require.Zero(t, nvmlErrs)
	require.Zero(t, smiErrs)
}
