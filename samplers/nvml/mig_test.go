//go:build linux && cgo

package nvml

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

// migCapture is one MIG device as ../shared/testdata/nvidia-smi/linux-x86_64__nvidia-h200-mig__590.48.01.txt
// shows it under load: `nvidia-smi -L` (profile, UUID, device index) and `nvidia-smi -q` "MIG Device" blocks
// (GPU and compute instance IDs, "Shared FB Memory Usage" in MiB). The capture prints each memory figure
// rounded on its own, so used + free is 1 MiB over the total for some devices; the mock returns them as printed.
type migCapture struct {
	index, gi, ci      int
	profile, uuid      string
	used, free, total  uint64 // MiB
	memV2, memV1       gonvml.Return
	giRet, ciRet       gonvml.Return
	nameWithoutProfile bool
}

var h200MIG = []migCapture{
	{index: 0, gi: 2, ci: 0, profile: "1c.3g.71gb", uuid: "MIG-00000000-0000-0000-0000-000000000000", used: 16925, free: 54499, total: 71424},
	{index: 1, gi: 2, ci: 1, profile: "2c.3g.71gb", uuid: "MIG-00000001-0000-0000-0000-000000000001", used: 16925, free: 54499, total: 71424},
	{index: 2, gi: 3, ci: 0, profile: "2g.35gb", uuid: "MIG-00000002-0000-0000-0000-000000000002", used: 17, free: 33264, total: 33280},
	{index: 3, gi: 9, ci: 0, profile: "1g.18gb", uuid: "MIG-00000003-0000-0000-0000-000000000003", used: 9, free: 16376, total: 16384},
	{index: 4, gi: 10, ci: 0, profile: "1g.18gb", uuid: "MIG-00000004-0000-0000-0000-000000000004", used: 9, free: 16376, total: 16384},
}

// migDevice is a MIG device handle answering as c says (SUCCESS where c leaves a return code zero).
func migDevice(c migCapture) *mock.Device {
	return &mock.Device{
		GetUUIDFunc:              func() (string, gonvml.Return) { return c.uuid, gonvml.SUCCESS },
		GetGpuInstanceIdFunc:     func() (int, gonvml.Return) { return c.gi, c.giRet },
		GetComputeInstanceIdFunc: func() (int, gonvml.Return) { return c.ci, c.ciRet },
		GetNameFunc: func() (string, gonvml.Return) {
			if c.nameWithoutProfile {
				return "NVIDIA H200", gonvml.SUCCESS
			}
			return "NVIDIA H200 MIG " + c.profile, gonvml.SUCCESS
		},
		GetMemoryInfo_v2Func: func() (gonvml.Memory_v2, gonvml.Return) {
			if c.memV2 != gonvml.SUCCESS {
				return gonvml.Memory_v2{}, c.memV2
			}
			// nvidia-smi -q: "Reserved : 0 MiB" for every MIG device.
			return gonvml.Memory_v2{Total: c.total * mibBytes, Used: c.used * mibBytes, Free: c.free * mibBytes}, gonvml.SUCCESS
		},
		GetMemoryInfoFunc: func() (gonvml.Memory, gonvml.Return) {
			if c.memV1 != gonvml.SUCCESS {
				return gonvml.Memory{}, c.memV1
			}
			return gonvml.Memory{Total: c.total * mibBytes, Used: c.used * mibBytes, Free: c.free * mibBytes}, gonvml.SUCCESS
		},
	}
}

// h200MIGProcesses asserts ps are the capture's three processes, on GPU instance 2, compute instance 1, with
// their memory from the "Processes" table (MiB).
func h200MIGProcesses(t *testing.T, ps []snapshot.GPUProcess) {
	t.Helper()
	require.Len(t, ps, 3)
	for i, w := range []struct {
		pid  uint32
		used float64
	}{{12249, 2194}, {12250, 1170}, {12267, 13526}} {
		p := ps[i]
		assert.Equal(t, w.pid, p.PID)
		val(t, w.used, p.UsedMemoryMB, "process memory")
		require.NotNil(t, p.GPUInstanceID)
		require.NotNil(t, p.ComputeInstanceID)
		assert.Equal(t, 2, *p.GPUInstanceID)
		assert.Equal(t, 1, *p.ComputeInstanceID)
	}
}

