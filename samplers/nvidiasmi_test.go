package samplers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

// smiAliases maps the field names the sampler queries to the names nvidia-smi prints in a CSV header (the
// captures were taken with the long names).
var smiAliases = map[string]string{
	"clocks.sm":                      "clocks.current.sm",
	"clocks.mem":                     "clocks.current.memory",
	"clocks_throttle_reasons.active": "clocks_event_reasons.active",
}

// smiSection returns the lines of one section of a capture (after its "####" banner, up to the blank line).
func smiSection(t testing.TB, capture, title string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "nvidia-smi", capture))
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "# "+title) {
			continue
		}
		var out []string
		for _, l := range lines[i+3:] { // title, "# $ command", "####"
			if strings.TrimSpace(l) == "" {
				break
			}
			out = append(out, l)
		}
		return out
	}
	t.Fatalf("%s: no section %q", capture, title)
	return nil
}

// smiProject does what nvidia-smi does for `--query-...=<fields> --format=csv,noheader,nounits`, from a
// captured `--format=csv` section: picks the columns, drops the header and the unit suffixes.
func smiProject(t testing.TB, section []string, fields []string) string {
	t.Helper()
	header := strings.Split(section[0], ", ")
	col, unit := map[string]int{}, map[string]string{}
	for i, h := range header {
		name, u, _ := strings.Cut(h, " [")
		col[name] = i
		unit[name] = strings.TrimSuffix(u, "]")
	}
	var sb strings.Builder
	for _, row := range section[1:] {
		vals := strings.Split(row, ", ")
		require.Len(t, vals, len(header), "row %q", row)
		for j, f := range fields {
			name := f
			if a, ok := smiAliases[f]; ok {
				name = a
			}
			i, ok := col[name]
			require.True(t, ok, "capture has no column %q", name)
			v := vals[i]
			if u := unit[name]; u != "" {
				v = strings.TrimSuffix(v, " "+u)
			}
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(v)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// smiCaptureOutput is what nvidia-smi would print for the sampler's two queries on the captured machine.
func smiCaptureOutput(t testing.TB, capture, state string) (gpus, apps string) {
	gpus = smiProject(t, smiSection(t, capture, state+" :: query-gpu"), smiGPUFields)
	apps = smiProject(t, smiSection(t, capture, state+" :: query-compute-apps"), []string{"gpu_uuid", "pid", "used_gpu_memory"})
	return gpus, apps
}

// smiFake writes an executable "nvidia-smi" shell script into a new directory and returns that directory.
// The script's body may use $DIR (the directory), finds gpus.csv and apps.csv there, and has $LMS (the
// -lms argument, empty without one) and smi_loop: `smi_loop CMD...` runs CMD once, or in loop mode appends
// the script's pid to $DIR/loop.pids and runs CMD every $LMS ms until killed (or until CMD fails), as
// nvidia-smi -lms prints one block of rows per interval.
func smiFake(t testing.TB, body string, files map[string]string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake nvidia-smi is a shell script")
	}
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	script := "#!/bin/sh\nDIR='" + dir + "'\n" + smiFakeLoop + body + "\n"
	// Written with syscall.ForkLock read-locked, so that no child this test binary forks meanwhile (a sampler's
	// loop from an earlier test being restarted) inherits the script's write descriptor: until that child's exec
	// closes it, an exec of the script fails with "text file busy" (golang/go#22315).
	syscall.ForkLock.RLock()
	err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755)
	syscall.ForkLock.RUnlock()
	require.NoError(t, err)
	return dir
}

const smiFakeLoop = `LMS=; _prev=
for _a in "$@"; do [ "$_prev" = -lms ] && LMS=$_a; _prev=$_a; done
smi_loop() {
	[ -z "$LMS" ] && { "$@"; return; }
	echo $$ >> "$DIR/loop.pids"
	while :; do
		"$@" || exit
		sleep "$((LMS / 1000)).$(printf %03d $((LMS % 1000)))"
	done
}
`

// smiReplay answers the two queries from gpus.csv and apps.csv (gpus.csv every interval in loop mode) and
// logs its arguments.
const smiReplay = `echo "$@" >> "$DIR/args"
case "$1" in
--query-gpu=*) smi_loop cat "$DIR/gpus.csv" ;;
--query-compute-apps=*) cat "$DIR/apps.csv" ;;
*) echo "unexpected arguments: $*" >&2; exit 2 ;;
esac`

func smiSampler(t *testing.T, dir string, gpus ...string) *GPUSampler {
	t.Helper()
	s, err := NewGPU(GPUConfig{Source: GPUSourceNvidiaSMI, NvidiaSMIPath: filepath.Join(dir, "nvidia-smi"), GPUs: gpus})
	require.NoError(t, err)
	require.Equal(t, GPUSourceNvidiaSMI, s.Source())
	t.Cleanup(func() { _ = s.Close() })
	if smiTestPush(t) {
		s.src.(*nvidiaSMI).pull = false
	}
	return s
}

// smiTestPush says whether the samplers built by smiSampler and smiLoopSampler for t read their loop in push
// mode (a goroutine copying stdout as it comes, as on platforms without pollable pipes): under
// TestSMIPushMode, decided by the test's name rather than by a package variable a test would flip.
func smiTestPush(t testing.TB) bool { return strings.HasPrefix(t.Name(), "TestSMIPushMode/") }

// TestSMIPushMode runs the loop tests again with stdout copied by a goroutine instead of read at the ticks.
func TestSMIPushMode(t *testing.T) {
	for name, test := range map[string]func(*testing.T){
		"H200Load": TestSMIH200Load, "FailedToInitializeNVML": TestSMIFailedToInitializeNVML,
		"FailureAfterDataKeepsKeysWithNulls": TestSMIFailureAfterDataKeepsKeysWithNulls,
		"HungIsStaleAtDeadlineAndKilled":     TestSMIHungIsStaleAtDeadlineAndKilled,
		"LoopReplaysBlocks":                  TestSMILoopReplaysBlocks, "LoopDiesAndIsRestarted": TestSMILoopDiesAndIsRestarted,
		"LoopStale": TestSMILoopStale, "CloseKillsLoop": TestSMICloseKillsLoop,
	} {
		t.Run(name, test)
	}
}

// smiLoopSampler is a sampler whose loop prints every interval; tune may change the nvidia-smi source's
// timing before the first Sample.
func smiLoopSampler(t testing.TB, dir string, interval time.Duration, tune func(*nvidiaSMI)) (*GPUSampler, *nvidiaSMI) {
	t.Helper()
	s, err := NewGPU(GPUConfig{Source: GPUSourceNvidiaSMI, NvidiaSMIPath: filepath.Join(dir, "nvidia-smi"), Interval: interval})
	require.NoError(t, err)
	require.Equal(t, GPUSourceNvidiaSMI, s.Source())
	t.Cleanup(func() { _ = s.Close() })
	n := s.src.(*nvidiaSMI)
	n.pull = n.pull && !smiTestPush(t)
	if tune != nil {
		tune(n)
	}
	return s, n
}

func gpuTick(t *testing.T, s Sampler) Reading {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Sample(ctx)
}

func gpuVal(t *testing.T, want float64, got *float64, field string) {
	t.Helper()
	if assert.NotNil(t, got, field) {
		assert.InDelta(t, want, *got, 1e-9, field)
	}
}

// Expected values below were read by hand from the captures' query-gpu rows (load state unless named).
func TestSMIH200Load(t *testing.T) {
	gpus, apps := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, smiReplay, map[string]string{"gpus.csv": gpus, "apps.csv": apps})
	s := smiSampler(t, dir)
	r := gpuTick(t, s)
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 1)
	g := r.GPU["gpu_0"]
	assert.Equal(t, 0, g.Index)
	assert.Equal(t, "GPU-00000000-0000-0000-0000-000000000000", g.UUID)
	assert.Equal(t, "NVIDIA H200", g.Name)
	gpuVal(t, 100, g.Utilization, "utilization")
	gpuVal(t, 7, g.MemoryUtilizationPercent, "memory_utilization_percent")
	gpuVal(t, 143771, g.MemoryTotalMB, "memory_total_mb")
	gpuVal(t, 32362, g.MemoryUsedMB, "memory_used_mb")
	gpuVal(t, 110796, g.MemoryFreeMB, "memory_free_mb")
	gpuVal(t, 52, g.TempC, "temp_c")
	gpuVal(t, 627.40, g.PowerW, "power_w")
	gpuVal(t, 1980, g.SMClockMHz, "sm_clock_mhz")
	gpuVal(t, 3201, g.MemoryClockMHz, "memory_clock_mhz")
	assert.Equal(t, []string{}, g.ThrottleReasons) // 0x0000000000000000: known, none active
	assert.Nil(t, g.EnergyJ)
	assert.Equal(t, GPUReasonNotReported, g.Unavailable[GPUFieldEnergyJ])
	require.Len(t, g.Processes, 3)
	assert.Equal(t, uint32(10291), g.Processes[0].PID)
	gpuVal(t, 2566, g.Processes[0].UsedMemoryMB, "pid 10291")
	assert.Equal(t, uint32(10293), g.Processes[1].PID)
	gpuVal(t, 1542, g.Processes[1].UsedMemoryMB, "pid 10293")
	assert.Equal(t, uint32(10309), g.Processes[2].PID)
	gpuVal(t, 28234, g.Processes[2].UsedMemoryMB, "pid 10309")

	args, err := os.ReadFile(filepath.Join(dir, "args"))
	require.NoError(t, err)
	assert.Equal(t, "--query-gpu="+strings.Join(smiGPUFields, ",")+" --format=csv,noheader,nounits -lms 2000\n"+
		"--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits\n", string(args))
}

