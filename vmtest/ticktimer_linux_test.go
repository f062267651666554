package vmtest

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"
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
	k, err := newTickTimer(true)
	require.NoError(t, err)
	defer k.stop()
	assert.IsType(t, &kernelTimer{}, k)
	g, err := newTickTimer(false)
	require.NoError(t, err)
	defer g.stop()
	assert.IsType(t, &goTimer{}, g)
}

// A collector on a kernel timer keeps the schedule: snapshot i (after the first, at start) is taken no
// earlier than i intervals after start (slots missed by a slow tick are skipped, never taken early). Finish
// stops its loop: the log has no "did not stop" line, nor one saying the kernel timer was not had.
func TestCollectorOnKernelTimer(t *testing.T) {
	const iv = 20 * time.Millisecond
	var log bytes.Buffer
	c, err := Start(context.Background(), Options{ConfigID: "kernel-timer", Interval: iv, OutputDir: t.TempDir(),
		GPUSource: "none", NoSystem: true, KernelTimer: true, Log: &log})
	require.NoError(t, err)
	for len(c.Snapshots()) < 4 {
		time.Sleep(iv) // polls until the ticks came; go test -timeout bounds it
	}
	_, err = c.Finish()
	require.NoError(t, err)
	snaps := c.Snapshots()
	require.GreaterOrEqual(t, len(snaps), 4)
	for i, s := range snaps[:len(snaps)-1] { // the last is the stop's, at any time
		assert.GreaterOrEqual(t, s.ElapsedS, float64(i)*iv.Seconds(), "snapshot %d", i)
	}
	<-c.done // the loop has returned: nothing writes to log now
	assert.NotContains(t, log.String(), "did not stop")
	assert.NotContains(t, log.String(), "Options.KernelTimer")
	assert.Contains(t, log.String(), "vmtest: wrote ", "the log was written to")
}

// A stopped kernel timer cannot be armed: its wait falls back to a Go timer until the time the wait was for,
// d after the call, and not d after the failure.
func TestKernelTimerFallbackKeepsTheDeadline(t *testing.T) {
	k, err := newKernelTimer()
	require.NoError(t, err)
	k.stop()
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		assert.True(t, k.wait(context.Background(), 20*time.Millisecond))
		assert.Equal(t, 20*time.Millisecond, time.Since(t0))
		time.Sleep(15 * time.Millisecond)
		assert.True(t, waitUntil(context.Background(), t0.Add(50*time.Millisecond)))
		assert.Equal(t, 50*time.Millisecond, time.Since(t0), "until the time asked for, not 50 ms after the call")
		assert.True(t, waitUntil(context.Background(), t0))
		assert.Equal(t, 50*time.Millisecond, time.Since(t0), "a time passed: at once")
	})
}

// Arming a stopped kernel timer is an error and touches no file: its fd number may belong to another by then.
func TestKernelTimerArmAfterStop(t *testing.T) {
	k, err := newKernelTimer()
	require.NoError(t, err)
	k.stop()
	assert.Error(t, k.(*kernelTimer).arm(time.Millisecond))
}