// newH200MIG is the capture's one H200 in MIG mode: its five MIG devices in slots 0–4 of 7 (H200's
// maximum), parent memory from `nvidia-smi -q` "FB Memory Usage" (total 143771, reserved 614, used 16959,
// free 126199 MiB), utilization N/A (NVML ERROR_NOT_SUPPORTED under MIG) and the three processes of GPU
// instance 2, compute instance 1 from the "Processes" table. migs[i] answers for slot i; tests change it.
func newH200MIG(t *testing.T) (*h200, []*mock.Device) {
	t.Helper()
	m := newH200(t)
	m.srv.Devices, m.devs = m.srv.Devices[:1], m.devs[:1]
	dev := m.devs[0]
	dev.UUID = "GPU-00000000-0000-0000-0000-000000000000"
	dev.GetNameFunc = func() (string, gonvml.Return) { return "NVIDIA H200", gonvml.SUCCESS }
	dev.GetMemoryInfo_v2Func = func() (gonvml.Memory_v2, gonvml.Return) {
		return gonvml.Memory_v2{Total: 143771 * mibBytes, Reserved: 614 * mibBytes, Used: 16959 * mibBytes, Free: 126199 * mibBytes}, gonvml.SUCCESS
	}
	dev.GetUtilizationRatesFunc = func() (gonvml.Utilization, gonvml.Return) { return gonvml.Utilization{}, gonvml.ERROR_NOT_SUPPORTED }
	dev.MigMode = gonvml.DEVICE_MIG_ENABLE
	dev.GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) {
		return []gonvml.ProcessInfo{
			{Pid: 12249, UsedGpuMemory: 2194 * mibBytes, GpuInstanceId: 2, ComputeInstanceId: 1},
			{Pid: 12250, UsedGpuMemory: 1170 * mibBytes, GpuInstanceId: 2, ComputeInstanceId: 1},
			{Pid: 12267, UsedGpuMemory: 13526 * mibBytes, GpuInstanceId: 2, ComputeInstanceId: 1},
		}, gonvml.SUCCESS
	}
	migs := make([]*mock.Device, 7)
	for _, c := range h200MIG {
		migs[c.index] = migDevice(c)
	}
	dev.GetMaxMigDeviceCountFunc = func() (int, gonvml.Return) { return len(migs), gonvml.SUCCESS }
	dev.GetMigDeviceHandleByIndexFunc = func(i int) (gonvml.Device, gonvml.Return) {
		if i < 0 || i >= len(migs) {
			return nil, gonvml.ERROR_INVALID_ARGUMENT
		}
		if migs[i] == nil {
			return nil, gonvml.ERROR_NOT_FOUND
		}
		return migs[i], gonvml.SUCCESS
	}
	return m, migs
}

