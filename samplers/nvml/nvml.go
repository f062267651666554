//go:build linux && cgo

package nvml

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

func init() {
	samplers.RegisterNVML(func(cfg samplers.GPUConfig) (samplers.GPUSource, error) {
		return Open(gonvml.New(), cfg)
	})
}

// Re-init backoff after a GPU is lost: the first retry after retryMin, doubling up to retryMax.
const (
	retryMin = 2 * time.Second
	retryMax = time.Minute
)

// Source reads GPUs through an NVML library (the system's libnvidia-ml, or a go-nvml mock in tests).
//
// Per field, an NVML ERROR_NOT_SUPPORTED makes that field null with reason "not_supported" and is remembered
// per device (and per MIG device, by its UUID), so the call is not made again. ERROR_GPU_IS_LOST (or ERROR_UNKNOWN that persists after an NVML
// re-init) marks the device lost: every field null with reason "gpu_lost" and an event, then NVML is re-inited
// with backoff (2 s doubling to 1 min) until the device answers again, which is another event.
//
// A GPU in MIG mode is read as a whole, as before, and each of its MIG devices is listed in
// snapshot.GPU.MIGDevices with its IDs, profile and memory, enumerated afresh every tick (NVML may reuse a MIG
// handle for another device after a reconfiguration). A failed call on a MIG device nulls that field of that
// MIG device only; ERROR_GPU_IS_LOST there marks the whole GPU lost.
type Source struct {
	lib gonvml.Interface

	mu          sync.Mutex
	inited      bool
	devices     []*device
	eventReason bool // the driver exports nvmlDeviceGetCurrentClocksEventReasons (else the older Throttle name)
	memV2       bool // the driver exports nvmlDeviceGetMemoryInfo_v2
	noTemp      bool // the driver no longer exports nvmlDeviceGetTemperature (deprecated in NVML 13)
	migAPI      bool // the driver exports every MIG call readMIG makes (NVML 11, R450 on)
	retryAt     time.Time
	backoff     time.Duration
	inFlight    bool
	inFlightAt  time.Time
	closed      bool
	now         func() time.Time
}

type device struct {
	h           gonvml.Device
	index       int
	uuid, name  string
	unsupported map[string]bool // NVML call → ERROR_NOT_SUPPORTED seen on this device
	lost        bool
}

// NVML calls, the keys of device.unsupported, and the snapshot fields each fills.
const (
	callMemory    = "memory"
	callUtil      = "utilization"
	callTemp      = "temperature"
	callPower     = "power"
	callSMClock   = "sm_clock"
	callMemClock  = "mem_clock"
	callEnergy    = "energy"
	callThrottle  = "clock_event_reasons"
	callProcesses = "processes"
	callMIGMode   = "mig_mode"
	// Calls on a MIG device handle, remembered as "<call>@<MIG UUID>".
	callMIGGPUInstance     = "mig_gpu_instance_id"
	callMIGComputeInstance = "mig_compute_instance_id"
	callMIGMemory          = "mig_memory"
	callMIGName            = "mig_name"
)

// migNotFound is NVML's "not MIG" value of ProcessInfo.GpuInstanceId and ComputeInstanceId (0xFFFFFFFF).
const migNotFound = math.MaxUint32

var callFields = map[string][]string{
	callMemory:    {samplers.GPUFieldMemoryUsedMB, samplers.GPUFieldMemoryFreeMB, samplers.GPUFieldMemoryTotalMB},
	callUtil:      {samplers.GPUFieldUtilization, samplers.GPUFieldMemoryUtilization},
	callTemp:      {samplers.GPUFieldTempC},
	callPower:     {samplers.GPUFieldPowerW},
	callSMClock:   {samplers.GPUFieldSMClockMHz},
	callMemClock:  {samplers.GPUFieldMemoryClockMHz},
	callEnergy:    {samplers.GPUFieldEnergyJ},
	callThrottle:  {samplers.GPUFieldThrottleReasons},
	callProcesses: {samplers.GPUFieldProcesses},
}

