package report

import "testing"

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
