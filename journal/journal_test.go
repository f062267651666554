package journal

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func testPaths(t *testing.T) Paths {
	return PathsFor(report.Names(t.TempDir(), "cfg", t0, ""))
}

func header(maxSnaps int) Header {
	return Header{RunID: "run1", ConfigID: "cfg", TestName: "TestX", Start: t0, IntervalS: 2, MaxSnapshots: maxSnaps,
		GoodputSLOsMS: map[string]float64{"ttft": 60}, Writer: elsewhere}
}

// elsewhere is a writer on another host: it may run, so its journal's file times decide (this process, the
// default writer, is Running and never rebuilt).
var elsewhere = &Owner{PID: 1, Host: "elsewhere", BootID: "b"}

// snap is the snapshot of tick i: at t0 + 2i s, with a queue size of i.
func snap(i int) snapshot.Snapshot {
	return snapshot.Snapshot{Timestamp: t0.Add(time.Duration(i) * 2 * time.Second), ConfigID: "cfg", RunID: "run1",
		ElapsedS: float64(2 * i), GPUMetrics: map[string]snapshot.GPU{},
		VLLMMetrics: snapshot.VLLM{RequestQueueSize: snapshot.F(float64(i))}}
}

// okRow is a successful request row as the recorder would keep it: TTFT ttft ms, chunk gaps gaps ms.
func okRow(id string, startS, ttft float64, gaps []float64) (recorder.Record, []float64) {
	e2e := ttft
	for _, g := range gaps {
		e2e += g
	}
	return recorder.Record{ID: id, StartS: startS, EndS: startS + e2e/1000, TTFTMS: ttft, E2EMS: e2e,
		TPOTMS: math.NaN(), ITLMeanMS: math.NaN(), TTFTFromIntendedMS: math.NaN(), E2EFromIntendedMS: math.NaN(),
		OutputTokens: len(gaps) + 1, HTTPStatus: 200, Outcome: recorder.OutcomeOK, ITLGaps: len(gaps)}, gaps
}

func TestAppendOneWritePerFilePerInterval(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	r1, g1 := okRow("a", 0.5, 50, []float64{10, 20})
	require.NoError(t, w.Append(Entry{Snapshot: snap(0)}))
	assert.Equal(t, 1, w.Writes(), "no rows: the snapshots file only")
	require.NoError(t, w.Append(Entry{Snapshot: snap(1), Rows: []recorder.Record{r1, r1}, Gaps: [][]float64{g1, g1},
		Requests: recorder.Counts{Total: 2, OK: 2}}))
	assert.Equal(t, 3, w.Writes(), "two rows, one snapshot: one write to each file")
	require.NoError(t, w.Close())

	run, err := Read(p)
	require.NoError(t, err)
	assert.Equal(t, "run1", run.Header.RunID)
	assert.Equal(t, KindSnapshots, run.Header.Kind)
	require.Len(t, run.Ticks, 2)
	assert.Equal(t, 1.0, *run.Ticks[1].Snapshot.VLLMMetrics.RequestQueueSize)
	require.Len(t, run.Rows, 2)
	assert.Equal(t, []float64{10, 20}, run.Gaps[0])
	assert.True(t, math.IsNaN(run.Rows[0].TPOTMS), "an unknown duration comes back unknown, not 0")
	assert.Equal(t, 80.0, run.Rows[0].E2EMS)
	assert.Equal(t, 2, run.Requests.OK)
	assert.Zero(t, run.Skipped)
}

