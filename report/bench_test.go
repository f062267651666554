package report

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// The files a two-minute run (richRun: 60 snapshots, 8 GPUs, 59 requests) costs to render at the end of a
// test: the snapshots as JSON and CSV (the reference), the PNG of the pictures, and the HTML report (its
// tables and the same pictures as inline SVG).
func BenchmarkRenderRunFiles(b *testing.B) {
	r, sum := richRun(), richSummary()
	sf := SnapshotFile{ConfigID: r.Title, IntervalS: r.IntervalS, Snapshots: r.Snapshots}
	b.Run("json_csv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshal(sf); err != nil {
				b.Fatal(err)
			}
			if _, err := SnapshotsCSV(r.Snapshots); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("png", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := PlotPNG(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("html", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := RunHTML(r, sum, []Verdict{{Check: "c"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// What an idle collect's Finish costs to render from 5 and from 65 snapshots (the 10 s and 130 s runs of issue
// 9's idle-tick method): the snapshots as JSON and CSV, the pictures, the PNG and the HTML report. The snapshots
// are the first of those a real `vmtest collect -duration 130s` against an idle vllmsim wrote
// (testdata/idle_collect_metrics.json.gz, 67 snapshots, no GPU, no request); 65 − 5 is what the issue's
// figure counts as 60 ticks' cost.
func BenchmarkRenderIdleFinish(b *testing.B) {
	sf := idleCollect(b)
	sum := richSummary()
	for _, n := range []int{5, 65} {
		part := sf
		part.Snapshots = sf.Snapshots[:n]
		r := Run{Title: sf.ConfigID, IntervalS: sf.IntervalS, Snapshots: part.Snapshots, Records: []recorder.Record{}}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := marshal(part); err != nil {
					b.Fatal(err)
				}
				if _, err := SnapshotsCSV(part.Snapshots); err != nil {
					b.Fatal(err)
				}
				cs := runCharts(r)
				if _, err := gridPNG(cs, 2); err != nil {
					b.Fatal(err)
				}
				if _, err := runHTML(cs, sum, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// idleCollect is testdata/idle_collect_metrics.json.gz: the snapshots file of a real `vmtest collect -duration
// 130s` against an idle vllmsim (67 snapshots, no GPU, no request).
func idleCollect(tb testing.TB) SnapshotFile {
	tb.Helper()
	f, err := os.Open("testdata/idle_collect_metrics.json.gz")
	require.NoError(tb, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(tb, err)
	var sf SnapshotFile
	require.NoError(tb, json.NewDecoder(zr).Decode(&sf))
	return sf
}
