package samplers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

func dcgmCapture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "dcgm", name))
	require.NoError(t, err)
	return string(b)
}

func dcgmServe(t testing.TB, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func dcgmSampler(t *testing.T, urls ...string) *GPUSampler {
	t.Helper()
	s, err := NewGPU(GPUConfig{Source: GPUSourceDCGM, DCGMURLs: urls})
	require.NoError(t, err)
	require.Equal(t, GPUSourceDCGM, s.Source())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Expected values below were read by hand from the captures.
func TestDCGML40S(t *testing.T) {
	srv := dcgmServe(t, dcgmCapture(t, "upcloud_accelerator-metrics.prom"))
	r := gpuTick(t, dcgmSampler(t, srv.URL+"/metrics"))
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 1)
	g := r.GPU["gpu_0"]
	assert.Equal(t, "GPU-5b4e07f6-3a86-4340-039d-25f2a83cdc43", g.UUID)
	assert.Equal(t, "NVIDIA L40S", g.Name)
	assert.Equal(t, "gpu1-wl8sg", g.Host)
	gpuVal(t, 0, g.Utilization, "utilization")
	gpuVal(t, 0, g.MemoryUtilizationPercent, "memory_utilization_percent")
	gpuVal(t, 0, g.MemoryUsedMB, "memory_used_mb")
	gpuVal(t, 45459, g.MemoryFreeMB, "memory_free_mb")
	gpuVal(t, 45459+0+608, g.MemoryTotalMB, "memory_total_mb (FREE+USED+RESERVED)")
	gpuVal(t, 32, g.TempC, "temp_c")
	gpuVal(t, 35.686, g.PowerW, "power_w")
	gpuVal(t, 210, g.SMClockMHz, "sm_clock_mhz")
	gpuVal(t, 405, g.MemoryClockMHz, "memory_clock_mhz")
	gpuVal(t, 0, g.EnergyJ, "energy_j is 0 at the first reading")
	assert.Nil(t, g.ThrottleReasons)
	assert.Equal(t, GPUReasonNotReported, g.Unavailable[GPUFieldThrottleReasons])

	// The raw counter is 5551899580 mJ; the parser hands it on in J for the sampler to rebase.
	raw, err := parseDCGM(strings.NewReader(dcgmCapture(t, "upcloud_accelerator-metrics.prom")))
	require.NoError(t, err)
	gpuVal(t, 5551899.580, raw[0].EnergyJ, "raw energy, J")
}

func TestDCGMEnergySinceFirstReading(t *testing.T) {
	body := dcgmCapture(t, "upcloud_accelerator-metrics.prom")
	var cur atomic.Pointer[string]
	cur.Store(&body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(*cur.Load())) }))
	defer srv.Close()
	s := dcgmSampler(t, srv.URL)
	r := gpuTick(t, s)
	gpuVal(t, 0, r.GPU["gpu_0"].EnergyJ, "first")
	next := strings.Replace(body, "} 5551899580", "} 5552149580", 1) // +250000 mJ
	cur.Store(&next)
	r = gpuTick(t, s)
	gpuVal(t, 250, r.GPU["gpu_0"].EnergyJ, "second")
}

