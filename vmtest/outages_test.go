package vmtest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/samplers"
)

// scripted fails its readings as script says, one entry per reading ("" is a good reading).
type scripted struct {
	script []string
	n      atomic.Int32
}

func (s *scripted) Name() string { return "scripted" }
func (s *scripted) Sample(context.Context) samplers.Reading {
	i := int(s.n.Add(1)) - 1
	if i < len(s.script) && s.script[i] != "" {
		return samplers.Reading{Err: errors.New(s.script[i])}
	}
	return samplers.Reading{}
}

// A run with ticks at 0, 1, ..., 7 s and the last at 7.5 s: the source fails at 1–3 s (refused twice, then
// a 503) and at 6 s–end (timeouts); 120 requests are rejected between 2 and 4 s. The summary tells both
// outages with their times, the dominant error apart from the last, the covered share (4 of 9 readings),
// and the rejection storm as one event with start, end and count.
func TestSummaryTellsOutagesAndStorms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refused, timeout := "connection refused", "no reading within 1.8s"
		src := &scripted{script: []string{"", refused, refused, "HTTP 503", "", "", timeout, timeout, timeout}}
		ft := &fakeTB{name: "T"}
		start := time.Now()
		c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
			Samplers: []samplers.Sampler{src}})
		require.NotNil(t, c)
		at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
		time.Sleep(2500 * time.Millisecond)
		for range 60 { // in (2, 3]
			c.RecordRequest(Request{Start: time.Now(), Outcome: recorder.OutcomeRejected, HTTPStatus: 429})
		}
		time.Sleep(time.Second)
		for range 60 { // in (3, 4]
			c.RecordRequest(Request{Start: time.Now(), Outcome: recorder.OutcomeRejected, HTTPStatus: 429})
		}
		time.Sleep(4 * time.Second) // to 7.5 s
		ft.runCleanups()
		sum := c.Summary()

		st := sum.Sources["scripted"]
		assert.Equal(t, 9, st.Readings)
		assert.Equal(t, 6, st.Failed)
		assert.InDelta(t, 3.0/9, *st.CoveredFraction, 1e-12)
		assert.Equal(t, timeout, st.LastError)
		assert.Equal(t, timeout, st.DominantError, "3 timeouts, 2 refused, one 503")
		require.Len(t, st.Outages, 2)
		o := st.Outages[0]
		assert.Equal(t, []any{at(1), at(3), 3, refused, false}, []any{o.Start, o.End, o.Failed, o.Reason, o.Ongoing})
		o = st.Outages[1]
		assert.Equal(t, []any{at(6), at(7.5), 3, timeout, true}, []any{o.Start, o.End, o.Failed, o.Reason, o.Ongoing})

		require.Len(t, sum.Events, 1, "%v", sum.Events)
		e := sum.Events[0]
		assert.Equal(t, "requests", e.Source)
		assert.Equal(t, at(2), e.Time, "the start of the first interval with a rejection")
		require.NotNil(t, e.End)
		assert.Equal(t, at(4), *e.End)
		assert.Equal(t, 120, e.Count)
	})
}