func TestSMICaptures(t *testing.T) {
	type want struct {
		util, memUtil                  *float64 // nil: [N/A]
		total, used, free, temp, power float64
		sm, mem                        float64
		throttle                       []string
		pids                           int
	}
	f := snapshot.F
	cases := map[string]want{
		"linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt/idle": {f(0), f(0), 81559, 0, 81081, 41, 69.85, 345, 2619, []string{"gpu_idle"}, 0},
		"linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt/load": {f(100), f(11), 81559, 19818, 61263, 59, 631.95, 1980, 2619, []string{}, 3},
		"linux-x86_64__nvidia-h100-mig__590.48.01.txt/load":       {nil, nil, 81559, 11125, 69956, 53, 433.78, 1980, 2619, []string{}, 3},
		"linux-x86_64__nvidia-h200-mig__590.48.01.txt/idle":       {nil, nil, 143771, 55, 143103, 28, 78.28, 345, 3201, []string{"gpu_idle"}, 0},
		"linux-x86_64__nvidia-h200-mig__590.48.01.txt/load":       {nil, nil, 143771, 16959, 126199, 36, 295.01, 1980, 3201, []string{}, 3},
		"linux-x86_64__nvidia-h200__590.48.01.txt/idle":           {f(0), f(0), 143771, 0, 143158, 28, 77.71, 345, 3201, []string{"gpu_idle"}, 0},
	}
	for name, w := range cases {
		t.Run(name, func(t *testing.T) {
			capture, state, _ := strings.Cut(name, "/")
			gpus, apps := smiCaptureOutput(t, capture, state)
			s := smiSampler(t, smiFake(t, smiReplay, map[string]string{"gpus.csv": gpus, "apps.csv": apps}))
			r := gpuTick(t, s)
			require.NoError(t, r.Err)
			g := r.GPU["gpu_0"]
			if w.util == nil {
				assert.Nil(t, g.Utilization)
				assert.Nil(t, g.MemoryUtilizationPercent)
				assert.Equal(t, "n/a", g.Unavailable[GPUFieldUtilization], "MIG: utilization.gpu is [N/A]")
				assert.Equal(t, "n/a", g.Unavailable[GPUFieldMemoryUtilization])
			} else {
				gpuVal(t, *w.util, g.Utilization, "utilization")
				gpuVal(t, *w.memUtil, g.MemoryUtilizationPercent, "memory_utilization_percent")
			}
			gpuVal(t, w.total, g.MemoryTotalMB, "memory_total_mb")
			gpuVal(t, w.used, g.MemoryUsedMB, "memory_used_mb")
			gpuVal(t, w.free, g.MemoryFreeMB, "memory_free_mb")
			gpuVal(t, w.temp, g.TempC, "temp_c")
			gpuVal(t, w.power, g.PowerW, "power_w")
			gpuVal(t, w.sm, g.SMClockMHz, "sm_clock_mhz")
			gpuVal(t, w.mem, g.MemoryClockMHz, "memory_clock_mhz")
			assert.Equal(t, w.throttle, g.ThrottleReasons)
			assert.Len(t, g.Processes, w.pids)
			assert.NotNil(t, g.Processes, "no compute apps is an empty list, not unknown")
		})
	}
}

