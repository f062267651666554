//go:build unix

package samplers

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smiCPUPerTick takes b.N ticks every 2 s (the default interval, in real time: a tick's cost after 2 s idle
// is not the cost of a hot loop), each one as the collector's: the host sampler and, if gpu is not nil, the
// GPU sampler, concurrently, under a deadline. It reports this process's CPU per tick from
// getrusage(RUSAGE_SELF): user+system of every thread, the Go runtime's own wake-ups included, and its
// context switches per tick (ctxsw/tick).
// child-cpu-ns/tick is what the reaped children used (for the fake: its shell, and a cat and a sleep per
// loop iteration, and the compute-apps calls), reported so that nothing is hidden; real nvidia-smi costs
// differ. The GPU source's share is the difference from BenchmarkSMICPUPerTickHostOnly.
func smiCPUPerTick(b *testing.B, gpu *GPUSampler) {
	const tick = 2 * time.Second
	ctx := context.Background()
	host := NewSystem()
	host.Sample(ctx)
	if gpu != nil {
		if r := gpu.Sample(ctx); r.Err != nil || len(r.GPU) != 8 {
			b.Fatal(r.Err, len(r.GPU))
		}
	}
	self0, child0, csw0 := smiRusage(b, syscall.RUSAGE_SELF), smiRusage(b, syscall.RUSAGE_CHILDREN), smiSwitches(b)
	start, ticks := time.Now(), 0
	for b.Loop() {
		ticks++
		time.Sleep(time.Until(start.Add(time.Duration(ticks) * tick)))
		c, cancel := context.WithTimeout(ctx, tick*4/5)
		var r Reading
		done := make(chan struct{})
		go func() {
			defer close(done)
			if gpu != nil {
				r = gpu.Sample(c)
			}
		}()
		host.Sample(c)
		<-done
		cancel()
		if gpu != nil && (r.Err != nil || len(r.GPU) != 8) {
			b.Fatal(r.Err, len(r.GPU))
		}
	}
	self, csw := smiRusage(b, syscall.RUSAGE_SELF)-self0, smiSwitches(b)-csw0
	if gpu != nil {
		_ = gpu.Close() // reaps the loop, so that its CPU is counted in RUSAGE_CHILDREN
	}
	child := smiRusage(b, syscall.RUSAGE_CHILDREN) - child0
	perTick := float64(self.Nanoseconds()) / float64(ticks)
	b.ReportMetric(perTick, "cpu-ns/tick")
	b.ReportMetric(100*perTick/float64(tick), "%core@2s")
	b.ReportMetric(float64(child.Nanoseconds())/float64(ticks), "child-cpu-ns/tick")
	b.ReportMetric(float64(csw)/float64(ticks), "ctxsw/tick")
}

// smiSwitches is this process's context switches so far (voluntary and involuntary, every thread): each one
// a thread put to sleep or woken, the Go runtime's sysmon included. On a VM where a wake-up is expensive this
// count, steadier than CPU time, shows what a design costs.
func smiSwitches(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return int64(ru.Nvcsw + ru.Nivcsw)
}

// BenchmarkSMICPUPerTick is a collector tick at the default interval with the nvidia-smi source: a loop-mode
// fake printing 8 H200 rows every 2 s, read at the tick (pull mode), the compute processes refreshed every
// 15th tick. Subtract BenchmarkSMICPUPerTickHostOnly for the source's own share. Each op is a 2 s tick: run
// with e.g. -benchtime=30x.
func BenchmarkSMICPUPerTick(b *testing.B) {
	s, _ := smiLoopSampler(b, smiBenchFake(b), 2*time.Second, nil)
	smiCPUPerTick(b, s)
}

// BenchmarkSMICPUPerTickPush is BenchmarkSMICPUPerTick with the loop's stdout copied by a goroutine as it
// comes (push mode: the design before pull mode, and still the one where pipes cannot be polled).
func BenchmarkSMICPUPerTickPush(b *testing.B) {
	s, _ := smiLoopSampler(b, smiBenchFake(b), 2*time.Second, func(n *nvidiaSMI) { n.pull = false })
	smiCPUPerTick(b, s)
}

// BenchmarkSMICPUPerTickNoApps is BenchmarkSMICPUPerTick without the compute-apps refreshes (a process start
// every 15th tick), to show their share.
func BenchmarkSMICPUPerTickNoApps(b *testing.B) {
	s, _ := smiLoopSampler(b, smiBenchFake(b), 2*time.Second, func(n *nvidiaSMI) { n.appsEvery = 1 << 30 })
	smiCPUPerTick(b, s)
}

// BenchmarkSMICPUPerTickHostOnly is the baseline: the same ticks with the host sampler alone.
func BenchmarkSMICPUPerTickHostOnly(b *testing.B) { smiCPUPerTick(b, nil) }

func smiRusage(b *testing.B, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// smiCountingFake is a loop whose k-th block (k = 1, 2, ...) reports power_w = k on all 8 GPUs; $DIR/n holds
// the number of blocks printed so far.
func smiCountingFake(t *testing.T) string {
	return smiFake(t, `gpus() {
	c=$(cat "$DIR/n" 2>/dev/null || echo 0); c=$((c+1))
	sed "s/POWER/$c/" "$DIR/gpus.tmpl"
	echo $c > "$DIR/n.tmp" && mv "$DIR/n.tmp" "$DIR/n"
}
case "$1" in
--query-gpu=*) smi_loop gpus ;;
*) : ;;
esac`, map[string]string{"gpus.tmpl": smi8GPUs(t, "POWER")})
}

func smiBlocksPrinted(t *testing.T, dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "n"))
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	k, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return k
}

