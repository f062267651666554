//go:build unix

package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/journal"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/vllmsim"
)

// Environment of the child process TestKilledRunIsRebuiltFromItsJournal starts: how it dies, where it writes.
const (
	envJournalChild = "VMTEST_TEST_JOURNAL_CHILD"
	envJournalDir   = "VMTEST_TEST_JOURNAL_DIR"
)

// TestJournalChild is the run that gets killed: it collects against the simulator, records 12 requests, waits
// for the second tick after the last of them (the first may have begun before it ended; the second began
// after, so its snapshot counts it and its append journaled it), stops the ticks, prints what the journal
// holds, and dies as its environment says.
func TestJournalChild(t *testing.T) {
	mode := os.Getenv(envJournalChild)
	if mode == "" {
		t.Skip("the child of TestKilledRunIsRebuiltFromItsJournal")
	}
	sim := vllmsim.New(t, vllmsim.Config{Seed: 1, TTFTBase: 5 * time.Millisecond, TimePerOutputToken: time.Millisecond})
	c := Collect(t, Options{VLLMBaseURL: sim.URL, Interval: 50 * time.Millisecond, OutputDir: os.Getenv(envJournalDir),
		GPUSource: "none", NoSystem: true})
	_, err := loadgen.Run(context.Background(), loadgen.LoadConfig{
		Client: loadgen.ClientConfig{BaseURL: sim.URL}, Prompts: loadgen.TextPrompts("a b c"),
		Params: loadgen.Params{MaxTokens: 4}, Concurrency: 3, Requests: 12, Sink: c,
	})
	require.NoError(t, err)
	n := len(c.Snapshots())
	for len(c.Snapshots()) < n+2 {
		time.Sleep(time.Millisecond) // waiting for the next tick, not timing anything
	}
	c.mu.Lock() // every tick appends under c.mu: from here the journal holds exactly what is printed
	fmt.Printf("JOURNALED snapshots=%d requests=%d\n", len(c.snaps)+c.dropped, c.rec.Len())
	switch mode {
	case "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "panic":
		go func() { panic("vmtest test: a panic in another goroutine") }()
	}
	select {} // until SIGKILL, the panic, or the parent's SIGTERM or SIGINT ends the process
}

// A run killed by SIGKILL, by a panic in another goroutine, by SIGTERM or by SIGINT keeps everything up to its last
// interval: its journal rebuilds the full file set, with exactly the snapshots and requests it had journaled,
// and a summary that says it did not finish. (`go test -timeout` ends a test binary the "panic" way: the
// testing package's timer goroutine panics.)
func TestKilledRunIsRebuiltFromItsJournal(t *testing.T) {
	if os.Getenv(envJournalChild) != "" {
		t.Skip("in the child")
	}
	for _, mode := range []string{"kill", "panic", "term", "int"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestJournalChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), envJournalChild+"="+mode, envJournalDir+"="+dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			var snaps, reqs int
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if _, err := fmt.Sscanf(sc.Text(), "JOURNALED snapshots=%d requests=%d", &snaps, &reqs); err == nil {
					break
				}
			}
			switch mode {
			case "term":
				require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			case "int":
				require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			}
			for sc.Scan() {
			}
			werr := cmd.Wait()
			require.Error(t, werr, "the child must die, not finish; stderr:\n%s", stderr.String())
			require.Equal(t, 12, reqs, "the child's line; stderr:\n%s", stderr.String())
			require.Positive(t, snaps)
			if mode == "panic" {
				assert.Contains(t, stderr.String(), "a panic in another goroutine")
			}

			found, err := journal.Find(dir)
			require.NoError(t, err)
			require.Len(t, found, 1)
			res, err := journal.Rebuild(found[0], time.Now().Add(time.Hour)) // the child is dead: no longer running
			require.NoError(t, err)
			require.Empty(t, res.Skipped)
			sum, run := res.Summary, res.Run
			assert.Equal(t, snaps, sum.Snapshots, "every snapshot journaled")
			assert.Equal(t, reqs, sum.Requests.Total, "every request journaled")
			assert.Equal(t, reqs, sum.Requests.OK)
			assert.Equal(t, 12*4, int(sum.Requests.OutputTokens))
			assert.Equal(t, 12*3, sum.Requests.ITLMS.N, "4 tokens: 3 chunk gaps a request")
			assert.False(t, sum.Finished)
			assert.Zero(t, run.Skipped)
			scraped := 0
			for _, tk := range run.Ticks {
				if tk.Snapshot.Errors["vllm"] == "" {
					scraped++
				}
			}
			if scraped > 0 { // a tick with a scrape journaled the server statistics
				assert.NotNil(t, sum.Server, "the server statistics were journaled")
			}
			assert.Equal(t, "journal", sum.Events[len(sum.Events)-1].Source)
			f, err := os.Open(sum.Files["requests_csv"])
			require.NoError(t, err)
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			require.NoError(t, err)
			assert.Len(t, rows, 1+reqs)
			finished := 0
			for _, tk := range run.Ticks {
				finished += tk.Snapshot.VLLMMetrics.RequestsFinished
			}
			assert.Equal(t, reqs, finished, "each request in the snapshot of the interval it ended in")
			b, err := os.ReadFile(sum.Files["snapshots_json"])
			require.NoError(t, err)
			assert.Equal(t, snaps, strings.Count(string(b), `"elapsed_s"`))
		})
	}
}
