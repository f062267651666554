package journal

import (
	"testing"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/snapshot"
)

// benchReq is recorder's benchmark request: 16 token chunks 10 ms apart, so 15 ITL gaps.
func benchReq() recorder.Request {
	t0 := time.Now()
	q := recorder.Request{Start: t0, FirstToken: t0.Add(50 * time.Millisecond), OutputTokens: 16, PromptTokens: 32, HTTPStatus: 200,
		ID: "req-000123", FinishReason: "length"}
	for i := 0; i < 16; i++ {
		q.TokenTimes = append(q.TokenTimes, q.FirstToken.Add(time.Duration(i)*10*time.Millisecond))
	}
	q.End = q.TokenTimes[15]
	return q
}

func benchWriter(b *testing.B) *Writer {
	w, err := Create(PathsFor(report.Names(b.TempDir(), "bench", time.Now(), "")), Header{MaxSnapshots: MaxBound, IntervalS: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	return w
}

// BenchmarkRecordRequest is recorder.RecordRequest from b.RunParallel's goroutines (-cpu 1, 8), as
// recorder's BenchmarkRecordRequest: "plain" alone, "journal" with what the collector's tick does for the
// journal running beside it, here every 100 ms (the default interval is 2 s): TakeJournal, then Writer.Append
// encoding the rows taken and writing them to a file. RecordRequest itself does nothing for the journal.
// cpu-ns/op is the process's CPU time (every thread: the tick's, the GC's) per request, which other jobs on
// a shared machine do not inflate as they do ns/op.
func BenchmarkRecordRequest(b *testing.B) {
	for _, journal := range []bool{false, true} {
		name := "plain"
		if journal {
			name = "journal"
		}
		b.Run(name, func(b *testing.B) {
			q := benchReq()
			r := recorder.New(time.Now(), recorder.Config{})
			stop, done := make(chan struct{}), make(chan struct{})
			if journal {
				w := benchWriter(b)
				go func() {
					defer close(done)
					t := time.NewTicker(100 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							rows, gaps, counts := r.TakeJournal()
							if err := w.Append(Entry{Requests: counts, Rows: rows, Gaps: gaps}); err != nil {
								panic(err)
							}
						}
					}
				}()
			} else {
				close(done)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.RecordRequest(q)
				}
			})
			b.StopTimer()
			close(stop)
			<-done
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkJournalAppend is the tick's journal work per request row, as it happens in the collector's own
// goroutine once per interval: TakeJournal over 4,096 new rows (15 ITL gaps each), then Writer.Append
// encoding them and writing them in one write. ns/row and cpu-ns/row (the process's CPU time over the
// same part) are the figures to read.
func BenchmarkJournalAppend(b *testing.B) {
	const rows = 4096
	q := benchReq()
	w := benchWriter(b)
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := recorder.New(time.Now(), recorder.Config{})
		for i := 0; i < rows; i++ {
			r.RecordRequest(q)
		}
		b.StartTimer()
		cpu0 := cpuTime()
		got, gaps, counts := r.TakeJournal()
		if err := w.Append(Entry{Snapshot: snapshot.Snapshot{}, Requests: counts, Rows: got, Gaps: gaps}); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - cpu0
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*rows), "cpu-ns/row")
}
