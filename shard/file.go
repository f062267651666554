package shard

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
)

// FileVersion is the version of File's encoding; ReadFile refuses any other.
const FileVersion = 1

// MaxFileBytes bounds a shard file ReadFile takes: 10 distributions of recorder.ExactCap values and the
// per-model and per-turn groups' 10 of recorder.GroupExactCap each (8 bytes a value, base64), and 8 MiB to
// spare: about 176 MiB.
const MaxFileBytes = (10*recorder.ExactCap+2*recorder.MaxGroups*10*recorder.GroupExactCap)*8*4/3 + 8<<20

// Workload is what every shard of one load test must share for their results to merge: the load as a whole
// (totals, not one shard's share) and what each request asks. Merge refuses shards whose Workloads differ,
// naming the field.
type Workload struct {
	// ConfigID is the run's configuration id; Model the model requested.
	ConfigID string `json:"config_id"`
	Model    string `json:"model"`
	// Concurrency is the closed loop's total workers; Rate the open loop's total requests/s; Burstiness its
	// gamma shape; MaxConcurrency its total cap (0: none).
	Concurrency    int     `json:"concurrency"`
	Rate           float64 `json:"rate"`
	Burstiness     float64 `json:"burstiness"`
	MaxConcurrency int     `json:"max_concurrency"`
	// Requests is the total measured requests (0: no count limit); DurationS how long each shard sends, s.
	Requests  int     `json:"requests"`
	DurationS float64 `json:"duration_s"`
	// MaxTokens is the requests' max_tokens; Prompts a SHA-256 of the prompt list (hex), before the shard's
	// offset into it.
	MaxTokens int    `json:"max_tokens"`
	Prompts   string `json:"prompts_sha256"`
	// StartAt is the common start time (RFC 3339), "" when none was given.
	StartAt string `json:"start_at,omitempty"`
}

// diff names the first field where w and o differ, with both values; "" when they are equal.
func (w Workload) diff(o Workload) string {
	a, b := reflect.ValueOf(w), reflect.ValueOf(o)
	for i := range a.NumField() {
		if !a.Field(i).Equal(b.Field(i)) {
			tag, _, _ := strings.Cut(a.Type().Field(i).Tag.Get("json"), ",")
			return fmt.Sprintf("%s %v against %v", tag, a.Field(i).Interface(), b.Field(i).Interface())
		}
	}
	return ""
}

// File is a shard's results in a form that merges, written beside its other files as
// shard_<config>_<stamp>.json.
type File struct {
	// Version is FileVersion.
	Version int `json:"version"`
	// Shard is the shard's place; RunID the run that wrote the file (the summary's run_id).
	Shard Spec   `json:"shard"`
	RunID string `json:"run_id"`
	// Workload is the load test the shard is part of.
	Workload Workload `json:"workload"`
	// Requests is the shard's request recorder's state (recorder.State).
	Requests recorder.State `json:"requests"`
}

// PathFor returns the shard file's path for a run whose snapshots file is snapshotsJSON
// (metrics_<config>_<stamp>.json): shard_<config>_<stamp>.json beside it.
func PathFor(snapshotsJSON string) string {
	dir, base := filepath.Split(snapshotsJSON)
	return filepath.Join(dir, "shard_"+strings.TrimPrefix(base, "metrics_"))
}

// WriteFile writes f to path atomically.
func WriteFile(path string, f File) error {
	f.Version = FileVersion
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("shard file %s: %w", path, err)
	}
	return report.WriteFileAtomic(path, b)
}

// ReadFile reads a shard file. Errors name the path: unreadable, over MaxFileBytes, not JSON, another version
// of the file or of its request state (recorder.StateVersion), naming both versions.
func ReadFile(path string) (File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.Size() > MaxFileBytes {
		return File{}, fmt.Errorf("%s: %d bytes, over the %d a shard file holds", path, st.Size(), MaxFileBytes)
	}
	var f File
	if err := json.NewDecoder(fh).Decode(&f); err != nil {
		return File{}, fmt.Errorf("%s: not a shard file: %w", path, err)
	}
	if f.Version != FileVersion {
		return File{}, fmt.Errorf("%s: shard file version %d, want %d", path, f.Version, FileVersion)
	}
	if v := f.Requests.Version; v != recorder.StateVersion {
		return File{}, fmt.Errorf("%s: request state version %d, want %d: the shard ran another vmtest; run every shard with this one", path, v, recorder.StateVersion)
	}
	return f, nil
}