func TestDCGMMIG(t *testing.T) {
	srv := dcgmServe(t, dcgmCapture(t, "a800-mig-excerpt.prom"))
	r := gpuTick(t, dcgmSampler(t, srv.URL))
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 8)
	g := r.GPU["gpu_0"] // three 2g.20gb instances (GPU_I_ID 3, 5, 6), no DCGM_FI_DEV_GPU_UTIL
	assert.Equal(t, "NVIDIA A800-SXM4-80GB", g.Name)
	assert.Equal(t, "msxf-hpc-64-35-ai", g.Host)
	assert.Nil(t, g.Utilization, "a MIG GPU without DCGM_FI_DEV_GPU_UTIL is null, not 0")
	assert.Contains(t, g.Unavailable[GPUFieldUtilization], GPUReasonNotReported)
	assert.Equal(t, "not_reported (DCGM_FI_DEV_MEM_COPY_UTIL is not supported on a MIG GPU; export DCGM_FI_PROF_DRAM_ACTIVE)",
		g.Unavailable[GPUFieldMemoryUtilization])
	gpuVal(t, 3*10, g.MemoryUsedMB, "FB_USED summed over instances")
	gpuVal(t, 3*19957, g.MemoryFreeMB, "FB_FREE summed over instances")
	assert.Nil(t, g.MemoryTotalMB, "no FB_RESERVED in the excerpt: total unknown")
	gpuVal(t, 33, g.TempC, "temp_c")
	gpuVal(t, 78.174, g.PowerW, "power_w, first instance's series")

	g = r.GPU["gpu_1"]
	gpuVal(t, 0, g.Utilization, "utilization")
	gpuVal(t, 2, g.MemoryUsedMB, "memory_used_mb")
	gpuVal(t, 81226, g.MemoryFreeMB, "memory_free_mb")
	gpuVal(t, 27, g.TempC, "temp_c")
	gpuVal(t, 55.942, g.PowerW, "power_w")
	gpuVal(t, 55.011, r.GPU["gpu_7"].PowerW, "gpu_7 power_w")
}