func TestNVMLMIGDevicesH200(t *testing.T) {
	m, migs := newH200MIG(t)
	s, _ := openH200(t, m)
	for range 2 {
		r := tick(t, s)
		require.NoError(t, r.Err)
		require.Empty(t, r.Events)
		require.Len(t, r.GPU, 1)
		g := r.GPU["gpu_0"]
		assert.Equal(t, "GPU-00000000-0000-0000-0000-000000000000", g.UUID)
		assert.Equal(t, "NVIDIA H200", g.Name)
		// The physical GPU is still read as a whole.
		val(t, 16959, g.MemoryUsedMB, "parent memory_used_mb")
		val(t, 126199, g.MemoryFreeMB, "parent memory_free_mb")
		val(t, 143771, g.MemoryTotalMB, "parent memory_total_mb")
		assert.Nil(t, g.Utilization, "utilization is N/A under MIG")
		assert.Equal(t, samplers.GPUReasonMIGUtilizationNVML, g.Unavailable[samplers.GPUFieldUtilization], "the reason says MIG")
		assert.Equal(t, samplers.GPUReasonNotSupported, g.Unavailable[samplers.GPUFieldMemoryUtilization])
		assert.NotContains(t, g.Unavailable, samplers.GPUFieldMIGDevices)

		require.Len(t, g.MIGDevices, 5)
		want := []struct {
			index, gi, ci     int
			profile, uuid     string
			used, free, total float64
		}{
			{0, 2, 0, "1c.3g.71gb", "MIG-00000000-0000-0000-0000-000000000000", 16925, 54499, 71424},
			{1, 2, 1, "2c.3g.71gb", "MIG-00000001-0000-0000-0000-000000000001", 16925, 54499, 71424},
			{2, 3, 0, "2g.35gb", "MIG-00000002-0000-0000-0000-000000000002", 17, 33264, 33280},
			{3, 9, 0, "1g.18gb", "MIG-00000003-0000-0000-0000-000000000003", 9, 16376, 16384},
			{4, 10, 0, "1g.18gb", "MIG-00000004-0000-0000-0000-000000000004", 9, 16376, 16384},
		}
		for i, w := range want {
			d := g.MIGDevices[i]
			require.NotNil(t, d.Index)
			require.NotNil(t, d.GPUInstanceID)
			require.NotNil(t, d.ComputeInstanceID)
			assert.Equal(t, w.index, *d.Index)
			assert.Equal(t, w.gi, *d.GPUInstanceID)
			assert.Equal(t, w.ci, *d.ComputeInstanceID)
			assert.Equal(t, w.profile, d.Profile)
			assert.Equal(t, w.uuid, d.UUID)
			val(t, w.used, d.MemoryUsedMB, w.uuid+" memory_used_mb")
			val(t, w.free, d.MemoryFreeMB, w.uuid+" memory_free_mb")
			val(t, w.total, d.MemoryTotalMB, w.uuid+" memory_total_mb")
			assert.Nil(t, d.Utilization)
			assert.Equal(t, map[string]string{samplers.GPUFieldUtilization: samplers.GPUReasonMIGUtilizationNVML}, d.Unavailable,
				"only utilization is unknown, and says why")
		}

		h200MIGProcesses(t, g.Processes)

		b, err := json.Marshal(g.MIGDevices[3])
		require.NoError(t, err)
		assert.JSONEq(t, `{"gpu_instance_id":9,"compute_instance_id":0,"index":3,"uuid":"MIG-00000003-0000-0000-0000-000000000003",
			"profile":"1g.18gb","utilization":null,"memory_used_mb":9,"memory_free_mb":16376,"memory_total_mb":16384,
			"unavailable":{"utilization":"not_supported in MIG mode: NVML reports no utilization for a MIG GPU or its MIG devices; dcgm-exporter's DCGM_FI_PROF_GR_ENGINE_ACTIVE gives it per GPU instance"}}`, string(b))
	}
	assert.Len(t, m.devs[0].GetUtilizationRatesCalls(), 1, "NOT_SUPPORTED under MIG is remembered")
	assert.Len(t, m.devs[0].GetMigModeCalls(), 2, "MIG mode is asked every tick: it can be switched without a reset")
	assert.Len(t, migs[4].GetMemoryInfo_v2Calls(), 2, "MIG devices are read every tick")
	assert.Empty(t, migs[4].GetMemoryInfoCalls(), "v1 only as a fallback")
}

