package report

import (
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// markersPlot draws xy on axes [0, 10] × [0, 10] with either gonum's scatter of circle glyphs or markers, and
// returns the image and the data area the plot padded for the glyphs.
func markersPlot(t *testing.T, xy plotter.XYs, ours bool) (*image.RGBA, vg.Rectangle) {
	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 10, 0, 10
	m, err := newMarkers(xy, 1, vg.Points(3))
	require.NoError(t, err)
	if ours {
		p.Add(m)
	} else {
		p.Add(m.Scatter)
	}
	cv := vgimg.New(4*vg.Inch, 3*vg.Inch)
	dc := draw.New(cv)
	p.Draw(dc)
	return cv.Image().(*image.RGBA), p.DataCanvas(dc).Rectangle
}

// Markers look exactly like gonum's scatter of filled circles where they do not overlap, and the plot pads its
// data area for them as for the scatter: the outermost markers inside the axes count (those at the edges here),
// one outside an axis (x = 12, y = -1) does not. A flat row of more markers than one fill draws is drawn whole.
func TestMarkersAreTheScattersCircles(t *testing.T) {
	xy := plotter.XYs{{X: 0, Y: 5}, {X: 10, Y: 2}, {X: 3, Y: 0}, {X: 6, Y: 10}, {X: 5, Y: 5}, {X: 12, Y: 4}, {X: 4, Y: -1}}
	for x := 1; x <= 9; x++ { // a flat row, more than perFill markers
		xy = append(xy, plotter.XY{X: float64(x), Y: 8})
	}
	want, wantArea := markersPlot(t, xy, false)
	got, gotArea := markersPlot(t, xy, true)
	assert.Equal(t, wantArea, gotArea)
	assert.Equal(t, want.Pix, got.Pix, "the same pixels")

	m, err := newMarkers(xy, 1, vg.Points(3))
	require.NoError(t, err)
	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 10, 0, 10
	var at []plotter.XY
	for _, b := range m.GlyphBoxes(p) {
		at = append(at, plotter.XY{X: b.X * 10, Y: b.Y * 10})
	}
	assert.Equal(t, []plotter.XY{{X: 0, Y: 5}, {X: 10, Y: 2}, {X: 3, Y: 0}, {X: 6, Y: 10}}, at,
		"leftmost, rightmost, lowest, highest")
}
