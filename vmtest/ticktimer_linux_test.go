package vmtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A kernel timer waits at least its duration, by the monotonic clock the collector's schedule uses.
func TestKernelTimerWaits(t *testing.T) {
	k, err := newKernelTimer()
	require.NoError(t, err)
	defer k.stop()
	for _, d := range []time.Duration{0, 3 * time.Millisecond, 20 * time.Millisecond} {
		t0 := time.Now()
		assert.True(t, k.wait(context.Background(), d))
		assert.GreaterOrEqual(t, time.Since(t0), d)
	}
}

// A kernel timer's wait ends as soon as its context does, whether that was before the wait or during it,
// and reports it; the timer still works for the next wait.
func TestKernelTimerCancel(t *testing.T) {
	k, err := newKernelTimer()
	require.NoError(t, err)
	defer k.stop()

	done, cancel := context.WithCancel(context.Background())
	cancel()
	assert.False(t, k.wait(done, time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan bool)
	go func() { waited <- k.wait(ctx, time.Hour) }()
	cancel()
	assert.False(t, <-waited) // an hour's wait ends with the cancel: a timer that missed it would hang the test

	assert.True(t, k.wait(context.Background(), time.Millisecond))
}

// Options.KernelTimer picks the kernel timer on Linux; a Go timer otherwise.
func TestNewTickTimer(t *testing.T) {
	k := newTickTimer(true)
	defer k.stop()
	assert.IsType(t, &kernelTimer{}, k)
	g := newTickTimer(false)
	defer g.stop()
	assert.IsType(t, &goTimer{}, g)
}

// A collector on a kernel timer keeps the schedule: snapshot i (after the first, at start) is taken no
// earlier than i intervals after start (slots missed by a slow tick are skipped, never taken early).
func TestCollectorOnKernelTimer(t *testing.T) {
	const iv = 20 * time.Millisecond
	c, err := Start(context.Background(), Options{ConfigID: "kernel-timer", Interval: iv, OutputDir: t.TempDir(),
		GPUSource: "none", NoSystem: true, KernelTimer: true})
	require.NoError(t, err)
	for len(c.Snapshots()) < 4 {
		time.Sleep(iv) // polls until the ticks came; no bound on when
	}
	_, err = c.Finish()
	require.NoError(t, err)
	snaps := c.Snapshots()
	require.GreaterOrEqual(t, len(snaps), 4)
	for i, s := range snaps[:len(snaps)-1] { // the last is the stop's, at any time
		assert.GreaterOrEqual(t, s.ElapsedS, float64(i)*iv.Seconds(), "snapshot %d", i)
	}
}

// Arming a stopped kernel timer is an error and touches no file: its fd number may belong to another by then.
func TestKernelTimerArmAfterStop(t *testing.T) {
	k, err := newKernelTimer()
	require.NoError(t, err)
	k.stop()
	assert.Error(t, k.(*kernelTimer).arm(time.Millisecond))
}
