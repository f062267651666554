package vmtest

import (
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// MaxSourceEvents is the most events a run keeps from one sampler other than the server source (the GPU and
// host samplers, Options.Samplers). Later ones are counted in that source's summary.SourceStatus.EventsOmitted,
// and one event from "vmtest" says that the rest are not listed. Each kept event's message is capped at
// serverstats.MaxEventText bytes, ending in "…" when cut. The server source's events are bounded by its
// window (serverstats.MaxEvents).
const MaxSourceEvents = 1000

// addSourceEvent appends e, from the sampler name whose status is st, to the run's events under
// MaxSourceEvents; c.mu is held.
func (c *Collector) addSourceEvent(name string, st *summary.SourceStatus, e snapshot.Event) {
	if c.server != nil && name == c.server.Name() {
		c.events = append(c.events, e)
		return
	}
	if c.srcEvents == nil {
		c.srcEvents = map[string]int{}
	}
	n := c.srcEvents[name]
	if n >= MaxSourceEvents {
		if st.EventsOmitted == 0 {
			c.events = append(c.events, snapshot.Event{Time: e.Time, Source: snapshot.EventSourceCollector, Message: "more than MaxSourceEvents (" +
				strconv.Itoa(MaxSourceEvents) + ") events from " + name + ": the rest are not listed (sources." + name + ".events_omitted counts them)"})
		}
		st.EventsOmitted++
		return
	}
	c.srcEvents[name] = n + 1
	if len(e.Message) > serverstats.MaxEventText {
		e.Message = strings.ToValidUTF8(e.Message[:serverstats.MaxEventText], "") + "…"
	}
	c.events = append(c.events, e)
}
