package vmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	vassert "github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/summary"
)

// The checks registered on a run are kept beside its journal as they are registered, so that a run killed
// before it checked them is checked when rebuilt: its thresholds are evaluated again (TTFT 100, 200, 300 ms:
// p50 200 ms), a typed check through its expression (p99 298 ms), a Func check is not known.
func TestJournalKeepsTheRegisteredChecks(t *testing.T) {
	dir, killed := t.TempDir(), t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		c, err := Start(context.Background(), Options{ConfigID: "slo", Interval: time.Second, OutputDir: dir,
			GPUSource: "none", NoPNG: true, NoSystem: true})
		require.NoError(t, err)
		defer c.Finish()
		now := time.Now()
		for _, ttft := range []time.Duration{100, 200, 300} {
			c.RecordRequest(okReq(now, ttft*time.Millisecond, 400*time.Millisecond, 3))
		}
		c.AssertFrom(`from -slo "ttft.p50 < 150ms"`, vassert.Expr("ttft.p50 < 150ms"))
		c.Assert(vassert.Expr("ttft.p50 < 250ms"), vassert.P99Below("ttft", 250*time.Millisecond),
			vassert.Func("mine", func(*summary.Summary) error { return nil }))
		c.journal.checksMu.Lock()
		assert.Equal(t, uint64(2), c.journal.checksWritten, "the checks file is written once per call, not once per check")
		c.journal.checksMu.Unlock()
		time.Sleep(1500 * time.Millisecond) // the tick at 1 s journals the rows
		found, err := journal.Find(dir)
		require.NoError(t, err)
		require.Len(t, found, 1)
		run, err := journal.Read(found[0])
		require.NoError(t, err)
		require.NotNil(t, run.Checks)
		require.Len(t, run.Checks.Checks, 4)
		assert.Equal(t, journal.Check{Check: `threshold "ttft.p50 < 150ms"`, Threshold: "ttft.p50 < 150ms",
			From: `from -slo "ttft.p50 < 150ms"`}, run.Checks.Checks[0])
		assert.Equal(t, "ttft.p50 < 250ms", run.Checks.Checks[1].Threshold)
		assert.True(t, strings.HasPrefix(run.Checks.Checks[1].From, "check registered at journal_checks_test.go:"), run.Checks.Checks[1].From)
		assert.Equal(t, `P99Below("ttft", 250ms)`, run.Checks.Checks[2].Check)
		assert.Equal(t, "ttft.p99 < 250ms", run.Checks.Checks[2].Threshold, "a typed check is kept as its expression")
		assert.Equal(t, "mine", run.Checks.Checks[3].Check)
		assert.Empty(t, run.Checks.Checks[3].Threshold)
		// What a SIGKILL now would leave: the journal's files as they are, but for their writer (this process,
		// alive here, whose journal is never rebuilt).
		for _, f := range []string{found[0].Snapshots, found[0].Requests, found[0].Checks} {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(killed, filepath.Base(f)), writtenElsewhere(t, b), 0o644))
		}
	})
	found, err := journal.Find(killed)
	require.NoError(t, err)
	require.Len(t, found, 1)
	res, err := journal.Rebuild(found[0], time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, res.Verdicts, 4)
	assert.Contains(t, res.Verdicts[0].Err, "ttft.p50 = 200.000 ms, want < 150ms")
	assert.Empty(t, res.Verdicts[1].Err)
	assert.Empty(t, res.Verdicts[1].Unknown)
	assert.Contains(t, res.Verdicts[2].Err, "ttft.p99 = 298.000 ms, want < 250ms", "numpy-linear p99 of 100, 200, 300 ms")
	assert.Equal(t, `P99Below("ttft", 250ms)`, res.Verdicts[2].Check)
	assert.NotEmpty(t, res.Verdicts[3].Unknown)
	assert.Equal(t, "slo", res.Summary.TestName)
}

// The checks file is written outside the collector's lock, so two registrations can race to write it: the
// newest list wins, and nothing is written once the journal is closed.
func TestJournalChecksNewestListWins(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		c, err := Start(context.Background(), Options{Interval: time.Second, OutputDir: dir, GPUSource: "none", NoSystem: true})
		require.NoError(t, err)
		defer c.Finish()
		one := []journal.Check{{Check: "one"}}
		two := []journal.Check{{Check: "one"}, {Check: "two"}}
		require.NoError(t, c.journalChecks(c.journal.w, two, 2))
		require.NoError(t, c.journalChecks(c.journal.w, one, 1)) // older, late: not written
		found, err := journal.Find(dir)
		require.NoError(t, err)
		require.Len(t, found, 1)
		run, err := journal.Read(found[0])
		require.NoError(t, err)
		require.NotNil(t, run.Checks)
		assert.Equal(t, two, run.Checks.Checks)

		w := c.journal.w
		c.closeJournal(false)
		require.NoError(t, c.journalChecks(w, one, 3))
		run, err = journal.Read(found[0])
		require.NoError(t, err)
		assert.Equal(t, two, run.Checks.Checks, "not written after the journal was closed")
	})
}

// writtenElsewhere is the journal file b with its header's writer (the first line's "writer") replaced by a
// process of another host, which may run: its file times decide. A file without a JSON header (the checks
// file) is returned as it is.
func writtenElsewhere(t *testing.T, b []byte) []byte {
	t.Helper()
	head, rest, ok := bytes.Cut(b, []byte("\n"))
	var h map[string]json.RawMessage
	if !ok || json.Unmarshal(head, &h) != nil || h["writer"] == nil {
		return b
	}
	h["writer"] = json.RawMessage(`{"pid":1,"host":"elsewhere","boot_id":"b"}`)
	head, err := json.Marshal(h)
	require.NoError(t, err)
	return append(append(head, '\n'), rest...)
}