// Past MaxSnapshots the snapshots file becomes .prev and a new one begins: at most 2·MaxSnapshots on disk,
// the reader keeps the last MaxSnapshots as the collector does, and no event or server figure is lost.
func TestSnapshotsBoundedByRotation(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(3))
	require.NoError(t, err)
	var events []snapshot.Event
	for i := 0; i < 8; i++ {
		e := Entry{Snapshot: snap(i)}
		if i == 1 || i == 5 {
			events = append(events, snapshot.Event{Time: snap(i).Timestamp, Source: "vllm", Message: fmt.Sprint("event ", i)})
		}
		e.Events = events
		if i == 2 {
			e.Server = &serverstats.Stats{Scrapes: 3}
		}
		require.NoError(t, w.Append(e))
	}
	require.NoError(t, w.Close())
	lines := func(path string) int {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return bytes.Count(b, []byte("\n"))
	}
	assert.Equal(t, 1+3, lines(p.Prev), "ticks 3..5 and a header")
	assert.Equal(t, 1+2, lines(p.Snapshots), "ticks 6, 7 and a header")

	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Ticks, 3)
	assert.Equal(t, []int{5, 6, 7}, []int{run.Ticks[0].Seq, run.Ticks[1].Seq, run.Ticks[2].Seq})
	assert.Equal(t, 5, run.SnapshotsDropped)
	require.Len(t, run.Events, 2)
	assert.Equal(t, "event 1", run.Events[0].Message)
	assert.Equal(t, "event 5", run.Events[1].Message)
	require.NotNil(t, run.Server)
	assert.Equal(t, 3, run.Server.Scrapes)
}

// A kill while writing leaves the last line cut: it is skipped and counted, everything before it is read.
func TestCutLineIsSkippedAndCounted(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	r1, g1 := okRow("a", 0.5, 50, []float64{10})
	for i := 0; i < 4; i++ {
		require.NoError(t, w.Append(Entry{Snapshot: snap(i), Rows: []recorder.Record{r1}, Gaps: [][]float64{g1}}))
	}
	require.NoError(t, w.Close())
	for _, path := range []string{p.Snapshots, p.Requests} {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, st.Size()-7))
	}
	run, err := Read(p)
	require.NoError(t, err)
	assert.Len(t, run.Ticks, 3)
	assert.Len(t, run.Rows, 3)
	assert.Equal(t, 2, run.Skipped, "one cut line in each file")
}

func TestOtherFormatsAreRefused(t *testing.T) {
	for name, first := range map[string]string{
		"csv":           "timestamp,config_id\n1,2\n",
		"other tool":    `{"format":"k6-journal","version":1,"kind":"snapshots"}` + "\n",
		"other version": `{"format":"vmtest-journal","version":4,"kind":"snapshots"}` + "\n",
		"cut header":    `{"format":"vmtest-journal","vers`,
	} {
		t.Run(name, func(t *testing.T) {
			p := testPaths(t)
			require.NoError(t, os.WriteFile(p.Snapshots, []byte(first), 0o644))
			_, err := Read(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Base(p.Snapshots), "the error names the file")
			if name == "other version" {
				assert.True(t, errors.Is(err, ErrVersion))
				assert.Contains(t, err.Error(), "version 4: this vmtest reads versions 1 to 3")
			} else {
				assert.True(t, errors.Is(err, ErrNotJournal), "%v", err)
			}
		})
	}
}

// A kill between creating the requests file and writing its header leaves it empty: the run is still read.
func TestEmptyRequestsFileIsAbsent(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	require.NoError(t, w.Append(Entry{Snapshot: snap(0)}))
	require.NoError(t, w.Close())
	require.NoError(t, os.Truncate(p.Requests, 0))
	run, err := Read(p)
	require.NoError(t, err)
	assert.Len(t, run.Ticks, 1)
	assert.Empty(t, run.Rows)
}

