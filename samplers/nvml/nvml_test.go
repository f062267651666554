//go:build linux && cgo

package nvml

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh200"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

const mibBytes = 1 << 20

// h200 is go-nvml's 8x H200 mock with the readings vmtest asks for filled in: GPU i reports utilization
// 10*i %, memory utilization i %, (1000*(i+1)) MiB used, 40+i °C, 100+i W, SM 1980 / memory 3201 MHz, one
// process of 2048 MiB, and an energy counter that grows 1000 mJ per call. GPU 1 is power-capped (0x4).
type h200 struct {
	srv  *server.Server
	devs []*server.Device
}

func newH200(t testing.TB) *h200 {
	t.Helper()
	m := &h200{srv: dgxh200.New()}
	for i, d := range m.srv.Devices {
		dev := d.(*server.Device)
		m.devs = append(m.devs, dev)
		var energy atomic.Uint64
		energy.Store(uint64(1_000_000 * (i + 1)))
		used := uint64(1000*(i+1)) * mibBytes
		dev.GetMemoryInfo_v2Func = func() (gonvml.Memory_v2, gonvml.Return) {
			total, reserved := dev.MemoryInfo.Total, uint64(614)*mibBytes
			return gonvml.Memory_v2{Total: total, Reserved: reserved, Used: used, Free: total - reserved - used}, gonvml.SUCCESS
		}
		dev.GetUtilizationRatesFunc = func() (gonvml.Utilization, gonvml.Return) {
			return gonvml.Utilization{Gpu: uint32(10 * i), Memory: uint32(i)}, gonvml.SUCCESS
		}
		dev.GetTemperatureFunc = func(gonvml.TemperatureSensors) (uint32, gonvml.Return) { return uint32(40 + i), gonvml.SUCCESS }
		dev.GetPowerUsageFunc = func() (uint32, gonvml.Return) { return uint32(100_000 + 1000*i), gonvml.SUCCESS }
		dev.GetClockInfoFunc = func(c gonvml.ClockType) (uint32, gonvml.Return) {
			if c == gonvml.CLOCK_SM {
				return 1980, gonvml.SUCCESS
			}
			return 3201, gonvml.SUCCESS
		}
		dev.GetTotalEnergyConsumptionFunc = func() (uint64, gonvml.Return) { return energy.Add(1000) - 1000, gonvml.SUCCESS }
		dev.GetCurrentClocksEventReasonsFunc = func() (uint64, gonvml.Return) {
			if i == 1 {
				return gonvml.ClocksEventReasonSwPowerCap, gonvml.SUCCESS
			}
			return 0, gonvml.SUCCESS
		}
		dev.GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) {
			return []gonvml.ProcessInfo{{Pid: uint32(4000 + i), UsedGpuMemory: 2048 * mibBytes}}, gonvml.SUCCESS
		}
	}
	return m
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openH200(t *testing.T, m *h200, gpus ...string) (*Source, *clock) {
	t.Helper()
	s, err := Open(m.srv, samplers.GPUConfig{GPUs: gpus})
	require.NoError(t, err)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s.now = c.now
	t.Cleanup(func() { _ = s.Close() })
	return s, c
}

func tick(t *testing.T, s samplers.GPUSource) samplers.Reading {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Sample(ctx)
}

func val(t *testing.T, want float64, got *float64, field string) {
	t.Helper()
	if assert.NotNil(t, got, field) {
		assert.InDelta(t, want, *got, 1e-9, field)
	}
}

func TestNVMLEightH200(t *testing.T) {
	m := newH200(t)
	s, _ := openH200(t, m)
	r := tick(t, s)
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 8)
	for i, dev := range m.devs {
		g := r.GPU[samplers.GPUKey("", i)]
		assert.Equal(t, i, g.Index)
		assert.Equal(t, dev.UUID, g.UUID)
		assert.Equal(t, "NVIDIA H200 141GB HBM3e", g.Name)
		val(t, float64(10*i), g.Utilization, "utilization")
		val(t, float64(i), g.MemoryUtilizationPercent, "memory_utilization_percent")
		val(t, 144384, g.MemoryTotalMB, "memory_total_mb")
		val(t, float64(1000*(i+1)), g.MemoryUsedMB, "memory_used_mb")
		val(t, float64(144384-614-1000*(i+1)), g.MemoryFreeMB, "memory_free_mb")
		val(t, float64(40+i), g.TempC, "temp_c")
		val(t, 100+float64(i), g.PowerW, "power_w")
		val(t, 1980, g.SMClockMHz, "sm_clock_mhz")
		val(t, 3201, g.MemoryClockMHz, "memory_clock_mhz")
		val(t, float64(1000*(i+1)), g.EnergyJ, "raw energy counter, J")
		require.Len(t, g.Processes, 1)
		assert.Equal(t, uint32(4000+i), g.Processes[0].PID)
		val(t, 2048, g.Processes[0].UsedMemoryMB, "process memory")
		assert.Empty(t, g.Unavailable)
	}
	assert.Equal(t, []string{"sw_power_cap"}, r.GPU["gpu_1"].ThrottleReasons)
	assert.Equal(t, []string{}, r.GPU["gpu_0"].ThrottleReasons)
}