// A failed call on one MIG device nulls that field of that device, with the reason; the rest of the tick,
// the other MIG devices and the physical GPU, is kept, and the GPU is not declared lost.
func TestNVMLMIGDeviceFieldErrors(t *testing.T) {
	m, migs := newH200MIG(t)
	c := h200MIG
	c1, c2, c3, c4 := c[1], c[2], c[3], c[4]
	c1.ciRet = gonvml.ERROR_NO_PERMISSION
	c2.memV2 = gonvml.ERROR_NOT_SUPPORTED // v1 answers
	c3.memV2 = gonvml.ERROR_UNKNOWN
	c3.nameWithoutProfile = true
	c4.memV2, c4.memV1 = gonvml.ERROR_NOT_SUPPORTED, gonvml.ERROR_NOT_SUPPORTED
	migs[1], migs[2], migs[3], migs[4] = migDevice(c1), migDevice(c2), migDevice(c3), migDevice(c4)
	s, _ := openH200(t, m)
	inits := len(m.srv.InitCalls())
	for range 2 {
		r := tick(t, s)
		require.NoError(t, r.Err)
		assert.Empty(t, r.Events, "no MIG field error loses the GPU")
		g := r.GPU["gpu_0"]
		val(t, 16959, g.MemoryUsedMB, "the physical GPU is read")
		require.Len(t, g.MIGDevices, 5)

		val(t, 16925, g.MIGDevices[0].MemoryUsedMB, "MIG device 0 is read")
		assert.Len(t, g.MIGDevices[0].Unavailable, 1, "utilization only")

		d := g.MIGDevices[1]
		assert.Nil(t, d.ComputeInstanceID)
		assert.Equal(t, "nvml: ERROR_NO_PERMISSION", d.Unavailable[samplers.MIGFieldComputeInstanceID])
		val(t, 16925, d.MemoryUsedMB, "MIG device 1's memory is read")
		assert.Equal(t, 2, *d.GPUInstanceID)

		d = g.MIGDevices[2]
		val(t, 17, d.MemoryUsedMB, "v1 memory info when v2 is not supported")
		val(t, 33264, d.MemoryFreeMB, "v1 free")
		val(t, 33280, d.MemoryTotalMB, "v1 total")
		assert.Len(t, d.Unavailable, 1, "utilization only")

		d = g.MIGDevices[3]
		assert.Nil(t, d.MemoryUsedMB)
		assert.Nil(t, d.MemoryFreeMB)
		assert.Nil(t, d.MemoryTotalMB)
		assert.Equal(t, "nvml: ERROR_UNKNOWN", d.Unavailable[samplers.GPUFieldMemoryUsedMB])
		assert.Equal(t, "nvml: ERROR_UNKNOWN", d.Unavailable[samplers.GPUFieldMemoryTotalMB])
		assert.Empty(t, d.Profile, "a name without \" MIG \" gives no profile")
		assert.Contains(t, d.Unavailable[samplers.MIGFieldProfile], samplers.GPUReasonNotReported)
		assert.Equal(t, 9, *d.GPUInstanceID)
		assert.Equal(t, "MIG-00000003-0000-0000-0000-000000000003", d.UUID)

		d = g.MIGDevices[4]
		assert.Nil(t, d.MemoryUsedMB)
		assert.Nil(t, d.MemoryFreeMB)
		assert.Nil(t, d.MemoryTotalMB)
		assert.Equal(t, samplers.GPUReasonNotSupported, d.Unavailable[samplers.GPUFieldMemoryFreeMB])
		assert.Equal(t, "1g.18gb", d.Profile)
		assert.Equal(t, 10, *d.GPUInstanceID)
	}
	assert.Len(t, m.srv.InitCalls(), inits, "ERROR_UNKNOWN on a MIG device does not re-init NVML")
	assert.Len(t, migs[4].GetMemoryInfo_v2Calls(), 1, "NOT_SUPPORTED on a MIG device is remembered")
	assert.Len(t, migs[4].GetMemoryInfoCalls(), 1)
	assert.Len(t, migs[3].GetMemoryInfo_v2Calls(), 2, "ERROR_UNKNOWN is asked again")
	assert.Len(t, migs[1].GetComputeInstanceIdCalls(), 2, "ERROR_NO_PERMISSION is asked again")
}

// ERROR_GPU_IS_LOST from a MIG device is the whole GPU lost, as from the GPU itself.
func TestNVMLMIGDeviceLost(t *testing.T) {
	m, migs := newH200MIG(t)
	c := h200MIG[2]
	c.giRet = gonvml.ERROR_GPU_IS_LOST
	migs[2] = migDevice(c)
	s, _ := openH200(t, m)
	r := tick(t, s)
	require.NoError(t, r.Err)
	g := r.GPU["gpu_0"]
	assert.Equal(t, samplers.GPUReasonLost, g.Unavailable[samplers.GPUFieldMemoryUsedMB])
	assert.Nil(t, g.MIGDevices)
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, "gpu_0 lost: ERROR_GPU_IS_LOST")
}