// smiH200Row is the H200 load row as the sampler's query would print it.
func smiH200Row(t testing.TB) []string {
	gpus, _ := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	return strings.Split(strings.TrimSpace(gpus), ", ")
}

func TestSMIPlaceholders(t *testing.T) {
	row := smiH200Row(t)
	row[smiPower] = "[Not Supported]"
	row[smiTemp] = "[Unknown Error]"
	row[smiSMClock] = "[Requested functionality has been deprecated]"
	row[smiMemClock] = "N/A"
	row[smiThrottle] = "[N/A]"
	row[smiName] = "[N/A]"
	gpus, err := parseSMIGPUs([]byte(strings.Join(row, ", ") + "\n"))
	require.NoError(t, err)
	g := gpus["gpu_0"]
	assert.Nil(t, g.PowerW)
	assert.Equal(t, "not_supported", g.Unavailable[GPUFieldPowerW])
	assert.Nil(t, g.TempC)
	assert.Equal(t, "unknown_error", g.Unavailable[GPUFieldTempC])
	assert.Nil(t, g.SMClockMHz)
	assert.Equal(t, "requested_functionality_has_been_deprecated", g.Unavailable[GPUFieldSMClockMHz])
	assert.Nil(t, g.MemoryClockMHz)
	assert.Equal(t, "n/a", g.Unavailable[GPUFieldMemoryClockMHz])
	assert.Nil(t, g.ThrottleReasons)
	assert.Equal(t, "n/a", g.Unavailable[GPUFieldThrottleReasons])
	assert.Empty(t, g.Name)
	// The rest of the row is kept.
	gpuVal(t, 100, g.Utilization, "utilization")
	gpuVal(t, 32362, g.MemoryUsedMB, "memory_used_mb")
}

