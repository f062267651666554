package journal

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A line the kernel refuses is an error naming the file and the kernel's reason, and appending stops there:
// the collector logs it and goes on without a journal.
func TestAppendErrorNamesTheFile(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	defer w.Remove()
	own := w.snaps
	w.snaps = newAppendFile(full)
	err = w.Append(Entry{Snapshot: snap(0)})
	w.snaps = own
	full.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "journal: append to /dev/full")
	assert.True(t, errors.Is(err, syscall.ENOSPC), "the kernel's reason is kept: %v", err)
}

// A line of many pages arrives whole, and the next one after it.
func TestAppendWritesALargeLineWhole(t *testing.T) {
	p := testPaths(t)
	w, err := Create(p, header(100))
	require.NoError(t, err)
	big := snap(0)
	big.Errors = map[string]string{"gpu": strings.Repeat("x", 300_000)}
	require.NoError(t, w.Append(Entry{Snapshot: big}))
	require.NoError(t, w.Append(Entry{Snapshot: snap(1)}))
	require.NoError(t, w.Close())
	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Ticks, 2)
	assert.Len(t, run.Ticks[0].Snapshot.Errors["gpu"], 300_000)
	assert.Zero(t, run.Skipped)
}
