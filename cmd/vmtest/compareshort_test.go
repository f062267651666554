package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vmtest"
)

// recordEvery records n requests, one every 100 ms, each with TTFT ttft and E2E latency 80 ms, recorded as it
// ends.
func recordEvery(c *vmtest.Collector, n int, ttft time.Duration) {
	for range n {
		time.Sleep(100 * time.Millisecond)
		end := time.Now()
		start := end.Add(-80 * time.Millisecond)
		c.RecordRequest(vmtest.Request{Start: start, FirstToken: start.Add(ttft), End: end, OutputTokens: 4, HTTPStatus: 200})
	}
}

// shortRuns returns the summary files of two runs the collector made under synctest, as the trial's were: A,
// killed (its journal copied as a SIGKILL leaves it, 52 requests, ticks up to 7 s) and rebuilt from that
// journal (journal.Load, report.WriteAll); B, stopped by SIGTERM at 6.4 s (its context cancelled with the
// cause os/signal gives, "terminated signal received") after 64 requests.
func shortRuns(t *testing.T) (a, b string) {
	live, killed, stopped := t.TempDir(), t.TempDir(), t.TempDir()
	opts := func(config, dir string) vmtest.Options {
		return vmtest.Options{ConfigID: config, Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true, NoSystem: true}
	}
	synctest.Test(t, func(t *testing.T) {
		c, err := vmtest.Start(context.Background(), opts("killed", live))
		require.NoError(t, err)
		recordEvery(c, 52, 20*time.Millisecond) // to 5.2 s
		time.Sleep(1900 * time.Millisecond)     // the ticks at 6 s and 7 s journal them all
		synctest.Wait()
		found, err := journal.Find(live)
		require.NoError(t, err)
		require.Len(t, found, 1)
		for _, f := range []string{found[0].Snapshots, found[0].Requests, found[0].Checks} {
			data, err := os.ReadFile(f)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(killed, filepath.Base(f)), data, 0o644))
		}
		_, err = c.Finish()
		require.NoError(t, err)

		ctx, cancel := context.WithCancelCause(context.Background())
		c, err = vmtest.Start(ctx, opts("stopped", stopped))
		require.NoError(t, err)
		recordEvery(c, 64, 14*time.Millisecond) // to 6.4 s
		cancel(errors.New("terminated signal received"))
		synctest.Wait()
		sum, err := c.Finish()
		require.NoError(t, err)
		b = sum.Files["summary_json"]
	})
	found, err := journal.Find(killed)
	require.NoError(t, err)
	require.Len(t, found, 1)
	rb, err := journal.Load(found[0])
	require.NoError(t, err)
	require.NoError(t, report.WriteAll(rb.Files, rb.Snapshots, rb.Rows, rb.Summary, nil))
	return rb.Summary.Files["summary_json"], b
}

