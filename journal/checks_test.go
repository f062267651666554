package journal

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/report"
)

// The checks the run registered are kept beside its journal; a rebuild evaluates the thresholds over the
// rebuilt run (its three requests have TTFT 50 ms each: p50 50 ms), says a check of Go code is not known,
// shows both in its HTML report, and renames the checks file with the rest.
func TestRebuildEvaluatesTheKeptChecks(t *testing.T) {
	dir := t.TempDir()
	p := killedRun(t, dir, t0)
	c, err := readChecks(p.Checks, "run1")
	require.NoError(t, err)
	require.NotNil(t, c, "Create writes a checks file with no check")
	assert.Empty(t, c.Checks)

	w := &Writer{paths: p, head: header(100)}
	require.NoError(t, w.SetChecks([]Check{
		{Check: `threshold "ttft.p50 < 40ms"`, Threshold: "ttft.p50 < 40ms", From: `from -slo "ttft.p50 < 40ms"`},
		{Check: `threshold "ttft.p50 < 60ms"`, Threshold: "ttft.p50 < 60ms"},
		{Check: "at least 12 requests", From: "check registered at x_test.go:9"},
		{Check: `threshold "cgroup_cpu_percent.max < 50"`, Threshold: "cgroup_cpu_percent.max < 50"},
	}))
	require.NoError(t, os.Chtimes(p.Checks, t0, t0))
	res, err := Rebuild(p, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, res.Verdicts, 4)
	assert.Contains(t, res.Verdicts[0].Err, `not met: ttft.p50 = 50.000 ms, want < 40ms (n=3`)
	assert.Contains(t, res.Verdicts[0].Err, `(from -slo "ttft.p50 < 40ms")`)
	r := res.Verdicts[0].Reason
	assert.True(t, strings.HasPrefix(r, "ttft.p50 = 50.000 ms, want < 40ms (n=3"), "the reason does not name the check: %q", r)
	assert.True(t, strings.HasSuffix(r, `(from -slo "ttft.p50 < 40ms")`), r)
	assert.Equal(t, `vmtest: threshold "ttft.p50 < 40ms" not met: `+r, res.Verdicts[0].Err)
	assert.Equal(t, report.Verdict{Check: `threshold "ttft.p50 < 60ms"`}, res.Verdicts[1])
	assert.Equal(t, report.Verdict{Check: "at least 12 requests", Unknown: notRerun}, res.Verdicts[2])
	// A figure with no data is not met (never a pass, never "not known"), and marked so.
	assert.True(t, res.Verdicts[3].NoData)
	assert.Empty(t, res.Verdicts[3].Unknown)
	assert.Contains(t, res.Verdicts[3].Err, `cgroup_cpu_percent.max < 50%: no data (`)
	assert.False(t, res.Verdicts[0].NoData, "a figure proven on the wrong side is not no data")

	page, err := os.ReadFile(res.Summary.Files["report_html"])
	require.NoError(t, err)
	html := string(page)
	assert.Contains(t, html, "The run was killed before it checked its SLOs")
	assert.Contains(t, html, `<td class="failed">NOT MET</td>`)
	assert.Contains(t, html, `<td class="failed">NOT MET (no data)</td>`)
	assert.Contains(t, html, `<td class="met">met</td>`)
	assert.Contains(t, html, `<td>not known</td>`)
	assert.NotContains(t, html, "the report the run itself wrote", "a killed run wrote none")
	assert.FileExists(t, res.Moved.Checks)
	assert.NoFileExists(t, p.Checks)
}

// A journal without a checks file (written before they were) rebuilds with the verdicts unknown, and a
// page that says why without pointing at a report the run never wrote; a checks file of another run is
// not taken, with a warning.
func TestRebuildWithoutKeptChecks(t *testing.T) {
	p := killedRun(t, t.TempDir(), t0)
	require.NoError(t, os.Remove(p.Checks))
	res, err := Rebuild(p, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Nil(t, res.Verdicts)
	page, err := os.ReadFile(res.Summary.Files["report_html"])
	require.NoError(t, err)
	assert.Contains(t, string(page), "Not known: the run did not finish, so it checked no SLO and wrote no report of its own")
	assert.NotContains(t, string(page), "the report the run itself wrote")

	p = killedRun(t, t.TempDir(), t0)
	w := &Writer{paths: p, head: header(100)}
	w.head.RunID = "other"
	require.NoError(t, w.SetChecks([]Check{{Check: `threshold "ttft.p50 < 60ms"`, Threshold: "ttft.p50 < 60ms"}}))
	b, err := Load(p)
	require.NoError(t, err)
	assert.Nil(t, b.Run.Checks)
	assert.Contains(t, b.Summary.Warnings, `journal: the checks file is not taken (`+p.Checks+`: of run "other", not "run1"): the run's SLO checks are not evaluated`)
}

// Past MaxChecks, SetChecks keeps the first MaxChecks, says how many it left out, and the file it wrote is
// one Read takes; at exactly MaxChecks it says nothing.
func TestSetChecksSaysWhatItLeavesOut(t *testing.T) {
	p := killedRun(t, t.TempDir(), t0)
	w := &Writer{paths: p, head: header(100)}
	checks := make([]Check, MaxChecks+2)
	for i := range checks {
		checks[i] = Check{Check: fmt.Sprintf("c%d", i)}
	}
	require.NoError(t, w.SetChecks(checks[:MaxChecks]))
	err := w.SetChecks(checks)
	require.EqualError(t, err, "journal: "+p.Checks+" keeps the first 1024 of 1026 checks: a rebuild evaluates only those")
	c, err := readChecks(p.Checks, "run1")
	require.NoError(t, err)
	require.Len(t, c.Checks, MaxChecks)
	assert.Equal(t, "c1023", c.Checks[MaxChecks-1].Check)
}