// Open initializes lib and enumerates the GPUs cfg.GPUs selects (all when empty). It fails when NVML does not
// initialize (no driver: ERROR_LIBRARY_NOT_FOUND, ERROR_DRIVER_NOT_LOADED) or cannot count devices.
func Open(lib gonvml.Interface, cfg samplers.GPUConfig) (*Source, error) {
	if r := lib.Init(); r != gonvml.SUCCESS {
		return nil, fmt.Errorf("nvmlInit: %s", reason(r))
	}
	s := &Source{lib: lib, inited: true, now: time.Now}
	n, r := lib.DeviceGetCount()
	if r != gonvml.SUCCESS {
		lib.Shutdown()
		return nil, fmt.Errorf("nvmlDeviceGetCount: %s", reason(r))
	}
	if ext := lib.Extensions(); ext != nil {
		s.eventReason = ext.LookupSymbol("nvmlDeviceGetCurrentClocksEventReasons") == nil
		s.memV2 = ext.LookupSymbol("nvmlDeviceGetMemoryInfo_v2") == nil
		s.noTemp = ext.LookupSymbol("nvmlDeviceGetTemperature") != nil
		s.migAPI = true
		for _, sym := range migSymbols {
			s.migAPI = s.migAPI && ext.LookupSymbol(sym) == nil
		}
	}
	want := selection(cfg.GPUs)
	for i := 0; i < n; i++ {
		d := &device{index: i, unsupported: map[string]bool{}}
		h, r := lib.DeviceGetHandleByIndex(i)
		if r == gonvml.SUCCESS {
			d.h = h
			if u, r := h.GetUUID(); r == gonvml.SUCCESS {
				d.uuid = u
			}
			if nm, r := h.GetName(); r == gonvml.SUCCESS {
				d.name = nm
			}
			if idx, r := h.GetIndex(); r == gonvml.SUCCESS {
				d.index = idx
			}
		} else {
			d.lost = true // re-init will look for it by index
		}
		if want(d.index, d.uuid) {
			s.devices = append(s.devices, d)
		}
	}
	if s.anyLost() {
		s.backoff = retryMin
		s.retryAt = s.now().Add(s.backoff)
	}
	return s, nil
}

func selection(ids []string) func(int, string) bool {
	if len(ids) == 0 {
		return func(int, string) bool { return true }
	}
	idx, uuid := map[int]bool{}, map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if n, err := strconv.Atoi(id); err == nil {
			idx[n] = true
		} else {
			uuid[strings.ToLower(id)] = true
		}
	}
	return func(i int, u string) bool { return idx[i] || (u != "" && uuid[strings.ToLower(u)]) }
}

// Close shuts NVML down (after the read in flight, if any, finishes).
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if !s.inFlight {
		s.shutdown()
	}
	return nil
}

func (s *Source) shutdown() {
	if s.inited {
		s.lib.Shutdown()
		s.inited = false
	}
}

// Sample reads every selected GPU. NVML calls cannot be interrupted, so they run on a goroutine: if the
// driver blocks past ctx's deadline, Sample returns an error at the deadline and later ticks report the read
// still in flight instead of starting another.
func (s *Source) Sample(ctx context.Context) samplers.Reading {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return samplers.Reading{Err: errors.New("nvml: closed")}
	}
	if s.inFlight {
		since := s.now().Sub(s.inFlightAt).Round(time.Millisecond)
		s.mu.Unlock()
		return samplers.Reading{Err: fmt.Errorf("nvml: previous read still blocked in the driver after %v", since)}
	}
	s.inFlight, s.inFlightAt = true, s.now()
	s.mu.Unlock()

	done := make(chan samplers.Reading, 1)
	go func() {
		r := s.read()
		s.mu.Lock()
		s.inFlight = false
		if s.closed {
			s.shutdown()
		}
		s.mu.Unlock()
		done <- r
	}()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		return samplers.Reading{Err: fmt.Errorf("nvml: read not finished at the tick's deadline: %w", ctx.Err())}
	}
}

func (s *Source) anyLost() bool {
	for _, d := range s.devices {
		if d.lost {
			return true
		}
	}
	return false
}