func TestSMIEightRowsAndABadLine(t *testing.T) {
	row := smiH200Row(t)
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if i == 3 {
			sb.WriteString("Unable to determine the device handle for GPU0000:03:00.0: GPU has fallen off the bus.\n")
			continue
		}
		row[smiIndex] = strconv.Itoa(i)
		row[smiUUID] = fmt.Sprintf("GPU-00000000-0000-0000-0000-00000000000%d", i)
		sb.WriteString(strings.Join(row, ", ") + "\n")
	}
	gpus, err := parseSMIGPUs([]byte(sb.String()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 4")
	assert.Len(t, gpus, 7)
	assert.NotContains(t, gpus, "gpu_3")
	gpuVal(t, 627.40, gpus["gpu_7"].PowerW, "power_w")
}

func TestSMIUnitsTolerated(t *testing.T) {
	// Without "nounits" nvidia-smi appends units; the parser drops them rather than losing the value.
	row := smiH200Row(t)
	row[smiPower], row[smiMemUsed], row[smiUtil] = "627.40 W", "32362 MiB", "100 %"
	gpus, err := parseSMIGPUs([]byte(strings.Join(row, ", ")))
	require.NoError(t, err)
	gpuVal(t, 627.40, gpus["gpu_0"].PowerW, "power_w")
	gpuVal(t, 32362, gpus["gpu_0"].MemoryUsedMB, "memory_used_mb")
	gpuVal(t, 100, gpus["gpu_0"].Utilization, "utilization")
}

func TestSMIFailedToInitializeNVML(t *testing.T) {
	for name, body := range map[string]string{
		"exit 9, stdout": `echo "Failed to initialize NVML: Driver/library version mismatch"; echo "NVML library version: 590.48"; exit 9`,
		"exit 0, stderr": `echo "Failed to initialize NVML: Unknown Error" >&2; exit 0`,
		"exit 12":        `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." ; exit 12`,
	} {
		t.Run(name, func(t *testing.T) {
			s := smiSampler(t, smiFake(t, body, nil))
			r := gpuTick(t, s)
			require.Error(t, r.Err)
			assert.Empty(t, r.GPU, "an error is not data")
			assert.NotNil(t, r.GPU)
		})
	}
	s := smiSampler(t, smiFake(t, `echo "Failed to initialize NVML: Driver/library version mismatch"; exit 9`, nil))
	r := gpuTick(t, s)
	assert.EqualError(t, r.Err, "nvidia-smi: exit 9: Failed to initialize NVML: Driver/library version mismatch")
}

func TestSMIFailureAfterDataKeepsKeysWithNulls(t *testing.T) {
	gpus, apps := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, `gpus() {
	if [ -e "$DIR/broken" ]; then echo "Failed to initialize NVML: Unknown Error"; exit 255; fi
	cat "$DIR/gpus.csv"
}
case "$1" in
--query-gpu=*) smi_loop gpus ;;
*) cat "$DIR/apps.csv" ;;
esac`, map[string]string{"gpus.csv": gpus, "apps.csv": apps})
	s, _ := smiLoopSampler(t, dir, 50*time.Millisecond, nil)
	r := gpuTick(t, s)
	require.NoError(t, r.Err)
	require.NotNil(t, r.GPU["gpu_0"].PowerW)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken"), nil, 0o644))
	require.Eventually(t, func() bool { r = gpuTick(t, s); return r.Err != nil }, 30*time.Second, 20*time.Millisecond)
	assert.EqualError(t, r.Err, "nvidia-smi: exit 255: Failed to initialize NVML: Unknown Error")
	g, ok := r.GPU["gpu_0"]
	require.True(t, ok, "a GPU seen before stays in the map")
	assert.Nil(t, g.PowerW)
	assert.Nil(t, g.Utilization)
	assert.Equal(t, "NVIDIA H200", g.Name)
	assert.Contains(t, g.Unavailable[GPUFieldPowerW], "Failed to initialize NVML")
}

