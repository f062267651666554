package serverstats

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

// capture reads a file of testdata/vllm.
func capture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", name))
	require.NoError(t, err)
	return string(b)
}

// scrape parses a Prometheus text body into a Scrape as the vLLM sampler does (Parse, no model filter).
func scrape(t testing.TB, body string, at time.Time) Scrape {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return scrapeOf(fams, at, "")
}

func scrapeOf(fams map[string]*dto.MetricFamily, at time.Time, modelName string) Scrape {
	return NewScrape(fams, at, modelName)
}

// bump adds delta to the value of the one line of body whose series (everything before the value) is series.
func bump(t testing.TB, body, series string, delta float64) string {
	t.Helper()
	lines := strings.Split(body, "\n")
	found := 0
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		require.NoError(t, err, l)
		lines[i] = series + " " + strconv.FormatFloat(v+delta, 'g', -1, 64)
		found++
	}
	require.Equal(t, 1, found, "series %s", series)
	return strings.Join(lines, "\n")
}

// set replaces the value of the one line whose series is series.
func set(t testing.TB, body, series string, v float64) string {
	t.Helper()
	lines := strings.Split(body, "\n")
	found := 0
	for i, l := range lines {
		if strings.HasPrefix(l, series+" ") {
			lines[i] = series + " " + strconv.FormatFloat(v, 'g', -1, 64)
			found++
		}
	}
	require.Equal(t, 1, found, "series %s", series)
	return strings.Join(lines, "\n")
}

// dropFamily removes every line of a family (its # lines and samples) from body.
func dropFamily(body, name string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, name+"_") || strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") ||
			strings.HasPrefix(l, "# HELP "+name+" ") || strings.HasPrefix(l, "# TYPE "+name+" ") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func ms(q *Quantile) float64 {
	if q == nil || q.ValueMS == nil {
		return -1
	}
	return *q.ValueMS
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
