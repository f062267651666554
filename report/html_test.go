package report

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

// selfContained fails t when page could load anything: a URL, a script, a stylesheet, an image or a frame.
func selfContained(t *testing.T, page []byte) {
	t.Helper()
	low := strings.ToLower(string(page))
	for _, bad := range []string{"http://", "https://", "<script", "<link", "@import", "url(", "<img", "<iframe", "<object", "<embed", "src="} {
		assert.NotContains(t, low, bad)
	}
}

// chromium returns the path of headless Chromium; without it the test is skipped (failed under CI, whose
// .ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed: sudo apt-get install -y chromium (Debian) to run this test")
	return ""
}

// browse opens the file at path in headless Chromium (no network: the page must not need one) and returns
// the DOM it built and a screenshot of a 1280 × 4000 px window.
func browse(t *testing.T, path string) (dom string, shot image.Image) {
	t.Helper()
	bin := chromium(t)
	dir := t.TempDir()
	run := func(args ...string) []byte {
		// The deadline only keeps a hung browser from hanging the suite; it bounds nothing measured.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--force-device-scale-factor=1", "--window-size=1280,4000"}
		cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+path)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		require.NoError(t, cmd.Run(), "chromium %v: %s", args, errOut.String())
		return out.Bytes()
	}
	dom = string(run("--dump-dom"))
	shotPath := filepath.Join(t.ArtifactDir(), filepath.Base(path)+".png")
	run("--screenshot=" + shotPath)
	f, err := os.Open(shotPath)
	require.NoError(t, err)
	defer f.Close()
	shot, err = png.Decode(f)
	require.NoError(t, err)
	return dom, shot
}

// visibleText is the text of a DOM as one line: tags dropped, entities decoded, blanks collapsed.
func visibleText(dom string) string {
	t := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(dom, " ")
	return strings.Join(strings.Fields(html.UnescapeString(t)), " ")
}

// figureBorder is the colour of the border the report's CSS draws around each picture (.plots figure).
var figureBorder = [3]uint32{0x9f, 0xb8, 0xd6}

func near(img image.Image, x, y int, c [3]uint32) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	d := func(a, b uint32) bool { return a>>8 <= b+6 && a>>8+6 >= b }
	return d(r, c[0]) && d(g, c[1]) && d(b, c[2])
}

// figureBoxes finds the pictures in a screenshot: the bounding boxes of the connected runs of figureBorder
// pixels at least 100 px wide and tall.
func figureBoxes(img image.Image) []image.Rectangle {
	bd := img.Bounds()
	seen := make([]bool, bd.Dx()*bd.Dy())
	idx := func(x, y int) int { return (y-bd.Min.Y)*bd.Dx() + x - bd.Min.X }
	var boxes []image.Rectangle
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			if seen[idx(x, y)] || !near(img, x, y, figureBorder) {
				continue
			}
			box := image.Rect(x, y, x+1, y+1)
			stack := []image.Point{{X: x, Y: y}}
			seen[idx(x, y)] = true
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				box = box.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
				for _, q := range []image.Point{{X: p.X + 1, Y: p.Y}, {X: p.X - 1, Y: p.Y}, {X: p.X, Y: p.Y + 1}, {X: p.X, Y: p.Y - 1}} {
					if q.In(bd) && !seen[idx(q.X, q.Y)] && near(img, q.X, q.Y, figureBorder) {
						seen[idx(q.X, q.Y)] = true
						stack = append(stack, q)
					}
				}
			}
			if box.Dx() >= 100 && box.Dy() >= 100 {
				boxes = append(boxes, box)
			}
		}
	}
	return boxes
}

// ink counts the pixels inside r (its border left out) that are not white, and those with a strong colour in
// the middle of its left 60 % (inside the plot's data area, away from the legend, which is drawn on the right,
// and from the axes and title; every axis, label and grid line is grey or black, so these are the series).
func ink(img image.Image, r image.Rectangle) (dark, coloured int) {
	data := image.Rect(r.Min.X+r.Dx()/8, r.Min.Y+r.Dy()/10, r.Min.X+r.Dx()*6/10, r.Max.Y-r.Dy()/6)
	for y := r.Min.Y + 3; y < r.Max.Y-3; y++ {
		for x := r.Min.X + 3; x < r.Max.X-3; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			cr, cg, cb = cr>>8, cg>>8, cb>>8
			if cr < 235 || cg < 235 || cb < 235 {
				dark++
			}
			if max(cr, cg, cb)-min(cr, cg, cb) >= 80 && image.Pt(x, y).In(data) {
				coloured++
			}
		}
	}
	return dark, coloured
}