// A GPU without MIG support says so once (ERROR_NOT_SUPPORTED, remembered, not an error); a GPU in MIG mode
// whose listing fails says why in Unavailable["mig_devices"].
func TestNVMLMIGModeNotSupportedAndListingErrors(t *testing.T) {
	m := newH200(t)
	m.devs[0].GetMigModeFunc = func() (int, int, gonvml.Return) { return 0, 0, gonvml.ERROR_NOT_SUPPORTED }
	m.devs[1].GetMigModeFunc = func() (int, int, gonvml.Return) { return 0, 0, gonvml.ERROR_UNKNOWN }
	m.devs[2].MigMode = gonvml.DEVICE_MIG_ENABLE
	m.devs[2].GetMaxMigDeviceCountFunc = func() (int, gonvml.Return) { return 0, gonvml.ERROR_NO_PERMISSION }
	m.devs[3].MigMode = gonvml.DEVICE_MIG_ENABLE
	slot1 := migDevice(h200MIG[1])
	m.devs[3].GetMaxMigDeviceCountFunc = func() (int, gonvml.Return) { return 3, gonvml.SUCCESS }
	m.devs[3].GetMigDeviceHandleByIndexFunc = func(i int) (gonvml.Device, gonvml.Return) {
		switch i {
		case 0:
			return nil, gonvml.ERROR_NO_PERMISSION
		case 1:
			return slot1, gonvml.SUCCESS
		}
		return nil, gonvml.ERROR_NOT_FOUND
	}
	s, _ := openH200(t, m)
	for range 3 {
		r := tick(t, s)
		require.NoError(t, r.Err)
		g := r.GPU["gpu_0"]
		assert.Nil(t, g.MIGDevices)
		assert.NotContains(t, g.Unavailable, samplers.GPUFieldMIGDevices, "no MIG support is not an error")
		val(t, 40, g.TempC, "the rest of the tick is kept")
		assert.Nil(t, g.Processes[0].GPUInstanceID, "not in MIG mode: no instance IDs")

		g = r.GPU["gpu_1"]
		assert.Nil(t, g.MIGDevices)
		assert.Equal(t, "mig mode: nvml: ERROR_UNKNOWN", g.Unavailable[samplers.GPUFieldMIGDevices])
		val(t, 41, g.TempC, "temp_c")

		g = r.GPU["gpu_2"]
		assert.Nil(t, g.MIGDevices)
		assert.Equal(t, "max mig device count: nvml: ERROR_NO_PERMISSION", g.Unavailable[samplers.GPUFieldMIGDevices])

		g = r.GPU["gpu_3"]
		require.Len(t, g.MIGDevices, 1)
		assert.Equal(t, 1, *g.MIGDevices[0].Index)
		assert.Equal(t, "2c.3g.71gb", g.MIGDevices[0].Profile)
		assert.Equal(t, "incomplete: MIG device 0: nvml: ERROR_NO_PERMISSION", g.Unavailable[samplers.GPUFieldMIGDevices])

		assert.Nil(t, r.GPU["gpu_4"].MIGDevices, "MIG mode disabled")
		assert.Empty(t, r.GPU["gpu_4"].Unavailable)
		assert.Nil(t, r.GPU["gpu_4"].Processes[0].GPUInstanceID)
	}
	assert.Len(t, m.devs[0].GetMigModeCalls(), 1, "ERROR_NOT_SUPPORTED is remembered")
	assert.Len(t, m.devs[1].GetMigModeCalls(), 3)
	assert.Len(t, m.devs[4].GetMigModeCalls(), 3)
}

// A driver without the MIG functions (before R450): go-nvml binds NVML lazily, so calling one would end the
// process. None is called, the GPUs read as not in MIG mode, and nothing is reported missing.
func TestNVMLDriverWithoutMIGSymbols(t *testing.T) {
	m := newH200(t)
	m.srv.LookupSymbolFunc = func(sym string) error {
		if slices.Contains(migSymbols, sym) {
			return fmt.Errorf("%s: undefined symbol", sym)
		}
		return nil
	}
	for _, d := range m.devs {
		d.MigMode = gonvml.DEVICE_MIG_ENABLE
		d.GetMigModeFunc = func() (int, int, gonvml.Return) {
			t.Error("nvmlDeviceGetMigMode called on a driver that lacks it")
			return 0, 0, gonvml.ERROR_FUNCTION_NOT_FOUND
		}
	}
	s, _ := openH200(t, m)
	r := tick(t, s)
	require.NoError(t, r.Err)
	for k, g := range r.GPU {
		assert.Nil(t, g.MIGDevices, k)
		assert.NotContains(t, g.Unavailable, samplers.GPUFieldMIGDevices, k)
		val(t, 1980, g.SMClockMHz, k+" sm_clock_mhz")
	}
}

