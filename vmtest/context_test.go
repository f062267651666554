package vmtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
)

func TestDeadlineMarginScalesDownForAShortDeadline(t *testing.T) {
	assert.Equal(t, 2*time.Second, DeadlineMargin(2*time.Second, 4*time.Second), "go test -timeout 4s: half the time left, not 5 s")
	assert.Equal(t, 4500*time.Millisecond, DeadlineMargin(time.Second, 9*time.Second), "half of 9 s")
	assert.Equal(t, time.Second, DeadlineMargin(time.Second, 1500*time.Millisecond), "MinScaledMargin, above half of 1.5 s")
	assert.Equal(t, 500*time.Millisecond, DeadlineMargin(time.Second, 500*time.Millisecond), "all of the time left, when less than MinScaledMargin")
	assert.Equal(t, 5*time.Second, DeadlineMargin(time.Second, 10*time.Second), "exactly half: not scaled")
	assert.Zero(t, DeadlineMargin(time.Second, -time.Second), "the deadline has passed: stop at once")
}

// With 1.2 s or less left at Collect, the 1 s margin and its fifth leave the load nothing: Context's end
// (loadAt) is then at or before the call; with 1.5 s left the load gets 0.3 s.
func TestContextHasNoTimeWithUnder1200msLeft(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct{ left, load time.Duration }{
		{1500 * time.Millisecond, 300 * time.Millisecond},
		{1200 * time.Millisecond, 0},
		{1100 * time.Millisecond, -100 * time.Millisecond},
	} {
		finishAt, loadAt, _ := deadlineStop(now.Add(tc.left), time.Second, tc.left)
		assert.Equal(t, tc.load, loadAt.Sub(now), "left %v", tc.left)
		assert.Equal(t, tc.left-MinScaledMargin, finishAt.Sub(now), "left %v", tc.left)
	}
}

// Under a test deadline 200 s away at a 2 s interval, the margin is 10 s: Context ends at 188 s (a fifth of the
// margin earlier) with the deadline as its cause, so the load that it bounds records its last request, and the
// collector finishes at 190 s with that request in the summary.
func TestContextEndsBeforeTheEarlyFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ft := &deadlineTB{fakeTB: fakeTB{name: "TestLong"}, deadline: start.Add(200 * time.Second)}
		c := Collect(ft, Options{Interval: 2 * time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
		require.NotNil(t, c)
		loadDone := make(chan time.Time)
		go func() { // a load bounded by c.Context(): its request in flight is cancelled and recorded
			<-c.Context().Done()
			now := time.Now()
			c.RecordRequest(Request{Start: start.Add(time.Second), Outcome: recorder.OutcomeCanceled, Err: context.Cause(c.Context())})
			loadDone <- now
		}()
		ended := <-loadDone
		assert.Equal(t, 188*time.Second, ended.Sub(start))
		assert.ErrorIs(t, context.Cause(c.Context()), ErrTestDeadline)
		assert.NotErrorIs(t, context.Cause(c.Context()), ErrFinished)
		assert.Contains(t, context.Cause(c.Context()).Error(), "stopping 10s before it so that the summary, the files and the checks are done in time, and the load bounded by Collector.Context 2s before that")
		time.Sleep(3 * time.Second)
		synctest.Wait()
		sum := c.Summary()
		assert.InDelta(t, 190, sum.DurationS, 1e-9)
		assert.Equal(t, 1, sum.Requests.Canceled, "the load's last request is in the summary")
		ft.runCleanups()
	})
}

// The trial's `go test -timeout 4s` with a 5 s margin: the run stopped at 0 s and wrote an empty summary. Now
// the margin is half the 4 s left: the collector finishes at 2 s with what it measured, Context ended at
// 1.6 s, and the log says the margin was scaled down.
func TestShortDeadlineScalesTheMarginDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ft := &deadlineTB{fakeTB: fakeTB{name: "TestShort"}, deadline: start.Add(4 * time.Second)}
		c := Collect(ft, Options{Interval: 200 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
		require.NotNil(t, c)
		c.RecordRequest(okReq(start, 100*time.Millisecond, 500*time.Millisecond, 5))
		<-c.Context().Done()
		assert.Equal(t, 1600*time.Millisecond, time.Since(start))
		time.Sleep(time.Second)
		synctest.Wait()
		sum := c.Summary()
		assert.InDelta(t, 2, sum.DurationS, 1e-9)
		assert.Equal(t, 1, sum.Requests.OK)
		ft.mu.Lock()
		logs := strings.Join(ft.logs, "\n")
		ft.mu.Unlock()
		assert.Contains(t, logs, "stopping 2s before it (scaled down from 5s: only 4s was left when Collect was called)")
		ft.runCleanups()
	})
}

// Context ends when Finish is called, with ErrFinished as its cause; under Start, when Start's ctx ends, with
// that cause.
func TestContextEndsAtFinishAndWithStartsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true}
		c, err := Start(context.Background(), opts)
		require.NoError(t, err)
		require.NoError(t, c.Context().Err())
		_, err = c.Finish()
		require.NoError(t, err)
		assert.ErrorIs(t, context.Cause(c.Context()), ErrFinished)

		why := errors.New("interrupt signal received")
		ctx, cancel := context.WithCancelCause(context.Background())
		opts.OutputDir = t.TempDir()
		c, err = Start(ctx, opts)
		require.NoError(t, err)
		cancel(why)
		<-c.Context().Done()
		assert.ErrorIs(t, context.Cause(c.Context()), why)
		sum, _ := c.Finish()
		require.NotEmpty(t, sum.Events)
		last := sum.Events[len(sum.Events)-1]
		assert.Equal(t, "stopped early: interrupt signal received", last.Message)
		assert.Equal(t, snapshot.EventSourceCollector, last.Source)
		assert.True(t, strings.HasPrefix(last.Message, snapshot.StoppedEarlyPrefix))
	})
}
