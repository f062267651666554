package samplers

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vmtest/vmtest/snapshot"
)

// gpuMeasured lists a GPU reading's measured fields by JSON name, as Unavailable keys them.
func gpuMeasured(g *snapshot.GPU) map[string]*float64 {
	return map[string]*float64{
		GPUFieldUtilization: g.Utilization, GPUFieldMemoryUtilization: g.MemoryUtilizationPercent,
		GPUFieldMemoryUsedMB: g.MemoryUsedMB, GPUFieldMemoryFreeMB: g.MemoryFreeMB, GPUFieldMemoryTotalMB: g.MemoryTotalMB,
		GPUFieldTempC: g.TempC, GPUFieldPowerW: g.PowerW, GPUFieldSMClockMHz: g.SMClockMHz,
		GPUFieldMemoryClockMHz: g.MemoryClockMHz, GPUFieldEnergyJ: g.EnergyJ,
	}
}

// checkGPU fails t unless g keeps vmtest's rules for a reading: every value finite (a snapshot must encode
// as JSON), every unknown value nil with its reason in Unavailable, utilization a percentage.
func checkGPU(t *testing.T, key string, g snapshot.GPU) {
	t.Helper()
	for field, v := range gpuMeasured(&g) {
		switch {
		case v == nil && g.Unavailable[field] == "":
			t.Fatalf("%s: %s is null without a reason (unavailable: %v)", key, field, g.Unavailable)
		case v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)):
			t.Fatalf("%s: %s = %v", key, field, *v)
		}
	}
	for i, m := range g.MIGDevices {
		for field, v := range map[string]*float64{"utilization": m.Utilization, GPUFieldMemoryUsedMB: m.MemoryUsedMB,
			GPUFieldMemoryFreeMB: m.MemoryFreeMB, GPUFieldMemoryTotalMB: m.MemoryTotalMB} {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
				t.Fatalf("%s MIG device %d: %s = %v", key, i, field, *v)
			}
		}
	}
	if _, err := json.Marshal(g); err != nil {
		t.Fatalf("%s does not encode: %v", key, err)
	}
}

// FuzzParseSMI: whatever nvidia-smi prints, the parsers keep the rules of a reading (checkGPU), key each GPU
// by its index, take at most one GPU per line and one process per line, and give every GPU a process list.
// Seeds: the query output of each capture in testdata/nvidia-smi, idle and under load.
func FuzzParseSMI(f *testing.F) {
	captures, _ := filepath.Glob(filepath.Join("..", "testdata", "nvidia-smi", "*.txt"))
	for _, c := range captures {
		for _, state := range []string{"idle", "load"} {
			gpus, apps := smiCaptureOutput(f, filepath.Base(c), state)
			f.Add([]byte(gpus), []byte(apps))
		}
	}
	f.Add([]byte("0, GPU-x, H200, NaN, Inf, -Inf, 1e999, [N/A], [Not Supported], N/A, \"1\n2\", 0x44, x\n"), []byte("GPU-x, 1, NaN\n"))
	f.Fuzz(func(t *testing.T, gpusOut, appsOut []byte) {
		gpus, _ := parseSMIGPUs(gpusOut)
		apps, _ := parseSMIApps(appsOut)
		if lines := bytes.Count(gpusOut, []byte("\n")) + 1; len(gpus) > lines {
			t.Fatalf("%d GPUs from %d lines", len(gpus), lines)
		}
		if lines := strings.Count(string(appsOut), "\n") + 1; len(apps) > lines {
			t.Fatalf("%d processes from %d lines", len(apps), lines)
		}
		attachSMIProcesses(gpus, apps)
		for k, g := range gpus {
			if k != GPUKey("", g.Index) {
				t.Fatalf("GPU %d keyed %q", g.Index, k)
			}
			if g.Processes == nil {
				t.Fatalf("%s: no process list", k)
			}
			checkGPU(t, k, g)
		}
	})
}

// FuzzParseDCGM: whatever a dcgm-exporter sends, the parser either refuses it or returns GPUs that keep the
// rules of a reading (checkGPU), a utilization in 0..100, at most one GPU per series line, and the same
// result when parsed again. Seeds: the first 2 KB of every capture in testdata/dcgm.
func FuzzParseDCGM(f *testing.F) {
	captures, _ := filepath.Glob(filepath.Join("..", "testdata", "dcgm", "*.prom"))
	for _, c := range captures {
		b, err := os.ReadFile(c)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 2048 { // the coverage-guided engine stalls on 10 KB seeds: their first lines, at a line's end
			b = b[:bytes.LastIndexByte(b[:2048], '\n')+1]
		}
		f.Add(b)
	}
	f.Add([]byte("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} NaN\nDCGM_FI_DEV_FB_USED{gpu=\"0\",GPU_I_ID=\"1\",GPU_I_PROFILE=\"1g.10gb\"} -5\n" +
		"DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"0\",GPU_I_ID=\"1\"} 2\nDCGM_FI_DEV_POWER_USAGE{gpu=\"1\"} +Inf\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		gpus, err := parseDCGM(bytes.NewReader(body))
		if err != nil {
			return
		}
		if lines := bytes.Count(body, []byte("\n")) + 1; len(gpus) > lines {
			t.Fatalf("%d GPUs from %d lines", len(gpus), lines)
		}
		for idx, g := range gpus {
			key := GPUKey("", idx)
			checkGPU(t, key, g)
			if u := g.Utilization; u != nil && (*u < 0 || *u > 100) {
				t.Fatalf("%s: utilization %v%%", key, *u)
			}
			for i, m := range g.MIGDevices {
				if u := m.Utilization; u != nil && (*u < 0 || *u > 100) {
					t.Fatalf("%s MIG device %d: utilization %v%%", key, i, *u)
				}
			}
		}
		again, err := parseDCGM(bytes.NewReader(body))
		if err != nil || !reflect.DeepEqual(again, gpus) {
			t.Fatalf("a second parse differs (%v)", err)
		}
	})
}
