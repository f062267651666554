package samplers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/snapshot"
)

// dcgmMaxBody bounds one scrape's body (a node with 8 GPUs and the default counters is ~40 KiB).
const dcgmMaxBody = 16 << 20

// dcgm-exporter field names (etc/default-counters.csv) and the snapshot fields they fill.
const (
	dcgmGPUUtil      = "DCGM_FI_DEV_GPU_UTIL"                 // %, not supported on MIG GPUs (absent, or 0)
	dcgmMemCopyUtil  = "DCGM_FI_DEV_MEM_COPY_UTIL"            // %
	dcgmFBUsed       = "DCGM_FI_DEV_FB_USED"                  // MiB
	dcgmFBFree       = "DCGM_FI_DEV_FB_FREE"                  // MiB
	dcgmFBReserved   = "DCGM_FI_DEV_FB_RESERVED"              // MiB
	dcgmFBTotal      = "DCGM_FI_DEV_FB_TOTAL"                 // MiB, not in the default counters
	dcgmGPUTemp      = "DCGM_FI_DEV_GPU_TEMP"                 // °C
	dcgmPower        = "DCGM_FI_DEV_POWER_USAGE"              // W
	dcgmSMClock      = "DCGM_FI_DEV_SM_CLOCK"                 // MHz
	dcgmMemClock     = "DCGM_FI_DEV_MEM_CLOCK"                // MHz
	dcgmEnergy       = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" // mJ since boot
	dcgmThrottle     = "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"   // NVML bitmask
	dcgmEventReasons = "DCGM_FI_DEV_CLOCKS_EVENT_REASONS"     // its newer name
	dcgmGRActive     = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"        // ratio 0..1, per GPU instance on a MIG GPU
	dcgmDRAMActive   = "DCGM_FI_PROF_DRAM_ACTIVE"             // ratio 0..1, per GPU instance on a MIG GPU
)

var dcgmWanted = map[string]bool{
	dcgmGPUUtil: true, dcgmMemCopyUtil: true, dcgmFBUsed: true, dcgmFBFree: true, dcgmFBReserved: true,
	dcgmFBTotal: true, dcgmGPUTemp: true, dcgmPower: true, dcgmSMClock: true, dcgmMemClock: true,
	dcgmEnergy: true, dcgmThrottle: true, dcgmEventReasons: true, dcgmGRActive: true,
	dcgmDRAMActive: true,
}

// dcgm scrapes dcgm-exporter. One URL keys GPUs "gpu_<index>"; several key them "<host>_gpu_<index>", the
// host from the Hostname/hostname label (or the URL's host when the exporter runs with --no-hostname).
type dcgm struct {
	urls    []*url.URL
	client  *http.Client
	auth    auth.Config
	maxBody int64 // bytes; a longer body is an error (dcgmMaxBody)
}

func newDCGM(cfg GPUConfig) (*dcgm, error) {
	d := &dcgm{client: cfg.HTTPClient, auth: cfg.DCGMAuth, maxBody: dcgmMaxBody}
	if d.client == nil {
		d.client = &http.Client{}
	}
	for i, raw := range cfg.DCGMURLs {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("GPUConfig.DCGMURLs[%d]: %q is not an http(s) URL", i, auth.Redact(raw, auth.URLSecrets(raw)...))
		}
		d.urls = append(d.urls, u)
	}
	return d, nil
}

func (d *dcgm) Close() error { d.client.CloseIdleConnections(); return nil }

func (d *dcgm) Sample(ctx context.Context) Reading {
	type result struct {
		gpus map[int]snapshot.GPU
		err  error
	}
	results := make([]result, len(d.urls))
	var wg sync.WaitGroup
	for i, u := range d.urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gpus, err := d.scrape(ctx, u)
			results[i] = result{gpus, err}
		}()
	}
	wg.Wait()
	out := map[string]snapshot.GPU{}
	var errs []error
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("dcgm %s: %w", auth.Redact(d.urls[i].String()), r.err))
		}
		for _, g := range r.gpus {
			host := ""
			if len(d.urls) > 1 {
				host = g.Host
				if host == "" {
					host = d.urls[i].Hostname()
				}
			}
			out[GPUKey(host, g.Index)] = g
		}
	}
	return Reading{GPU: out, Err: errors.Join(errs...)}
}

