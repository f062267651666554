package report

import (
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SweepPoint is one step of a load sweep (package sweep) for SweepSVGs.
type SweepPoint struct {
	// Load is the step's concurrency or request rate.
	Load float64
	// ThroughputTokS is the step's output token throughput, tok/s (summary "output_token_throughput"); nil
	// when unknown.
	ThroughputTokS *float64
	// LatencyMS is the step's figure of the sweep's latency metric (e.g. ttft.p99), ms; nil when unknown.
	LatencyMS *float64
	// Met says the step met every SLO check; Knee marks the step at the knee of the latency curve.
	Met, Knee bool
}

// SweepSVGs draws a load sweep's two pictures, each as its own SVG: throughput versus latency (one point per
// step with both figures, joined in load order and labelled with the load) and latency versus load (the
// knee ringed). Steps that met the SLO are drawn as green discs, the others as red crosses; loadLabel names
// the load's axis ("concurrency", "request rate (req/s)") and latencyLabel the latency's ("ttft.p99 (ms)").
func SweepSVGs(loadLabel, latencyLabel string, pts []SweepPoint) ([]SVG, error) {
	tvl := newChart("sweep_throughput_vs_latency", "throughput vs latency per load step", "output token throughput (tokens/s)", latencyLabel)
	tvl.plot.X.Tick.Marker = niceTicks{n: 6}
	lvl := newChart("sweep_latency_vs_load", latencyLabel+" by "+loadLabel, loadLabel, latencyLabel)
	lvl.plot.X.Tick.Marker = niceTicks{n: 6}
	var both, byLoad plotter.XYs
	var labels, noThroughput []string
	for _, p := range pts {
		if p.LatencyMS == nil {
			continue
		}
		byLoad = append(byLoad, plotter.XY{X: p.Load, Y: *p.LatencyMS})
		if p.ThroughputTokS == nil {
			noThroughput = append(noThroughput, strconv.FormatFloat(p.Load, 'g', 4, 64))
		} else {
			both = append(both, plotter.XY{X: *p.ThroughputTokS, Y: *p.LatencyMS})
			labels = append(labels, strconv.FormatFloat(p.Load, 'g', 4, 64))
		}
	}
	sweepLine(tvl, both)
	if len(noThroughput) > 0 && len(both) > 0 {
		tvl.note("no throughput known at %s %s (a window under 1 s)", loadLabel, strings.Join(noThroughput, ", "))
	}
	if len(both) > 0 {
		if l, err := plotter.NewLabels(plotter.XYLabels{XYs: both, Labels: labels}); err == nil {
			l.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(4)}
			tvl.add("", l)
		}
	} else {
		tvl.note("no step has both an output token throughput and a latency to draw")
	}
	sweepLine(lvl, byLoad)
	if len(byLoad) == 0 {
		lvl.note("no step has a latency to draw")
	}
	for _, c := range []*chart{tvl, lvl} {
		byThroughput := c == tvl
		var met, failed, knee plotter.XYs
		for _, p := range pts {
			if p.LatencyMS == nil || byThroughput && p.ThroughputTokS == nil {
				continue
			}
			xy := plotter.XY{X: p.Load, Y: *p.LatencyMS}
			if byThroughput {
				xy.X = *p.ThroughputTokS
			}
			if p.Met {
				met = append(met, xy)
			} else {
				failed = append(failed, xy)
			}
			if p.Knee {
				knee = append(knee, xy)
			}
		}
		sweepMarks(c, "met the SLO", met, 2, draw.CircleGlyph{}, 3)
		sweepMarks(c, "did not meet it", failed, 1, draw.CrossGlyph{}, 4)
		sweepMarks(c, "knee", knee, 4, draw.RingGlyph{}, 7)
		xs := byLoad
		if byThroughput {
			xs = both
		}
		c.plot.X.Min, c.plot.X.Max = 0, max(largestX(xs)*1.1, 1)
		topY(c, largestY(xs))
	}
	return chartSVGs([]*chart{tvl, lvl})
}

// sweepLine joins a sweep's points in load order in grey.
func sweepLine(c *chart, xy plotter.XYs) {
	if len(xy) < 2 {
		return
	}
	if l, err := plotter.NewLine(xy); err == nil {
		l.Color, l.Width = colour(7), vg.Points(1)
		c.add("", l)
	}
}

// sweepMarks draws one kind of step as markers in colour i with a legend entry.
func sweepMarks(c *chart, label string, xy plotter.XYs, i int, g draw.GlyphDrawer, radius float64) {
	if len(xy) == 0 {
		return
	}
	if s, err := plotter.NewScatter(xy); err == nil {
		s.Color, s.Shape, s.Radius = colour(i), g, vg.Points(radius)
		c.add(label, s, s)
	}
}