// read takes one reading; only one runs at a time (inFlight).
func (s *Source) read() samplers.Reading {
	var events []samplers.Event
	if s.anyLost() && !s.now().Before(s.retryAt) {
		events = append(events, s.recover()...)
	}
	out := make(map[string]snapshot.GPU, len(s.devices))
	for _, d := range s.devices {
		g, ev := s.readDevice(d)
		events = append(events, ev...)
		out[samplers.GPUKey("", d.index)] = g
	}
	if s.anyLost() && s.backoff == 0 {
		s.backoff = retryMin
		s.retryAt = s.now().Add(s.backoff)
	}
	return samplers.Reading{GPU: out, Events: events}
}

// reinit shuts NVML down and initializes it again, then looks every device up again (by UUID, else index).
func (s *Source) reinit() gonvml.Return {
	s.shutdown()
	if r := s.lib.Init(); r != gonvml.SUCCESS {
		return r
	}
	s.inited = true
	for _, d := range s.devices {
		var h gonvml.Device
		var r gonvml.Return
		if d.uuid != "" {
			h, r = s.lib.DeviceGetHandleByUUID(d.uuid)
		} else {
			h, r = s.lib.DeviceGetHandleByIndex(d.index)
		}
		if r == gonvml.SUCCESS {
			d.h = h
		} else {
			d.h = nil
		}
	}
	return gonvml.SUCCESS
}

// recover re-inits NVML and probes each lost device; the ones that answer are back.
func (s *Source) recover() []samplers.Event {
	var events []samplers.Event
	r := s.reinit()
	for _, d := range s.devices {
		if !d.lost || r != gonvml.SUCCESS || d.h == nil {
			continue
		}
		if _, _, _, pr := s.memory(d.h); pr == gonvml.SUCCESS {
			d.lost = false
			if d.uuid == "" {
				if u, r := d.h.GetUUID(); r == gonvml.SUCCESS {
					d.uuid = u
				}
				if nm, r := d.h.GetName(); r == gonvml.SUCCESS {
					d.name = nm
				}
			}
			events = append(events, samplers.Event{Time: s.now(),
				Message: fmt.Sprintf("%s recovered after NVML re-init (%s)", samplers.GPUKey("", d.index), d.uuid)})
		}
	}
	if s.anyLost() {
		s.backoff = min(2*s.backoff, retryMax)
		if s.backoff == 0 {
			s.backoff = retryMin
		}
		s.retryAt = s.now().Add(s.backoff)
	} else {
		s.backoff = 0
	}
	return events
}

func isLost(r gonvml.Return) bool {
	return r == gonvml.ERROR_GPU_IS_LOST || r == gonvml.ERROR_RESET_REQUIRED || r == gonvml.ERROR_UNINITIALIZED ||
		r == gonvml.ERROR_GPU_NOT_FOUND
}

func (s *Source) markLost(d *device, r gonvml.Return) samplers.Event {
	d.lost = true
	if s.backoff == 0 {
		s.backoff = retryMin
		s.retryAt = s.now().Add(s.backoff)
	}
	return samplers.Event{Time: s.now(),
		Message: fmt.Sprintf("%s lost: %s (%s); readings null until NVML re-init finds it", samplers.GPUKey("", d.index), name(r), d.uuid)}
}

