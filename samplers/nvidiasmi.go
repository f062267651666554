package samplers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmtest/vmtest/snapshot"
)

// smiGPUFields is what the nvidia-smi source asks for, in this order. The names are the ones every driver in
// ../shared/testdata/nvidia-smi accepts ("clocks.sm" and "clocks_throttle_reasons.active" are the older
// aliases of clocks.current.sm and clocks_event_reasons.active, kept by drivers up to 610 at least).
var smiGPUFields = []string{
	"index", "uuid", "name",
	"utilization.gpu", "utilization.memory",
	"memory.total", "memory.used", "memory.free",
	"temperature.gpu", "power.draw",
	"clocks.sm", "clocks.mem",
	"clocks_throttle_reasons.active",
}

const (
	smiIndex = iota
	smiUUID
	smiName
	smiUtil
	smiMemUtil
	smiMemTotal
	smiMemUsed
	smiMemFree
	smiTemp
	smiPower
	smiSMClock
	smiMemClock
	smiThrottle
)

var smiAppFields = []string{"gpu_uuid", "pid", "used_memory"}

// smiNoDeadline bounds a call when the tick's context has none.
const smiNoDeadline = 10 * time.Second

// nvidiaSMI runs nvidia-smi once per tick (two calls: GPUs, then compute processes). At most one process is
// in flight: when a call outlives the tick's deadline its process group is killed and Sample returns at once;
// until that process is reaped, later ticks report it instead of starting another.
type nvidiaSMI struct {
	path string

	mu        sync.Mutex
	running   *exec.Cmd // the call in flight, if any
	startedAt time.Time
	closed    bool
}

func newNvidiaSMI(path string) *nvidiaSMI { return &nvidiaSMI{path: path} }

func (n *nvidiaSMI) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	if n.running != nil {
		killGroup(n.running)
	}
	return nil
}

func (n *nvidiaSMI) Sample(ctx context.Context) Reading {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, smiNoDeadline)
		defer cancel()
	}
	out, err := n.run(ctx, "--query-gpu="+strings.Join(smiGPUFields, ","), "--format=csv,noheader,nounits")
	if err != nil {
		return Reading{Err: err}
	}
	gpus, err := parseSMIGPUs(out)
	if len(gpus) == 0 {
		if err == nil {
			err = errors.New("nvidia-smi: no GPU rows in output")
		}
		return Reading{Err: err}
	}
	appsOut, appsErr := n.run(ctx, "--query-compute-apps="+strings.Join(smiAppFields, ","), "--format=csv,noheader,nounits")
	if appsErr == nil {
		appsErr = attachSMIProcesses(gpus, appsOut)
	}
	if appsErr != nil {
		for k, g := range gpus {
			g.Processes = nil
			setUnavailable(&g, GPUFieldProcesses, "error: "+appsErr.Error())
			gpus[k] = g
		}
	}
	return Reading{GPU: gpus, Err: err}
}

// run executes nvidia-smi with args in its own process group, returning stdout. A non-zero exit, or an NVML
// initialization failure printed on either stream, is an error carrying nvidia-smi's own words.
func (n *nvidiaSMI) run(ctx context.Context, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nvidia-smi: not started: %w", err)
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, errors.New("nvidia-smi: sampler closed")
	}
	if n.running != nil {
		since := time.Since(n.startedAt).Round(time.Millisecond)
		n.mu.Unlock()
		return nil, fmt.Errorf("nvidia-smi: previous call still running after %v (killed, not yet exited); not starting another", since)
	}
	cmd := exec.Command(n.path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // a descendant that escaped the group and holds the pipes cannot block Wait
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		return nil, fmt.Errorf("nvidia-smi: %w", err)
	}
	n.running, n.startedAt = cmd, time.Now()
	n.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.running = nil
		n.mu.Unlock()
		done <- err
	}()
	select {
	case err := <-done:
		return smiResult(stdout.Bytes(), stderr.Bytes(), err)
	case <-ctx.Done():
		killGroup(cmd)
		return nil, fmt.Errorf("nvidia-smi: killed at the tick's deadline after %v: %w",
			time.Since(n.startedAt).Round(time.Millisecond), ctx.Err())
	}
}

func smiResult(stdout, stderr []byte, err error) ([]byte, error) {
	msg := func() string {
		s := strings.TrimSpace(string(stderr))
		if s == "" {
			s = strings.TrimSpace(string(stdout))
		}
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		return s
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("nvidia-smi: exit %d: %s", ee.ExitCode(), msg())
		}
		return nil, fmt.Errorf("nvidia-smi: %w", err)
	}
	for _, b := range [][]byte{stderr, stdout} {
		if i := bytes.Index(b, []byte("Failed to initialize NVML")); i >= 0 {
			line := b[i:]
			if j := bytes.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			return nil, fmt.Errorf("nvidia-smi: %s", strings.TrimSpace(string(line)))
		}
	}
	return stdout, nil
}

