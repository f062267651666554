package report

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// markers draws a filled circle of the scatter's colour and radius at each of its points inside the data
// area, perFill circles to a path fill (one SVG element): the picture of a plotter.Scatter with
// draw.CircleGlyph, which fills each circle on its own. Its data range and legend thumbnail are the scatter's.
type markers struct{ *plotter.Scatter }

// perFill is how many markers one fill draws at most: the rasterizer looks a cell up along the cells already
// in its row, so the readings of a flat series (an idle server's zeros) cost less a few circles at a time.
const perFill = 8

// newMarkers returns markers at xy in colour i, radius r.
func newMarkers(xy plotter.XYs, i int, r vg.Length) (markers, error) {
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return markers{}, err
	}
	s.Color, s.Radius, s.Shape = colour(i), r, draw.CircleGlyph{}
	return markers{s}, nil
}

// Plot draws the markers on c (plot.Plotter).
func (m markers) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	c.SetColor(m.Color)
	p := make(vg.Path, 0, 3*perFill)
	for _, xy := range m.XYs {
		pt := vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		if !c.Contains(pt) {
			continue
		}
		p.Move(vg.Point{X: pt.X + m.Radius, Y: pt.Y})
		p.Arc(pt, m.Radius, 0, 2*math.Pi)
		p.Close()
		if len(p) == 3*perFill {
			c.Fill(p)
			p = p[:0]
		}
	}
	if len(p) > 0 {
		c.Fill(p)
	}
}

// GlyphBoxes returns the boxes of the markers the plot pads its data area for (plot.GlyphBoxer): of those
// inside the axes' ranges (the only ones plot.Plot looks at), the leftmost, rightmost, lowest and highest; the
// plot's padding is the same as with a box at every point.
func (m markers) GlyphBoxes(plt *plot.Plot) []plot.GlyphBox {
	ext := [4]int{-1, -1, -1, -1} // the points at the smallest x, largest x, smallest y, largest y
	var best [4]float64
	for i, xy := range m.XYs {
		x, y := plt.X.Norm(xy.X), plt.Y.Norm(xy.Y)
		if x < 0 || x > 1 || y < 0 || y > 1 {
			continue
		}
		for k, v := range [4]float64{-x, x, -y, y} {
			if ext[k] < 0 || v > best[k] {
				ext[k], best[k] = i, v
			}
		}
	}
	r := vg.Rectangle{Min: vg.Point{X: -m.Radius, Y: -m.Radius}, Max: vg.Point{X: m.Radius, Y: m.Radius}}
	var bs []plot.GlyphBox
	for _, i := range ext {
		if i >= 0 {
			bs = append(bs, plot.GlyphBox{X: plt.X.Norm(m.XYs[i].X), Y: plt.Y.Norm(m.XYs[i].Y), Rectangle: r})
		}
	}
	return bs
}
