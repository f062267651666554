package shard

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// benchRecord is request i of a synthetic shard (ms; 2 chunk gaps per request).
func benchRecord(rng *rand.Rand, i int) (recorder.Record, []float64) {
	nan := math.NaN()
	rec := recorder.Record{ID: strconv.Itoa(i), StartS: float64(i) * 0.001, Outcome: recorder.OutcomeOK, TTFTMS: 5 + 200*rng.ExpFloat64(),
		TTFOMS: nan, TPOTMS: 1 + rng.Float64()*20, ITLMeanMS: nan, TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan,
		TimeToRejectMS: nan, OutputTokens: 1 + rng.IntN(100), PromptTokens: 10, HTTPStatus: 200, FinishReason: "stop"}
	rec.E2EMS = rec.TTFTMS + rec.TPOTMS*float64(rec.OutputTokens)
	rec.EndS = rec.StartS + rec.E2EMS/1000
	return rec, []float64{rng.Float64() * 30, rng.Float64() * 30}
}

// benchDirs writes, once, 16 shard directories of 10^6 requests each as `vmtest load -shard-count 16`
// leaves them: each shard's own recorder State in its shard file, and the files of a run whose requests CSV
// holds recorder.DefaultMaxRecords rows (one set of files, hard-linked into every directory: Merge reads
// the rows of the first shards only, up to its bound).
var benchDirs = sync.OnceValues(func() ([]string, error) {
	base, err := os.MkdirTemp("", "vmtest-shard-bench-")
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var files report.Files
	dirs := make([]string, 16)
	for s := range dirs {
		r := recorder.New(start, recorder.Config{})
		rng := rand.New(rand.NewPCG(uint64(s), 1))
		for i := range 1_000_000 {
			rec, gaps := benchRecord(rng, i)
			r.AddRecord(rec, gaps)
			if i%recorder.ExactCap == 0 {
				r.DrainWindowUntil(time.Time{})
			}
		}
		dirs[s] = filepath.Join(base, "shard-"+strconv.Itoa(s))
		if s == 0 {
			reqs, rows := r.Cut()
			sum := summary.Compute(summary.Input{RunID: "bench", ConfigID: "bench", Start: start, End: start.Add(time.Hour),
				DurationS: 3600, IntervalS: 2, Snapshots: []snapshot.Snapshot{}, Requests: reqs})
			files = report.Names(dirs[0], "bench", start, "")
			if err := report.WriteAll(files, report.SnapshotFile{RunID: "bench", ConfigID: "bench", Start: start, IntervalS: 2, Snapshots: []snapshot.Snapshot{}}, rows, sum, nil); err != nil {
				return nil, err
			}
		} else {
			if err := os.MkdirAll(dirs[s], 0o755); err != nil {
				return nil, err
			}
			for _, p := range files.Map() {
				if err := os.Link(p, filepath.Join(dirs[s], filepath.Base(p))); err != nil {
					return nil, err
				}
			}
		}
		f := File{Shard: Spec{Index: s, Count: 16}, RunID: "bench", Workload: Workload{ConfigID: "bench"}, Requests: r.State()}
		if err := WriteFile(PathFor(filepath.Join(dirs[s], filepath.Base(files.SnapshotsJSON))), f); err != nil {
			return nil, err
		}
	}
	return dirs, nil
})

// BenchmarkMergeFiles16x1M is `vmtest merge` over 16 shard directories of 10^6 requests each: reading the
// shard files and the first DefaultMaxRecords request rows, merging (Merge), and, in /write, writing the
// merged file set (Write: the CSVs, the PNG, the HTML report, the summaries).
func BenchmarkMergeFiles16x1M(b *testing.B) {
	dirs, err := benchDirs()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		defer peakHeap(b)()
		for b.Loop() {
			m, err := Merge(dirs, Options{})
			if err != nil || m.Summary.Requests.Total != 16_000_000 || len(m.Rows) != recorder.DefaultMaxRecords {
				b.Fatal(err)
			}
		}
	})
	b.Run("reference-gocsv-rows", func(b *testing.B) { // the whole-file road Merge's rows replaced
		b.ReportAllocs()
		defer peakHeap(b)()
		m, _ := filepath.Glob(filepath.Join(dirs[0], "requests_*.csv"))
		for b.Loop() {
			rows, err := report.ReadRequestsCSV(m[0])
			if err != nil || len(report.RecordsOf(rows)) != recorder.DefaultMaxRecords {
				b.Fatal(err)
			}
		}
	})
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		defer peakHeap(b)()
		for b.Loop() {
			m, err := Merge(dirs, Options{})
			if err != nil {
				b.Fatal(err)
			}
			out := b.TempDir()
			if err := Write(out, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// peakHeap samples the heap in use (runtime.MemStats.HeapInuse) every 5 ms from a collected start until the
// returned function is called, and reports the largest sample above the start as peak-heap-MiB.
func peakHeap(b *testing.B) func() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MiB")
	}
}