// parseSMIGPUs parses `--query-gpu=<smiGPUFields> --format=csv,noheader,nounits` output. A row it cannot
// use (wrong column count, no index, a message such as "GPU has fallen off the bus") is skipped and named in
// the error; the other rows are kept.
func parseSMIGPUs(out []byte) (map[string]snapshot.GPU, error) {
	r := csv.NewReader(bytes.NewReader(out))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	gpus := map[string]snapshot.GPU{}
	var errs []error
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("nvidia-smi: line %d: %w", line, err))
			continue
		}
		if len(rec) != len(smiGPUFields) {
			errs = append(errs, fmt.Errorf("nvidia-smi: line %d: %d columns, want %d: %.120q",
				line, len(rec), len(smiGPUFields), strings.Join(rec, ", ")))
			continue
		}
		idx, err := strconv.Atoi(strings.TrimSpace(rec[smiIndex]))
		if err != nil {
			errs = append(errs, fmt.Errorf("nvidia-smi: line %d: index %q", line, rec[smiIndex]))
			continue
		}
		g := snapshot.GPU{Index: idx, UUID: smiText(rec[smiUUID]), Name: smiText(rec[smiName])}
		g.Utilization = smiNumber(&g, GPUFieldUtilization, rec[smiUtil])
		g.MemoryUtilizationPercent = smiNumber(&g, GPUFieldMemoryUtilization, rec[smiMemUtil])
		g.MemoryTotalMB = smiNumber(&g, GPUFieldMemoryTotalMB, rec[smiMemTotal])
		g.MemoryUsedMB = smiNumber(&g, GPUFieldMemoryUsedMB, rec[smiMemUsed])
		g.MemoryFreeMB = smiNumber(&g, GPUFieldMemoryFreeMB, rec[smiMemFree])
		g.TempC = smiNumber(&g, GPUFieldTempC, rec[smiTemp])
		g.PowerW = smiNumber(&g, GPUFieldPowerW, rec[smiPower])
		g.SMClockMHz = smiNumber(&g, GPUFieldSMClockMHz, rec[smiSMClock])
		g.MemoryClockMHz = smiNumber(&g, GPUFieldMemoryClockMHz, rec[smiMemClock])
		if reason, ok := smiPlaceholder(rec[smiThrottle]); ok {
			setUnavailable(&g, GPUFieldThrottleReasons, reason)
		} else if mask, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(rec[smiThrottle]), "0x"), "0X"), 16, 64); err != nil {
			setUnavailable(&g, GPUFieldThrottleReasons, "unparsable: "+strings.TrimSpace(rec[smiThrottle]))
		} else {
			g.ThrottleReasons = GPUThrottleReasons(mask)
		}
		setUnavailable(&g, GPUFieldEnergyJ, GPUReasonNotReported) // nvidia-smi has no energy counter
		gpus[GPUKey("", idx)] = g
	}
	return gpus, errors.Join(errs...)
}

// attachSMIProcesses adds `--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits` rows
// to the GPUs they belong to (matched by UUID). Every GPU gets a non-nil list: no rows means no processes.
func attachSMIProcesses(gpus map[string]snapshot.GPU, out []byte) error {
	byUUID := make(map[string]string, len(gpus))
	for k, g := range gpus {
		byUUID[g.UUID] = k
		g.Processes = []snapshot.GPUProcess{}
		gpus[k] = g
	}
	text := strings.TrimSpace(string(out))
	if text == "" || strings.HasPrefix(text, "No running") {
		return nil
	}
	r := csv.NewReader(strings.NewReader(text))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var errs []error
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(rec) != len(smiAppFields) {
			errs = append(errs, fmt.Errorf("nvidia-smi compute-apps: bad row %q", strings.Join(rec, ", ")))
			continue
		}
		k, ok := byUUID[strings.TrimSpace(rec[0])]
		if !ok {
			continue
		}
		pid, err := strconv.ParseUint(strings.TrimSpace(rec[1]), 10, 32)
		if err != nil {
			errs = append(errs, fmt.Errorf("nvidia-smi compute-apps: pid %q", rec[1]))
			continue
		}
		var scratch snapshot.GPU
		p := snapshot.GPUProcess{PID: uint32(pid), UsedMemoryMB: smiNumber(&scratch, "", rec[2])}
		g := gpus[k]
		g.Processes = append(g.Processes, p)
		gpus[k] = g
	}
	return errors.Join(errs...)
}

// smiPlaceholder reports whether an nvidia-smi value is a placeholder rather than data, and why:
// "[N/A]" → "n/a", "[Not Supported]" → "not_supported", "[Unknown Error]" → "unknown_error", any other
// bracketed text → its words in snake case; a bare "N/A" or an empty cell → "n/a".
func smiPlaceholder(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "N/A") {
		return "n/a", true
	}
	if !strings.HasPrefix(v, "[") || !strings.HasSuffix(v, "]") {
		return "", false
	}
	inner := strings.TrimSpace(v[1 : len(v)-1])
	if strings.EqualFold(inner, "N/A") {
		return "n/a", true
	}
	inner = strings.ToLower(inner)
	inner = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, inner)
	return inner, true
}

// smiNumber parses one numeric cell. A placeholder or unparsable cell gives nil with the reason recorded
// under field. A unit suffix (present without "nounits") is dropped.
func smiNumber(g *snapshot.GPU, field, v string) *float64 {
	if reason, ok := smiPlaceholder(v); ok {
		if field != "" {
			setUnavailable(g, field, reason)
		}
		return nil
	}
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ' '); i > 0 { // "627.40 W", "32362 MiB", "100 %"
		v = v[:i]
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		if field != "" {
			setUnavailable(g, field, "unparsable: "+v)
		}
		return nil
	}
	return snapshot.F(f)
}

func smiText(v string) string {
	if _, ok := smiPlaceholder(v); ok {
		return ""
	}
	return strings.TrimSpace(v)
}
