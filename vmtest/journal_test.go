package vmtest

import (
	"context"
	"encoding/csv"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/samplers"
)

// slowSampler takes delay to answer once slow is set.
type slowSampler struct {
	slow  atomic.Bool
	delay time.Duration
}

func (s *slowSampler) Name() string { return "slow" }
func (s *slowSampler) Sample(ctx context.Context) samplers.Reading {
	if s.slow.Load() {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
		}
	}
	return samplers.Reading{}
}

// A request counts in the snapshot of the interval in which it ended, even when it is recorded while a slow
// sampler holds the tick back: the tick cuts at its own timestamp, not at the time it merges.
func TestRequestCountsInTheIntervalItEnded(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := &slowSampler{delay: 500 * time.Millisecond}
		ft := &fakeTB{name: "T"}
		t0 := time.Now()
		c := Collect(ft, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true,
			Samplers: []samplers.Sampler{s}})
		require.NotNil(t, c)
		defer ft.runCleanups()
		s.slow.Store(true)
		// The tick of t0+1s waits for the sampler until t0+1.5s; at t0+1.2s two requests are recorded: one
		// that ended at t0+0.95s (interval 1), one that ended at t0+1.1s (interval 2).
		time.Sleep(1200 * time.Millisecond)
		at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
		c.RecordRequest(okReq(at(900), 20*time.Millisecond, 50*time.Millisecond, 2))
		c.RecordRequest(okReq(at(1050), 20*time.Millisecond, 50*time.Millisecond, 2))
		time.Sleep(1400 * time.Millisecond) // past the tick of t0+2s and its sampler
		s.slow.Store(false)
		snaps := c.Snapshots()
		require.Len(t, snaps, 3)
		assert.Equal(t, 1.0, snaps[1].ElapsedS)
		assert.Equal(t, 1, snaps[1].VLLMMetrics.RequestsFinished, "the request that ended before t0+1s")
		assert.Equal(t, 1, snaps[2].VLLMMetrics.RequestsFinished, "the request that ended after t0+1s")
	})
}

// The requests CSV, the summary and the snapshots describe the same requests, even with requests recorded
// while Finish runs.
func TestSummaryAndRequestsCSVHoldTheSameRequests(t *testing.T) {
	ft := &fakeTB{name: "T"}
	c := Collect(ft, Options{Interval: 20 * time.Millisecond, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true})
	require.NotNil(t, c)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				select {
				case <-stop:
					return
				default:
					c.RecordRequest(okReq(time.Now(), time.Millisecond, 2*time.Millisecond, 3))
				}
			}
		}()
	}
	for c.rec.Len() < 1000 { // recording is under way
		time.Sleep(time.Millisecond)
	}
	ft.runCleanups()
	close(stop)
	wg.Wait()
	sum := c.Summary()
	assert.True(t, sum.Finished)
	f, err := os.Open(sum.Files["requests_csv"])
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	assert.Zero(t, sum.Requests.Dropped)
	assert.Equal(t, sum.Requests.Total, len(rows)-1)
	inSnaps := 0 // every request counted in the snapshot of its interval, the last one included
	for _, s := range c.Snapshots() {
		inSnaps += s.VLLMMetrics.RequestsFinished
	}
	assert.Equal(t, sum.Requests.OK, inSnaps, "the snapshots, the summary and the CSV account for the same requests")
	found, err := journal.Find(c.Dir())
	require.NoError(t, err)
	assert.Empty(t, found, "a finished run leaves no journal")
}

// While the run goes, its journal is on disk and rebuilds what has been collected.
func TestJournalWhileRunning(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{name: "T"}
		c := Collect(ft, Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true})
		require.NotNil(t, c)
		stopped := false
		defer func() {
			if !stopped {
				ft.runCleanups()
			}
		}()
		t0 := time.Now()
		for i := 0; i < 5; i++ {
			c.RecordRequest(okReq(t0.Add(time.Duration(i)*time.Millisecond), 10*time.Millisecond, 20*time.Millisecond, 2))
		}
		time.Sleep(2500 * time.Millisecond) // ticks at 1 s and 2 s
		found, err := journal.Find(dir)
		require.NoError(t, err)
		require.Len(t, found, 1)
		run, err := journal.Read(found[0])
		require.NoError(t, err)
		assert.Len(t, run.Ticks, 3)
		assert.Len(t, run.Rows, 5)
		assert.Equal(t, c.RunID(), run.Header.RunID)
		assert.Equal(t, 1.0, run.Header.IntervalS)
		assert.True(t, run.Header.NoPNG, "a rebuild keeps the run's NoPNG")
		require.NotNil(t, run.Header.Writer)
		assert.Equal(t, os.Getpid(), run.Header.Writer.PID, "the journal names its writer")
		ft.runCleanups()
		stopped = true
		_, err = os.Stat(found[0].Snapshots)
		assert.True(t, os.IsNotExist(err), "removed once the files are written")
	})
}
