package report

import (
	"bytes"
	"fmt"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/vmtest/vmtest/snapshot"
)

// series collects the (elapsed s, value) points of one field over the snapshots, skipping unknown values (a
// gap in the data is drawn as a straight segment between the known neighbours, never as a drop to 0).
func series(snaps []snapshot.Snapshot, get func(*snapshot.Snapshot) *float64) plotter.XYs {
	return rateSeries(snaps, nil, 0, get)
}

// rateSeries is series for a rate computed over the interval ending at each snapshot, covers[i] s long
// (snapshot.VLLMRateIntervalsS, snapshot.SystemRateIntervalsS; 0 when unknown): points whose interval is known
// to be shorter than minDT s (the last snapshot, taken when collection stops, unless the reading before it
// failed) are left out, as the summary leaves them out of maxima. covers nil means no point is left out.
func rateSeries(snaps []snapshot.Snapshot, covers []float64, minDT float64, get func(*snapshot.Snapshot) *float64) plotter.XYs {
	var xy plotter.XYs
	for i := range snaps {
		if covers != nil && covers[i] > 0 && covers[i] < minDT {
			continue
		}
		if v := get(&snaps[i]); v != nil {
			xy = append(xy, plotter.XY{X: snaps[i].ElapsedS, Y: *v})
		}
	}
	return xy
}

// panel builds one chart from named series; a series with no point is left out of it, and a chart with none
// says "no data" in its title.
func panel(title, ylabel string, xmax float64, named ...any) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "elapsed (s)"
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.X.Min, p.X.Max = 0, max(xmax, 1)
	p.Y.Min = 0
	var args []any
	for i := 0; i+1 < len(named); i += 2 {
		if xy := named[i+1].(plotter.XYs); len(xy) > 0 {
			args = append(args, named[i], xy)
		}
	}
	if len(args) == 0 {
		p.Title.Text += " (no data)"
		return p, nil
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	// Every chart starts at 0 (AddLinePoints widened the axes to the data); the top 30% is left to the
	// legend, so it never covers a line.
	p.X.Min, p.Y.Min = 0, 0
	p.Y.Max = max(p.Y.Max*1.45, 1)
	return p, nil
}

// PlotPNG draws the run's dashboard as one PNG of four charts over elapsed time: latency per interval
// (the client's mean TTFT, p50 and p99 E2E latency, and the server's TTFT p50 and p99 from its histogram, ms;
// a server quantile that is only a lower bound is left out), throughput (the server's generation and prompt tokens/s),
// the server's queue and batch, and utilization (host CPU, KV cache and each GPU, %). intervalS is the
// sampling interval: rate points over less than half of it (the stopping snapshot, by the length of the
// interval each rate covers) are left out.
func PlotPNG(snaps []snapshot.Snapshot, title string, intervalS float64) ([]byte, error) {
	v := func(f func(*snapshot.VLLM) *float64) plotter.XYs {
		return series(snaps, func(s *snapshot.Snapshot) *float64 { return f(&s.VLLMMetrics) })
	}
	vllmCovers := snapshot.VLLMRateIntervalsS(snaps)
	rate := func(f func(*snapshot.VLLM) *float64) plotter.XYs {
		return rateSeries(snaps, vllmCovers, intervalS/2, func(s *snapshot.Snapshot) *float64 { return f(&s.VLLMMetrics) })
	}
	xmax := 0.0
	if len(snaps) > 0 {
		xmax = snaps[len(snaps)-1].ElapsedS
	}
	lat, err := panel(title+": latency per interval", "ms", xmax,
		"TTFT mean (client)", v(func(x *snapshot.VLLM) *float64 { return x.FirstTokenLatencyMS }),
		"E2E p50 (client)", v(func(x *snapshot.VLLM) *float64 { return x.P50LatencyMS }),
		"E2E p99 (client)", v(func(x *snapshot.VLLM) *float64 { return x.P99LatencyMS }),
		"TTFT p50 (server)", v(func(x *snapshot.VLLM) *float64 { return x.ServerTTFTP50MS }),
		"TTFT p99 (server)", v(func(x *snapshot.VLLM) *float64 { return x.ServerTTFTP99MS }))
	if err != nil {
		return nil, err
	}
	thr, err := panel("throughput (server counters)", "tokens per second", xmax,
		"generation tokens", rate(func(x *snapshot.VLLM) *float64 { return x.TokensPerSecond }),
		"prompt tokens", rate(func(x *snapshot.VLLM) *float64 { return x.PromptTokensPerSecond }))
	if err != nil {
		return nil, err
	}
	srv, err := panel("server scheduler", "requests", xmax,
		"queue (waiting)", v(func(x *snapshot.VLLM) *float64 { return x.RequestQueueSize }),
		"batch (running)", v(func(x *snapshot.VLLM) *float64 { return x.ActiveBatchSize }))
	if err != nil {
		return nil, err
	}
	util := []any{"host CPU", rateSeries(snaps, snapshot.SystemRateIntervalsS(snaps), intervalS/2,
		func(s *snapshot.Snapshot) *float64 { return s.SystemMetrics.CPUPercent }),
		"KV cache", v(func(x *snapshot.VLLM) *float64 { return x.KVCacheUsagePercent })}
	keys := map[string]bool{}
	for i := range snaps {
		for k := range snaps[i].GPUMetrics {
			keys[k] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return naturalLess(sorted[i], sorted[j]) })
	for _, k := range sorted {
		util = append(util, k, series(snaps, func(s *snapshot.Snapshot) *float64 {
			if g, ok := s.GPUMetrics[k]; ok {
				return g.Utilization
			}
			return nil
		}))
	}
	ut, err := panel("utilization", "%", xmax, util...)
	if err != nil {
		return nil, err
	}

	const w, h = 12 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	for i, p := range []*plot.Plot{lat, thr, srv, ut} {
		p.Draw(tiles.At(dc, i%2, i/2))
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}
