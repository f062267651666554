package samplers

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

// gpuFakeSource replays readings.
type gpuFakeSource struct {
	readings []Reading
	closed   bool
}

func (f *gpuFakeSource) Sample(context.Context) Reading {
	r := f.readings[0]
	if len(f.readings) > 1 {
		f.readings = f.readings[1:]
	}
	return r
}

func (f *gpuFakeSource) Close() error { f.closed = true; return nil }

// gpuRegister registers open as the NVML driver for the test's duration.
func gpuRegister(t *testing.T, open NVMLOpener) {
	RegisterNVML(open)
	t.Cleanup(func() { RegisterNVML(nil) })
}

func TestGPUConfigErrors(t *testing.T) {
	_, err := NewGPU(GPUConfig{Source: "cuda"})
	assert.ErrorContains(t, err, "GPUConfig.Source")
	_, err = NewGPU(GPUConfig{Source: "nvml"})
	assert.ErrorIs(t, err, ErrNVMLNotLinked)
	assert.ErrorContains(t, err, "GPUConfig.Source")
	_, err = NewGPU(GPUConfig{Source: "none", GPUs: []string{"0", " "}})
	assert.ErrorContains(t, err, "GPUConfig.GPUs[1]")
	_, err = NewGPU(GPUConfig{Source: "none", GPUs: []string{"-1"}})
	assert.ErrorContains(t, err, "GPUConfig.GPUs[0]")
}

func TestGPUAutoWithNothingIsNone(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s, err := NewGPU(GPUConfig{})
	require.NoError(t, err)
	assert.Equal(t, GPUSourceNone, s.Source())
	assert.Equal(t, "gpu", s.Name())
	require.Error(t, s.Reason())
	assert.Contains(t, s.Reason().Error(), "nvml: not linked")
	assert.Contains(t, s.Reason().Error(), "nvidia-smi")
	for range 2 {
		r := gpuTick(t, s)
		assert.NotNil(t, r.GPU, "gpu_metrics is {}, never null")
		assert.Empty(t, r.GPU)
		assert.Equal(t, s.Reason(), r.Err)
	}
}

func TestGPUAutoPrefersNVMLThenNvidiaSMI(t *testing.T) {
	gpus, apps := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, smiReplay, map[string]string{"gpus.csv": gpus, "apps.csv": apps})
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+"/usr/bin"+string(filepath.ListSeparator)+"/bin")

	// NVML linked but failing to initialize (no driver): nvidia-smi on PATH is used.
	gpuRegister(t, func(GPUConfig) (GPUSource, error) { return nil, errors.New("nvmlInit: ERROR_LIBRARY_NOT_FOUND") })
	s, err := NewGPU(GPUConfig{Source: "auto"})
	require.NoError(t, err)
	assert.Equal(t, GPUSourceNvidiaSMI, s.Source())
	require.NoError(t, gpuTick(t, s).Err)

	// NVML that initializes wins.
	fake := &gpuFakeSource{readings: []Reading{{GPU: map[string]snapshot.GPU{"gpu_0": {Index: 0}}}}}
	gpuRegister(t, func(GPUConfig) (GPUSource, error) { return fake, nil })
	s, err = NewGPU(GPUConfig{})
	require.NoError(t, err)
	assert.Equal(t, GPUSourceNVML, s.Source())
	assert.NoError(t, s.Reason())
	require.NoError(t, s.Close())
	assert.True(t, fake.closed)
	assert.Error(t, gpuTick(t, s).Err, "Sample after Close")

	// Explicit nvml that cannot initialize: none, with the reason.
	gpuRegister(t, func(GPUConfig) (GPUSource, error) { return nil, errors.New("nvmlInit: ERROR_DRIVER_NOT_LOADED") })
	s, err = NewGPU(GPUConfig{Source: "nvml"})
	require.NoError(t, err)
	assert.Equal(t, GPUSourceNone, s.Source())
	assert.ErrorContains(t, gpuTick(t, s).Err, "ERROR_DRIVER_NOT_LOADED")

	// DCGM URLs with auto mean dcgm.
	s, err = NewGPU(GPUConfig{DCGMURLs: []string{"http://127.0.0.1:1/metrics"}})
	require.NoError(t, err)
	assert.Equal(t, GPUSourceDCGM, s.Source())
}