// The trial compared a run rebuilt after SIGKILL with one stopped by SIGTERM and was told neither, with counts
// as "52.00": compare names, before its table, why each run did not run to its end, warns that their windows
// (7.0 s and 6.4 s) and requests (52 and 64) differ, and prints counts as integers; the Markdown and HTML
// reports say the same.
func TestCompareSaysARunDidNotFinishOrStoppedEarly(t *testing.T) {
	a, b := shortRuns(t)
	out0 := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "compare", "-metrics", "ttft.p99,requests.total,requests.output_tokens", "-out", out0, a, b)
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(out, "\n")
	require.GreaterOrEqual(t, len(lines), 5, out)
	assert.Regexp(t, `^A: .*summary_statistics\.json \(config killed, run `, lines[0])
	// The journal's own account (journal.Load's event), after "did not finish: ".
	assert.Regexp(t, `^   did not finish: rebuilt from its journal up to .*\b52 requests\b`, lines[1])
	assert.Regexp(t, `^B: .*summary_statistics\.json \(config stopped, run `, lines[2])
	assert.Equal(t, "   stopped early: terminated signal received", lines[3])
	warning := "warning: A, B do not cover a whole run: the figures compared cover different windows (7.0 s for A, 6.4 s for B) " +
		"and request sets (requests: 52 for A, 64 for B), so a change between them may come from that rather than from what was compared."
	assert.Equal(t, []string{"", warning, ""}, lines[4:7])
	// ttft.p99: 20 → 14 ms is −30 %; the counts are whole: 52 → 64 is +23.1 %, 208 → 256 tokens too.
	assert.Regexp(t, `(?m)^ttft\.p99\s+ms\s+20\.00\s+14\.00\s+-30\.0% better$`, out)
	assert.Regexp(t, `(?m)^requests\.total\s+requests\s+52\s+64\s+\+23\.1%$`, out)
	assert.Regexp(t, `(?m)^requests\.output_tokens\s+tokens\s+208\s+256\s+\+23\.1%$`, out)
	assert.Less(t, strings.Index(out, warning), strings.Index(out, "metric"), "the warning comes before the table")

	mds, _ := filepath.Glob(filepath.Join(out0, "comparison_report_*.md"))
	require.Len(t, mds, 1)
	data, err := os.ReadFile(mds[0])
	require.NoError(t, err)
	md := string(data)
	assert.Contains(t, md, "\n- **A: killed**: "+strings.TrimSpace(lines[1])+"\n")
	assert.Contains(t, md, "\n- **B: stopped**: stopped early: terminated signal received\n")
	assert.Contains(t, md, "\n**Warning:** A: killed, B: stopped do not cover a whole run: the figures compared cover different windows (7.0 s for A: killed, 6.4 s for B: stopped) and request sets (requests: 52 for A: killed, 64 for B: stopped)")
	assert.Less(t, strings.Index(md, "## Runs that did not run to their end"), strings.Index(md, "## Results"))

	htmls, _ := filepath.Glob(filepath.Join(out0, "comparison_report_*.html"))
	require.Len(t, htmls, 1)
	data, err = os.ReadFile(htmls[0])
	require.NoError(t, err)
	page := string(data)
	assert.Contains(t, page, "<li><b>B: stopped</b>: stopped early: terminated signal received</li>")
	assert.Regexp(t, regexp.MustCompile(`<div class="warn" id="caveat"><b>Warning:</b> A: killed, B: stopped do not cover a whole run: .*\(requests: 52 for A: killed, 64 for B: stopped\)`), page)
	assert.Less(t, strings.Index(page, `id="caveat"`), strings.Index(page, `id="results"`))
}

// Runs that ran to their end get no note and no warning; a summary written before summaries said whether their
// run finished (no "finished" field) was written at its run's end, and reads so.
func TestCompareRunsToTheirEndHaveNoWarning(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	writeSummary(t, a, []float64{100}, ptr(10), ptr(0))
	require.NoError(t, os.WriteFile(b, []byte(`{"run_id":"old","config_id":"cfg","request_statistics":{"total":20,"ok":1}}`), 0o644))
	code, out, errOut := runCmd(context.Background(), "compare", "-metrics", "requests.total,requests.ok", "-out", dir, a, b)
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "did not finish")
	assert.NotContains(t, out, "warning")
	assert.Regexp(t, `(?m)^requests\.total\s+requests\s+20\s+20\s+0%$`, out)
	assert.Regexp(t, `(?m)^requests\.ok\s+requests\s+1\s+1\s+0%$`, out)
}

// A count of requests or tokens prints whole; an average of one (the server's queue) keeps its digits.
func TestCompareFormatsCountsAsIntegers(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{{52, "requests", "52"}, {1, "tokens", "1"}, {123456, "tokens", "123456"}, {0, "requests", "0"},
		{2.35, "requests", "2.350"}, {52, "ms", "52.00"}, {52, "req/s", "52.00"}} {
		assert.Equal(t, tc.want, formatValue(summary.Value{Known: true, Value: tc.v, Unit: tc.unit}), "%v %s", tc.v, tc.unit)
	}
}
