package summary

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

// A source read every second: ok, 3 failures (refused, refused, timeout), ok, 2 failures (timeout), ok, then
// one failure at the end. Worked by hand: 9 readings, 6 failed (covered 3/9); "refused" ×2 and "timeout" ×3
// and one 500: dominant "timeout"; last error the 500.
func TestSourceStatusOutages(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	refused := "dial tcp 127.0.0.1:8000: connect: connection refused"
	timeout := "no reading within 1.8s"
	var s SourceStatus
	for i, err := range []string{"", refused, refused, timeout, "", timeout, timeout, "", "HTTP 500 Internal Server Error"} {
		s.Record(at(i), err)
	}
	assert.Equal(t, 9, s.Readings)
	assert.Equal(t, 6, s.Failed)
	assert.InDelta(t, 3.0/9, *s.CoveredFraction, 1e-12)
	assert.Equal(t, "HTTP 500 Internal Server Error", s.LastError)
	assert.Equal(t, timeout, s.DominantError, "the last error does not hide the usual one")
	assert.Equal(t, at(1), *s.FirstFailure)
	assert.Equal(t, at(8), *s.LastFailure)
	assert.Equal(t, []ErrorCount{{refused, 2, at(1), at(2)}, {timeout, 3, at(3), at(6)}, {"HTTP 500 Internal Server Error", 1, at(8), at(8)}}, s.Errors)
	require.Len(t, s.Outages, 3)
	assert.Equal(t, Outage{Start: at(1), End: at(3), Failed: 3, Reason: refused}, strip(s.Outages[0]), "2 refused, 1 timeout")
	assert.Equal(t, Outage{Start: at(5), End: at(6), Failed: 2, Reason: timeout}, strip(s.Outages[1]))
	assert.Equal(t, Outage{Start: at(8), End: at(8), Failed: 1, Reason: "HTTP 500 Internal Server Error", Ongoing: true}, strip(s.Outages[2]))

	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"dominant_error":"no reading within 1.8s"`)
	assert.Contains(t, string(b), `"outages":[{"start":"2026-12-04T12:00:01Z","end":"2026-12-04T12:00:03Z","failed":3,"reason":"dial tcp`)

	var never SourceStatus
	assert.Nil(t, never.CoveredFraction, "no reading: unknown, not 0")
	never.Record(t0, "")
	assert.Equal(t, 1.0, *never.CoveredFraction)
	assert.Empty(t, never.Outages)
}

func strip(o Outage) Outage { o.reasons = nil; return o }

// Messages that differ only in digits (a client port) are one class, shown by its first message; classes
// past MaxSourceErrors are counted together; outages past MaxOutages keep the first ones and the latest;
// messages are cut at 512 bytes. Clone shares nothing.
func TestSourceStatusBounds(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var s SourceStatus
	for i := range 3 {
		s.Record(t0, fmt.Sprintf("read tcp 127.0.0.1:%d->127.0.0.1:8000: connection reset by peer", 50000+i))
	}
	require.Len(t, s.Errors, 1)
	assert.Equal(t, 3, s.Errors[0].Count)
	assert.Equal(t, "read tcp 127.0.0.1:50000->127.0.0.1:8000: connection reset by peer", s.DominantError)

	var many SourceStatus
	for i := range 40 {
		many.Record(t0, strings.Repeat("x", i+1)) // 40 classes
	}
	require.Len(t, many.Errors, MaxSourceErrors)
	assert.Equal(t, OtherErrors, many.Errors[MaxSourceErrors-1].Message)
	assert.Equal(t, 40-(MaxSourceErrors-1), many.Errors[MaxSourceErrors-1].Count)

	var flapping SourceStatus
	for i := range 2 * (MaxOutages + 10) {
		err := ""
		if i%2 == 0 {
			err = "down"
		}
		flapping.Record(t0.Add(time.Duration(i)*time.Second), err)
	}
	require.Len(t, flapping.Outages, MaxOutages)
	assert.Equal(t, 10, flapping.OutagesOmitted)
	assert.Equal(t, t0.Add(time.Duration(2*(MaxOutages+9))*time.Second), flapping.Outages[MaxOutages-1].Start, "the latest is kept")
	assert.Equal(t, t0.Add(time.Duration(2*(MaxOutages-2))*time.Second), flapping.Outages[MaxOutages-2].Start)

	var long SourceStatus
	long.Record(t0, strings.Repeat("é", 400))
	assert.Equal(t, strings.Repeat("é", 256)+"…", long.LastError, "512 bytes, at a rune boundary")

	c := s.Clone()
	s.Record(t0, "read tcp 127.0.0.1:1->127.0.0.1:8000: connection reset by peer")
	s.Record(t0.Add(time.Hour), "")
	assert.Equal(t, 3, c.Errors[0].Count, "the clone does not move")
	assert.True(t, c.Outages[0].Ongoing)
	assert.Equal(t, 3, c.Outages[0].Failed)
	assert.Equal(t, 0.0, *c.CoveredFraction, "covered 0 of 3")
}

// A GPU lost after 2 of 5 snapshots: its figures are over those 2, and it says it covers 40% of the run,
// from the first snapshot to the second.
func TestGPUCoverageAfterLoss(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var snaps []snapshot.Snapshot
	for i := range 5 {
		g := snapshot.GPU{Name: "H200", Unavailable: map[string]string{"utilization": "gpu_lost"}}
		if i < 2 {
			g = snapshot.GPU{Name: "H200", Utilization: f(float64(50 + 10*i)), PowerW: f(300)}
		}
		snaps = append(snaps, snapshot.Snapshot{Timestamp: t0.Add(time.Duration(i) * time.Second), ElapsedS: float64(i),
			GPUMetrics: map[string]snapshot.GPU{"gpu_0": g, "gpu_1": {Name: "H200", Utilization: f(10)}}})
	}
	s := Compute(Input{Snapshots: snaps, IntervalS: 1})
	g := s.GPU["gpu_0"]
	assert.InDelta(t, 0.4, *g.CoveredFraction, 1e-12)
	assert.Equal(t, t0, *g.FirstReading)
	assert.Equal(t, t0.Add(time.Second), *g.LastReading)
	assert.InDelta(t, 55, *g.AvgUtilization, 1e-12, "over the readings it had")
	assert.Equal(t, 5, g.Samples, "the key was in every snapshot")
	assert.Equal(t, 1.0, *s.GPU["gpu_1"].CoveredFraction)
}