// readDevice reads one device, field by field.
func (s *Source) readDevice(d *device) (snapshot.GPU, []samplers.Event) {
	g := snapshot.GPU{Index: d.index, UUID: d.uuid, Name: d.name}
	if d.lost || d.h == nil {
		return samplers.GPUUnavailable(g, samplers.GPUReasonLost), nil
	}
	// Memory first: every GPU supports it, so its failure says whether the device is there at all.
	used, free, total, r := s.memory(d.h)
	if r == gonvml.ERROR_UNKNOWN {
		// ERROR_UNKNOWN can be transient: re-init once and ask again before calling the device lost.
		if s.reinit() == gonvml.SUCCESS && d.h != nil {
			used, free, total, r = s.memory(d.h)
		}
		if r == gonvml.ERROR_UNKNOWN {
			ev := s.markLost(d, gonvml.ERROR_UNKNOWN)
			return samplers.GPUUnavailable(g, samplers.GPUReasonLost), []samplers.Event{ev}
		}
	}
	if isLost(r) {
		ev := s.markLost(d, r)
		return samplers.GPUUnavailable(g, samplers.GPUReasonLost), []samplers.Event{ev}
	}
	var lostBy gonvml.Return
	ok := func(call string, r gonvml.Return) bool {
		switch {
		case r == gonvml.SUCCESS:
			return true
		case r == gonvml.ERROR_NOT_SUPPORTED:
			d.unsupported[call] = true
		case isLost(r) && lostBy == gonvml.SUCCESS:
			lostBy = r
		}
		for _, f := range callFields[call] {
			setUnavailable(&g, f, reason(r))
		}
		return false
	}
	skip := func(call string) bool {
		if d.unsupported[call] {
			for _, f := range callFields[call] {
				setUnavailable(&g, f, samplers.GPUReasonNotSupported)
			}
			return true
		}
		return false
	}
	if ok(callMemory, r) {
		g.MemoryUsedMB, g.MemoryFreeMB, g.MemoryTotalMB = mib(used), mib(free), mib(total)
	}
	if !skip(callUtil) {
		if u, r := d.h.GetUtilizationRates(); ok(callUtil, r) {
			g.Utilization, g.MemoryUtilizationPercent = snapshot.F(float64(u.Gpu)), snapshot.F(float64(u.Memory))
		}
	}
	if s.noTemp {
		setUnavailable(&g, samplers.GPUFieldTempC, "nvml: ERROR_FUNCTION_NOT_FOUND")
	} else if !skip(callTemp) {
		if t, r := d.h.GetTemperature(gonvml.TEMPERATURE_GPU); ok(callTemp, r) {
			g.TempC = snapshot.F(float64(t))
		}
	}
	if !skip(callPower) {
		if p, r := d.h.GetPowerUsage(); ok(callPower, r) {
			g.PowerW = snapshot.F(float64(p) / 1000) // mW
		}
	}
	if !skip(callSMClock) {
		if c, r := d.h.GetClockInfo(gonvml.CLOCK_SM); ok(callSMClock, r) {
			g.SMClockMHz = snapshot.F(float64(c))
		}
	}
	if !skip(callMemClock) {
		if c, r := d.h.GetClockInfo(gonvml.CLOCK_MEM); ok(callMemClock, r) {
			g.MemoryClockMHz = snapshot.F(float64(c))
		}
	}
	if !skip(callEnergy) {
		// Cumulative mJ since the driver loaded; samplers.GPUSampler rebases it to the first reading.
		if e, r := d.h.GetTotalEnergyConsumption(); ok(callEnergy, r) {
			g.EnergyJ = snapshot.F(float64(e) / 1000)
		}
	}
	if !skip(callThrottle) {
		var mask uint64
		var r gonvml.Return
		if s.eventReason {
			mask, r = d.h.GetCurrentClocksEventReasons()
		} else {
			mask, r = d.h.GetCurrentClocksThrottleReasons()
		}
		if ok(callThrottle, r) {
			g.ThrottleReasons = samplers.GPUThrottleReasons(mask)
		}
	}
	mig, migHandles, migLost := s.readMIG(d, &g)
	if migLost != gonvml.SUCCESS && lostBy == gonvml.SUCCESS {
		lostBy = migLost
	}
	if mig == migOn && g.Utilization == nil && g.Unavailable[samplers.GPUFieldUtilization] == samplers.GPUReasonNotSupported {
		setUnavailable(&g, samplers.GPUFieldUtilization, samplers.GPUReasonMIGUtilizationNVML)
	}
	if !skip(callProcesses) {
		ps, r := d.h.GetComputeRunningProcesses()
		if r == gonvml.ERROR_NO_PERMISSION && mig == migOn && len(migHandles) > 0 {
			// The MIG devices' lists instead; if one fails, the whole GPU's refusal stands (and a MIG
			// device's NOT_SUPPORTED is not remembered as the GPU's).
			switch mps, mr := migProcesses(migHandles); {
			case mr == gonvml.SUCCESS:
				ps, r = mps, mr
			case isLost(mr):
				r = mr // the GPU is lost: that, not the refusal, is what this tick says
			}
		}
		if ok(callProcesses, r) {
			g.Processes = make([]snapshot.GPUProcess, 0, len(ps))
			for _, p := range ps {
				gp := snapshot.GPUProcess{PID: p.Pid}
				if p.UsedGpuMemory != math.MaxUint64 { // NVML_VALUE_NOT_AVAILABLE (e.g. under MIG without privileges)
					gp.UsedMemoryMB = mib(p.UsedGpuMemory)
				}
				if mig != migOff {
					gp.GPUInstanceID, gp.ComputeInstanceID = migID(p.GpuInstanceId), migID(p.ComputeInstanceId)
				}
				g.Processes = append(g.Processes, gp)
			}
		}
	}
	if lostBy != gonvml.SUCCESS {
		ev := s.markLost(d, lostBy)
		return samplers.GPUUnavailable(g, samplers.GPUReasonLost), []samplers.Event{ev}
	}
	return g, nil
}