// Each GPU instance of a MIG GPU is one MIG device. Values read by hand from a800-mig-excerpt.prom: GPU 0's
// instances GPU_I_ID 3, 5 and 6 are all GPU_I_PROFILE "2g.20gb" with FB_USED 10 and FB_FREE 19957 MiB; the
// excerpt has no FB_RESERVED or FB_TOTAL, so the total is 10 + 19957 = 19967 MiB.
func TestDCGMMIGDevices(t *testing.T) {
	srv := dcgmServe(t, dcgmCapture(t, "a800-mig-excerpt.prom"))
	r := gpuTick(t, dcgmSampler(t, srv.URL))
	require.NoError(t, r.Err)
	g := r.GPU["gpu_0"]
	require.Len(t, g.MIGDevices, 3)
	for i, gi := range []int{3, 5, 6} {
		m := g.MIGDevices[i]
		if assert.NotNil(t, m.GPUInstanceID) {
			assert.Equal(t, gi, *m.GPUInstanceID, "sorted by GPU instance ID")
		}
		assert.Equal(t, "2g.20gb", m.Profile)
		gpuVal(t, 10, m.MemoryUsedMB, "FB_USED of the instance")
		gpuVal(t, 19957, m.MemoryFreeMB, "FB_FREE of the instance")
		gpuVal(t, 10+19957, m.MemoryTotalMB, "FB_USED + FB_FREE")
		assert.Nil(t, m.ComputeInstanceID)
		assert.Nil(t, m.Index)
		assert.Empty(t, m.UUID, "the UUID label is the physical GPU's, not the instance's")
		assert.Contains(t, m.Unavailable[MIGFieldComputeInstanceID], GPUReasonNotReported)
		assert.Contains(t, m.Unavailable[MIGFieldIndex], GPUReasonNotReported)
		assert.Contains(t, m.Unavailable[MIGFieldUUID], GPUReasonNotReported)
		assert.NotContains(t, m.Unavailable, GPUFieldMemoryUsedMB)
		assert.NotContains(t, m.Unavailable, GPUFieldMemoryTotalMB)
	}
	gpuVal(t, 3*10, g.MemoryUsedMB, "the physical GPU's sum is kept")
	for k, g := range r.GPU {
		if k != "gpu_0" {
			assert.Nil(t, g.MIGDevices, k+" is not in MIG mode")
		}
	}

	b, err := json.Marshal(g.MIGDevices[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"gpu_instance_id":3,"compute_instance_id":null,"index":null,"profile":"2g.20gb",
		"utilization":null,"memory_used_mb":10,"memory_free_mb":19957,"memory_total_mb":19967,
		"unavailable":{"compute_instance_id":"not_reported (dcgm-exporter labels GPU instances only)",
		"utilization":"not_reported (no DCGM_FI_PROF_GR_ENGINE_ACTIVE for GPU instance 3; DCGM_FI_DEV_GPU_UTIL is not supported on a MIG GPU: export DCGM_FI_PROF_GR_ENGINE_ACTIVE)",
		"index":"not_reported (dcgm-exporter labels GPU instances only)",
		"uuid":"not_reported (dcgm-exporter labels GPU instances only)"}}`, string(b))
	b, err = json.Marshal(r.GPU["gpu_1"])
	require.NoError(t, err)
	assert.NotContains(t, string(b), "mig_devices", "omitted for a GPU not in MIG mode")
}

// A blank FB_USED in one instance nulls that instance's used and total memory, with the blank's reason; the
// other instances are read. An FB_RESERVED series, when exported, is added into the total.
func TestDCGMMIGDeviceBlankAndReserved(t *testing.T) {
	var lines []string
	for _, l := range strings.Split(dcgmCapture(t, "a800-mig-excerpt.prom"), "\n") {
		if strings.HasPrefix(l, "DCGM_FI_DEV_FB_USED{") && strings.Contains(l, `GPU_I_ID="5"`) {
			l = strings.TrimSuffix(l, "} 10") + "} 2147483634" // INT32 NOT_SUPPORTED
		}
		lines = append(lines, l)
	}
	body := strings.Join(lines, "\n") + `DCGM_FI_DEV_FB_RESERVED{gpu="0",UUID="GPU-1f027ee8-6e1e-2b8c-0108-3d370e5f0418",GPU_I_PROFILE="2g.20gb",GPU_I_ID="6"} 3` + "\n"
	gpus, err := parseDCGM(strings.NewReader(body))
	require.NoError(t, err)
	migs := gpus[0].MIGDevices
	require.Len(t, migs, 3)
	five := migs[1]
	require.NotNil(t, five.GPUInstanceID)
	assert.Equal(t, 5, *five.GPUInstanceID)
	assert.Nil(t, five.MemoryUsedMB)
	assert.Equal(t, GPUReasonNotSupported, five.Unavailable[GPUFieldMemoryUsedMB])
	assert.Nil(t, five.MemoryTotalMB, "a total built from a blank is unknown")
	assert.Equal(t, GPUReasonNotSupported, five.Unavailable[GPUFieldMemoryTotalMB])
	gpuVal(t, 19957, five.MemoryFreeMB, "the instance's other fields are kept")
	gpuVal(t, 10, migs[0].MemoryUsedMB, "GPU_I_ID 3 is read")
	gpuVal(t, 10+19957, migs[0].MemoryTotalMB, "GPU_I_ID 3: no FB_RESERVED")
	gpuVal(t, 10+19957+3, migs[2].MemoryTotalMB, "GPU_I_ID 6: FB_USED + FB_FREE + FB_RESERVED")
	assert.Nil(t, gpus[0].MemoryUsedMB, "the physical sum misses an instance: null")
}

func TestDCGMSeveralNodes(t *testing.T) {
	a := dcgmServe(t, dcgmCapture(t, "upcloud_accelerator-metrics.prom"))
	b := dcgmServe(t, dcgmCapture(t, "ericsson-ccd_accelerator_metrics.prom"))
	// A third node runs with --no-hostname and the newer lowercase label elsewhere: keyed by its URL host.
	noHost := strings.ReplaceAll(dcgmCapture(t, "ericsson-ccd_accelerator_metrics.prom"), `,Hostname="cp-bm14r7"`, "")
	c := dcgmServe(t, noHost)
	lower := strings.ReplaceAll(dcgmCapture(t, "upcloud_accelerator-metrics.prom"), `Hostname="gpu1-wl8sg"`, `hostname="node-lower"`)
	d := dcgmServe(t, lower)
	s := dcgmSampler(t, a.URL, b.URL, strings.Replace(c.URL, "127.0.0.1", "localhost", 1), d.URL)
	r := gpuTick(t, s)
	require.NoError(t, r.Err)
	assert.Equal(t, "cp-bm14r7_gpu_0, gpu1-wl8sg_gpu_0, localhost_gpu_0, node-lower_gpu_0", keysOf(r.GPU))
	t4 := r.GPU["cp-bm14r7_gpu_0"]
	assert.Equal(t, "Tesla T4", t4.Name)
	gpuVal(t, 91, t4.Utilization, "utilization")
	gpuVal(t, 73, t4.MemoryUtilizationPercent, "memory_utilization_percent")
	gpuVal(t, 5120, t4.MemoryUsedMB, "memory_used_mb")
	gpuVal(t, 9791, t4.MemoryFreeMB, "memory_free_mb")
	gpuVal(t, 9791+5120+447, t4.MemoryTotalMB, "memory_total_mb")
	gpuVal(t, 74, t4.TempC, "temp_c")
	gpuVal(t, 68.244, t4.PowerW, "power_w")
	gpuVal(t, 660, t4.SMClockMHz, "sm_clock_mhz")
	gpuVal(t, 5000, t4.MemoryClockMHz, "memory_clock_mhz")

	// One node going down keeps its GPU in the map, null, with the reason; the others are read.
	b.Close()
	r = gpuTick(t, s)
	require.Error(t, r.Err)
	gpuVal(t, 35.686, r.GPU["gpu1-wl8sg_gpu_0"].PowerW, "healthy node")
	down := r.GPU["cp-bm14r7_gpu_0"]
	assert.Nil(t, down.PowerW)
	assert.Equal(t, "Tesla T4", down.Name)
	assert.NotEmpty(t, down.Unavailable[GPUFieldPowerW])
}

func TestDCGMBlankSentinels(t *testing.T) {
	body := dcgmCapture(t, "upcloud_accelerator-metrics.prom")
	// Put DCGM blank values (../shared/testdata/dcgm/blank-sentinel-values.txt) where readings were.
	body = strings.Replace(body, "} 35.686000", "} 140737488355330", 1)     // power: FP64 NOT_SUPPORTED
	body = strings.Replace(body, "} 210\n", "} 9223372036854775794\n", 1)   // SM clock: INT64 NOT_SUPPORTED
	body = strings.Replace(body, "} 405\n", "} 2147483633\n", 1)            // mem clock: INT32 NOT_FOUND
	body = strings.Replace(body, "} 45459\n", "} 9223372036854775792\n", 1) // FB free: INT64 BLANK
	g, err := parseDCGM(strings.NewReader(body))
	require.NoError(t, err)
	assert.Nil(t, g[0].PowerW)
	assert.Equal(t, GPUReasonNotSupported, g[0].Unavailable[GPUFieldPowerW])
	assert.Nil(t, g[0].SMClockMHz)
	assert.Equal(t, "dcgm_blank", g[0].Unavailable[GPUFieldSMClockMHz])
	assert.Nil(t, g[0].MemoryClockMHz)
	assert.Equal(t, "dcgm_not_found", g[0].Unavailable[GPUFieldMemoryClockMHz])
	assert.Nil(t, g[0].MemoryFreeMB)
	assert.Nil(t, g[0].MemoryTotalMB, "a total built from a blank is unknown")
	gpuVal(t, 32, g[0].TempC, "the rest is kept")
}

func TestDCGMThrottleReasons(t *testing.T) {
	body := dcgmCapture(t, "upcloud_accelerator-metrics.prom") +
		`DCGM_FI_DEV_CLOCK_THROTTLE_REASONS{gpu="0",UUID="GPU-5b4e07f6-3a86-4340-039d-25f2a83cdc43",modelName="NVIDIA L40S",Hostname="gpu1-wl8sg"} 68` + "\n"
	g, err := parseDCGM(strings.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, []string{"sw_power_cap", "hw_thermal_slowdown"}, g[0].ThrottleReasons) // 0x44
}

func TestDCGMBadPayloadAndStatus(t *testing.T) {
	bad := dcgmServe(t, "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\" 12\n")
	r := gpuTick(t, dcgmSampler(t, bad.URL))
	require.Error(t, r.Err)
	assert.Contains(t, r.Err.Error(), "parse")
	assert.Empty(t, r.GPU)

	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	r = gpuTick(t, dcgmSampler(t, notFound.URL))
	assert.ErrorContains(t, r.Err, "404")
}

func TestDCGMConfigErrors(t *testing.T) {
	_, err := NewGPU(GPUConfig{Source: "dcgm"})
	assert.ErrorContains(t, err, "GPUConfig.DCGMURLs")
	_, err = NewGPU(GPUConfig{Source: "dcgm", DCGMURLs: []string{"node1:9400"}})
	assert.ErrorContains(t, err, "GPUConfig.DCGMURLs[0]")
}

// A MIG GPU's utilization comes from DCGM_FI_PROF_GR_ENGINE_ACTIVE, never from the 0 its
// DCGM_FI_DEV_GPU_UTIL series read. h100-mig-prof-synthetic.prom (its header says how it was made): GPU 0's
// instances 2 (3g.40gb), 3 (2g.20gb), 9 (1g.10gb) are 0.62, 0.25 and 0 active, so by slices
// (3×62 + 2×25 + 1×0) / 6 = 39.333 %; GPU 1 is whole, GPU_UTIL 37 (its GR_ENGINE_ACTIVE 0.412 is not used).
func TestDCGMMIGUtilizationFromProfiling(t *testing.T) {
	srv := dcgmServe(t, dcgmCapture(t, "h100-mig-prof-synthetic.prom"))
	r := gpuTick(t, dcgmSampler(t, srv.URL))
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 2)
	g := r.GPU["gpu_0"]
	gpuVal(t, (3*62+2*25+1*0)/6.0, g.Utilization, "slice-weighted GR_ENGINE_ACTIVE")
	gpuVal(t, (3*31+2*8.2+1*0)/6.0, g.MemoryUtilizationPercent, "slice-weighted DRAM_ACTIVE (0.31, 0.082, 0)")
	assert.NotContains(t, g.Unavailable, GPUFieldUtilization)
	require.Len(t, g.MIGDevices, 3)
	for i, want := range []struct {
		gi                int
		profile           string
		util, used, total float64
	}{{2, "3g.40gb", 62, 38215, 40448}, {3, "2g.20gb", 25, 270, 20096}, {9, "1g.10gb", 0, 8739, 9984}} {
		m := g.MIGDevices[i]
		require.NotNil(t, m.GPUInstanceID)
		assert.Equal(t, want.gi, *m.GPUInstanceID)
		assert.Equal(t, want.profile, m.Profile)
		gpuVal(t, want.util, m.Utilization, "instance utilization")
		gpuVal(t, want.used, m.MemoryUsedMB, "instance memory used")
		gpuVal(t, want.total, m.MemoryTotalMB, "instance total as nvidia-smi gives it")
	}
	gpuVal(t, 38215+270+8739, g.MemoryUsedMB, "summed over instances")
	gpuVal(t, 187.402, g.PowerW, "power")
	whole := r.GPU["gpu_1"]
	gpuVal(t, 37, whole.Utilization, "a whole GPU keeps DCGM_FI_DEV_GPU_UTIL")
	assert.Nil(t, whole.MemoryUtilizationPercent, "no MEM_COPY_UTIL for GPU 1; DRAM_ACTIVE is not its stand-in")
	assert.Equal(t, GPUReasonNotReported, whole.Unavailable[GPUFieldMemoryUtilization])
	assert.Nil(t, whole.MIGDevices)
}

// The cases around it: a GPU-level GR_ENGINE_ACTIVE series wins; an instance without one, or a ratio out of
// 0..1, makes the GPU's utilization null with the reason, never the 0 of GPU_UTIL; without any profiling
// field the reason says which field to export.
func TestDCGMMIGUtilizationCases(t *testing.T) {
	body := dcgmCapture(t, "h100-mig-prof-synthetic.prom")
	lines := strings.Split(body, "\n")
	without := func(drop func(string) bool) string {
		var out []string
		for _, l := range lines {
			if !drop(l) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	parse := func(b string) snapshot.GPU {
		t.Helper()
		gpus, err := parseDCGM(strings.NewReader(b))
		require.NoError(t, err)
		return gpus[0]
	}

	gpuLevel := body + `DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-3c9e1a52-7b4d-4f0e-9d21-6a8f5b0c2e71",modelName="NVIDIA H100 80GB HBM3"} 0.5` + "\n"
	gpuVal(t, 50, parse(gpuLevel).Utilization, "the GPU's own series")

	g := parse(without(func(l string) bool {
		return strings.HasPrefix(l, "DCGM_FI_PROF_GR_ENGINE_ACTIVE{") && strings.Contains(l, `GPU_I_ID="9"`)
	}))
	assert.Nil(t, g.Utilization, "an instance left out would bias the mean")
	assert.Equal(t, "not_reported (no DCGM_FI_PROF_GR_ENGINE_ACTIVE for GPU instance 9)", g.Unavailable[GPUFieldUtilization])
	assert.Equal(t, "not_reported (no DCGM_FI_PROF_GR_ENGINE_ACTIVE for GPU instance 9; DCGM_FI_DEV_GPU_UTIL is not supported on a MIG GPU: export DCGM_FI_PROF_GR_ENGINE_ACTIVE)",
		g.MIGDevices[2].Unavailable[GPUFieldUtilization], "the MIG device says why its utilization is null")
	gpuVal(t, 62, g.MIGDevices[0].Utilization, "the others are kept per instance")

	g = parse(strings.Replace(body, "} 0.620000", "} 1.700000", 1))
	assert.Nil(t, g.Utilization)
	assert.Equal(t, "invalid: ratio 1.7 outside 0..1 (GPU instance 2)", g.Unavailable[GPUFieldUtilization])
	assert.Nil(t, g.MIGDevices[0].Utilization)

	g = parse(strings.Replace(body, "} 0.250000", "} 140737488355330", 1)) // FP64 NOT_SUPPORTED
	assert.Nil(t, g.Utilization)
	assert.Equal(t, GPUReasonNotSupported, g.Unavailable[GPUFieldUtilization])

	g = parse(without(func(l string) bool { return strings.Contains(l, "DCGM_FI_PROF_GR_ENGINE_ACTIVE") }))
	assert.Nil(t, g.Utilization, "GPU_UTIL's 0 on a MIG GPU is not a reading")
	assert.Equal(t, "not_reported (DCGM_FI_DEV_GPU_UTIL is not supported on a MIG GPU; export DCGM_FI_PROF_GR_ENGINE_ACTIVE)",
		g.Unavailable[GPUFieldUtilization])
	for _, d := range g.MIGDevices {
		assert.Nil(t, d.Utilization)
		assert.Equal(t, "not_reported (no DCGM_FI_PROF_GR_ENGINE_ACTIVE for GPU instance "+strconv.Itoa(*d.GPUInstanceID)+
			"; DCGM_FI_DEV_GPU_UTIL is not supported on a MIG GPU: export DCGM_FI_PROF_GR_ENGINE_ACTIVE)", d.Unavailable[GPUFieldUtilization])
	}

	// Profiles without a slice count weigh the instances equally: (62 + 25 + 0) / 3.
	g = parse(strings.NewReplacer(`"3g.40gb"`, `"x"`, `"2g.20gb"`, `"y"`, `"1g.10gb"`, `"z"`).Replace(body))
	gpuVal(t, (62+25+0)/3.0, g.Utilization, "equal weights")
}

// A body longer than the cap is an error, whatever is cut: never a scrape that silently misses the GPUs past
// the cut. The cap here falls on a line boundary, where a parser would accept what came before it.
func TestDCGMBodyOverTheCap(t *testing.T) {
	body := dcgmCapture(t, "a800-mig-excerpt.prom")
	cut := strings.LastIndex(body, "\nDCGM_FI_DEV_FB_USED{gpu=\"7\"") + 1
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				_, _ = w.Write([]byte(body[:100]))
				w.(http.Flusher).Flush()
				_, _ = w.Write([]byte(body[100:]))
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write([]byte(body))
		}))
		d, err := newDCGM(GPUConfig{DCGMURLs: []string{srv.URL}})
		require.NoError(t, err)
		d.maxBody = int64(cut)
		gpus, err := d.scrape(t.Context(), d.urls[0])
		assert.ErrorContains(t, err, fmt.Sprintf("body exceeds %d bytes", cut), "chunked %v", chunked)
		assert.Nil(t, gpus)
		d.maxBody = int64(len(body))
		gpus, err = d.scrape(t.Context(), d.urls[0])
		require.NoError(t, err, "a body of exactly the cap is read")
		assert.Len(t, gpus, 8)
		srv.Close()
	}
	d, err := newDCGM(GPUConfig{DCGMURLs: []string{"http://x"}})
	require.NoError(t, err)
	assert.Equal(t, int64(dcgmMaxBody), d.maxBody, "the default cap")
}