func (d *dcgm) scrape(ctx context.Context, u *url.URL) (map[int]snapshot.GPU, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	d.auth.Apply(req.Header)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > d.maxBody {
		return nil, fmt.Errorf("body exceeds %d bytes (Content-Length %d)", d.maxBody, resp.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, d.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > d.maxBody {
		return nil, fmt.Errorf("body exceeds %d bytes", d.maxBody)
	}
	return parseDCGM(bytes.NewReader(body))
}

// dcgmAcc gathers one physical GPU's series. A MIG GPU has one series per GPU instance (labels GPU_I_ID,
// GPU_I_PROFILE): framebuffer fields are summed over instances, device-wide fields (temperature, power,
// clocks, energy) taken from the first; each instance is also kept apart, to become one snapshot.MIGDevice.
type dcgmAcc struct {
	g      snapshot.GPU
	mig    bool
	vals   map[string]float64
	blank  map[string]string // field → why the value was a DCGM blank
	fbSeen map[string]int
	gis    map[string]*dcgmGI // GPU_I_ID label → that GPU instance's framebuffer series
}

// dcgmGI gathers one MIG GPU instance's framebuffer series.
type dcgmGI struct {
	id      string // the GPU_I_ID label
	profile string // the GPU_I_PROFILE label
	vals    map[string]float64
	blank   map[string]string
}

func isDCGMFB(metric string) bool {
	return metric == dcgmFBUsed || metric == dcgmFBFree || metric == dcgmFBReserved || metric == dcgmFBTotal
}

// isDCGMPerGI reports whether a MIG GPU's series of metric are each one GPU instance's own, kept per instance.
func isDCGMPerGI(metric string) bool { return isDCGMFB(metric) || isDCGMProf(metric) }

// isDCGMProf reports whether metric is a profiling ratio a MIG GPU's utilization figures come from.
func isDCGMProf(metric string) bool { return metric == dcgmGRActive || metric == dcgmDRAMActive }

// parseDCGM parses a dcgm-exporter payload into GPUs by index (DCGMGPUs). A payload the Prometheus text parser
// rejects is an error and yields nothing.
func parseDCGM(r io.Reader) (map[int]snapshot.GPU, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return DCGMGPUs(fams), nil
}

// DCGMGPUs reads the GPUs of one dcgm-exporter scrape, parsed into families keyed by metric name (the
// DCGM_FI_* series, gauge, counter or untyped), by the `gpu` label's index: the road of the dcgm source, also
// taken by samples read back from Prometheus (package promsource). Series without a numeric `gpu` label
// (NVSwitch, CPU entities) are skipped; DCGM blank values are nulls with their reason.
func DCGMGPUs(fams map[string]*dto.MetricFamily) map[int]snapshot.GPU {
	accs := map[int]*dcgmAcc{}
	var order []int
	names := make([]string, 0, len(dcgmWanted))
	for name := range fams {
		if dcgmWanted[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names) // one order, so which series names a GPU does not depend on map iteration
	for _, name := range names {
		for _, m := range fams[name].GetMetric() {
			labels := make(map[string]string, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			idx, err := strconv.Atoi(labels["gpu"])
			if err != nil {
				continue // not a GPU series (e.g. an NVSwitch or CPU entity)
			}
			a := accs[idx]
			if a == nil {
				a = &dcgmAcc{vals: map[string]float64{}, blank: map[string]string{}, fbSeen: map[string]int{}}
				a.g.Index = idx
				accs[idx] = a
				order = append(order, idx)
			}
			if a.g.UUID == "" {
				a.g.UUID = labels["UUID"]
				a.g.Name = labels["modelName"]
				a.g.Host = labels["Hostname"]
				if a.g.Host == "" {
					a.g.Host = labels["hostname"]
				}
			}
			var gi *dcgmGI
			if id := labels["GPU_I_ID"]; id != "" {
				a.mig = true
				if gi = a.gis[id]; gi == nil {
					gi = &dcgmGI{id: id, vals: map[string]float64{}, blank: map[string]string{}}
					if a.gis == nil {
						a.gis = map[string]*dcgmGI{}
					}
					a.gis[id] = gi
				}
				if gi.profile == "" {
					gi.profile = labels["GPU_I_PROFILE"]
				}
			}
			v, ok := sampleValue(m)
			if !ok {
				continue
			}
			if why, blank := dcgmBlank(v); blank {
				if gi != nil && isDCGMPerGI(name) {
					gi.blank[name] = why
				}
				if gi == nil || !isDCGMProf(name) {
					a.blank[name] = why
				}
				continue
			}
			if gi != nil && isDCGMPerGI(name) {
				if _, dup := gi.vals[name]; !dup {
					gi.vals[name] = v
				}
			}
			if gi != nil && isDCGMProf(name) {
				continue // one instance's own: migUtilization combines them
			}
			switch name {
			case dcgmFBUsed, dcgmFBFree, dcgmFBReserved, dcgmFBTotal:
				a.vals[name] += v
				a.fbSeen[name]++
			default:
				if _, dup := a.vals[name]; !dup {
					a.vals[name] = v
				}
			}
		}
	}
	out := make(map[int]snapshot.GPU, len(accs))
	for _, idx := range order {
		out[idx] = accs[idx].gpu()
	}
	return out
}

func (a *dcgmAcc) gpu() snapshot.GPU {
	g := a.g
	get := func(field, metric string) *float64 {
		if v, ok := a.vals[metric]; ok && a.blank[metric] == "" {
			if (metric == dcgmGPUUtil || metric == dcgmMemCopyUtil) && (v < 0 || v > 100) {
				setUnavailable(&g, field, fmt.Sprintf("invalid: %g%% outside 0..100", v))
				return nil
			}
			return snapshot.F(v)
		}
		switch {
		case a.blank[metric] != "":
			setUnavailable(&g, field, a.blank[metric])
		default:
			setUnavailable(&g, field, GPUReasonNotReported)
		}
		return nil
	}
	if a.mig {
		g.Utilization = a.migUtilization(&g, GPUFieldUtilization, dcgmGPUUtil, dcgmGRActive)
		g.MemoryUtilizationPercent = a.migUtilization(&g, GPUFieldMemoryUtilization, dcgmMemCopyUtil, dcgmDRAMActive)
	} else {
		g.Utilization = get(GPUFieldUtilization, dcgmGPUUtil)
		g.MemoryUtilizationPercent = get(GPUFieldMemoryUtilization, dcgmMemCopyUtil)
	}
	g.MemoryUsedMB = get(GPUFieldMemoryUsedMB, dcgmFBUsed)
	g.MemoryFreeMB = get(GPUFieldMemoryFreeMB, dcgmFBFree)
	g.TempC = get(GPUFieldTempC, dcgmGPUTemp)
	g.PowerW = get(GPUFieldPowerW, dcgmPower)
	g.SMClockMHz = get(GPUFieldSMClockMHz, dcgmSMClock)
	g.MemoryClockMHz = get(GPUFieldMemoryClockMHz, dcgmMemClock)
	if e := get(GPUFieldEnergyJ, dcgmEnergy); e != nil {
		g.EnergyJ = snapshot.F(*e / 1000) // mJ → J
	}
	// Total: FB_TOTAL when exported; else FB_USED + FB_FREE + FB_RESERVED, which is how NVML's v2 memory
	// info adds up (all three must be present, or the sum would understate it).
	if v, ok := a.vals[dcgmFBTotal]; ok && a.blank[dcgmFBTotal] == "" {
		g.MemoryTotalMB = snapshot.F(v)
	} else if _, ok := a.vals[dcgmFBReserved]; ok && g.MemoryUsedMB != nil && g.MemoryFreeMB != nil && a.blank[dcgmFBReserved] == "" &&
		a.fbSeen[dcgmFBReserved] == a.fbSeen[dcgmFBUsed] && a.fbSeen[dcgmFBUsed] == a.fbSeen[dcgmFBFree] {
		g.MemoryTotalMB = snapshot.F(*g.MemoryUsedMB + *g.MemoryFreeMB + a.vals[dcgmFBReserved])
	} else {
		setUnavailable(&g, GPUFieldMemoryTotalMB, GPUReasonNotReported)
	}
	// A framebuffer field blank in one MIG instance leaves the sum over instances incomplete: null it.
	for field, metric := range map[string]string{GPUFieldMemoryUsedMB: dcgmFBUsed, GPUFieldMemoryFreeMB: dcgmFBFree} {
		if a.blank[metric] != "" && a.fbSeen[metric] > 0 {
			setUnavailable(&g, field, a.blank[metric])
			if field == GPUFieldMemoryUsedMB {
				g.MemoryUsedMB = nil
			} else {
				g.MemoryFreeMB = nil
			}
		}
	}
	mask, ok := a.vals[dcgmEventReasons]
	if !ok {
		mask, ok = a.vals[dcgmThrottle]
	}
	if ok {
		g.ThrottleReasons = GPUThrottleReasons(uint64(mask))
	} else if why := a.blank[dcgmEventReasons] + a.blank[dcgmThrottle]; why != "" {
		setUnavailable(&g, GPUFieldThrottleReasons, why)
	} else {
		setUnavailable(&g, GPUFieldThrottleReasons, GPUReasonNotReported)
	}
	setUnavailable(&g, GPUFieldProcesses, GPUReasonNotReported)
	if gis := a.sortedGIs(); len(gis) > 0 {
		g.MIGDevices = make([]snapshot.MIGDevice, 0, len(gis))
		for _, gi := range gis {
			g.MIGDevices = append(g.MIGDevices, gi.device())
		}
	}
	return g
}

// sortedGIs returns the GPU instances by GPU_I_ID, numerically where both are numbers.
func (a *dcgmAcc) sortedGIs() []*dcgmGI {
	gis := make([]*dcgmGI, 0, len(a.gis))
	for _, gi := range a.gis {
		gis = append(gis, gi)
	}
	sort.Slice(gis, func(i, j int) bool {
		x, errX := strconv.Atoi(gis[i].id)
		y, errY := strconv.Atoi(gis[j].id)
		if errX == nil && errY == nil && x != y {
			return x < y
		}
		return gis[i].id < gis[j].id // "01" and "1" too, so the order is one
	})
	return gis
}

// migUtilization is a MIG GPU's figure field, %, that a whole GPU reads from devMetric (DCGM_FI_DEV_GPU_UTIL,
// DCGM_FI_DEV_MEM_COPY_UTIL): DCGM does not support those on a MIG GPU (an exporter that emits them there
// writes 0), so it is the profiling ratio profMetric (DCGM_FI_PROF_GR_ENGINE_ACTIVE, DCGM_FI_PROF_DRAM_ACTIVE)
// × 100 from the GPU's own series when there is one, else the mean of its GPU instances' weighted by their
// compute slices (the n of an "ng.*" profile; equal weights when a profile does not say): the share of time
// the configured instances' engines were busy. Nil, with the reason in g.Unavailable, when an instance has no
// usable value (the mean would leave it out) or none is exported.
func (a *dcgmAcc) migUtilization(g *snapshot.GPU, field, devMetric, profMetric string) *float64 {
	hint := " (" + devMetric + " is not supported on a MIG GPU; export " + profMetric + ")"
	if v, ok := a.vals[profMetric]; ok {
		return dcgmRatioPercent(g, field, v)
	}
	if why := a.blank[profMetric]; why != "" {
		setUnavailable(g, field, why)
		return nil
	}
	var sum, weights float64
	equal := false
	gis := a.sortedGIs()
	for _, gi := range gis {
		if _, ok := gi.vals[profMetric]; !ok {
			why := gi.blank[profMetric]
			switch {
			case why != "":
			case a.anyGIHas(profMetric):
				why = GPUReasonNotReported + " (no " + profMetric + " for GPU instance " + gi.id + ")"
			default:
				why = GPUReasonNotReported + hint
			}
			setUnavailable(g, field, why)
			return nil
		}
		if v := gi.vals[profMetric]; v < 0 || v > 1 {
			setUnavailable(g, field, fmt.Sprintf("invalid: ratio %g outside 0..1 (GPU instance %s)", v, gi.id))
			return nil
		}
		if _, ok := migSlices(gi.profile); !ok {
			equal = true
		}
	}
	for _, gi := range gis {
		w, _ := migSlices(gi.profile)
		if equal {
			w = 1
		}
		sum += w * gi.vals[profMetric]
		weights += w
	}
	if weights == 0 {
		setUnavailable(g, field, GPUReasonNotReported+hint)
		return nil
	}
	return dcgmRatioPercent(g, field, sum/weights)
}

// anyGIHas reports whether one of the GPU instances has a value of metric.
func (a *dcgmAcc) anyGIHas(metric string) bool {
	for _, gi := range a.gis {
		if _, ok := gi.vals[metric]; ok {
			return true
		}
	}
	return false
}

// dcgmRatioPercent returns a DCGM profiling ratio (0..1) as a percent; a ratio outside 0..1 is not a reading:
// nil, with the reason set on field.
func dcgmRatioPercent(g *snapshot.GPU, field string, v float64) *float64 {
	if v < 0 || v > 1 {
		setUnavailable(g, field, fmt.Sprintf("invalid: ratio %g outside 0..1", v))
		return nil
	}
	return snapshot.F(v * 100)
}

// migSlices returns the compute slices of a MIG profile: n in "ng.20gb", "ng.20gb+me" or "mc.ng.40gb"
// (a compute instance of an n-slice GPU instance); false when the profile is not of that form.
func migSlices(profile string) (float64, bool) {
	for part := range strings.SplitSeq(profile, ".") {
		if n, ok := strings.CutSuffix(part, "g"); ok {
			if v, err := strconv.Atoi(n); err == nil && v > 0 {
				return float64(v), true
			}
		}
	}
	return 0, false
}

// device is the GPU instance as a MIG device. dcgm-exporter labels GPU instances only: compute instance,
// MIG device index and MIG UUID are not reported. The total is FB_TOTAL when exported, else
// FB_USED + FB_FREE + FB_RESERVED as for a whole GPU, else FB_USED + FB_FREE: unlike a whole GPU, a MIG
// device has no driver-reserved memory (nvidia-smi -q prints "Reserved : 0 MiB" for each), so the two add up.
func (gi *dcgmGI) device() snapshot.MIGDevice {
	var d snapshot.MIGDevice
	if id, err := strconv.Atoi(gi.id); err == nil {
		d.GPUInstanceID = &id
	} else {
		setMIGUnavailable(&d, MIGFieldGPUInstanceID, GPUReasonNotReported+" (GPU_I_ID "+strconv.Quote(gi.id)+")")
	}
	d.Profile = gi.profile
	if d.Profile == "" {
		setMIGUnavailable(&d, MIGFieldProfile, GPUReasonNotReported)
	}
	const perGI = GPUReasonNotReported + " (dcgm-exporter labels GPU instances only)"
	setMIGUnavailable(&d, MIGFieldComputeInstanceID, perGI)
	setMIGUnavailable(&d, MIGFieldIndex, perGI)
	setMIGUnavailable(&d, MIGFieldUUID, perGI)
	why := func(metric string) string {
		if w := gi.blank[metric]; w != "" {
			return w
		}
		return GPUReasonNotReported
	}
	get := func(field, metric string) *float64 {
		if v, ok := gi.vals[metric]; ok {
			return snapshot.F(v)
		}
		setMIGUnavailable(&d, field, why(metric))
		return nil
	}
	d.MemoryUsedMB = get(GPUFieldMemoryUsedMB, dcgmFBUsed)
	d.MemoryFreeMB = get(GPUFieldMemoryFreeMB, dcgmFBFree)
	if v, ok := gi.vals[dcgmGRActive]; !ok {
		w := gi.blank[dcgmGRActive]
		if w == "" {
			w = GPUReasonNotReported + " (no " + dcgmGRActive + " for GPU instance " + gi.id + "; " + dcgmGPUUtil +
				" is not supported on a MIG GPU: export " + dcgmGRActive + ")"
		}
		setMIGUnavailable(&d, GPUFieldUtilization, w)
	} else if v < 0 || v > 1 {
		setMIGUnavailable(&d, GPUFieldUtilization, fmt.Sprintf("invalid: ratio %g outside 0..1", v))
	} else {
		d.Utilization = snapshot.F(v * 100)
	}
	reserved, hasReserved := gi.vals[dcgmFBReserved]
	switch total, ok := gi.vals[dcgmFBTotal]; {
	case ok:
		d.MemoryTotalMB = snapshot.F(total)
	case d.MemoryUsedMB == nil:
		setMIGUnavailable(&d, GPUFieldMemoryTotalMB, why(dcgmFBUsed))
	case d.MemoryFreeMB == nil:
		setMIGUnavailable(&d, GPUFieldMemoryTotalMB, why(dcgmFBFree))
	case hasReserved:
		d.MemoryTotalMB = snapshot.F(*d.MemoryUsedMB + *d.MemoryFreeMB + reserved)
	case gi.blank[dcgmFBReserved] != "": // exported but blank: the sum would leave out an unknown amount
		setMIGUnavailable(&d, GPUFieldMemoryTotalMB, gi.blank[dcgmFBReserved])
	default:
		d.MemoryTotalMB = snapshot.F(*d.MemoryUsedMB + *d.MemoryFreeMB)
	}
	return d
}

// DCGM "blank" values (dcgm_structs.h): a base per type, +1 not found, +2 not supported, +3 not permissioned.
// INT64 blanks are ≈2^63 and all print to the same float64, so they are told apart only as "blank".
const (
	dcgmInt32Blank = 2147483632.0    // 0x7ffffff0
	dcgmFP64Blank  = 140737488355328 // 2^47
	dcgmInt64Blank = 9223372036854775792.0
)

// dcgmBlank reports whether v is one of DCGM's blank sentinels, and which.
func dcgmBlank(v float64) (string, bool) {
	kind := func(off float64) string {
		switch off {
		case 0:
			return "dcgm_blank"
		case 1:
			return "dcgm_not_found"
		case 2:
			return GPUReasonNotSupported
		default:
			return "dcgm_not_permissioned"
		}
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "dcgm_blank", true
	case v >= dcgmInt64Blank:
		return "dcgm_blank", true
	case v >= dcgmInt32Blank && v <= dcgmInt32Blank+3 && v == math.Trunc(v):
		return kind(v - dcgmInt32Blank), true
	case v >= dcgmFP64Blank && v <= dcgmFP64Blank+3 && v == math.Trunc(v):
		return kind(v - dcgmFP64Blank), true
	}
	return "", false
}