func TestFilesOfTwoRunsAreRefused(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	b, _ := json.Marshal(Header{Format: Format, Version: Version, Kind: KindRequests, RunID: "run2", IntervalS: 2, MaxSnapshots: 10})
	require.NoError(t, os.WriteFile(p.Requests, append(b, '\n'), 0o644))
	_, err = Read(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"run1" and "run2"`)
}

// Rebuild writes the full file set from a journal; the request statistics equal those of the recorder that
// fed it, the requests CSV holds the same requests, and the summary says the run did not finish.
func TestRebuildWritesTheFullFileSet(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	live := recorder.New(time.Now(), recorder.Config{Goodput: recorder.SLO{TTFT: 60 * time.Millisecond}})
	start := live.Start()
	for i := 0; i < 3; i++ {
		for k := 0; k < 4; k++ {
			s := start.Add(time.Duration(i*4+k) * 100 * time.Millisecond)
			q := recorder.Request{Start: s, FirstToken: s.Add(time.Duration(40+10*k) * time.Millisecond), OutputTokens: 3,
				PromptTokens: 5, HTTPStatus: 200}
			q.TokenTimes = []time.Time{q.FirstToken, q.FirstToken.Add(5 * time.Millisecond), q.FirstToken.Add(time.Duration(7+k) * time.Millisecond)}
			q.End = q.TokenTimes[2]
			if k == 3 {
				q = recorder.Request{Start: s, Err: errors.New("refused")}
			}
			live.RecordRequest(q)
		}
		rows, gaps, counts := live.TakeJournal()
		require.NoError(t, w.Append(Entry{Snapshot: snap(i), Rows: rows, Gaps: gaps, Requests: counts,
			Sources: map[string]summary.SourceStatus{"vllm": {Readings: i + 1}}}))
	}
	require.NoError(t, w.Close())

	res, err := Rebuild(p, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, res.Skipped)
	sum, run := res.Summary, res.Run
	assert.False(t, sum.Finished)
	assert.Equal(t, 3, sum.Snapshots)
	assert.Equal(t, 3, sum.Sources["vllm"].Readings)
	want := live.Summarize()
	assert.Equal(t, want, sum.Requests)
	assert.Equal(t, 12, sum.Requests.Total)
	assert.Equal(t, new(9), sum.Requests.GoodputRequests, "TTFT 40, 50, 60 ms meet the 60 ms SLO; 70 ms is past it")
	assert.Equal(t, 18, sum.Requests.ITLMS.N, "9 requests × 2 chunk gaps")
	assert.Equal(t, 4.0, sum.End.Sub(sum.Start).Seconds(), "ends at the last snapshot")
	assert.Equal(t, 4.0, sum.DurationS)
	require.NotEmpty(t, sum.Events)
	last := sum.Events[len(sum.Events)-1]
	assert.Equal(t, snapshot.EventSourceJournal, last.Source)
	assert.True(t, strings.HasPrefix(last.Message, snapshot.DidNotFinishPrefix), last.Message)
	notes := report.RunNotes(sum)
	require.NotEmpty(t, notes, "the report reads the journal's event")
	assert.Equal(t, "did not finish: "+strings.TrimPrefix(last.Message, "the run did not finish: "), notes[0])
	assert.Zero(t, run.Skipped)
	for _, k := range []string{"snapshots_json", "snapshots_csv", "summary_json", "run_summary_json", "requests_csv", "plot_png"} {
		require.FileExists(t, sum.Files[k], k)
	}
	f, err := os.Open(sum.Files["requests_csv"])
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, 1+12)
	b, err := os.ReadFile(sum.Files["summary_json"])
	require.NoError(t, err)
	assert.Contains(t, string(b), `"finished": false`)
	assert.True(t, strings.HasSuffix(sum.Files["snapshots_json"], "metrics_cfg_20261204_100000.json"))
}

// A canceled row round-trips through the journal: read back as canceled, counted as canceled by Rebuild (out
// of error_rate: (4 − 2 − 1) / (4 − 1) = 1/3), and written to the requests CSV as "canceled".
func TestCanceledRowRoundTrips(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	ok1, g1 := okRow("a", 0.5, 50, []float64{10})
	ok2, g2 := okRow("b", 0.6, 70, []float64{20})
	rej := recorder.Record{ID: "c", StartS: 0.7, EndS: 0.7, TTFTMS: math.NaN(), E2EMS: math.NaN(), TPOTMS: math.NaN(),
		ITLMeanMS: math.NaN(), TTFTFromIntendedMS: math.NaN(), E2EFromIntendedMS: math.NaN(), HTTPStatus: 503,
		Outcome: recorder.OutcomeRejected, Error: "HTTP 503"}
	can := rej
	can.ID, can.HTTPStatus, can.Outcome, can.Error = "d", 200, recorder.OutcomeCanceled, "loadgen: request cancelled by its context: interrupt"
	counts := recorder.Counts{Total: 4, OK: 2, Rejected: 1, Canceled: 1, OutputTokens: 4}
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: []recorder.Record{ok1, ok2, rej, can},
		Gaps: [][]float64{g1, g2, nil, nil}, Requests: counts}))
	require.NoError(t, w.Close())

	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Rows, 4)
	assert.Equal(t, recorder.OutcomeCanceled, run.Rows[3].Outcome)
	assert.Equal(t, can.Error, run.Rows[3].Error)
	assert.Equal(t, counts, run.Requests)

	res, err := Rebuild(p, time.Now().Add(time.Hour))
	require.NoError(t, err)
	reqs := res.Summary.Requests
	assert.Equal(t, 1, reqs.Canceled)
	assert.Equal(t, 4, reqs.Total)
	require.NotNil(t, reqs.ErrorRate)
	assert.InDelta(t, 1.0/3, *reqs.ErrorRate, 1e-12)
	assert.Equal(t, 2, reqs.TTFTMS.N, "the canceled row enters no latency")
	f, err := os.Open(res.Summary.Files["requests_csv"])
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 5)
	col := slices.Index(rows[0], "outcome")
	require.GreaterOrEqual(t, col, 0)
	assert.Equal(t, []string{"ok", "ok", "rejected", "canceled"}, []string{rows[1][col], rows[2][col], rows[3][col], rows[4][col]})
}

// A row's TTFOT and reasoning tokens survive the journal; a row written before they existed reads TTFOT
// unknown.
func TestTimeToFirstOutputTokenRoundTrips(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	row, gaps := okRow("a", 0.5, 50, []float64{10})
	row.TTFOMS, row.ReasoningTokens = 55, 1
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: []recorder.Record{row}, Gaps: [][]float64{gaps},
		Requests: recorder.Counts{Total: 1, OK: 1, OutputTokens: 2, ReasoningTokens: 1}}))
	require.NoError(t, w.Close())
	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Rows, 1)
	assert.Equal(t, 55.0, run.Rows[0].TTFOMS)
	assert.Equal(t, 1, run.Rows[0].ReasoningTokens)

	var old requestLine
	require.NoError(t, json.Unmarshal([]byte(`{"start_s":0,"end_s":1,"ttft_ms":5,"outcome":"ok"}`), &old))
	assert.True(t, math.IsNaN(old.record().TTFOMS))
}

// An open-loop row's send lag and a row's ignore_eos survive the journal, so a rebuilt run has the send-lag
// distribution and the output-length tallies the live one had: lags 0 and 40 ms (intended at 0 and 100 ms:
// mean inter-arrival 100 ms), one request with ignore_eos that produced 2 of 4 tokens (off and short).
func TestSendLagAndIgnoreEOSRoundTrip(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	a, ga := okRow("a", 0, 50, []float64{10})
	b, gb := okRow("b", 0.14, 50, []float64{10})
	a.SendLagMS, b.SendLagMS = 0, 40
	b.IgnoreEOS, b.RequestedOutputTokens = true, 4
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: []recorder.Record{a, b}, Gaps: [][]float64{ga, gb},
		Requests: recorder.Counts{Total: 2, OK: 2, OutputTokens: 4}}))
	require.NoError(t, w.Close())
	rb, err := Load(p)
	require.NoError(t, err)
	r := rb.Summary.Requests
	assert.Equal(t, 2, r.SendLagMS.N)
	assert.Equal(t, 40.0, *r.SendLagMS.Max)
	require.NotNil(t, r.MeanInterArrivalMS)
	assert.InDelta(t, 100, *r.MeanInterArrivalMS, 1e-9, "(0.14 s − 40 ms) − 0")
	assert.Equal(t, recorder.LengthTally{Requests: 1, RequestedTokens: 4, OutputTokens: 2, Short: 1, Off: 1}, r.OutputLength.IgnoreEOS)
	assert.Contains(t, strings.Join(rb.Summary.Warnings, "\n"), "requested output lengths not honoured with ignore_eos: 1 of 1")
}