func TestGPUNvidiaSMIPathMissing(t *testing.T) {
	s, err := NewGPU(GPUConfig{Source: "nvidia-smi", NvidiaSMIPath: filepath.Join(t.TempDir(), "nvidia-smi")})
	require.NoError(t, err)
	assert.Equal(t, GPUSourceNone, s.Source())
	assert.ErrorContains(t, gpuTick(t, s).Err, "nvidia-smi")
}

func TestGPUEnergyRebasedAndSurvivesCounterReset(t *testing.T) {
	reading := func(j *float64) Reading {
		return Reading{GPU: map[string]snapshot.GPU{"gpu_0": {Index: 0, UUID: "GPU-a", EnergyJ: j}}}
	}
	fake := &gpuFakeSource{readings: []Reading{
		reading(snapshot.F(1000)), reading(snapshot.F(1250)), reading(nil), reading(snapshot.F(1300)),
		reading(snapshot.F(20)), // counter restarted (driver reload): 300 counted so far, then +20
		reading(snapshot.F(70)),
	}}
	gpuRegister(t, func(GPUConfig) (GPUSource, error) { return fake, nil })
	s, err := NewGPU(GPUConfig{Source: "nvml"})
	require.NoError(t, err)
	var got []any
	for range 6 {
		e := gpuTick(t, s).GPU["gpu_0"].EnergyJ
		if e == nil {
			got = append(got, nil)
		} else {
			got = append(got, *e)
		}
	}
	assert.Equal(t, []any{0.0, 250.0, nil, 300.0, 320.0, 370.0}, got)
}

func TestGPUEventsStampedAndSourced(t *testing.T) {
	fake := &gpuFakeSource{readings: []Reading{{GPU: map[string]snapshot.GPU{}, Events: []Event{{Message: "gpu_3 lost"}}}}}
	gpuRegister(t, func(GPUConfig) (GPUSource, error) { return fake, nil })
	s, err := NewGPU(GPUConfig{Source: "nvml"})
	require.NoError(t, err)
	r := gpuTick(t, s)
	require.Len(t, r.Events, 1)
	assert.Equal(t, "gpu", r.Events[0].Source)
	assert.False(t, r.Events[0].Time.IsZero())
}

func TestGPUThrottleReasons(t *testing.T) {
	assert.Equal(t, []string{}, GPUThrottleReasons(0))
	assert.Equal(t, []string{"gpu_idle"}, GPUThrottleReasons(0x1))
	assert.Equal(t, []string{"sw_power_cap", "hw_slowdown", "hw_power_brake_slowdown"}, GPUThrottleReasons(0x8C))
	assert.Equal(t, []string{"board_limit", "0x1000"}, GPUThrottleReasons(0x1200))
}

func TestGPUUnavailableNullsEveryField(t *testing.T) {
	g := GPUUnavailable(snapshot.GPU{Index: 2, UUID: "GPU-x", Name: "n", PowerW: snapshot.F(1),
		MIGDevices: []snapshot.MIGDevice{{Profile: "1g.18gb"}}}, "gpu_lost")
	assert.Nil(t, g.PowerW)
	assert.Nil(t, g.MIGDevices)
	assert.Equal(t, "GPU-x", g.UUID)
	// The 11 numeric and list fields of snapshot.GPU, processes, and mig_devices.
	assert.Len(t, g.Unavailable, 13)
	assert.Equal(t, "gpu_lost", g.Unavailable["mig_devices"])
	for k, v := range g.Unavailable {
		assert.Equal(t, "gpu_lost", v, k)
		assert.False(t, strings.ContainsAny(k, " A-Z"))
	}
}
