package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// Merged is the shards of one load test combined, ready to be written (Write).
type Merged struct {
	// Summary is the merged summary: request statistics over every merged shard's requests (recorder.MergeStates),
	// the client cost of every shard's process (client_statistics, recorder.ClientCost.Add);
	// snapshots, server, GPU, host and source figures of the lowest-index shard (every shard scrapes the same
	// server); every shard's events and warnings, each prefixed "shard <i>: ", except the shards' client/server
	// cross-checks (summary.CrossCheck: each compares one shard's share with the whole server), which are
	// computed once, over the merged requests against the server figures kept.
	Summary *summary.Summary
	// Missing are the indexes of the shards of the count that were not merged, in order; empty when every
	// shard was.
	Missing []int
	// Snapshots is the lowest-index shard's snapshots file; Rows the shards' request rows in shard order,
	// IDs prefixed "<i>/", at most Options.MaxRows. Both count their seconds (ElapsedS; StartS and EndS)
	// from the earliest shard's start, Summary.Start.
	Snapshots report.SnapshotFile
	Rows      []recorder.Record
	// Shard is the merged shard file (Count 1), which a later Merge takes as one shard.
	Shard File
}

// Options tune Merge; the zero value is the default.
type Options struct {
	// MaxRows bounds the merged requests CSV's rows; 0 means recorder.DefaultMaxRecords. Requests past it
	// are still in every count and statistic, and Counts.Dropped says how many rows are missing.
	MaxRows int
}

// part is one shard's directory read.
type part struct {
	dir  string
	sum  summary.Summary
	file File
}

// Merge reads the latest run in each of dirs (its summary_statistics.json, and the shard file and files it
// names) and merges them. It returns an error naming the directory for a run without a shard file (not
// run with -shard-count), two shards with one index, shards of different counts or workloads (naming the
// field), or a distribution that does not merge.
func Merge(dirs []string, o Options) (*Merged, error) {
	if len(dirs) == 0 {
		return nil, errors.New("shard: no directory to merge")
	}
	parts := make([]part, len(dirs))
	for i, d := range dirs {
		p, err := readPart(d)
		if err != nil {
			return nil, err
		}
		parts[i] = p
	}
	slices.SortStableFunc(parts, func(a, b part) int { return a.file.Shard.Index - b.file.Shard.Index })
	first := parts[0]
	states := make([]recorder.State, len(parts))
	for i, p := range parts {
		switch {
		case i > 0 && p.file.Shard.Index == parts[i-1].file.Shard.Index:
			return nil, fmt.Errorf("shard: %s and %s are both shard %d", parts[i-1].dir, p.dir, p.file.Shard.Index)
		case p.file.Shard.Count != first.file.Shard.Count:
			return nil, fmt.Errorf("shard: %s is shard %d of %d, %s of %d", p.dir, p.file.Shard.Index, p.file.Shard.Count, first.dir, first.file.Shard.Count)
		}
		if d := first.file.Workload.diff(p.file.Workload); d != "" {
			return nil, fmt.Errorf("shard: %s and %s ran different load tests: %s", first.dir, p.dir, d)
		}
		states[i] = p.file.Requests
	}
	state, err := recorder.MergeStates(states)
	if err != nil {
		return nil, fmt.Errorf("shard: merging the request statistics of %d shards: %w", len(parts), err)
	}
	reqs, err := state.Summary()
	if err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	sf, err := readSnapshots(first)
	if err != nil {
		return nil, err
	}
	start := first.sum.Start
	for _, p := range parts {
		if p.sum.Start.Before(start) {
			start = p.sum.Start
		}
	}
	rows, err := mergeRows(parts, start, o.MaxRows)
	if err != nil {
		return nil, err
	}
	reqs.Dropped = reqs.Total - len(rows)
	state.Counts.Dropped = reqs.Dropped
	for i := range sf.Snapshots { // counted from the merged start, as the rows are
		sf.Snapshots[i].ElapsedS += first.sum.Start.Sub(start).Seconds()
	}
	sf.Start = start
	sum := mergedSummary(parts, start, sf, reqs)
	return &Merged{Summary: sum, Missing: missing(parts), Snapshots: sf, Rows: rows,
		Shard: File{Version: FileVersion, Shard: Spec{Index: 0, Count: 1}, RunID: sum.RunID, Workload: first.file.Workload, Requests: state}}, nil
}