func TestSMIComputeAppsFailureKeepsGPUData(t *testing.T) {
	gpus, _ := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, `case "$1" in
--query-gpu=*) smi_loop cat "$DIR/gpus.csv" ;;
*) echo 'Field "used_memory" is not a valid field to query.' ; exit 2 ;;
esac`, map[string]string{"gpus.csv": gpus})
	r := gpuTick(t, smiSampler(t, dir))
	require.NoError(t, r.Err)
	g := r.GPU["gpu_0"]
	gpuVal(t, 627.40, g.PowerW, "power_w")
	assert.Nil(t, g.Processes)
	assert.Contains(t, g.Unavailable[GPUFieldProcesses], "not a valid field")
}

func TestSMISelectByIndexAndUUID(t *testing.T) {
	row := smiH200Row(t)
	var sb strings.Builder
	for i := 0; i < 4; i++ {
		row[smiIndex], row[smiCount] = strconv.Itoa(i), "4"
		row[smiUUID] = fmt.Sprintf("GPU-aaaaaaaa-0000-0000-0000-00000000000%d", i)
		sb.WriteString(strings.Join(row, ", ") + "\n")
	}
	dir := smiFake(t, smiReplay, map[string]string{"gpus.csv": sb.String(), "apps.csv": ""})
	r := gpuTick(t, smiSampler(t, dir, "1", "gpu-AAAAAAAA-0000-0000-0000-000000000003"))
	require.NoError(t, r.Err)
	assert.Equal(t, "gpu_1, gpu_3", keysOf(r.GPU))

	r = gpuTick(t, smiSampler(t, dir, "7"))
	assert.ErrorContains(t, r.Err, "selects none")
	assert.Empty(t, r.GPU)
}

// smiProcessGone reports whether pid has exited (gone, or a zombie waiting for its reaper).
func smiProcessGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}

// smiReadPID reads the first pid in a file the fake wrote, waiting for it to appear.
func smiReadPID(t *testing.T, file string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(file)
		if err != nil {
			return false
		}
		first, _, _ := strings.Cut(string(b), "\n")
		pid, err = strconv.Atoi(strings.TrimSpace(first))
		return err == nil
	}, 30*time.Second, 10*time.Millisecond)
	return pid
}

// smiGroupGone reports whether no live process is left in process group pgid.
func smiGroupGone(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		fields := strings.Fields(rest) // state, ppid, pgrp, ...
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" && fields[0] != "X" {
			return false
		}
	}
	return true
}