// In pull mode the rows printed between ticks wait in the pipe; a tick reads them all and reports the newest
// block, and its time is no later than the read that found the pipe empty before it.
func TestSMIPullModeReadsNewestBlockAtTheTick(t *testing.T) {
	dir := smiCountingFake(t)
	s, n := smiLoopSampler(t, dir, 20*time.Millisecond, func(n *nvidiaSMI) { n.staleAfter = time.Minute })
	require.NoError(t, gpuTick(t, s).Err)
	n.mu.Lock()
	pipe := n.pipe
	n.mu.Unlock()
	require.NotNil(t, pipe, "unix pipes can be polled: pull mode")

	emptyAt := func() time.Time { pipe.mu.Lock(); defer pipe.mu.Unlock(); return pipe.emptyAt }
	emptyBefore, before := emptyAt(), smiBlocksPrinted(t, dir)
	// Wait (however long a loaded machine makes it) until at least 3 more blocks wait in the pipe, none read.
	for waited := time.Duration(0); smiBlocksPrinted(t, dir) < before+3; waited += 10 * time.Millisecond {
		require.Less(t, waited, time.Minute, "the fake loop printed nothing for a minute")
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, emptyBefore, emptyAt(), "nothing read the pipe between ticks")
	printed := smiBlocksPrinted(t, dir) // every block up to this one is in the pipe (the fake writes, then counts)
	require.GreaterOrEqual(t, printed, before+3)

	r := gpuTick(t, s)
	require.NoError(t, r.Err)
	require.Len(t, r.GPU, 8)
	for k, g := range r.GPU {
		require.NotNil(t, g.PowerW, k)
		assert.GreaterOrEqual(t, *g.PowerW, float64(printed), "%s: the newest block, not the first one waiting", k)
	}
	assert.Equal(t, emptyBefore, n.latestAt(), "a block read at the tick is dated when the pipe was last seen empty")
}

// A pipe left unread long enough fills up and blocks nvidia-smi; the next tick drains it, finds the newest
// block too old, and waits for the fresh one that the unblocked loop prints.
func TestSMIPullModeFullPipe(t *testing.T) {
	dir := smiCountingFake(t)
	s, _ := smiLoopSampler(t, dir, time.Millisecond, nil)
	require.NoError(t, gpuTick(t, s).Err)
	// 64 KiB of pipe holds ~60 blocks of 8 rows (1.1 KiB each): well within a second at 1 ms.
	require.Eventually(t, func() bool {
		a := smiBlocksPrinted(t, dir)
		time.Sleep(100 * time.Millisecond)
		return smiBlocksPrinted(t, dir) == a
	}, 10*time.Second, time.Millisecond, "the loop blocks once the pipe is full")
	stuck := smiBlocksPrinted(t, dir)
	time.Sleep(300 * time.Millisecond) // older than staleAfter (2 ms + 250 ms)

	r := gpuTick(t, s)
	require.NoError(t, r.Err)
	g := r.GPU["gpu_0"]
	require.NotNil(t, g.PowerW)
	assert.Greater(t, *g.PowerW, float64(stuck), "a block printed after the pipe was drained")
}

// A loop killed in the middle of a block (4 of 8 rows printed, then silence) leaves no block behind: its rows
// are not published as data when it is reaped, so no tick reports half the GPUs as fresh.
func TestSMIKilledMidBlockPublishesNothing(t *testing.T) {
	half := strings.Join(strings.SplitAfter(smi8GPUs(t, "627.40"), "\n")[:4], "")
	dir := smiFake(t, `echo "$@" >> "$DIR/args"
case "$1" in
--query-gpu=*) cat "$DIR/half.csv"; exec sleep 60 ;;
*) : ;;
esac`, map[string]string{"half.csv": half})
	s, n := smiLoopSampler(t, dir, 100*time.Millisecond, func(n *nvidiaSMI) {
		n.hungAfter, n.firstGrace, n.backoffMin = 300*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
	})
	// Tick until the silent loop has been killed and restarted (however long a loaded machine takes), and a
	// little past that.
	for ticks, restartedAt, start := 0, -1, time.Now(); restartedAt < 0 || ticks < restartedAt+3; ticks++ {
		require.Less(t, time.Since(start), time.Minute, "the silent loop was never killed and restarted")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		r := s.Sample(ctx)
		cancel()
		require.Error(t, r.Err, "4 rows of an 8-GPU block are not a reading")
		if restartedAt < 0 && smiArgLines(t, dir, "--query-gpu=") >= 2 {
			restartedAt = ticks
		}
	}
	assert.Nil(t, func() *smiBlock { n.mu.Lock(); defer n.mu.Unlock(); return n.latest }())
}

// A loop that exits while a process it started still holds its stdout: the pipe is drained for a while after
// the exit, and no tick waits on that past its own deadline.
func TestSMIExitWithStdoutHeldKeepsTicksOnTime(t *testing.T) {
	dir := smiFake(t, `case "$1" in
--query-gpu=*) cat "$DIR/gpus.csv"; sleep 20 2>/dev/null & exit 0 ;;
*) : ;;
esac`, map[string]string{"gpus.csv": smi8GPUs(t, "627.40")})
	s, _ := smiLoopSampler(t, dir, 100*time.Millisecond, func(n *nvidiaSMI) { n.backoffMin = 200 * time.Millisecond })
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		deadline, _ := ctx.Deadline()
		s.Sample(ctx)
		late := time.Since(deadline)
		cancel()
		// The held stdout stays open 20 s: a tick that waited on it would be ~20 s late, far past any scheduling
		// delay of a loaded machine (1 s was once exceeded at load average 10).
		require.Less(t, late, 10*time.Second, "a tick with a 100 ms deadline")
	}
}
