package report

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
)

// A rate point is left out of the plot when the interval it covers is short, as in the summary: the stopping
// snapshot 0.01 s after a good scrape is left out; the one 0.01 s after a failed scrape covers 2.01 s and stays.
func TestRateSeriesGoesByTheCoveredInterval(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 2, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(100), ScrapeIntervalS: f(2)}},
		{ElapsedS: 4, Errors: map[string]string{"vllm": "connection refused"}},
		{ElapsedS: 4.01, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(250), ScrapeIntervalS: f(2.01)}},
	}
	get := func(s *snapshot.Snapshot) *float64 { return s.VLLMMetrics.TokensPerSecond }
	assert.Equal(t, plotter.XYs{{X: 2, Y: 100}, {X: 4.01, Y: 250}}, rateSeries(snaps, snapshot.VLLMRateIntervalsS(snaps), 1, get))

	snaps[2] = snapshot.Snapshot{ElapsedS: 4, VLLMMetrics: snapshot.VLLM{TokensPerSecond: f(200), ScrapeIntervalS: f(2)}}
	snaps[3].VLLMMetrics.ScrapeIntervalS = f(0.01)
	assert.Equal(t, plotter.XYs{{X: 2, Y: 100}, {X: 4, Y: 200}}, rateSeries(snaps, snapshot.VLLMRateIntervalsS(snaps), 1, get))
}

// The client's TTFT p50 and p99 per interval come from the successful requests that ended in it, as numpy
// computes percentiles: (0, 2] holds 10, 20, 30 ms → p50 20, p99 at rank 1.98: 20 + 0.98 × 10 = 29.8; (2, 4]
// holds 100 → 100, 100; the failed request and the one ending after the last snapshot are left out.
func TestIntervalTTFTFromRecords(t *testing.T) {
	snaps := []snapshot.Snapshot{{ElapsedS: 0}, {ElapsedS: 2}, {ElapsedS: 4}}
	recs := []recorder.Record{
		{Outcome: recorder.OutcomeOK, EndS: 0.5, TTFTMS: 30}, {Outcome: recorder.OutcomeOK, EndS: 1.5, TTFTMS: 10},
		{Outcome: recorder.OutcomeOK, EndS: 2, TTFTMS: 20}, {Outcome: recorder.OutcomeFailed, EndS: 1, TTFTMS: 5000},
		{Outcome: recorder.OutcomeOK, EndS: 3, TTFTMS: 100}, {Outcome: recorder.OutcomeOK, EndS: 4.5, TTFTMS: 7},
	}
	p50, p99 := intervalTTFT(snaps, recs)
	assert.Equal(t, plotter.XYs{{X: 2, Y: 20}, {X: 4, Y: 100}}, p50)
	require.Len(t, p99, 2)
	assert.InDelta(t, 29.8, p99[0].Y, 1e-9)
	assert.Equal(t, plotter.XY{X: 4, Y: 100}, p99[1])
}

// A server quantile's band covers the scrape interval that ends at its snapshot (the previous snapshot's
// time when the interval is not recorded), from its bucket's lower bound to the smallest upper bound known,
// open (+Inf) in the +Inf bucket; a snapshot without the quantile has no band.
func TestServerRangesAreBucketBands(t *testing.T) {
	snaps := []snapshot.Snapshot{
		{ElapsedS: 0},
		{ElapsedS: 2, VLLMMetrics: snapshot.VLLM{ScrapeIntervalS: f(2), ServerE2EP99BucketLowerMS: f(500), ServerE2EP99AtMostMS: f(800)}},
		{ElapsedS: 5, VLLMMetrics: snapshot.VLLM{ServerE2EP99BucketLowerMS: f(800)}},
	}
	rs := serverRanges(snaps, func(v *snapshot.VLLM) *float64 { return v.ServerE2EP99BucketLowerMS },
		func(v *snapshot.VLLM) *float64 { return v.ServerE2EP99AtMostMS })
	assert.Equal(t, []serverRange{{from: 0, to: 2, lo: 500, hi: 800}, {from: 2, to: 5, lo: 800, hi: math.Inf(1)}}, rs)
	assert.Equal(t, 1, openRanges(rs))
	assert.Equal(t, 1000.0, largestFinite(rs), "an open band reaches a quarter above its lower bound at least")
}