func TestSMIHungIsStaleAtDeadlineAndKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// The fake starts a child that would outlive a plain kill of the shell, then hangs without printing.
	dir := smiFake(t, `if [ -e "$DIR/hang" ]; then sleep 60 & echo $! > "$DIR/child.pid"; wait; fi
`+smiReplay, map[string]string{"hang": "", "gpus.csv": strings.Join(smiH200Row(t), ", ") + "\n", "apps.csv": ""})
	s, _ := smiLoopSampler(t, dir, 100*time.Millisecond, func(n *nvidiaSMI) { n.firstGrace = 500 * time.Millisecond })

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	r := s.Sample(ctx)
	returned := time.Now()
	require.Error(t, r.Err)
	assert.Contains(t, r.Err.Error(), "stale")
	assert.False(t, returned.Before(deadline), "a fresh block may still come until the deadline")
	// The hang lasts 60 s: returning within 10 s of the deadline is returning at it, however loaded the machine.
	assert.Less(t, returned.Sub(deadline), 10*time.Second, "Sample must return at the deadline")
	assert.Empty(t, r.GPU)

	pid := smiReadPID(t, filepath.Join(dir, "child.pid"))
	assert.Eventually(t, func() bool { return smiProcessGone(pid) }, 30*time.Second, 10*time.Millisecond,
		"the hung nvidia-smi's child must die with its process group")

	// The killed loop is restarted (with backoff) and data flows again.
	require.NoError(t, os.Remove(filepath.Join(dir, "hang")))
	require.Eventually(t, func() bool { return gpuTick(t, s).Err == nil }, 30*time.Second, 20*time.Millisecond)
}

func TestSMIAtMostOneComputeAppsCallInFlight(t *testing.T) {
	gpus, _ := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, smiReplay, map[string]string{"gpus.csv": gpus, "apps.csv": ""})
	n := newNvidiaSMI(filepath.Join(dir, "nvidia-smi"), time.Second)
	t.Cleanup(func() { _ = n.Close() })
	n.running, n.startedAt = exec.Command("nvidia-smi"), time.Now().Add(-3*time.Second) // a killed call not yet reaped
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := n.Sample(ctx)
	require.NoError(t, r.Err, "the GPU rows come from the loop")
	g := r.GPU["gpu_0"]
	gpuVal(t, 627.40, g.PowerW, "power_w")
	assert.Nil(t, g.Processes)
	assert.Contains(t, g.Unavailable[GPUFieldProcesses], "previous call still running")
}

// smi8GPUs is the H200 load row for GPUs 0–7 (count 8); GPU 0 has the capture's UUID, so the capture's
// compute processes belong to it.
func smi8GPUs(t testing.TB, power string) string {
	row := smiH200Row(t)
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		row[smiIndex], row[smiCount], row[smiPower] = strconv.Itoa(i), "8", power
		row[smiUUID] = fmt.Sprintf("GPU-00000000-0000-0000-0000-00000000000%d", i)
		sb.WriteString(strings.Join(row, ", ") + "\n")
	}
	return sb.String()
}

// smiArgLines counts the calls the fake logged whose first argument starts with prefix; 0 before its first call
// made the log (on a loaded machine the loop's shell may not have run yet).
func smiArgLines(t *testing.T, dir, prefix string) int {
	b, err := os.ReadFile(filepath.Join(dir, "args"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(t, err)
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func TestSMILoopReplaysBlocks(t *testing.T) {
	_, apps := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, smiReplay, map[string]string{"gpus.csv": smi8GPUs(t, "627.40"), "apps.csv": apps})
	s, _ := smiLoopSampler(t, dir, 50*time.Millisecond, func(n *nvidiaSMI) { n.appsEvery = 5 })

	const ticks = 12
	for i := 0; i < ticks; i++ {
		r := gpuTick(t, s)
		require.NoError(t, r.Err, "tick %d", i)
		require.Len(t, r.GPU, 8, "tick %d: a block is whole or not at all", i)
		for k, g := range r.GPU {
			gpuVal(t, 100, g.Utilization, k+" utilization")
			gpuVal(t, 7, g.MemoryUtilizationPercent, k+" memory_utilization_percent")
			gpuVal(t, 143771, g.MemoryTotalMB, k+" memory_total_mb")
			gpuVal(t, 32362, g.MemoryUsedMB, k+" memory_used_mb")
			gpuVal(t, 110796, g.MemoryFreeMB, k+" memory_free_mb")
			gpuVal(t, 52, g.TempC, k+" temp_c")
			gpuVal(t, 627.40, g.PowerW, k+" power_w")
			gpuVal(t, 1980, g.SMClockMHz, k+" sm_clock_mhz")
			gpuVal(t, 3201, g.MemoryClockMHz, k+" memory_clock_mhz")
			assert.Equal(t, []string{}, g.ThrottleReasons, k)
			assert.NotNil(t, g.Processes, k)
		}
		g0 := r.GPU["gpu_0"]
		require.Len(t, g0.Processes, 3, "tick %d", i)
		gpuVal(t, 28234, g0.Processes[2].UsedMemoryMB, "pid 10309")
		assert.Empty(t, r.GPU["gpu_5"].Processes)
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, 1, smiArgLines(t, dir, "--query-gpu="), "one loop process for the whole run")
	assert.Equal(t, 3, smiArgLines(t, dir, "--query-compute-apps="), "compute apps on ticks 1, 6 and 11")
	assert.Contains(t, smiArgs(t, dir), " -lms 50\n")

	// Sample returns the newest block, not the first.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gpus.new"), []byte(smi8GPUs(t, "301.25")), 0o644))
	require.NoError(t, os.Rename(filepath.Join(dir, "gpus.new"), filepath.Join(dir, "gpus.csv")))
	require.Eventually(t, func() bool {
		r := gpuTick(t, s)
		return r.Err == nil && r.GPU["gpu_7"].PowerW != nil && *r.GPU["gpu_7"].PowerW == 301.25
	}, 30*time.Second, 20*time.Millisecond)
}

func smiArgs(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "args"))
	require.NoError(t, err)
	return string(b)
}