func TestNVMLThroughGPUSampler(t *testing.T) {
	m := newH200(t)
	samplers.RegisterNVML(func(cfg samplers.GPUConfig) (samplers.GPUSource, error) { return Open(m.srv, cfg) })
	t.Cleanup(func() {
		samplers.RegisterNVML(func(cfg samplers.GPUConfig) (samplers.GPUSource, error) { return Open(gonvml.New(), cfg) })
	})
	s, err := samplers.NewGPU(samplers.GPUConfig{GPUs: []string{"1", m.devs[5].UUID}})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, samplers.GPUSourceNVML, s.Source())
	var energy []float64
	for range 3 {
		r := tick(t, s)
		require.NoError(t, r.Err)
		require.Len(t, r.GPU, 2)
		require.Contains(t, r.GPU, "gpu_1")
		require.Contains(t, r.GPU, "gpu_5")
		energy = append(energy, *r.GPU["gpu_5"].EnergyJ)
	}
	assert.Equal(t, []float64{0, 1, 2}, energy, "J since the first reading; the mock counter adds 1000 mJ per read")
	require.NoError(t, s.Close())
	assert.NotEmpty(t, m.srv.ShutdownCalls())
}

func TestNVMLNotSupportedIsRememberedPerDeviceAndField(t *testing.T) {
	m := newH200(t)
	m.devs[2].GetPowerUsageFunc = func() (uint32, gonvml.Return) { return 0, gonvml.ERROR_NOT_SUPPORTED }
	// MIG: utilization is not supported on the parent GPU.
	m.devs[4].GetUtilizationRatesFunc = func() (gonvml.Utilization, gonvml.Return) {
		return gonvml.Utilization{}, gonvml.ERROR_NOT_SUPPORTED
	}
	s, _ := openH200(t, m)
	for range 3 {
		r := tick(t, s)
		require.NoError(t, r.Err)
		g := r.GPU["gpu_2"]
		assert.Nil(t, g.PowerW)
		assert.Equal(t, "not_supported", g.Unavailable["power_w"])
		val(t, 42, g.TempC, "the rest of the tick is kept")
		val(t, 20, g.Utilization, "utilization")
		g = r.GPU["gpu_4"]
		assert.Nil(t, g.Utilization)
		assert.Nil(t, g.MemoryUtilizationPercent)
		assert.Equal(t, "not_supported", g.Unavailable["utilization"])
		assert.Equal(t, "not_supported", g.Unavailable["memory_utilization_percent"])
		val(t, 104, g.PowerW, "power_w")
	}
	assert.Len(t, m.devs[2].GetPowerUsageCalls(), 1, "an unsupported call is not made again")
	assert.Len(t, m.devs[4].GetUtilizationRatesCalls(), 1)
	assert.Len(t, m.devs[3].GetPowerUsageCalls(), 3)
}

func TestNVMLGPULostThenRecovered(t *testing.T) {
	m := newH200(t)
	s, clk := openH200(t, m)
	r := tick(t, s)
	val(t, 103, r.GPU["gpu_3"].PowerW, "before the loss")

	healthy := m.devs[3].GetMemoryInfo_v2Func
	m.devs[3].GetMemoryInfo_v2Func = func() (gonvml.Memory_v2, gonvml.Return) { return gonvml.Memory_v2{}, gonvml.ERROR_GPU_IS_LOST }
	r = tick(t, s)
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 8, "the lost GPU stays in the map")
	g := r.GPU["gpu_3"]
	assert.Nil(t, g.PowerW)
	assert.Nil(t, g.Utilization)
	assert.Nil(t, g.EnergyJ)
	assert.Equal(t, "gpu_lost", g.Unavailable["power_w"])
	assert.Equal(t, m.devs[3].UUID, g.UUID)
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, "gpu_3 lost: ERROR_GPU_IS_LOST")
	assert.Equal(t, clk.now(), r.Events[0].Time)
	val(t, 104, r.GPU["gpu_4"].PowerW, "the other GPUs are read")
	inits := len(m.srv.InitCalls())

	// Before the backoff (2 s) runs out: no re-init, still null, no new event.
	clk.add(time.Second)
	r = tick(t, s)
	assert.Nil(t, r.GPU["gpu_3"].PowerW)
	assert.Empty(t, r.Events)
	assert.Len(t, m.srv.InitCalls(), inits)

	// At 2 s: re-init, the device is still lost; next retry 4 s later.
	clk.add(time.Second)
	r = tick(t, s)
	assert.Len(t, m.srv.InitCalls(), inits+1)
	assert.Nil(t, r.GPU["gpu_3"].PowerW)
	val(t, 104, r.GPU["gpu_4"].PowerW, "healthy GPUs are looked up again after re-init")
	clk.add(3 * time.Second)
	tick(t, s)
	assert.Len(t, m.srv.InitCalls(), inits+1, "backoff doubled to 4 s")

	// The GPU comes back: the next re-init finds it.
	m.devs[3].GetMemoryInfo_v2Func = healthy
	clk.add(time.Second)
	r = tick(t, s)
	assert.Len(t, m.srv.InitCalls(), inits+2)
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, "gpu_3 recovered")
	val(t, 103, r.GPU["gpu_3"].PowerW, "after recovery")
}

