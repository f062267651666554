package report

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"math"
	"regexp"
	"strconv"
	"strings"

	"git.sr.ht/~sbinet/gg"
	xdraw "golang.org/x/image/draw"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chart is one picture: a plot, its legend (drawn beside the plot, so it never covers the data) and notes
// written across the data area (why a series or a whole source is missing); in the PNG a chart with nothing
// drawn is only its title and notes, a line under the grid (gridPNG).
type chart struct {
	// name is the chart's file-name-safe id ("gpu_utilization"); the HTML report uses it as an element id.
	name   string
	plot   *plot.Plot
	legend plot.Legend
	notes  []string
	// drawn says the chart has data on it (a line, markers, a band), not only its axes and notes.
	drawn bool
}

// newChart returns a chart titled title with axes labelled with their units.
func newChart(name, title, xlabel, ylabel string) *chart {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = niceTicks{n: 6}
	p.BackgroundColor = nil // the canvas is white already
	p.Add(plotter.NewGrid())
	lg := plot.NewLegend()
	lg.Top, lg.Left = true, true
	lg.TextStyle.Font.Size = vg.Points(10)
	return &chart{name: name, plot: p, legend: lg}
}

// add puts a plotter of data on the chart with a legend entry of thumbs (none when label is empty or there is
// no thumb).
func (c *chart) add(label string, p plot.Plotter, thumbs ...plot.Thumbnailer) {
	c.plot.Add(p)
	c.drawn = true
	if label != "" && len(thumbs) > 0 {
		c.legend.Add(label, thumbs...)
	}
}

// note adds a line written across the data area (or in the chart's line under the PNG's grid).
func (c *chart) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// legendWidth is the width the legend needs beside the plot; 0 without entries.
func (c *chart) legendWidth(dc draw.Canvas) vg.Length {
	r := c.legend.Rectangle(dc)
	if w := r.Max.X - r.Min.X; w > 0 {
		return w + vg.Points(12)
	}
	return 0
}

// draw draws the chart into dc: the plot on the left, the legend in a column on its right, the notes in the
// plot's data area.
func (c *chart) draw(dc draw.Canvas) {
	lw := c.legendWidth(dc)
	lw = min(lw, (dc.Max.X-dc.Min.X)*0.4)
	pc := dc
	pc.Max.X -= lw
	c.plot.Draw(pc)
	if lw > 0 {
		lc := dc
		lc.Min.X = pc.Max.X + vg.Points(6)
		lc.Max.Y -= c.plot.Title.TextStyle.Height(c.plot.Title.Text) + c.plot.Title.Padding + vg.Points(6)
		c.legend.Draw(lc)
	}
	if len(c.notes) == 0 {
		return
	}
	da := c.plot.DataCanvas(pc)
	sty := c.noteStyle()
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	var lines []string
	perLine := max(int(float64(da.Max.X-da.Min.X)/float64(sty.Width("n"))), 20)
	for _, n := range c.notes {
		lines = append(lines, wrap(n, perLine)...)
	}
	h := sty.Height("Xg") * 1.25
	y := (da.Min.Y+da.Max.Y)/2 + h*vg.Length(len(lines)-1)/2
	for _, l := range lines {
		da.FillText(sty, vg.Point{X: (da.Min.X + da.Max.X) / 2, Y: y}, l)
		y -= h
	}
}

// noteStyle is how a note is written: the legend's text, in dark red.
func (c *chart) noteStyle() draw.TextStyle {
	sty := c.legend.TextStyle
	sty.Color = color.RGBA{R: 0x9a, G: 0x1b, B: 0x1b, A: 0xff}
	return sty
}