// The time axis has a labelled tick every 15 s over 2 minutes (8 labels), in min:s every 10 min over an hour,
// in h:min every 3 h over a day;
// values ticks use 1-2-5 steps.
func TestTimeTicks(t *testing.T) {
	labels := func(xmax float64) []string {
		p := plot.New()
		timeAxis(p, xmax)
		var out []string
		for _, tk := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	assert.Equal(t, []string{"0", "15", "30", "45", "60", "75", "90", "105"}, labels(118))
	assert.Equal(t, []string{"0:00", "10:00", "20:00", "30:00", "40:00", "50:00", "60:00"}, labels(3600))
	assert.Equal(t, []string{"0:00", "3:00", "6:00", "9:00", "12:00", "15:00", "18:00", "21:00", "24:00"}, labels(86400))
	assert.Equal(t, []string{"0.0", "0.5", "1.0", "1.5", "2.0", "2.5"}, labels(2.75))
	assert.Equal(t, 20.0, niceStep(13))
	assert.Equal(t, 0.5, niceStep(0.31))
	assert.Equal(t, 100.0, niceStep(100))
}

// GPU utilization is drawn on a 0–100 % axis, a reading above 100 at 100; with no GPU the chart says why.
func TestGPUChartCapsAndNotes(t *testing.T) {
	snaps := []snapshot.Snapshot{{ElapsedS: 0, GPUMetrics: map[string]snapshot.GPU{"gpu_0": {Utilization: f(104)}}}}
	c := gpuChart(Run{Snapshots: snaps})
	assert.Equal(t, 100.0, c.plot.Y.Max)
	assert.Empty(t, c.notes)
	assert.True(t, c.drawn)

	none := []snapshot.Snapshot{{ElapsedS: 0, Errors: map[string]string{"gpu": "no GPU source available: nvidia-smi not found"}}}
	c = gpuChart(Run{Snapshots: none})
	assert.Equal(t, []string{"no GPU data: no GPU source available: nvidia-smi not found"}, c.notes)
	assert.False(t, c.drawn)
}

func TestWrap(t *testing.T) {
	assert.Equal(t, []string{"no GPU", "data: a", "verylongword"}, wrap("no GPU data: a verylongword", 7))
}

// The pictures are drawn with what there is: a run with no snapshot has nothing on any chart, so its PNG is
// only the lines that say why, one a chart, under no grid: less tall than one chart (384 px), as wide as two.
func TestPlotsOfAnEmptyRun(t *testing.T) {
	cs := runCharts(Run{Title: "empty"})
	require.Len(t, cs, 7)
	for _, c := range cs {
		assert.NotEmpty(t, c.notes, c.name)
		assert.False(t, c.drawn, c.name)
	}
	_, lines := emptyLines(cs, chartW*2)
	require.Len(t, lines, 7, "each short enough for one line")
	assert.Equal(t, "empty: GPU utilization — no GPU data in this run", lines[0])
	assert.Equal(t, "empty: server scheduler — no server data in this run", lines[5])
	b, err := PlotPNG(Run{Title: "empty"})
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, 1344, img.Bounds().Dx())
	assert.Less(t, img.Bounds().Dy(), 384)
	assert.Greater(t, img.Bounds().Dy(), 7*13, "seven lines of 10 pt text at 96 dpi")
}