func TestSMILoopDiesAndIsRestarted(t *testing.T) {
	gpus, apps := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, `gpus() {
	if [ -e "$DIR/die" ]; then rm -f "$DIR/die"; echo "Segmentation fault" >&2; exit 3; fi
	cat "$DIR/gpus.csv"
}
case "$1" in
--query-gpu=*) smi_loop gpus ;;
*) cat "$DIR/apps.csv" ;;
esac`, map[string]string{"gpus.csv": gpus, "apps.csv": apps})
	s, _ := smiLoopSampler(t, dir, 50*time.Millisecond, func(n *nvidiaSMI) { n.backoffMin = 700 * time.Millisecond })
	require.NoError(t, gpuTick(t, s).Err)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "die"), nil, 0o644))
	var r Reading
	require.Eventually(t, func() bool { r = gpuTick(t, s); return r.Err != nil }, 30*time.Second, 10*time.Millisecond)
	assert.EqualError(t, r.Err, "nvidia-smi: exit 3: Segmentation fault", "the exit is recorded until the restart")
	require.Contains(t, r.GPU, "gpu_0")
	assert.Nil(t, r.GPU["gpu_0"].PowerW)

	require.Eventually(t, func() bool { r = gpuTick(t, s); return r.Err == nil }, 30*time.Second, 20*time.Millisecond)
	gpuVal(t, 627.40, r.GPU["gpu_0"].PowerW, "power_w after the restart")
	b, err := os.ReadFile(filepath.Join(dir, "loop.pids"))
	require.NoError(t, err)
	pids := strings.Fields(string(b))
	require.Len(t, pids, 2, "restarted once")
	assert.NotEqual(t, pids[0], pids[1])
}

func TestSMILoopStale(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// After "quiet" appears the loop prints one more block and then nothing, staying alive.
	dir := smiFake(t, `gpus() {
	cat "$DIR/gpus.csv"
	if [ -e "$DIR/quiet" ]; then sleep 60 & echo $! > "$DIR/child.pid"; wait; fi
}
case "$1" in
--query-gpu=*) smi_loop gpus ;;
*) cat "$DIR/apps.csv" ;;
esac`, map[string]string{"gpus.csv": strings.Join(smiH200Row(t), ", ") + "\n", "apps.csv": ""})
	s, n := smiLoopSampler(t, dir, 50*time.Millisecond, func(n *nvidiaSMI) { n.hungAfter = time.Second })
	require.NoError(t, gpuTick(t, s).Err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "quiet"), nil, 0o644))
	childPID := smiReadPID(t, filepath.Join(dir, "child.pid"))

	var r Reading
	var late time.Duration
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		deadline, _ := ctx.Deadline()
		r = s.Sample(ctx)
		late = time.Since(deadline)
		return r.Err != nil
	}, 30*time.Second, time.Millisecond)
	assert.Contains(t, r.Err.Error(), "nvidia-smi: stale: newest block is")
	// The quiet loop's child sleeps 60 s: returning within 10 s of the deadline is returning at it.
	assert.Less(t, late, 10*time.Second, "Sample returns at its deadline")
	g, ok := r.GPU["gpu_0"]
	require.True(t, ok, "the GPU's key is kept")
	assert.Nil(t, g.PowerW, "stale data is not reported")
	assert.Contains(t, g.Unavailable[GPUFieldPowerW], "stale")
	assert.Greater(t, time.Since(n.latestAt()), n.staleAfter)

	// The silent loop is killed at hungAfter, with its child.
	assert.Eventually(t, func() bool { return smiProcessGone(childPID) }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, os.Remove(filepath.Join(dir, "quiet")))
	require.Eventually(t, func() bool { return gpuTick(t, s).Err == nil }, 30*time.Second, 20*time.Millisecond)
}

