package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// rebuiltSuffix ends the name of a journal's snapshots file renamed after its run was rebuilt, and
// rebuiltRequestsSuffix that of its requests file; Find passes over them.
const (
	rebuiltSuffix         = ".rebuilt.jsonl"
	rebuiltRequestsSuffix = ".requests.rebuilt.bin"
	rebuiltChecksSuffix   = ".checks.rebuilt.json"
)

// maxSummary bounds the bytes read of a summary file to learn its run, start and whether it finished.
const maxSummary = 64 << 20

// Rebuilt returns the names p's files take once their run is rebuilt: journal_<config>_<stamp>.rebuilt.jsonl,
// .prev.rebuilt.jsonl, .requests.rebuilt.bin (.requests.rebuilt.jsonl for a requests file of the legacy
// name, .requests.jsonl) and .checks.rebuilt.json.
func (p Paths) Rebuilt() Paths {
	r := func(path string) string { return strings.TrimSuffix(path, ".jsonl") + rebuiltSuffix }
	req := r(p.Requests)
	if strings.HasSuffix(p.Requests, requestsSuffix) {
		req = strings.TrimSuffix(p.Requests, requestsSuffix) + rebuiltRequestsSuffix
	}
	out := Paths{Snapshots: r(p.Snapshots), Prev: r(p.Prev), Requests: req}
	if p.Checks != "" {
		out.Checks = strings.TrimSuffix(p.Checks, checksSuffix) + rebuiltChecksSuffix
	}
	return out
}

// rename renames each of p's files that exists to its counterpart in to, and returns to.
func (p Paths) rename(to Paths) (Paths, error) {
	for _, f := range [][2]string{{p.Snapshots, to.Snapshots}, {p.Prev, to.Prev}, {p.Requests, to.Requests}, {p.Checks, to.Checks}} {
		if f[0] == "" {
			continue
		}
		if err := os.Rename(f[0], f[1]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Paths{}, fmt.Errorf("journal: the run is rebuilt, but its journal stays: %w", err)
		}
	}
	return to, nil
}

// modified returns the latest modification time of p's files, and whether one exists.
func (p Paths) modified() (time.Time, bool) {
	var last time.Time
	ok := false
	for _, path := range []string{p.Snapshots, p.Prev, p.Requests} {
		if st, err := os.Stat(path); err == nil && (!ok || st.ModTime().After(last)) {
			last, ok = st.ModTime(), true
		}
	}
	return last, ok
}

// summaryHead is what Rebuild reads of a summary file.
type summaryHead struct {
	RunID    string    `json:"run_id"`
	Start    time.Time `json:"start"`
	Finished bool      `json:"finished"`
}

// readSummary reads the run, start and finished flag of the summary file at path; ok is false for a file
// that is missing or not a summary.
func readSummary(path string) (summaryHead, bool) {
	f, err := os.Open(path)
	if err != nil {
		return summaryHead{}, false
	}
	defer f.Close()
	var h summaryHead
	if err := json.NewDecoder(io.LimitReader(f, maxSummary)).Decode(&h); err != nil || h.RunID == "" {
		return summaryHead{}, false
	}
	return h, true
}

// finished reports whether the summary file at path exists and says its run finished.
func finished(path string) bool {
	h, ok := readSummary(path)
	return ok && h.Finished
}

// newerSummary returns the summary file in dir (summary_*.json, summary_statistics.json included) of a run
// other than h's that started at or after h.Start, or "" when there is none.
func newerSummary(dir string, h Header) string {
	names, _ := filepath.Glob(filepath.Join(dir, "summary_*.json"))
	for _, n := range names {
		if s, ok := readSummary(n); ok && s.RunID != h.RunID && !s.Start.Before(h.Start) {
			return n
		}
	}
	return ""
}