// MIG mode of a device as readMIG found it.
type migState int

const (
	migOff     migState = iota // MIG mode is disabled, or the device does not support MIG
	migOn                      // MIG mode is enabled
	migUnknown                 // NVML could not say this tick
)

func migID(v uint32) *int {
	if v == migNotFound {
		return nil
	}
	id := int(v)
	return &id
}

// migSymbols are the NVML functions readMIG calls. go-nvml binds NVML lazily, so calling one that the
// driver lacks (before R450) would end the process: Open checks them all, and without them a GPU cannot be in
// MIG mode anyway.
var migSymbols = []string{"nvmlDeviceGetMigMode", "nvmlDeviceGetMaxMigDeviceCount", "nvmlDeviceGetMigDeviceHandleByIndex",
	"nvmlDeviceGetGpuInstanceId", "nvmlDeviceGetComputeInstanceId"}

// readMIG fills g.MIGDevices when d is in MIG mode. ERROR_NOT_SUPPORTED from GetMigMode means the device
// has no MIG (remembered, not an error); another failure to tell is recorded in g.Unavailable["mig_devices"].
// It returns the MIG state, the MIG device handles it read (for their process lists; nil when it could not
// read them all), and, when a call said the GPU is lost, that return code (else SUCCESS).
func (s *Source) readMIG(d *device, g *snapshot.GPU) (migState, []migHandle, gonvml.Return) {
	if !s.migAPI || d.unsupported[callMIGMode] {
		return migOff, nil, gonvml.SUCCESS
	}
	cur, _, r := d.h.GetMigMode()
	switch {
	case r == gonvml.ERROR_NOT_SUPPORTED:
		d.unsupported[callMIGMode] = true
		return migOff, nil, gonvml.SUCCESS
	case isLost(r):
		return migUnknown, nil, r
	case r != gonvml.SUCCESS:
		setUnavailable(g, samplers.GPUFieldMIGDevices, "mig mode: "+reason(r))
		return migUnknown, nil, gonvml.SUCCESS
	case cur != gonvml.DEVICE_MIG_ENABLE:
		return migOff, nil, gonvml.SUCCESS
	}
	n, r := d.h.GetMaxMigDeviceCount()
	if isLost(r) {
		return migOn, nil, r
	}
	if r != gonvml.SUCCESS {
		setUnavailable(g, samplers.GPUFieldMIGDevices, "max mig device count: "+reason(r))
		return migOn, nil, gonvml.SUCCESS
	}
	var missed []string
	var handles []migHandle
	for i := 0; i < n; i++ {
		h, r := d.h.GetMigDeviceHandleByIndex(i)
		switch {
		case r == gonvml.ERROR_NOT_FOUND: // an empty slot
			continue
		case isLost(r):
			return migOn, nil, r
		case r != gonvml.SUCCESS || h == nil:
			missed = append(missed, fmt.Sprintf("%d: %s", i, reason(r)))
			continue
		}
		m, lost := s.readMIGDevice(d, h, i)
		if lost != gonvml.SUCCESS {
			return migOn, nil, lost
		}
		g.MIGDevices = append(g.MIGDevices, m)
		handles = append(handles, migHandle{h: h, gi: m.GPUInstanceID, ci: m.ComputeInstanceID})
	}
	if len(missed) > 0 {
		setUnavailable(g, samplers.GPUFieldMIGDevices, "incomplete: MIG device "+strings.Join(missed, ", "))
		return migOn, nil, gonvml.SUCCESS // processes gathered from these handles would be incomplete too
	}
	return migOn, handles, gonvml.SUCCESS
}

