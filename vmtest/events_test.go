package vmtest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// chatty sends perReading events at every reading, each "a" and size bytes of "é" (2 bytes each).
type chatty struct{ perReading, size int }

func (s *chatty) Name() string { return "chatty" }
func (s *chatty) Sample(context.Context) samplers.Reading {
	ev := make([]snapshot.Event, s.perReading)
	for i := range ev {
		ev[i] = snapshot.Event{Time: time.Now(), Source: "chatty", Message: "a" + strings.Repeat("é", s.size/2)}
	}
	return samplers.Reading{Events: ev}
}

// A sampler that floods the run with events: MaxSourceEvents of them are kept, each cut at MaxEventText bytes,
// one event says the rest are not listed, and the source's status counts them.
func TestSourceEventsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const per = 600
		ft := &fakeTB{name: "T"}
		c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
			Samplers: []samplers.Sampler{&chatty{perReading: per, size: 3 * serverstats.MaxEventText}}})
		require.NotNil(t, c)
		time.Sleep(2500 * time.Millisecond)
		ft.runCleanups()
		sum := c.Summary()

		st := sum.Sources["chatty"]
		require.Greater(t, st.Readings*per, MaxSourceEvents)
		assert.Equal(t, st.Readings*per-MaxSourceEvents, st.EventsOmitted)
		var kept, notes int
		cut := "a" + strings.Repeat("é", serverstats.MaxEventText/2-1) + "…" // the cut falls inside an "é", which goes
		for _, e := range sum.Events {
			switch e.Source {
			case "chatty":
				kept++
				require.Equal(t, cut, e.Message)
			case "vmtest":
				notes++
				assert.Equal(t, "more than MaxSourceEvents ("+strconv.Itoa(MaxSourceEvents)+") events from chatty: the rest are not listed (sources.chatty.events_omitted counts them)", e.Message)
			}
		}
		assert.Equal(t, MaxSourceEvents, kept)
		assert.Equal(t, 1, notes)
	})
}
