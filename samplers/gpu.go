package samplers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/snapshot"
)

// GPU source names, as GPUConfig.Source takes them and GPUSampler.Source reports them.
const (
	// GPUSourceAuto picks NVML when a driver package is linked and NVML initializes, else nvidia-smi when it is
	// on PATH, else none.
	GPUSourceAuto = "auto"
	// GPUSourceNVML reads NVML in process. It needs the opt-in package github.com/vmtest/vmtest/samplers/nvml
	// imported for its side effect (it registers itself), and cgo.
	GPUSourceNVML = "nvml"
	// GPUSourceNvidiaSMI runs one long-lived `nvidia-smi --query-gpu=... --format=csv,noheader,nounits -lms
	// <GPUConfig.Interval>` and keeps its newest block of rows; per-process memory comes from a
	// `--query-compute-apps` call about every 10 s.
	GPUSourceNvidiaSMI = "nvidia-smi"
	// GPUSourceDCGM scrapes one or more dcgm-exporter /metrics URLs.
	GPUSourceDCGM = "dcgm"
	// GPUSourceNone samples nothing: every reading has an empty map and says why.
	GPUSourceNone = "none"
)

// JSON names of the measured fields of snapshot.GPU, the keys of snapshot.GPU.Unavailable.
const (
	GPUFieldUtilization       = "utilization"
	GPUFieldMemoryUsedMB      = "memory_used_mb"
	GPUFieldMemoryFreeMB      = "memory_free_mb"
	GPUFieldMemoryTotalMB     = "memory_total_mb"
	GPUFieldTempC             = "temp_c"
	GPUFieldPowerW            = "power_w"
	GPUFieldMemoryUtilization = "memory_utilization_percent"
	GPUFieldSMClockMHz        = "sm_clock_mhz"
	GPUFieldMemoryClockMHz    = "memory_clock_mhz"
	GPUFieldEnergyJ           = "energy_j"
	GPUFieldThrottleReasons   = "throttle_reasons"
	GPUFieldProcesses         = "processes"
	// GPUFieldMIGDevices is set in Unavailable when a source that can list MIG devices could not tell this
	// tick whether the GPU has any, or listed only some of them.
	GPUFieldMIGDevices = "mig_devices"
)

// JSON names of the fields of snapshot.MIGDevice that a source may leave null or empty, the keys of
// snapshot.MIGDevice.Unavailable (besides the memory fields, named as in GPU: GPUFieldMemoryUsedMB, ...).
const (
	MIGFieldGPUInstanceID     = "gpu_instance_id"
	MIGFieldComputeInstanceID = "compute_instance_id"
	MIGFieldIndex             = "index"
	MIGFieldUUID              = "uuid"
	MIGFieldProfile           = "profile"
)

// Reasons a GPU field is null (values of snapshot.GPU.Unavailable) that more than one source uses.
const (
	// GPUReasonNotSupported: the driver says the device cannot report this field (NVML ERROR_NOT_SUPPORTED,
	// nvidia-smi "[Not Supported]", a DCGM NOT_SUPPORTED blank).
	GPUReasonNotSupported = "not_supported"
	// GPUReasonLost: the GPU fell off the bus or stopped answering (NVML ERROR_GPU_IS_LOST).
	GPUReasonLost = "gpu_lost"
	// GPUReasonNotReported: the source gave no value for this field (e.g. dcgm-exporter omits
	// DCGM_FI_DEV_GPU_UTIL for a MIG GPU; nvidia-smi has no energy counter).
	GPUReasonNotReported = "not_reported"
	// GPUReasonMIGUtilizationNVML: NVML gives no utilization for a GPU in MIG mode (nvmlDeviceGetUtilizationRates
	// is not supported there) nor for its MIG devices; DCGM's profiling field DCGM_FI_PROF_GR_ENGINE_ACTIVE,
	// through dcgm-exporter (GPUConfig.Source "dcgm"), gives it per GPU instance.
	GPUReasonMIGUtilizationNVML = GPUReasonNotSupported + " in MIG mode: NVML reports no utilization for a MIG GPU or its MIG devices; dcgm-exporter's DCGM_FI_PROF_GR_ENGINE_ACTIVE gives it per GPU instance"
)