func TestNVMLLostMidTickKeepsOtherFields(t *testing.T) {
	m := newH200(t)
	m.devs[6].GetPowerUsageFunc = func() (uint32, gonvml.Return) { return 0, gonvml.ERROR_GPU_IS_LOST }
	s, _ := openH200(t, m)
	r := tick(t, s)
	assert.Equal(t, "gpu_lost", r.GPU["gpu_6"].Unavailable["temp_c"], "a GPU lost during the tick is null as a whole")
	require.Len(t, r.Events, 1)
	val(t, 107, r.GPU["gpu_7"].PowerW, "power_w")
}

func TestNVMLUnknownErrorAfterReinitIsLost(t *testing.T) {
	m := newH200(t)
	m.devs[5].GetMemoryInfo_v2Func = func() (gonvml.Memory_v2, gonvml.Return) { return gonvml.Memory_v2{}, gonvml.ERROR_UNKNOWN }
	// A transient ERROR_UNKNOWN on GPU 0: cleared by the re-init.
	var once atomic.Bool
	healthy0 := m.devs[0].GetMemoryInfo_v2Func
	m.devs[0].GetMemoryInfo_v2Func = func() (gonvml.Memory_v2, gonvml.Return) {
		if once.CompareAndSwap(false, true) {
			return gonvml.Memory_v2{}, gonvml.ERROR_UNKNOWN
		}
		return healthy0()
	}
	s, _ := openH200(t, m)
	inits := len(m.srv.InitCalls())
	r := tick(t, s)
	require.NoError(t, r.Err)
	val(t, 1000, r.GPU["gpu_0"].MemoryUsedMB, "transient ERROR_UNKNOWN, re-init, read again")
	assert.Equal(t, "gpu_lost", r.GPU["gpu_5"].Unavailable["memory_used_mb"])
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, "gpu_5 lost: ERROR_UNKNOWN")
	assert.Len(t, m.srv.InitCalls(), inits+2, "one re-init per ERROR_UNKNOWN")
}

func TestNVMLOtherErrorIsPerField(t *testing.T) {
	m := newH200(t)
	m.devs[1].GetTemperatureFunc = func(gonvml.TemperatureSensors) (uint32, gonvml.Return) { return 0, gonvml.ERROR_NO_PERMISSION }
	s, _ := openH200(t, m)
	for range 2 {
		g := tick(t, s).GPU["gpu_1"]
		assert.Nil(t, g.TempC)
		assert.Equal(t, "nvml: ERROR_NO_PERMISSION", g.Unavailable["temp_c"])
	}
	assert.Len(t, m.devs[1].GetTemperatureCalls(), 2, "not remembered: it may clear")
}

func TestNVMLHungDriverCallDoesNotHoldTheTick(t *testing.T) {
	m := newH200(t)
	release := make(chan struct{})
	var hang atomic.Bool
	hang.Store(true)
	healthy := m.devs[6].GetPowerUsageFunc
	m.devs[6].GetPowerUsageFunc = func() (uint32, gonvml.Return) {
		if hang.Load() {
			<-release
		}
		return healthy()
	}
	s, _ := openH200(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	r := s.Sample(ctx)
	assert.Less(t, time.Since(deadline), 10*time.Second, "the read hangs until the test releases it: returned at the deadline")
	assert.ErrorContains(t, r.Err, "deadline")
	r = tick(t, s)
	assert.ErrorContains(t, r.Err, "still blocked", "at most one read in flight")
	hang.Store(false)
	close(release)
	require.Eventually(t, func() bool { return tick(t, s).Err == nil }, 30*time.Second, 10*time.Millisecond)
}

func TestNVMLInitFails(t *testing.T) {
	m := newH200(t)
	m.srv.InitFunc = func() gonvml.Return { return gonvml.ERROR_LIBRARY_NOT_FOUND }
	_, err := Open(m.srv, samplers.GPUConfig{})
	assert.EqualError(t, err, "nvmlInit: nvml: ERROR_LIBRARY_NOT_FOUND")
}

// TestNVMLRealLibraryWithoutDriver exercises the opener this package registers, against the real
// libnvidia-ml: on a machine without the driver, "auto" must come back as nvidia-smi or none, with the reason.
func TestNVMLRealLibraryWithoutDriver(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s, err := samplers.NewGPU(samplers.GPUConfig{})
	require.NoError(t, err)
	defer s.Close()
	if s.Source() == samplers.GPUSourceNVML {
		t.Skip("NVML initializes here: a GPU machine")
	}
	assert.Equal(t, samplers.GPUSourceNone, s.Source())
	assert.ErrorContains(t, s.Reason(), "nvml: nvmlInit")
	r := tick(t, s)
	assert.Equal(t, map[string]snapshot.GPU{}, r.GPU)
}
