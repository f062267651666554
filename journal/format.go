package journal

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// Format and Version are the first line's "format" and "version" (the version the Writer writes): Read
// refuses any other format, and any version but 1 to Version. From version 2 the requests file holds binary
// rows after its header line (appendRow); in version 1 it held JSON lines (requestLine). Version 3's rows also
// hold the send lag, ignore_eos, the request's model and session turn (recorder.Record.SendLagMS, IgnoreEOS,
// Model, Turn; unknown, NaN, false, "" and 0, in older ones). The snapshots file is the same in all.
const (
	Format  = "vmtest-journal"
	Version = 3
)

// Kinds of journal file, the header's "kind".
const (
	KindSnapshots = "snapshots"
	KindRequests  = "requests"
)

// Header is the first line of each journal file: what the run was, enough to rebuild its files.
type Header struct {
	// Format is always Format; Version is Version.
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Kind is KindSnapshots or KindRequests.
	Kind string `json:"kind"`
	// Segment numbers the snapshots files of one run from 0 (see the package doc); 0 for requests.
	Segment int `json:"segment"`
	// RunID, ConfigID and TestName are the run's, as in summary.Summary.
	RunID    string `json:"run_id"`
	ConfigID string `json:"config_id"`
	TestName string `json:"test_name,omitempty"`
	// Start is when collection began; IntervalS the sampling interval, s.
	Start     time.Time `json:"start"`
	IntervalS float64   `json:"interval_s"`
	// MaxSnapshots bounds the snapshots kept (the collector's Options.MaxSnapshots, resolved): 1 to MaxBound.
	MaxSnapshots int `json:"max_snapshots"`
	// MaxRequests bounds the request rows kept and journaled (the collector's Options.MaxRequests, resolved:
	// negative for none); absent (0) in journals written before it was, which Read takes as
	// recorder.DefaultMaxRecords (see Rows).
	MaxRequests int `json:"max_requests,omitempty"`
	// GoodputSLOsMS are the goodput limits, ms, keyed "ttft", "tpot", "e2e" (recorder.Summary.GoodputSLOs).
	GoodputSLOsMS map[string]float64 `json:"goodput_slos_ms,omitempty"`
	// GPUKeys are the GPUs asked for by index (report.SnapshotFile.GPUKeys), so a rebuilt metrics CSV has their
	// columns as the finished run's would; absent when none was named.
	GPUKeys []string `json:"gpu_keys,omitempty"`
	// Writer is the process writing the journal (Create sets it to Self when nil), so a rebuild can tell a run
	// that ended from one still going; absent in journals written before it was (nil: may still run).
	Writer *Owner `json:"writer,omitempty"`
	// NoPNG is the run's choice to write no metrics_<config>_<stamp>.png (the collector's Options.NoPNG),
	// which a rebuild keeps; absent (false) in journals written before it was.
	NoPNG bool `json:"no_png,omitempty"`
}

// Tick is one snapshots-file line: a snapshot and the run's state when it was taken.
type Tick struct {
	// Seq numbers the snapshots of the run from 0.
	Seq int `json:"seq"`
	// Snapshot is the snapshot, as written to metrics_<config>_<stamp>.json.
	Snapshot snapshot.Snapshot `json:"snapshot"`
	// Requests are the request tallies at this tick (recorder.Counts: every request, kept as a row or not).
	Requests recorder.Counts `json:"requests"`
	// Sources is every metric source's status at this tick.
	Sources map[string]summary.SourceStatus `json:"sources"`
	// Events are the events met since the previous line; on a segment's first line, every event so far
	// (EventsAll).
	Events    []snapshot.Event `json:"events,omitempty"`
	EventsAll bool             `json:"events_all,omitempty"`
	// Server is the server-side statistics over the run so far; absent when unchanged since the previous line
	// (always present on a segment's first line once known).
	Server *serverstats.Stats `json:"server,omitempty"`
	// ITLSketch is the ITL distribution's state once it is a sketch (recorder.Recorder.ITLSketch: past
	// recorder.ExactCap chunk gaps, when rows are journaled without their gaps); absent before.
	ITLSketch *recorder.SketchState `json:"itl_sketch,omitempty"`
}

// requestLine is one version-1 requests-file line: a recorder.Record with unknown durations
// as null, and its ITL chunk gaps in whole ns (absent once the recorder's ITL distribution had more than
// recorder.ExactCap gaps).
type requestLine struct {
	ID                    string           `json:"id,omitempty"`
	StartS                float64          `json:"start_s"`
	EndS                  float64          `json:"end_s"`
	TTFTMS                *float64         `json:"ttft_ms"`
	TTFOMS                *float64         `json:"ttfo_ms"`
	E2EMS                 *float64         `json:"e2e_ms"`
	TPOTMS                *float64         `json:"tpot_ms"`
	ITLMeanMS             *float64         `json:"itl_mean_ms"`
	TTFTFromIntendedMS    *float64         `json:"ttft_from_intended_ms"`
	E2EFromIntendedMS     *float64         `json:"e2e_from_intended_ms"`
	SlotWaitMS            float64          `json:"slot_wait_ms"`
	TimeToRejectMS        *float64         `json:"time_to_reject_ms"`
	PromptTokens          int              `json:"prompt_tokens"`
	OutputTokens          int              `json:"output_tokens"`
	RequestedOutputTokens int              `json:"requested_output_tokens"`
	OutputTokensEstimated bool             `json:"output_tokens_estimated,omitempty"`
	ReasoningTokens       int              `json:"reasoning_tokens,omitempty"`
	FinishReason          string           `json:"finish_reason,omitempty"`
	HTTPStatus            int              `json:"http_status"`
	Outcome               recorder.Outcome `json:"outcome"`
	Error                 string           `json:"error,omitempty"`
	ITLGaps               int              `json:"itl_gaps"`
	ITLNS                 json.RawMessage  `json:"itl_ns,omitempty"`
}