// checkPictures asserts that the screenshot shows want pictures and that each one drew something: axes and
// text (at least 2 % of its area not white) and series (at least 100 strongly coloured pixels).
func checkPictures(t *testing.T, shot image.Image, want int) {
	t.Helper()
	boxes := figureBoxes(shot)
	require.Len(t, boxes, want, "pictures on the page: %v", boxes)
	for i, b := range boxes {
		dark, coloured := ink(shot, b)
		area := b.Dx() * b.Dy()
		assert.Greater(t, dark, area/50, "picture %d at %v: %d of %d px drawn", i, b, dark, area)
		assert.Greater(t, coloured, 100, "picture %d at %v: %d coloured px (no series drawn?)", i, b, coloured)
	}
}

// The run's HTML report loads nothing, and headless Chromium renders it: the tables' figures (computed by
// hand below) are in its DOM and each of the seven pictures drew its axes and its series.
func TestRunHTMLRendersInChromium(t *testing.T) {
	page, err := RunHTML(richRun(), richSummary(), []Verdict{
		{Check: `P99Below("ttft", 50ms)`, Err: "p99 ttft = 97.3 ms, want < 50ms"},
		{Check: `threshold "error_rate < 5%"`}})
	require.NoError(t, err)
	selfContained(t, page)
	path := filepath.Join(t.ArtifactDir(), "report_rich.html")
	require.NoError(t, os.WriteFile(path, page, 0o644))

	dom, shot := browse(t, path)
	text := visibleText(dom)
	// TTFT over 41, 42, 43, 99 ms, numpy's linear percentiles: p50 = 42.5; p90 at rank 2.7: 42 + 0.7 × 1 + ... =
	// 43 + 0.7 × 56 = 82.2; p99 at rank 2.97: 43 + 0.97 × 56 = 97.32; mean 56.25. Error rate 2/61 = 3.28 %.
	for _, want := range []string{
		"TTFT 56.2 42.5 82.2 97.3 4",
		"61 59 2 0 0 0 3.28%",
		`P99Below("ttft", 50ms) NOT MET p99 ttft = 97.3 ms, want < 50ms`,
		`threshold "error_rate < 5%" met`,
		"TTFT n/a 40–60 60–80 60–80 59", // the server's percentiles as the ranges their buckets give
		"gpu_0 NVIDIA H200 22.5 24",
		"server TTFT observations differ from the client's requests by 3",
		"vllm 59/60 n/a none last error: connection refused", // no covered share or outages in the fixture
	} {
		assert.Contains(t, text, want)
	}
	assert.Equal(t, 7, strings.Count(dom, "<svg"), "one inline SVG per picture")
	checkPictures(t, shot, 7)
}

// The comparison's HTML report loads nothing and renders: its table (best values starred) and the two CDF
// pictures, each with its series.
func TestComparisonHTMLRendersInChromium(t *testing.T) {
	run := func(ttft []float64, rps float64) *summary.Summary {
		return &summary.Summary{RunID: "r", Requests: recorder.Summary{Counts: recorder.Counts{Total: len(ttft), OK: len(ttft)},
			TTFTMS: recorder.ComputeStats(ttft), RequestThroughput: &rps}}
	}
	entries := []ComparisonEntry{
		{ID: "fast", Params: "max_tokens=8", Summary: run([]float64{10, 20, 30, 40}, 4)},
		{ID: "slow", Params: "max_tokens=8", Summary: run([]float64{50, 60}, 2)},
		{ID: "broken", Err: "server did not start"},
	}
	series := []CDFSeries{{ID: "fast", TTFTMS: []float64{10, 20, 30, 40}, E2EMS: []float64{100, 200, 250, 300}},
		{ID: "slow", TTFTMS: []float64{50, 60}, E2EMS: []float64{400, 500}}, {ID: "broken"}}
	page, err := ComparisonHTML("Comparison: T", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), []string{"load: closed loop"}, entries, series)
	require.NoError(t, err)
	selfContained(t, page)
	path := filepath.Join(t.ArtifactDir(), "comparison_report.html")
	require.NoError(t, os.WriteFile(path, page, 0o644))

	dom, shot := browse(t, path)
	text := visibleText(dom)
	// TTFT p50: fast 25.0 (the best, starred), slow 55.0; request throughput: fast's 4.00 is the best.
	assert.Contains(t, text, "fast 25.0 ★")
	assert.Contains(t, text, "slow 55.0")
	assert.Contains(t, text, "4.00 ★")
	assert.Contains(t, text, "broken – –")
	assert.Contains(t, text, "broken ; did not run : server did not start")
	assert.Contains(t, dom, "fast (n=4)")
	assert.Contains(t, dom, "no successful request in broken")
	checkPictures(t, shot, 2)
}