// readPart reads the latest run of dir: its summary_statistics.json and the shard file beside its snapshots.
func readPart(dir string) (part, error) {
	p := part{dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, "summary_statistics.json"))
	if err != nil {
		return p, fmt.Errorf("shard: %s holds no run: %w", dir, err)
	}
	if err := json.Unmarshal(b, &p.sum); err != nil {
		return p, fmt.Errorf("shard: %s: summary_statistics.json: %w", dir, err)
	}
	snaps := p.sum.Files["snapshots_json"]
	if snaps == "" {
		return p, fmt.Errorf("shard: %s: its summary names no snapshots file", dir)
	}
	path := PathFor(filepath.Join(dir, filepath.Base(snaps)))
	if p.file, err = ReadFile(path); errors.Is(err, os.ErrNotExist) {
		return p, fmt.Errorf("shard: %s: no shard file %s: was the run a shard (vmtest load -shard-count)?", dir, filepath.Base(path))
	} else if err != nil {
		return p, fmt.Errorf("shard: %w", err)
	}
	return p, nil
}

// readSnapshots reads p's snapshots file.
func readSnapshots(p part) (report.SnapshotFile, error) {
	var sf report.SnapshotFile
	path := filepath.Join(p.dir, filepath.Base(p.sum.Files["snapshots_json"]))
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &sf)
	}
	if err != nil {
		return sf, fmt.Errorf("shard: %s: %w", path, err)
	}
	return sf, nil
}

// mergeRows concatenates the shards' request rows in shard order, re-based to start, up to maxRows.
func mergeRows(parts []part, start time.Time, maxRows int) ([]recorder.Record, error) {
	if maxRows <= 0 {
		maxRows = recorder.DefaultMaxRecords
	}
	kept := 0 // the rows the shards' CSVs hold, to allocate the rows once
	for _, p := range parts {
		kept += max(p.file.Requests.Counts.Total-p.file.Requests.Counts.Dropped, 0)
	}
	rows := make([]recorder.Record, 0, min(kept, maxRows))
	for _, p := range parts {
		name := p.sum.Files["requests_csv"]
		if name == "" || len(rows) >= maxRows {
			continue
		}
		shift := p.sum.Start.Sub(start).Seconds()
		prefix := strconv.Itoa(p.file.Shard.Index) + "/"
		err := report.EachRequestRecord(filepath.Join(p.dir, filepath.Base(name)), maxRows-len(rows), func(r recorder.Record) {
			r.StartS += shift
			r.EndS += shift
			r.ID = prefix + r.ID
			rows = append(rows, r)
		})
		if err != nil {
			return nil, fmt.Errorf("shard: %w", err)
		}
	}
	return rows, nil
}