// migHandle is a MIG device handle with the instance IDs read from it (nil where NVML did not say).
type migHandle struct {
	h      gonvml.Device
	gi, ci *int
}

// migProcesses is the compute-process list of a GPU in MIG mode gathered from its MIG devices: NVML gives the
// whole GPU's list only to privileged callers (ERROR_NO_PERMISSION otherwise) and each MIG device's to
// anyone. A process's instance IDs are the device's when NVML leaves them unset. The first failure is
// returned (the list is then not used).
func migProcesses(handles []migHandle) ([]gonvml.ProcessInfo, gonvml.Return) {
	var out []gonvml.ProcessInfo
	for _, mh := range handles {
		ps, r := mh.h.GetComputeRunningProcesses()
		if r != gonvml.SUCCESS {
			return nil, r
		}
		for _, p := range ps {
			if p.GpuInstanceId == migNotFound && mh.gi != nil {
				p.GpuInstanceId = uint32(*mh.gi)
			}
			if p.ComputeInstanceId == migNotFound && mh.ci != nil {
				p.ComputeInstanceId = uint32(*mh.ci)
			}
			out = append(out, p)
		}
	}
	return out, gonvml.SUCCESS
}

// readMIGDevice reads the MIG device at index i of d, field by field.
func (s *Source) readMIGDevice(d *device, h gonvml.Device, i int) (snapshot.MIGDevice, gonvml.Return) {
	m := snapshot.MIGDevice{Index: &i}
	setMIGUnavailable(&m, samplers.GPUFieldUtilization, samplers.GPUReasonMIGUtilizationNVML)
	uuid, r := h.GetUUID()
	if r == gonvml.SUCCESS {
		m.UUID = uuid
	} else {
		setMIGUnavailable(&m, samplers.MIGFieldUUID, reason(r))
	}
	var lostBy gonvml.Return
	// read makes one call unless it was ERROR_NOT_SUPPORTED before on this MIG device; on failure it nulls
	// fields with the reason.
	read := func(call string, do func() gonvml.Return, fields ...string) {
		key := call + "@" + uuid
		why := samplers.GPUReasonNotSupported
		if uuid == "" || !d.unsupported[key] {
			r := do()
			switch {
			case r == gonvml.SUCCESS:
				return
			case r == gonvml.ERROR_NOT_SUPPORTED && uuid != "":
				d.unsupported[key] = true
			case isLost(r) && lostBy == gonvml.SUCCESS:
				lostBy = r
			}
			why = reason(r)
		}
		for _, f := range fields {
			setMIGUnavailable(&m, f, why)
		}
	}
	read(callMIGGPUInstance, func() gonvml.Return {
		id, r := h.GetGpuInstanceId()
		if r == gonvml.SUCCESS {
			m.GPUInstanceID = &id
		}
		return r
	}, samplers.MIGFieldGPUInstanceID)
	read(callMIGComputeInstance, func() gonvml.Return {
		id, r := h.GetComputeInstanceId()
		if r == gonvml.SUCCESS {
			m.ComputeInstanceID = &id
		}
		return r
	}, samplers.MIGFieldComputeInstanceID)
	read(callMIGName, func() gonvml.Return {
		nm, r := h.GetName()
		if r == gonvml.SUCCESS {
			if _, profile, found := strings.Cut(nm, " MIG "); found && profile != "" {
				m.Profile = profile
			} else {
				setMIGUnavailable(&m, samplers.MIGFieldProfile, samplers.GPUReasonNotReported+" (name "+strconv.Quote(nm)+")")
			}
		}
		return r
	}, samplers.MIGFieldProfile)
	read(callMIGMemory, func() gonvml.Return {
		used, free, total, r := s.memory(h)
		if r == gonvml.SUCCESS {
			m.MemoryUsedMB, m.MemoryFreeMB, m.MemoryTotalMB = mib(used), mib(free), mib(total)
		}
		return r
	}, samplers.GPUFieldMemoryUsedMB, samplers.GPUFieldMemoryFreeMB, samplers.GPUFieldMemoryTotalMB)
	return m, lostBy
}