func TestSMICloseKillsLoop(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	before := runtime.NumGoroutine()
	gpus, apps := smiCaptureOutput(t, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(t, smiReplay, map[string]string{"gpus.csv": gpus, "apps.csv": apps})
	s, n := smiLoopSampler(t, dir, 50*time.Millisecond, nil)
	require.NoError(t, gpuTick(t, s).Err)
	pid := smiReadPID(t, filepath.Join(dir, "loop.pids"))
	require.False(t, smiProcessGone(pid), "the loop runs between ticks")

	require.NoError(t, s.Close())
	select {
	case <-n.done:
	default:
		t.Fatal("Close returned before the loop's supervisor did")
	}
	assert.True(t, smiProcessGone(pid), "the loop process was reaped by Close")
	assert.Eventually(t, func() bool { return smiGroupGone(pid) }, 30*time.Second, 10*time.Millisecond,
		"nothing of the loop's process group is left")
	assert.Error(t, gpuTick(t, s).Err, "Sample after Close")
	// Polled here, not with assert.Eventually, which runs the condition on goroutines of its own.
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if runtime.NumGoroutine() > before {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines leaked: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

func TestSMIBlockAssembly(t *testing.T) {
	row := func(i int, count string) string {
		r := smiH200Row(t)
		r[smiIndex], r[smiCount] = strconv.Itoa(i), count
		return strings.Join(r, ", ") + "\n"
	}
	for name, tc := range map[string]struct {
		writes []string
		gpus   int    // GPUs in the newest block
		err    string // its error, if any
	}{
		"count completes a block": {writes: []string{row(0, "2"), row(1, "2")}, gpus: 2},
		"split across writes": {writes: []string{row(0, "2")[:20], row(0, "2")[20:] + row(1, "2")[:5],
			row(1, "2")[5:]}, gpus: 2},
		"no count: an index that repeats ends it": {writes: []string{row(0, "[N/A]"), row(1, "[N/A]"), row(0, "[N/A]")}, gpus: 2},
		"a blank line ends it":                    {writes: []string{row(0, "[N/A]"), row(1, "[N/A]"), "\n"}, gpus: 2},
		"a message between blocks goes with the next block": {
			writes: []string{row(0, "2"), row(1, "2"), "Xid (PCI:0000:83:00): 79, GPU has fallen off the bus.\n", row(0, "2"), row(1, "2")},
			gpus:   2, err: "line 1"},
		"a lost GPU's line": {
			writes: []string{row(0, "3"), "Unable to determine the device handle for GPU0000:03:00.0: GPU has fallen off the bus.\n", row(2, "3"), row(0, "3")},
			gpus:   2, err: "GPU has fallen off the bus"},
		"a partial block is not published": {writes: []string{row(0, "2")}, gpus: -1},
	} {
		t.Run(name, func(t *testing.T) {
			n := newNvidiaSMI("nvidia-smi", time.Second)
			w := &smiLoopWriter{n: n}
			for _, s := range tc.writes {
				_, err := w.Write([]byte(s))
				require.NoError(t, err)
			}
			if tc.gpus < 0 {
				assert.Nil(t, n.latest)
				return
			}
			require.NotNil(t, n.latest)
			assert.Len(t, n.latest.gpus, tc.gpus)
			if tc.err == "" {
				assert.NoError(t, n.latest.err)
			} else {
				assert.ErrorContains(t, n.latest.err, tc.err)
			}
		})
	}
}

func TestSMINegativeInterval(t *testing.T) {
	_, err := NewGPU(GPUConfig{Source: GPUSourceNvidiaSMI, Interval: -time.Second})
	assert.ErrorContains(t, err, "GPUConfig.Interval")
}

// latestAt is when the newest block arrived (zero if none), for tests.
func (n *nvidiaSMI) latestAt() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.latest == nil {
		return time.Time{}
	}
	return n.latest.at
}