// Without privileges NVML refuses the whole MIG GPU's process list (ERROR_NO_PERMISSION); the processes are
// then gathered from the MIG devices, each of which answers for its own, with the device's instance IDs. The
// capture's three processes run on GPU instance 2, compute instance 1 (MIG device 1).
func TestNVMLMIGProcessesFromMIGDevicesWithoutPrivileges(t *testing.T) {
	m, migs := newH200MIG(t)
	m.devs[0].GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) {
		return nil, gonvml.ERROR_NO_PERMISSION
	}
	for i, md := range migs {
		if md == nil {
			continue
		}
		md.GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) {
			if i != 1 {
				return []gonvml.ProcessInfo{}, gonvml.SUCCESS
			}
			// On a MIG device handle NVML may leave the instance IDs unset (0xFFFFFFFF).
			return []gonvml.ProcessInfo{
				{Pid: 12249, UsedGpuMemory: 2194 * mibBytes, GpuInstanceId: migNotFound, ComputeInstanceId: migNotFound},
				{Pid: 12250, UsedGpuMemory: 1170 * mibBytes, GpuInstanceId: migNotFound, ComputeInstanceId: migNotFound},
				{Pid: 12267, UsedGpuMemory: 13526 * mibBytes, GpuInstanceId: 2, ComputeInstanceId: 1},
			}, gonvml.SUCCESS
		}
	}
	s, _ := openH200(t, m)
	r := tick(t, s)
	require.NoError(t, r.Err)
	g := r.GPU["gpu_0"]
	assert.NotContains(t, g.Unavailable, samplers.GPUFieldProcesses)
	h200MIGProcesses(t, g.Processes)

	// One MIG device refusing too: the list is unknown, with the whole GPU's reason; a MIG device's
	// NOT_SUPPORTED is not remembered as the GPU's (the next tick asks again).
	migs[3].GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) { return nil, gonvml.ERROR_NOT_SUPPORTED }
	for range 2 {
		g = tick(t, s).GPU["gpu_0"]
		assert.Nil(t, g.Processes)
		assert.Equal(t, "nvml: ERROR_NO_PERMISSION", g.Unavailable[samplers.GPUFieldProcesses])
	}
	assert.Len(t, m.devs[0].GetComputeRunningProcessesCalls(), 3, "asked on every tick")

	// A MIG device whose handle could not be read: its processes would be missing, so no list.
	migs[3].GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) { return []gonvml.ProcessInfo{}, gonvml.SUCCESS }
	inner := m.devs[0].GetMigDeviceHandleByIndexFunc
	m.devs[0].GetMigDeviceHandleByIndexFunc = func(i int) (gonvml.Device, gonvml.Return) {
		if i == 4 {
			return nil, gonvml.ERROR_NO_PERMISSION
		}
		return inner(i)
	}
	g = tick(t, s).GPU["gpu_0"]
	assert.Nil(t, g.Processes)
	assert.Equal(t, "nvml: ERROR_NO_PERMISSION", g.Unavailable[samplers.GPUFieldProcesses])
	assert.Equal(t, "incomplete: MIG device 4: nvml: ERROR_NO_PERMISSION", g.Unavailable[samplers.GPUFieldMIGDevices])

	// Every MIG device read again, and one's list failing with GPU_IS_LOST: the GPU is lost (an event, every
	// field null with reason gpu_lost), not just its process list refused.
	m.devs[0].GetMigDeviceHandleByIndexFunc = inner
	migs[3].GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) { return nil, gonvml.ERROR_GPU_IS_LOST }
	r = tick(t, s)
	require.Len(t, r.Events, 1)
	assert.Contains(t, r.Events[0].Message, "gpu_0")
	assert.Equal(t, samplers.GPUReasonLost, r.GPU["gpu_0"].Unavailable[samplers.GPUFieldProcesses])
}