// An idle run without GPU (the snapshots of a real `vmtest collect` against an idle vllmsim) draws its three
// charts with data (server throughput and scheduler at 0, host CPU) in two rows of 384 px, and under them, in
// the notes' dark red, the lines of the four with nothing to draw (five: the GPU's wraps); no axis (black)
// below the grid.
func TestPNGDrawsOnlyChartsWithData(t *testing.T) {
	sf := idleCollect(t)
	cs := runCharts(Run{Title: sf.ConfigID, IntervalS: sf.IntervalS, Snapshots: sf.Snapshots, Records: []recorder.Record{}})
	var drawn []string
	for _, c := range cs {
		if c.drawn {
			drawn = append(drawn, c.name)
		}
	}
	assert.Equal(t, []string{"throughput", "scheduler", "host_kv"}, drawn)
	b, err := gridPNG(cs, 2)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	bd := img.Bounds()
	require.Greater(t, bd.Dy(), 2*384+5*13, "two rows of charts and five lines")
	require.Less(t, bd.Dy(), 3*384)
	dark, red := 0, 0
	for y := 2 * 384; y < bd.Max.Y; y++ {
		for x := 0; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			switch {
			case r>>8 < 0x30 && g>>8 < 0x30 && b>>8 < 0x30:
				dark++
			case r>>8 > 0x80 && g>>8 < 0x40 && b>>8 < 0x40:
				red++
			}
		}
	}
	assert.Zero(t, dark, "nothing black under the grid")
	assert.Greater(t, red, 1000, "the four lines, in the notes' colour")
}

// Thinning keeps at most maxPoints points and every run's lowest and highest: a lone spike survives.
func TestThinKeepsPeaks(t *testing.T) {
	xy := make(plotter.XYs, 10000)
	for i := range xy {
		xy[i] = plotter.XY{X: float64(i), Y: 50}
	}
	xy[4321].Y, xy[777].Y = 100, 0
	th := thin(xy)
	assert.LessOrEqual(t, len(th), maxPoints)
	assert.Contains(t, th, plotter.XY{X: 4321, Y: 100})
	assert.Contains(t, th, plotter.XY{X: 777, Y: 0})
	assert.Equal(t, xy[:5], thin(xy[:5]), "a short series is drawn as it is")
}

// Neighbouring bands with the same bucket merge into one box; past maxPoints/2 boxes, consecutive ones merge
// into the box that holds them all.
func TestMergeRanges(t *testing.T) {
	rs := []serverRange{{0, 2, 40, 60}, {2, 4, 40, 60}, {4, 6, 60, 80}, {8, 10, 60, 80}}
	assert.Equal(t, []serverRange{{0, 4, 40, 60}, {4, 6, 60, 80}, {8, 10, 60, 80}}, mergeRanges(rs), "a gap is kept")
	many := make([]serverRange, 3*maxPoints)
	for i := range many {
		many[i] = serverRange{from: float64(2 * i), to: float64(2*i + 2), lo: float64(40 + 20*(i%2)), hi: float64(60 + 20*(i%2))}
	}
	m := mergeRanges(many)
	assert.Len(t, m, maxPoints/2)
	assert.Equal(t, serverRange{from: 0, to: 12, lo: 40, hi: 80}, m[0])
}

// A day sampled every 2 s (43,200 snapshots, 8 GPUs, bands in every interval) renders to a bounded HTML page.
func TestLongRunStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("renders a day of snapshots")
	}
	r := richRun()
	day := make([]snapshot.Snapshot, 43200)
	for i := range day {
		s := r.Snapshots[1+i%59] // readings that vary, as richRun's do
		s.ElapsedS = float64(2 * i)
		day[i] = s
	}
	r.Snapshots, r.Records = day, nil
	svgs, err := PlotSVGs(r)
	require.NoError(t, err)
	total := 0
	for _, s := range svgs {
		total += len(s.Markup)
	}
	assert.Less(t, total, 2<<20, "the pictures of a day's run: %d bytes", total)
	t.Logf("%d bytes", total)
}

// Value axes get about six labelled ticks: 0–130 ms in steps of 20 (7 labels), not 50 (3).
func TestValueTicks(t *testing.T) {
	var labels []string
	for _, tk := range (niceTicks{n: 6}).Ticks(0, 130) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	assert.Equal(t, []string{"0", "20", "40", "60", "80", "100", "120"}, labels)
	assert.Equal(t, 0.2, stepNear(1, 6))
	assert.Equal(t, 200.0, stepNear(1080, 6))
}

// A run with data on every chart (richRun: 8 GPUs, requests, a server) draws all seven in four rows of 384 px
// and no line under them.
func TestPNGOfAFullRunIsTheGrid(t *testing.T) {
	r := richRun()
	cs := runCharts(r)
	for _, c := range cs {
		assert.True(t, c.drawn, c.name)
	}
	b, err := gridPNG(cs, 2)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 1344, 4*384), img.Bounds())
}