func (l *requestLine) record() recorder.Record {
	nan := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	return recorder.Record{
		ID: l.ID, StartS: l.StartS, EndS: l.EndS, TTFTMS: nan(l.TTFTMS), TTFOMS: nan(l.TTFOMS), E2EMS: nan(l.E2EMS), TPOTMS: nan(l.TPOTMS),
		ITLMeanMS: nan(l.ITLMeanMS), TTFTFromIntendedMS: nan(l.TTFTFromIntendedMS),
		E2EFromIntendedMS: nan(l.E2EFromIntendedMS), SlotWaitMS: l.SlotWaitMS, TimeToRejectMS: nan(l.TimeToRejectMS),
		PromptTokens: l.PromptTokens,
		OutputTokens: l.OutputTokens, RequestedOutputTokens: l.RequestedOutputTokens,
		OutputTokensEstimated: l.OutputTokensEstimated, ReasoningTokens: l.ReasoningTokens, FinishReason: l.FinishReason, HTTPStatus: l.HTTPStatus,
		Outcome: l.Outcome, Error: l.Error, ITLGaps: l.ITLGaps, SendLagMS: math.NaN(),
	}
}

// Paths are the journal files of one run.
type Paths struct {
	// Snapshots is the current snapshots file; Prev the one before it (after the bound was reached);
	// Requests the requests file; Checks the checks file (Checks).
	Snapshots, Prev, Requests, Checks string
}

// PathsFor returns the journal files beside a run's final files: journal_<config>_<stamp>.jsonl,
// .prev.jsonl, .requests.bin and .checks.json, where metrics_<config>_<stamp>.json is files.SnapshotsJSON.
func PathsFor(files report.Files) Paths {
	dir, name := filepath.Split(files.SnapshotsJSON)
	return pathsOf(filepath.Join(dir, "journal_"+strings.TrimSuffix(strings.TrimPrefix(name, "metrics_"), ".json")))
}

// files returns the run's final files beside the journal (as report.Names names them).
func (p Paths) files() report.Files {
	dir, name := filepath.Split(p.Snapshots)
	stamp := strings.TrimSuffix(strings.TrimPrefix(name, "journal_"), ".jsonl")
	j := func(prefix, ext string) string { return filepath.Join(dir, prefix+stamp+ext) }
	return report.Files{SnapshotsJSON: j("metrics_", ".json"), SnapshotsCSV: j("metrics_", ".csv"),
		PlotPNG: j("metrics_", ".png"), RequestsCSV: j("requests_", ".csv"), RunSummaryJSON: j("summary_", ".json"),
		ReportHTML:  j("report_", ".html"),
		SummaryJSON: filepath.Join(dir, "summary_statistics.json")}
}

// Suffixes of the requests file: its name since it holds binary rows, and the name journals written before
// that carry (version 1's JSON lines, and version 2's first binary rows), which Find still reads.
const (
	requestsSuffix       = ".requests.bin"
	legacyRequestsSuffix = ".requests.jsonl"
)

// checksSuffix ends the name of the checks file.
const checksSuffix = ".checks.json"

// pathsOf returns the journal files whose common prefix (directory included) is stem.
func pathsOf(stem string) Paths {
	return Paths{Snapshots: stem + ".jsonl", Prev: stem + ".prev.jsonl", Requests: stem + requestsSuffix, Checks: stem + checksSuffix}
}

// Find returns the journals in dir, one Paths per run, ordered by file name, leaving out those already
// rebuilt (Paths.Rebuilt). A run may have any of its files missing (a kill before the first write, or
// during a rotation): Read says what it found. A run whose requests file has the legacy name
// (journal_<config>_<stamp>.requests.jsonl) and no .requests.bin gets that file as its Requests.
func Find(dir string) ([]Paths, error) {
	var names []string
	for _, pattern := range []string{"journal_*.jsonl", "journal_*" + requestsSuffix} {
		found, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		names = append(names, found...)
	}
	seen := map[string]bool{}
	var stems []string
	for _, n := range names {
		if strings.HasSuffix(n, rebuiltSuffix) || strings.HasSuffix(n, rebuiltRequestsSuffix) {
			continue
		}
		stem := strings.TrimSuffix(strings.TrimSuffix(n, ".jsonl"), requestsSuffix)
		stem = strings.TrimSuffix(strings.TrimSuffix(stem, ".prev"), ".requests")
		if !seen[stem] {
			seen[stem] = true
			stems = append(stems, stem)
		}
	}
	slices.Sort(stems)
	out := make([]Paths, 0, len(stems))
	for _, stem := range stems {
		p := pathsOf(stem)
		if _, err := os.Stat(p.Requests); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(stem + legacyRequestsSuffix); err == nil {
				p.Requests = stem + legacyRequestsSuffix
			}
		}
		out = append(out, p)
	}
	return out, nil
}