// GPUConfig selects where GPU readings come from.
type GPUConfig struct {
	// Source is one of "auto" (the default when empty), "nvml", "nvidia-smi", "dcgm", "none".
	Source string
	// GPUs selects GPUs by index ("0") or UUID ("GPU-..."), the original Python collector's gpu_ids; empty means all.
	// With several dcgm-exporter nodes an index selects that index on every node.
	GPUs []string
	// DCGMURLs are dcgm-exporter /metrics URLs (e.g. "http://node1:9400/metrics"). With more than one, GPUs are
	// keyed "<host>_gpu_<index>". Setting them with Source "auto" selects dcgm.
	DCGMURLs []string
	// DCGMAuth is sent with every dcgm-exporter scrape (bearer token, basic auth, headers).
	DCGMAuth auth.Config
	// NvidiaSMIPath is the nvidia-smi binary; default "nvidia-smi" looked up on PATH.
	NvidiaSMIPath string
	// Interval is the collector's tick interval (Options.Interval); zero means 2 s, negative is invalid.
	// The nvidia-smi source passes it to `-lms`, so nvidia-smi prints one block of rows per tick, and a block
	// older than two intervals is reported as stale. The other sources ignore it.
	Interval time.Duration
	// HTTPClient scrapes dcgm-exporter; nil means a client of its own. Each scrape is bounded by the tick's
	// context, not by the client's Timeout.
	HTTPClient *http.Client
}

// GPUSource is one way of reading GPUs, wrapped by GPUSampler. A source's Sample returns readings keyed
// "gpu_<index>" (or "<host>_gpu_<index>"), with EnergyJ holding the device's cumulative energy counter in J
// (since driver load, as NVML and DCGM count it); GPUSampler rebases it to "since the first reading" and
// applies GPUConfig.GPUs. Sources are called from one goroutine at a time; Close may come from another.
type GPUSource interface {
	Sample(ctx context.Context) Reading
	Close() error
}

// NVMLOpener opens an NVML-backed GPUSource. It returns an error when NVML cannot be used here (no driver,
// init failed), which makes "auto" fall back to nvidia-smi.
type NVMLOpener func(cfg GPUConfig) (GPUSource, error)

var (
	nvmlMu     sync.Mutex
	nvmlOpener NVMLOpener
)

// RegisterNVML makes NVML available to NewGPU. The package github.com/vmtest/vmtest/samplers/nvml calls it
// from init, so that NVML (and cgo, and libnvidia-ml) is linked only into binaries that import that package.
// A later call replaces an earlier one; nil unregisters.
func RegisterNVML(open NVMLOpener) {
	nvmlMu.Lock()
	defer nvmlMu.Unlock()
	nvmlOpener = open
}

func registeredNVML() NVMLOpener {
	nvmlMu.Lock()
	defer nvmlMu.Unlock()
	return nvmlOpener
}

// ErrNVMLNotLinked is returned by NewGPU for Source "nvml" when no NVML driver package is imported.
var ErrNVMLNotLinked = errors.New(`no NVML driver is linked: import _ "github.com/vmtest/vmtest/samplers/nvml" (needs cgo)`)

// GPUSampler is the "gpu" Sampler: whichever source NewGPU chose, with GPU selection, energy rebasing and
// null-filling applied uniformly. It is safe to call Close concurrently with Sample.
type GPUSampler struct {
	source string
	src    GPUSource
	reason error // why there is no source; nil when src is set

	selIndex map[int]bool
	selUUID  map[string]bool

	mu     sync.Mutex
	energy map[string]*energyBase
	known  map[string]snapshot.GPU // identity of every GPU seen, for null-filling later readings
	closed bool
}

type energyBase struct {
	base, last, acc float64
}