// wrap breaks s into lines of at most n runes at spaces (a longer word stays whole).
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > n {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// chartW and chartH are the size of one chart.
const chartW, chartH = 7 * vg.Inch, 4 * vg.Inch

// gridPNG draws the charts with data (drawn) in a grid of cols columns, each chartW × chartH, and under it one
// line for each chart with nothing to draw, its title and notes, as one PNG at vgimg's 96 dpi: an axis with
// nothing on it costs a tile of pixels to say less than its line does.
func gridPNG(charts []*chart, cols int) ([]byte, error) {
	var drawn, empty []*chart
	for _, c := range charts {
		if c.drawn {
			drawn = append(drawn, c)
		} else {
			empty = append(empty, c)
		}
	}
	rows := (len(drawn) + cols - 1) / cols
	w := chartW * vg.Length(cols)
	sty, lines := emptyLines(empty, w-2*bandPad)
	var lineH, bandH vg.Length
	if len(lines) > 0 {
		lineH = sty.Height("Xg") * 1.25
		bandH = lineH*vg.Length(len(lines)) + 2*bandPad
	}
	h := chartH*vg.Length(rows) + bandH
	img := image.NewRGBA(image.Rect(0, 0, int(w.Dots(vgimg.DefaultDPI)+0.5), int(h.Dots(vgimg.DefaultDPI)+0.5)))
	ctx := gg.NewContextForRGBA(img) // draws into img itself: vgimg.New would copy a fresh image into another
	ctx.SetLineCapButt()
	ctx.InvertY()
	ctx.SetInterpolator(xdraw.NearestNeighbor)
	dc := draw.New(vgimg.NewWith(vgimg.UseImageWithContext(img, ctx), vgimg.UseDPI(vgimg.DefaultDPI))) // white
	grid := dc
	grid.Min.Y += bandH // vg's y grows upwards: the band is the canvas's bottom
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	for i, c := range drawn {
		c.draw(tiles.At(grid, i%cols, i/cols))
	}
	y := dc.Min.Y + bandH - bandPad
	for _, l := range lines {
		dc.FillText(sty, vg.Point{X: dc.Min.X + bandPad, Y: y}, l)
		y -= lineH
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// bandPad is the margin around the lines under the grid.
const bandPad = 2 * vg.Millimeter

// emptyLines returns the lines that stand for charts with nothing to draw, "<title> — <notes>" each, wrapped
// to width, and their style: a chart's notes, left-aligned, top down.
func emptyLines(empty []*chart, width vg.Length) (draw.TextStyle, []string) {
	var sty draw.TextStyle
	if len(empty) > 0 {
		sty = empty[0].noteStyle()
	}
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	var lines []string
	for _, c := range empty {
		text := c.plot.Title.Text
		if len(c.notes) > 0 {
			text += " — " + strings.Join(c.notes, "; ")
		}
		lines = append(lines, wrap(text, max(int(float64(width)/float64(sty.Width("n"))), 20))...)
	}
	return sty, lines
}

// xmlProlog matches what an SVG file has before its <svg> element (the XML declaration and generator
// comment), and svgNamespaces its namespace attributes: inline in HTML neither is needed (the HTML parser puts
// <svg> in the SVG namespace), and leaving them out keeps every URL out of the report.
var (
	xmlProlog     = regexp.MustCompile(`(?s)^.*?(<svg\b)`)
	svgNamespaces = regexp.MustCompile(`\s+xmlns(:xlink)?="[^"]*"`)
	svgSize       = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)
)

// inlineSVG draws c as an SVG element for inline use in HTML: no XML prolog, no namespace attributes, no
// fixed size (it scales to its container through its viewBox).
func (c *chart) inlineSVG() ([]byte, error) {
	cv := vgsvg.New(chartW, chartH)
	dc := draw.New(cv)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	c.draw(dc)
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode SVG: %w", err)
	}
	b := xmlProlog.ReplaceAll(buf.Bytes(), []byte("$1"))
	tag := bytes.IndexByte(b, '>') + 1 // the <svg> element's opening tag: only it carries namespaces and a size
	head := svgNamespaces.ReplaceAll(b[:tag], nil)
	head = svgSize.ReplaceAll(head, []byte(`<svg role="img" aria-label="`+html.EscapeString(c.plot.Title.Text)+`"`))
	return append(head, b[tag:]...), nil
}

// niceTicks marks about n labelled ticks at 1, 2 or 5 × 10^k steps.
type niceTicks struct{ n int }

// Ticks returns the ticks between lo and hi.
func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	step := stepNear(hi-lo, max(t.n, 2))
	return ticksEvery(lo, hi, step, func(v float64) string { return strconv.FormatFloat(v, 'f', decimals(step), 64) })
}

// niceStep is the smallest 1, 2 or 5 × 10^k at least raw.
func niceStep(raw float64) float64 {
	if !(raw > 0) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow10(int(math.Floor(math.Log10(raw))))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// stepNear is the 1, 2 or 5 × 10^k step that cuts rng into the number of steps nearest n.
func stepNear(rng float64, n int) float64 {
	base := niceStep(rng / float64(n))
	best := base
	for _, c := range []float64{base / 2.5, base / 2, base, base * 2} {
		c = niceStep(c)
		if math.Abs(rng/c-float64(n)) < math.Abs(rng/best-float64(n)) {
			best = c
		}
	}
	return best
}

// decimals is how many decimals show a multiple of step exactly.
func decimals(step float64) int {
	return max(0, -int(math.Floor(math.Log10(step)+1e-9)))
}

// ticksEvery returns a labelled tick at every multiple of step in [lo, hi] and an unlabelled one half way.
func ticksEvery(lo, hi, step float64, label func(float64) string) []plot.Tick {
	var ticks []plot.Tick
	first := math.Ceil(lo/step-1e-9) * step
	for i := 0; ; i++ {
		v := first + float64(i)*step
		if v > hi+step*1e-9 || i > 1000 {
			break
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
		if mid := v + step/2; mid <= hi {
			ticks = append(ticks, plot.Tick{Value: mid})
		}
	}
	if mid := first - step/2; mid >= lo {
		ticks = append(ticks, plot.Tick{Value: mid})
	}
	return ticks
}

// timeSteps are the tick steps of an elapsed-time axis, s.
var timeSteps = []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// timeAxis sets p's x axis to elapsed time over [0, xmax] s with at least 6 labelled ticks where the run is
// long enough for them: labels in s up to 10 min, in min:s up to 2 h, in h:min beyond, the unit in the axis
// label.
func timeAxis(p *plot.Plot, xmax float64) {
	xmax = max(xmax, 1)
	p.X.Min, p.X.Max = 0, xmax
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if xmax/s <= 10 {
			step = s
			break
		}
	}
	p.X.Label.Text = "elapsed (s)"
	label := func(v float64) string { return strconv.FormatFloat(v, 'f', decimals(step), 64) }
	switch {
	case xmax > 7200:
		p.X.Label.Text = "elapsed (h:min)"
		label = func(v float64) string { return fmt.Sprintf("%d:%02d", int(v)/3600, int(v)%3600/60) }
	case xmax > 600:
		p.X.Label.Text = "elapsed (min:s)"
		label = func(v float64) string { return fmt.Sprintf("%d:%02d", int(v)/60, int(v)%60) }
	}
	p.X.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick { return ticksEvery(lo, hi, step, label) })
}