func setMIGUnavailable(m *snapshot.MIGDevice, field, why string) {
	if m.Unavailable == nil {
		m.Unavailable = map[string]string{}
	}
	m.Unavailable[field] = why
}

// memory returns used, free and total bytes: the v2 call where the driver has it (used excludes memory the
// driver reserves, as nvidia-smi's memory.used does since r510), else v1.
func (s *Source) memory(h gonvml.Device) (used, free, total uint64, r gonvml.Return) {
	if s.memV2 {
		m, r := h.GetMemoryInfo_v2()
		if r == gonvml.SUCCESS {
			return m.Used, m.Free, m.Total, r
		}
		if r != gonvml.ERROR_NOT_SUPPORTED && r != gonvml.ERROR_FUNCTION_NOT_FOUND && r != gonvml.ERROR_ARGUMENT_VERSION_MISMATCH {
			return 0, 0, 0, r
		}
	}
	m, r := h.GetMemoryInfo()
	return m.Used, m.Free, m.Total, r
}

func mib(b uint64) *float64 { return snapshot.F(float64(b) / (1 << 20)) }

func setUnavailable(g *snapshot.GPU, field, why string) {
	if g.Unavailable == nil {
		g.Unavailable = map[string]string{}
	}
	g.Unavailable[field] = why
}

// reason is the Unavailable reason for an NVML return code.
func reason(r gonvml.Return) string {
	switch r {
	case gonvml.ERROR_NOT_SUPPORTED:
		return samplers.GPUReasonNotSupported
	case gonvml.ERROR_GPU_IS_LOST:
		return samplers.GPUReasonLost
	}
	return "nvml: " + name(r)
}

var returnNames = map[gonvml.Return]string{
	gonvml.SUCCESS: "SUCCESS", gonvml.ERROR_UNINITIALIZED: "ERROR_UNINITIALIZED",
	gonvml.ERROR_INVALID_ARGUMENT: "ERROR_INVALID_ARGUMENT", gonvml.ERROR_NOT_SUPPORTED: "ERROR_NOT_SUPPORTED",
	gonvml.ERROR_NO_PERMISSION: "ERROR_NO_PERMISSION", gonvml.ERROR_NOT_FOUND: "ERROR_NOT_FOUND",
	gonvml.ERROR_DRIVER_NOT_LOADED: "ERROR_DRIVER_NOT_LOADED", gonvml.ERROR_TIMEOUT: "ERROR_TIMEOUT",
	gonvml.ERROR_LIBRARY_NOT_FOUND: "ERROR_LIBRARY_NOT_FOUND", gonvml.ERROR_FUNCTION_NOT_FOUND: "ERROR_FUNCTION_NOT_FOUND",
	gonvml.ERROR_GPU_IS_LOST: "ERROR_GPU_IS_LOST", gonvml.ERROR_RESET_REQUIRED: "ERROR_RESET_REQUIRED",
	gonvml.ERROR_LIB_RM_VERSION_MISMATCH: "ERROR_LIB_RM_VERSION_MISMATCH", gonvml.ERROR_NO_DATA: "ERROR_NO_DATA",
	gonvml.ERROR_NOT_READY: "ERROR_NOT_READY", gonvml.ERROR_GPU_NOT_FOUND: "ERROR_GPU_NOT_FOUND",
	gonvml.ERROR_UNKNOWN: "ERROR_UNKNOWN",
}

// name is the NVML constant's name (not nvmlErrorString, which needs the library loaded).
func name(r gonvml.Return) string {
	if n, ok := returnNames[r]; ok {
		return n
	}
	return "NVML_ERROR_" + strconv.Itoa(int(r))
}