// NewGPU chooses a GPU source as cfg says. It fails only on an invalid option (an unknown Source, an empty
// GPUs entry, Source "dcgm" without DCGMURLs, Source "nvml" with no NVML package linked), naming the field.
// A source that is valid but unusable here (no driver, no nvidia-smi) is not an error: the sampler's
// Source() is then "none", Reason() says why, and every Reading carries that reason in Err with an empty map.
func NewGPU(cfg GPUConfig) (*GPUSampler, error) {
	s := &GPUSampler{energy: map[string]*energyBase{}, known: map[string]snapshot.GPU{}}
	if err := s.parseSelection(cfg.GPUs); err != nil {
		return nil, err
	}
	if cfg.Interval < 0 {
		return nil, fmt.Errorf("GPUConfig.Interval: negative interval %v", cfg.Interval)
	}
	src := strings.ToLower(strings.TrimSpace(cfg.Source))
	if src == "" {
		src = GPUSourceAuto
	}
	smiPath := cfg.NvidiaSMIPath
	if smiPath == "" {
		smiPath = "nvidia-smi"
	}
	switch src {
	case GPUSourceNone:
		s.none(errors.New("gpu source is \"none\""))
	case GPUSourceDCGM:
		if len(cfg.DCGMURLs) == 0 {
			return nil, errors.New(`GPUConfig.DCGMURLs: Source "dcgm" needs at least one dcgm-exporter URL`)
		}
		d, err := newDCGM(cfg)
		if err != nil {
			return nil, err
		}
		s.use(GPUSourceDCGM, d)
	case GPUSourceNVML:
		open := registeredNVML()
		if open == nil {
			return nil, fmt.Errorf("GPUConfig.Source: %w", ErrNVMLNotLinked)
		}
		n, err := open(cfg)
		if err != nil {
			s.none(fmt.Errorf("nvml: %w", err))
		} else {
			s.use(GPUSourceNVML, n)
		}
	case GPUSourceNvidiaSMI:
		path, err := exec.LookPath(smiPath)
		if err != nil {
			s.none(fmt.Errorf("nvidia-smi: %w", err))
		} else {
			s.use(GPUSourceNvidiaSMI, newNvidiaSMI(path, cfg.Interval))
		}
	case GPUSourceAuto:
		if len(cfg.DCGMURLs) > 0 {
			d, err := newDCGM(cfg)
			if err != nil {
				return nil, err
			}
			s.use(GPUSourceDCGM, d)
			break
		}
		var why []string
		if open := registeredNVML(); open == nil {
			why = append(why, "nvml: not linked (import _ \"github.com/vmtest/vmtest/samplers/nvml\" to enable)")
		} else if n, err := open(cfg); err != nil {
			why = append(why, "nvml: "+err.Error())
		} else {
			s.use(GPUSourceNVML, n)
			break
		}
		if path, err := exec.LookPath(smiPath); err != nil {
			why = append(why, "nvidia-smi: "+err.Error())
		} else {
			s.use(GPUSourceNvidiaSMI, newNvidiaSMI(path, cfg.Interval))
			break
		}
		s.none(errors.New("no GPU source available: " + strings.Join(why, "; ")))
	default:
		return nil, fmt.Errorf("GPUConfig.Source: unknown GPU source %q (want auto, nvml, nvidia-smi, dcgm or none)", cfg.Source)
	}
	return s, nil
}

func (s *GPUSampler) use(name string, src GPUSource) { s.source, s.src = name, src }
func (s *GPUSampler) none(reason error)              { s.source, s.reason = GPUSourceNone, reason }

func (s *GPUSampler) parseSelection(ids []string) error {
	for i, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			return fmt.Errorf("GPUConfig.GPUs[%d]: empty GPU id", i)
		}
		if n, err := strconv.Atoi(id); err == nil {
			if n < 0 {
				return fmt.Errorf("GPUConfig.GPUs[%d]: negative GPU index %d", i, n)
			}
			if s.selIndex == nil {
				s.selIndex = map[int]bool{}
			}
			s.selIndex[n] = true
			continue
		}
		if s.selUUID == nil {
			s.selUUID = map[string]bool{}
		}
		s.selUUID[strings.ToLower(id)] = true
	}
	return nil
}

func (s *GPUSampler) selected(g snapshot.GPU) bool {
	if s.selIndex == nil && s.selUUID == nil {
		return true
	}
	return s.selIndex[g.Index] || (g.UUID != "" && s.selUUID[strings.ToLower(g.UUID)])
}

// Name is "gpu".
func (s *GPUSampler) Name() string { return "gpu" }

// Source is the source chosen: "nvml", "nvidia-smi", "dcgm" or "none".
func (s *GPUSampler) Source() string { return s.source }

// Reason is why Source is "none" (nil otherwise). The collector logs it once and records it as the reason
// gpu_metrics is {}.
func (s *GPUSampler) Reason() error { return s.reason }

// Close releases the source (NVML shutdown, a hung nvidia-smi killed). Sample after Close returns an error.
func (s *GPUSampler) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.src != nil {
		return s.src.Close()
	}
	return nil
}

// Sample takes one reading of the selected GPUs. The map is never nil. A GPU seen before but missing from
// this reading (its node unreachable, nvidia-smi failed) is present with every field null and the reason in
// Unavailable. EnergyJ counts from this sampler's first reading of that GPU.
func (s *GPUSampler) Sample(ctx context.Context) Reading {
	if s.src == nil {
		return Reading{GPU: map[string]snapshot.GPU{}, Err: s.reason}
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return Reading{GPU: map[string]snapshot.GPU{}, Err: errors.New("gpu sampler closed")}
	}
	r := s.src.Sample(ctx)
	out := make(map[string]snapshot.GPU, len(r.GPU))
	all := len(r.GPU)
	for k, g := range r.GPU {
		if !s.selected(g) {
			continue
		}
		g.EnergyJ = s.rebaseEnergy(k, g.EnergyJ)
		out[k] = g
		s.known[k] = identity(g)
	}
	reason := "no_reading"
	if r.Err != nil {
		reason = "error: " + r.Err.Error()
	}
	for k, id := range s.known {
		if _, ok := out[k]; !ok {
			out[k] = GPUUnavailable(id, reason)
		}
	}
	if all > 0 && len(out) == 0 && r.Err == nil {
		r.Err = fmt.Errorf("GPUConfig.GPUs selects none of the %d GPUs %s reports (%s)", all, s.source, keysOf(r.GPU))
	}
	now := time.Now()
	for i := range r.Events {
		if r.Events[i].Time.IsZero() {
			r.Events[i].Time = now
		}
		r.Events[i].Source = "gpu"
	}
	r.GPU = out
	return r
}

