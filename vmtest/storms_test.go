package vmtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// Ticks 1 s apart. Rejections: +0, +40, +60, +0 → one storm of 100 from t1 to t3 (the intervals (t1, t2] and
// (t2, t3]); failures: +3 at t2 alone → too few for a storm; +12 at t5, still failing at the last tick → a
// storm of 12 + 8 = 20 closed by the last tick.
func TestStormsFromTickCounts(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	var s storms
	assert.Empty(t, s.observe(at(0), recorder.Counts{}, false), "the first tick sets the base")
	assert.Empty(t, s.observe(at(1), recorder.Counts{}, false))
	assert.Empty(t, s.observe(at(2), recorder.Counts{Rejected: 40, Failed: 3}, false))
	assert.Empty(t, s.observe(at(3), recorder.Counts{Rejected: 100, Failed: 3}, false), "three failures ended: no storm")
	ev := s.observe(at(4), recorder.Counts{Rejected: 100, Failed: 3}, false)
	require.Len(t, ev, 1)
	assert.Equal(t, at(1), ev[0].Time)
	assert.Equal(t, at(3), *ev[0].End)
	assert.Equal(t, 100, ev[0].Count)
	assert.Equal(t, "requests", ev[0].Source)
	assert.Equal(t, "storm: 100 requests rejected (HTTP 429/503) in 2.0 s (50.0/s), between 12:00:01.000 and 12:00:03.000", ev[0].Message)

	assert.Empty(t, s.observe(at(5), recorder.Counts{Rejected: 100, Failed: 15}, false))
	ev = s.observe(at(6), recorder.Counts{Rejected: 100, Failed: 23}, true)
	require.Len(t, ev, 1, "the last tick closes a storm still going")
	assert.Equal(t, at(4), ev[0].Time)
	assert.Equal(t, at(6), *ev[0].End)
	assert.Equal(t, 20, ev[0].Count)
}

// A server that rejects in bursts every other tick for a long run yields at most maxStormEvents events.
func TestStormEventsBounded(t *testing.T) {
	t0 := time.Now()
	var s storms
	var c recorder.Counts
	n := 0
	for i := range 4 * maxStormEvents {
		if i%2 == 1 {
			c.Rejected += StormMinRequests
		}
		n += len(s.observe(t0.Add(time.Duration(i)*time.Second), c, false))
	}
	assert.Equal(t, maxStormEvents, n)
}
