package compare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

func simServer(ttft time.Duration) func(testing.TB) string {
	return func(tb testing.TB) string {
		return vllmsim.New(tb, vllmsim.Config{Seed: 3, TTFTBase: ttft, TimePerOutputToken: time.Millisecond}).URL
	}
}

func TestCompareWritesPerConfigFilesAndReport(t *testing.T) {
	dir := t.TempDir()
	results := Run(t, Options{
		OutputDir: dir,
		Load: loadgen.LoadConfig{
			Prompts:     loadgen.TextPrompts("one two three", "four five"),
			Concurrency: 4,
			Requests:    24,
		},
		Collect: vmtest.Options{Interval: 200 * time.Millisecond, GPUSource: "none"},
	},
		Config{ID: "fast", Params: loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: 8}, Server: simServer(10 * time.Millisecond)},
		Config{ID: "slow one", Params: loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: 8, Temperature: loadgen.Float(0.5)}, Server: simServer(100 * time.Millisecond)},
	)
	require.Len(t, results, 2)
	assert.Equal(t, "slow_one-db38893a", results[1].ID, "sanitized, with the hash of \"slow one\"")
	for _, r := range results {
		require.NotNil(t, r.Summary, r.Error)
		assert.Equal(t, 24, r.Summary.Requests.OK)
		for _, suffix := range []string{"_metrics.json", "_metrics.csv", "_results.json"} {
			assert.FileExists(t, filepath.Join(dir, r.ID+suffix))
		}
		assert.FileExists(t, filepath.Join(dir, r.ID, "summary_statistics.json"), "each collector has its own directory")
	}
	// The injected TTFTs are 10 ms and 100 ms; scheduling noise on a loaded machine (and -race) only adds to
	// both, so the lower bounds always hold, and the 90 ms gap keeps the ranking below whatever the noise.
	fast, slow := *results[0].Summary.Requests.TTFTMS.P50, *results[1].Summary.Requests.TTFTMS.P50
	assert.GreaterOrEqual(t, fast, 10.0)
	assert.GreaterOrEqual(t, slow, 100.0)
	if os.Getenv("VMTEST_TIMING") == "1" { // a check of this machine's timing
		assert.InDelta(t, 90, slow-fast, 10)
	}

	var res map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "slow_one-db38893a_results.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &res))
	assert.Equal(t, 0.5, res["params"].(map[string]any)["temperature"])
	assert.Equal(t, 24.0, res["load"].(map[string]any)["completed"])
	assert.NotContains(t, res, "run_notes", "the configuration ran to its end")

	matches, _ := filepath.Glob(filepath.Join(dir, "comparison_report_*.md"))
	require.Len(t, matches, 1)
	md, _ := os.ReadFile(matches[0])
	text := string(md)
	// The fast configuration's TTFT p50 cell is the best one: bold with a star; the slow one's is plain.
	fastRow := rowOf(t, text, "fast")
	slowRow := rowOf(t, text, "slow_one-db38893a")
	assert.Regexp(t, regexp.MustCompile(`^\| fast \| \*\*[0-9.]+\*\* ★ \|`), fastRow)
	assert.Regexp(t, regexp.MustCompile(`^\| slow_one-db38893a \| [0-9.]+ \|`), slowRow)
	assert.Contains(t, text, "requests per configuration: 24")
	assert.Contains(t, text, "temperature=0.5")
	assert.NotContains(t, text, "did not run to their end", "both configurations ran to their end")

	// Its HTML twin: the same table, and each configuration's 24 requests in the CDF pictures; nothing to load.
	pages, _ := filepath.Glob(filepath.Join(dir, "comparison_report_*.html"))
	require.Len(t, pages, 1)
	assert.Equal(t, strings.TrimSuffix(matches[0], ".md"), strings.TrimSuffix(pages[0], ".html"))
	page, _ := os.ReadFile(pages[0])
	html := string(page)
	assert.Contains(t, html, "fast (n=24)")
	assert.Contains(t, html, "slow_one-db38893a (n=24)")
	assert.Contains(t, html, "TTFT CDF per configuration")
	assert.Regexp(t, `<td>fast</td><td><b>[0-9.]+</b> ★</td>`, html)
	assert.NotContains(t, html, "http://")
	assert.NotContains(t, html, "<script")
}

func rowOf(t *testing.T, md, id string) string {
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| "+id+" |") {
			return line
		}
	}
	t.Fatalf("no row for %s in:\n%s", id, md)
	return ""
}

func TestValidate(t *testing.T) {
	load := loadgen.LoadConfig{Prompts: loadgen.TextPrompts("x"), Requests: 1}
	assert.ErrorContains(t, validate(Options{Load: load}, nil), "no configurations")
	assert.ErrorContains(t, validate(Options{Load: load}, []Config{{}}), "configs[0].ID is empty")
	assert.ErrorContains(t, validate(Options{Load: load, BaseURL: "http://x"}, []Config{{ID: "a b"}, {ID: "a b"}}), "repeats")
	assert.NoError(t, validate(Options{Load: load, BaseURL: "http://x"}, []Config{{ID: "a b"}, {ID: "a_b"}, {ID: "a/b"}}),
		"ids that sanitize alike get distinct names")
	assert.ErrorContains(t, validate(Options{Load: load}, []Config{{ID: "a"}}), "no Server and Options.BaseURL is empty")
	assert.ErrorContains(t, validate(Options{BaseURL: "http://x", Load: loadgen.LoadConfig{Requests: 1}}, []Config{{ID: "a"}}), "Prompts is empty")
	assert.ErrorContains(t, validate(Options{BaseURL: "http://x", Load: loadgen.LoadConfig{Prompts: load.Prompts}}, []Config{{ID: "a"}}), "Duration or a Requests")
}