func keysOf(m map[string]snapshot.GPU) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

func (s *GPUSampler) rebaseEnergy(key string, raw *float64) *float64 {
	if raw == nil {
		return nil
	}
	e := s.energy[key]
	if e == nil {
		s.energy[key] = &energyBase{base: *raw, last: *raw}
		return snapshot.F(0)
	}
	if *raw < e.last { // the counter restarted from 0 (driver reload, GPU reset): keep what was counted so far
		e.acc += e.last - e.base
		e.base = 0
	}
	e.last = *raw
	return snapshot.F(e.acc + *raw - e.base)
}

func identity(g snapshot.GPU) snapshot.GPU {
	return snapshot.GPU{Index: g.Index, UUID: g.UUID, Name: g.Name, Host: g.Host}
}

// GPUUnavailable returns g's identity (index, UUID, name, host) with every measured field null (MIG devices
// included) and reason recorded for each in Unavailable.
func GPUUnavailable(g snapshot.GPU, reason string) snapshot.GPU {
	out := identity(g)
	out.Unavailable = map[string]string{}
	for _, f := range []string{GPUFieldUtilization, GPUFieldMemoryUsedMB, GPUFieldMemoryFreeMB, GPUFieldMemoryTotalMB,
		GPUFieldTempC, GPUFieldPowerW, GPUFieldMemoryUtilization, GPUFieldSMClockMHz, GPUFieldMemoryClockMHz,
		GPUFieldEnergyJ, GPUFieldThrottleReasons, GPUFieldProcesses, GPUFieldMIGDevices} {
		out.Unavailable[f] = reason
	}
	return out
}

// setMIGUnavailable records why field of m is null or empty.
func setMIGUnavailable(m *snapshot.MIGDevice, field, reason string) {
	if m.Unavailable == nil {
		m.Unavailable = map[string]string{}
	}
	m.Unavailable[field] = reason
}

// GPUKey is the snapshot key of a GPU: "gpu_<index>", or "<host>_gpu_<index>" when host is not empty.
func GPUKey(host string, index int) string {
	if host == "" {
		return "gpu_" + strconv.Itoa(index)
	}
	return host + "_gpu_" + strconv.Itoa(index)
}

// setUnavailable records why field is null in g.
func setUnavailable(g *snapshot.GPU, field, reason string) {
	if g.Unavailable == nil {
		g.Unavailable = map[string]string{}
	}
	g.Unavailable[field] = reason
}

// Clock event ("throttle") reason bits, as NVML's nvmlClocksEventReason* defines them; nvidia-smi's
// clocks_throttle_reasons.active and DCGM's DCGM_FI_DEV_CLOCK_THROTTLE_REASONS carry the same bitmask.
var throttleBits = []struct {
	bit  uint64
	name string
}{
	{0x1, "gpu_idle"},
	{0x2, "applications_clocks_setting"},
	{0x4, "sw_power_cap"},
	{0x8, "hw_slowdown"},
	{0x10, "sync_boost"},
	{0x20, "sw_thermal_slowdown"},
	{0x40, "hw_thermal_slowdown"},
	{0x80, "hw_power_brake_slowdown"},
	{0x100, "display_clock_setting"},
	{0x200, "board_limit"},
	{0x400, "reliability"},
}

// GPUThrottleReasons names the bits set in an NVML clock event reasons mask (e.g. 0x4 → ["sw_power_cap"]).
// It returns an empty, non-nil slice for 0 (no throttling, which is not "unknown"); a bit without a name is
// reported as "0x<hex>".
func GPUThrottleReasons(mask uint64) []string {
	out := []string{}
	for _, b := range throttleBits {
		if mask&b.bit != 0 {
			out = append(out, b.name)
			mask &^= b.bit
		}
	}
	for bit := uint64(1); mask != 0 && bit != 0; bit <<= 1 {
		if mask&bit != 0 {
			out = append(out, "0x"+strconv.FormatUint(bit, 16))
			mask &^= bit
		}
	}
	return out
}