// mergedSummary computes the merged summary: reqs over every shard, the rest from the first shard's.
func mergedSummary(parts []part, start time.Time, sf report.SnapshotFile, reqs recorder.Summary) *summary.Summary {
	first := parts[0].sum
	end, finished := first.End, true
	var events []snapshot.Event
	var warnings []string
	var client *recorder.ClientCost
	dirs := make([]string, len(parts))
	for i, p := range parts {
		client = addCost(client, p.sum.Client)
		if p.sum.End.After(end) {
			end = p.sum.End
		}
		finished = finished && p.sum.Finished
		tag := "shard " + strconv.Itoa(p.file.Shard.Index) + ": "
		for _, e := range p.sum.Events {
			e.Message = tag + e.Message
			events = append(events, e)
		}
		own := map[string]bool{}
		for _, w := range summary.CrossCheck(p.sum.Server, p.sum.Requests, p.sum.Start) {
			own[w] = true
		}
		for _, w := range p.sum.Warnings {
			if !own[w] {
				warnings = append(warnings, tag+w)
			}
		}
		dirs[i] = p.dir
	}
	count := parts[0].file.Shard.Count
	note := fmt.Sprintf("merged %d of %d shards (%v): request statistics over the merged shards' requests; snapshots, server, GPU and host figures are shard %d's (%s); "+
		"the client/server cross-checks are over the merged requests", len(parts), count, dirs, parts[0].file.Shard.Index, parts[0].dir)
	if len(parts) < count {
		note = fmt.Sprintf("only %d of the %d shards merged: the requests of the missing ones are in no figure; ", len(parts), count) + note
	}
	sum := summary.Compute(summary.Input{
		RunID: first.RunID + "-merged", ConfigID: first.ConfigID, Start: start, End: end, DurationS: end.Sub(start).Seconds(),
		IntervalS: first.IntervalS, Snapshots: sf.Snapshots, SnapshotsDropped: first.SnapshotsDropped, Requests: reqs,
		Server: first.Server, Sources: first.Sources, Events: events, Warnings: append([]string{note}, warnings...),
		Client: client,
	})
	sum.Finished = finished
	if gone := missing(parts); len(gone) > 0 {
		blameMissing(sum, gone)
	}
	return sum
}

// blameMissing adds to each of sum's client/server cross-check warnings (summary.CrossCheck) that the missing
// shards gone are its likely cause: the server counted their requests, which no merged figure has.
func blameMissing(sum *summary.Summary, gone []int) {
	cross := map[string]bool{}
	for _, w := range summary.CrossCheck(sum.Server, sum.Requests, sum.Start) {
		cross[w] = true
	}
	for i, w := range sum.Warnings {
		if cross[w] {
			sum.Warnings[i] = fmt.Sprintf("%s; here most likely the missing shards (%s): the server counted their requests, which no merged figure has",
				w, shardList(gone))
		}
	}
}

// shardList is "shard 0" or "shards 0, 2".
func shardList(idx []int) string {
	s := make([]string, len(idx))
	for i, n := range idx {
		s[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return "shard " + s[0]
	}
	return "shards " + strings.Join(s, ", ")
}

// addCost returns sum with c added (recorder.ClientCost.Add); nil while neither is known.
func addCost(sum, c *recorder.ClientCost) *recorder.ClientCost {
	if c == nil {
		return sum
	}
	if sum == nil {
		sum = &recorder.ClientCost{}
	}
	sum.Add(*c)
	return sum
}

// missing returns the shard indexes below the count that parts (sorted by index) do not have.
func missing(parts []part) []int {
	var out []int
	next := 0
	for _, p := range parts {
		for ; next < p.file.Shard.Index; next++ {
			out = append(out, next)
		}
		next = p.file.Shard.Index + 1
	}
	for ; next < parts[0].file.Shard.Count; next++ {
		out = append(out, next)
	}
	return out
}

// Write writes m's file set under dir as one run of m's configuration: the files a run writes
// (report.WriteAll: summary_statistics.json, summary_<config>_<stamp>.json, the snapshots, the requests CSV,
// the PNG and the HTML report) and the merged shard file. It returns the errors of the files it could not
// write, joined.
func Write(dir string, m *Merged) error {
	files, err := report.Reserve(dir, m.Summary.ConfigID, m.Summary.Start, m.Snapshots.IntervalS, m.Summary.RunID)
	if err != nil {
		return fmt.Errorf("shard: %w", err)
	}
	m.Snapshots.RunID = m.Summary.RunID
	errs := []error{report.WriteAll(files, m.Snapshots, m.Rows, m.Summary, nil)}
	path := PathFor(files.SnapshotsJSON)
	errs = append(errs, WriteFile(path, m.Shard))
	return errors.Join(errs...)
}
