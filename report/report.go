// Package report writes a test's files: the snapshots as JSON and as a flat CSV (the original Python collector's column names, so
// the original Python collector's pandas example runs unchanged), summary_statistics.json, and one row per request in a requests
// CSV. Every file is written atomically: to a temporary file in the same directory, synced, then renamed.
package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// TimestampLayout is the timestamp in file names, as the original Python collector's metrics_<config>_<timestamp> files use it.
const TimestampLayout = "20060102_150405"

// maxTempBase bounds the part of a file's name that its temporary file's name repeats, so that the
// temporary name ("." + base + ".tmp" + up to 20 random digits) stays under 255 bytes whatever the name.
const maxTempBase = 200

// TempBase returns base, or its first bytes up to a rune boundary when it is longer than a temporary
// file's name can repeat (200 bytes): the stem of a temporary file beside base.
func TempBase(base string) string {
	if len(base) <= maxTempBase {
		return base
	}
	n := maxTempBase
	for n > 0 && !utf8.RuneStart(base[n]) {
		n--
	}
	return base[:n]
}

// WriteFileAtomic writes data to path through a temporary file in the same directory and a rename, so a
// reader never sees a partial file. It creates the directory if needed. Errors name the path.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+TempBase(filepath.Base(path))+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SnapshotFile is the JSON document of metrics_<config>_<timestamp>.json: run metadata and every snapshot in
// the original Python collector's schema.
type SnapshotFile struct {
	// RunID identifies the run; ConfigID the configuration.
	RunID    string `json:"run_id"`
	ConfigID string `json:"config_id"`
	// Start is when collection began (RFC 3339 with offset).
	Start time.Time `json:"start"`
	// IntervalS is the sampling interval, s.
	IntervalS float64 `json:"interval_s"`
	// GPUKeys are the GPUs asked for by index ("gpu_<i>", from Options.GPUIDs), whose CSV columns are there
	// even when no reading came; empty when none was named (the CSV then has DefaultCSVGPUs' columns).
	GPUKeys []string `json:"gpu_keys,omitempty"`
	// Snapshots are every snapshot kept, oldest first.
	Snapshots []snapshot.Snapshot `json:"snapshots"`
}

// marshal is the indented JSON encoding of every file vmtest writes.
func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteJSON writes v as indented JSON to path, atomically.
func WriteJSON(path string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, b)
}

// fieldCols lists, for a struct type whose exported fields are *float64 or int with json tags, the JSON names
// and field indexes in declaration order.
type fieldCol struct {
	name  string
	index int
}

func fieldCols(t reflect.Type) []fieldCol {
	var out []fieldCol
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Pointer:
			if f.Type.Elem().Kind() != reflect.Float64 {
				continue
			}
		case reflect.Int:
		default:
			continue
		}
		out = append(out, fieldCol{name, i})
	}
	return out
}

var (
	gpuCols    = fieldCols(reflect.TypeOf(snapshot.GPU{}))
	vllmCols   = fieldCols(reflect.TypeOf(snapshot.VLLM{}))
	systemCols = fieldCols(reflect.TypeOf(snapshot.System{}))
	nodeCols   = fieldCols(reflect.TypeOf(snapshot.Node{}))
)

// cell formats a *float64 or int field: "" for nil, shortest decimal without exponent otherwise.
func cell(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return formatFloat(v.Elem().Float())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	}
	return ""
}

func formatFloat(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// DefaultCSVGPUs are the GPU keys whose columns the metrics CSV always has when no GPU was asked for by
// index: the two the original Python collector's README example plots (gpu_0_utilization, gpu_1_utilization).
var DefaultCSVGPUs = []string{"gpu_0", "gpu_1"}

// LatencySourceColumn is the metrics CSV column that names where each row's seed latency columns
// (first_token_latency_ms, mean_latency_ms, p50/p90/p99_latency_ms) come from: "client" (requests the run
// timed), "server" (the server's histograms over the interval, in a run that timed no request), or "" (none).
const LatencySourceColumn = "latency_source"

// SnapshotsCSV renders snaps as one row per snapshot with the original Python collector's flattened column
// names: timestamp, config_id, run_id, elapsed_s, then gpu_<i>_<field> for each GPU key in gpus (the GPUs
// asked for; DefaultCSVGPUs when gpus is empty) and every GPU seen in any snapshot (sorted by key), then the
// vllm_metrics fields (tokens_per_second, mean_latency_ms, ...), latency_source, the system_metrics fields
// (cpu_percent, ...) under their JSON names, node_<name>_<field> for each server node in any snapshot's
// node_metrics (sorted by name; none when no node was sampled), then "errors". An unknown value is an empty cell, so the columns
// of a GPU asked for but never read are there, empty.
//
// In a run whose snapshots hold no client latency (no request timed: vmtest collect), the seed latency columns
// are filled from the server's per-interval histogram figures of the same row (first_token_latency_ms from
// server_ttft_mean_ms, mean_latency_ms from server_e2e_mean_ms, p50/p90/p99_latency_ms from
// server_e2e_p50/p90/p99_ms) and latency_source says "server"; see LatencySourceColumn.
func SnapshotsCSV(snaps []snapshot.Snapshot, gpus ...string) ([]byte, error) {
	gpuKeys := csvGPUKeys(snaps, gpus)
	header := []string{"timestamp", "config_id", "run_id", "elapsed_s"}
	for _, k := range gpuKeys {
		for _, c := range gpuCols {
			header = append(header, k+"_"+c.name)
		}
	}
	for _, c := range vllmCols {
		header = append(header, c.name)
	}
	header = append(header, LatencySourceColumn)
	for _, c := range systemCols {
		header = append(header, c.name)
	}
	nodes := summary.NodeNames(snaps)
	for _, n := range nodes {
		for _, c := range nodeCols {
			header = append(header, "node_"+n+"_"+c.name)
		}
	}
	header = append(header, "errors")
	replicas := replicaNames(snaps)
	for _, name := range replicas {
		for _, c := range replicaCols {
			header = append(header, "replica_"+name+"_"+c.name)
		}
	}

	fromServer := !anyClientLatency(snaps)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	row := make([]string, 0, len(header))
	for i := range snaps {
		s := &snaps[i]
		row = append(row[:0], s.Timestamp.Format(time.RFC3339Nano), s.ConfigID, s.RunID, formatFloat(s.ElapsedS))
		for _, k := range gpuKeys {
			g, ok := s.GPUMetrics[k]
			gv := reflect.ValueOf(g)
			for _, c := range gpuCols {
				if !ok {
					row = append(row, "")
				} else {
					row = append(row, cell(gv.Field(c.index)))
				}
			}
		}
		v, source := rowLatency(s.VLLMMetrics, fromServer)
		vv := reflect.ValueOf(v)
		for _, c := range vllmCols {
			row = append(row, cell(vv.Field(c.index)))
		}
		row = append(row, source)
		sv := reflect.ValueOf(s.SystemMetrics)
		for _, c := range systemCols {
			row = append(row, cell(sv.Field(c.index)))
		}
		for _, n := range nodes {
			nv := reflect.ValueOf(s.NodeMetrics[n]) // absent: every field nil, empty cells
			for _, c := range nodeCols {
				row = append(row, cell(nv.Field(c.index)))
			}
		}
		row = append(row, joinErrors(s.Errors))
		for _, name := range replicas {
			rv := reflect.ValueOf(s.VLLMMetrics.Replicas[name])
			for _, c := range replicaCols {
				row = append(row, cell(rv.Field(c.index)))
			}
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// clientCols are the vllm_metrics columns the client fills (the requests it timed), which a replica's figures
// never have.
var clientCols = map[string]bool{"first_token_latency_ms": true, "mean_latency_ms": true, "p50_latency_ms": true,
	"p90_latency_ms": true, "p99_latency_ms": true, "requests_finished": true}

// replicaCols are the vllm_metrics columns each replica of a several-server run has (replica_<name>_<column>).
var replicaCols = func() []fieldCol {
	var out []fieldCol
	for _, c := range vllmCols {
		if !clientCols[c.name] {
			out = append(out, c)
		}
	}
	return out
}()

// replicaNames returns the replica names of any snapshot (vllm_metrics.replicas), sorted; nil for one server.
func replicaNames(snaps []snapshot.Snapshot) []string {
	set := map[string]bool{}
	for i := range snaps {
		for n := range snaps[i].VLLMMetrics.Replicas {
			set[n] = true
		}
	}
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}

// GPUKeysOf returns the GPU keys ("gpu_<i>") of the GPUs among ids named by index, as the original Python
// collector's gpu_ids name them, in order; UUIDs are left out (their key is known only once read).
func GPUKeysOf(ids []string) []string {
	var keys []string
	for _, id := range ids {
		if n, err := strconv.Atoi(strings.TrimSpace(id)); err == nil && n >= 0 {
			keys = append(keys, "gpu_"+strconv.Itoa(n))
		}
	}
	return keys
}

// csvGPUKeys is gpus (DefaultCSVGPUs when empty) and every GPU key seen in snaps, once each, in natural order.
func csvGPUKeys(snaps []snapshot.Snapshot, gpus []string) []string {
	if len(gpus) == 0 {
		gpus = DefaultCSVGPUs
	}
	keySet := map[string]bool{}
	for _, k := range gpus {
		keySet[k] = true
	}
	for i := range snaps {
		for k := range snaps[i].GPUMetrics {
			keySet[k] = true
		}
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	return keys
}

// hasClientLatency reports whether v holds latency the client timed in its interval.
func hasClientLatency(v *snapshot.VLLM) bool {
	return v.RequestsFinished > 0 || v.FirstTokenLatencyMS != nil || v.MeanLatencyMS != nil ||
		v.P50LatencyMS != nil || v.P90LatencyMS != nil || v.P99LatencyMS != nil
}

// anyClientLatency reports whether any snapshot holds client-timed latency.
func anyClientLatency(snaps []snapshot.Snapshot) bool {
	for i := range snaps {
		if hasClientLatency(&snaps[i].VLLMMetrics) {
			return true
		}
	}
	return false
}

// rowLatency returns v as its CSV row shows it and the row's latency source: v itself with "client" when it
// holds client latency; when fromServer, v with the seed latency fields taken from its server figures and
// "server" if any of those is known; else v and "".
func rowLatency(v snapshot.VLLM, fromServer bool) (snapshot.VLLM, string) {
	if hasClientLatency(&v) {
		return v, "client"
	}
	if !fromServer {
		return v, ""
	}
	v.FirstTokenLatencyMS, v.MeanLatencyMS = v.ServerTTFTMeanMS, v.ServerE2EMeanMS
	v.P50LatencyMS, v.P90LatencyMS, v.P99LatencyMS = v.ServerE2EP50MS, v.ServerE2EP90MS, v.ServerE2EP99MS
	if v.FirstTokenLatencyMS == nil && v.MeanLatencyMS == nil && v.P50LatencyMS == nil && v.P90LatencyMS == nil && v.P99LatencyMS == nil {
		return v, ""
	}
	return v, "server"
}

func joinErrors(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + m[k]
	}
	return strings.Join(parts, "; ")
}

// naturalLess orders "gpu_2" before "gpu_10".
func naturalLess(a, b string) bool {
	ai, bi := strings.LastIndexByte(a, '_'), strings.LastIndexByte(b, '_')
	if ai >= 0 && bi >= 0 && a[:ai] == b[:bi] {
		x, err1 := strconv.Atoi(a[ai+1:])
		y, err2 := strconv.Atoi(b[bi+1:])
		if err1 == nil && err2 == nil {
			return x < y
		}
	}
	return a < b
}

// RequestRow is one row of the requests CSV (column names in the csv tags). Durations are in milliseconds;
// an unknown value is an empty cell: http_status when no response came, prompt_tokens when the server
// reported no usage, requested_output_tokens when the request left max_tokens to the server,
// time_to_reject_ms (Start to the rejection's response, recorder.Record.TimeToRejectMS) unless rejected,
// turn (a multi-turn session's 1-based turn) for a request outside a session; model is empty when the
// request named none; send_lag_ms (intended start to send, slot wait included, recorder.Record.SendLagMS) in closed loop.
type RequestRow struct {
	ID                    string   `csv:"id"`
	StartS                float64  `csv:"start_s"`
	EndS                  float64  `csv:"end_s"`
	Outcome               string   `csv:"outcome"`
	HTTPStatus            *int     `csv:"http_status"`
	TTFTMS                *float64 `csv:"ttft_ms"`
	TPOTMS                *float64 `csv:"tpot_ms"`
	ITLMeanMS             *float64 `csv:"itl_mean_ms"`
	E2EMS                 *float64 `csv:"e2e_ms"`
	TTFTFromIntendedMS    *float64 `csv:"ttft_from_intended_ms"`
	E2EFromIntendedMS     *float64 `csv:"e2e_from_intended_ms"`
	SlotWaitMS            float64  `csv:"slot_wait_ms"`
	PromptTokens          *int     `csv:"prompt_tokens"`
	OutputTokens          int      `csv:"output_tokens"`
	OutputTokensEstimated bool     `csv:"output_tokens_estimated"`
	RequestedOutputTokens *int     `csv:"requested_output_tokens"`
	FinishReason          string   `csv:"finish_reason"`
	Error                 string   `csv:"error"`
	TimeToRejectMS        *float64 `csv:"time_to_reject_ms"`
	TTFOMS                *float64 `csv:"ttfo_ms"`
	ReasoningTokens       *int     `csv:"reasoning_tokens"`
	Model                 string   `csv:"model"`
	Turn                  *int     `csv:"turn"`
	SendLagMS             *float64 `csv:"send_lag_ms"`
	IgnoreEOS             bool     `csv:"ignore_eos"`
}

// RequestsCSV renders the request records, one row each, through gocsv.
func RequestsCSV(recs []recorder.Record) ([]byte, error) {
	rows := make([]RequestRow, len(recs))
	for i := range recs {
		r := &recs[i]
		rows[i] = RequestRow{
			ID: r.ID, StartS: r.StartS, EndS: r.EndS, Outcome: string(r.Outcome), HTTPStatus: positive(r.HTTPStatus),
			TTFTMS: snapshot.F(r.TTFTMS), TPOTMS: snapshot.F(r.TPOTMS), ITLMeanMS: snapshot.F(r.ITLMeanMS), E2EMS: snapshot.F(r.E2EMS),
			TTFTFromIntendedMS: snapshot.F(r.TTFTFromIntendedMS), E2EFromIntendedMS: snapshot.F(r.E2EFromIntendedMS),
			SlotWaitMS: r.SlotWaitMS, PromptTokens: positive(r.PromptTokens), OutputTokens: r.OutputTokens,
			OutputTokensEstimated: r.OutputTokensEstimated, RequestedOutputTokens: positive(r.RequestedOutputTokens),
			FinishReason: r.FinishReason, Error: r.Error, TimeToRejectMS: snapshot.F(r.TimeToRejectMS),
			TTFOMS: snapshot.F(r.TTFOMS), ReasoningTokens: positive(r.ReasoningTokens),
			Model: r.Model, Turn: positive(r.Turn),
			SendLagMS: snapshot.F(r.SendLagMS), IgnoreEOS: r.IgnoreEOS,
		}
	}
	return gocsv.MarshalBytes(&rows)
}

// positive returns &n, or nil for a count or code of 0, which the records use for "unknown".
func positive(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

// Files are the paths one test's export produced.
type Files struct {
	// SnapshotsJSON and SnapshotsCSV are metrics_<config>_<stamp>.json and .csv; PlotPNG the .png beside them.
	SnapshotsJSON, SnapshotsCSV string
	// SummaryJSON is summary_statistics.json (the latest run's); RunSummaryJSON summary_<config>_<stamp>.json.
	SummaryJSON, RunSummaryJSON string
	// RequestsCSV is requests_<config>_<stamp>.csv; PlotPNG is metrics_<config>_<stamp>.png.
	RequestsCSV, PlotPNG string
	// ReportHTML is report_<config>_<stamp>.html, the run's self-contained HTML report (RunHTML).
	ReportHTML string
}

// Map returns the paths keyed as summary.Summary.Files keys them, leaving out those that are "" (not written).
func (f Files) Map() map[string]string {
	m := map[string]string{"snapshots_json": f.SnapshotsJSON, "snapshots_csv": f.SnapshotsCSV,
		"summary_json": f.SummaryJSON, "run_summary_json": f.RunSummaryJSON, "requests_csv": f.RequestsCSV,
		"plot_png": f.PlotPNG, "report_html": f.ReportHTML}
	maps.DeleteFunc(m, func(_, path string) bool { return path == "" })
	return m
}

// Names returns the file names for one run under dir: metrics_<config>_<stamp>.json/.csv/.png,
// requests_<config>_<stamp>.csv, report_<config>_<stamp>.html, summary_<config>_<stamp>.json (this run's
// summary, kept) and summary_statistics.json (the original tool's name: the latest run's summary in dir). stamp is start in
// TimestampLayout, followed by "_" + suffix when suffix is not empty. config must already be safe as a file
// name. Names creates nothing; Reserve picks names no other run has.
func Names(dir, config string, start time.Time, suffix string) Files {
	stamp := start.Format(TimestampLayout)
	if suffix != "" {
		stamp += "_" + suffix
	}
	return Files{
		SnapshotsJSON:  filepath.Join(dir, "metrics_"+config+"_"+stamp+".json"),
		SnapshotsCSV:   filepath.Join(dir, "metrics_"+config+"_"+stamp+".csv"),
		SummaryJSON:    filepath.Join(dir, "summary_statistics.json"),
		RunSummaryJSON: filepath.Join(dir, "summary_"+config+"_"+stamp+".json"),
		RequestsCSV:    filepath.Join(dir, "requests_"+config+"_"+stamp+".csv"),
		PlotPNG:        filepath.Join(dir, "metrics_"+config+"_"+stamp+".png"),
		ReportHTML:     filepath.Join(dir, "report_"+config+"_"+stamp+".html"),
	}
}

// Reserve picks this run's file names and claims them at once, so that no other run, even one started in
// the same second in another process, can pick the same: it creates the snapshots JSON exclusively (O_EXCL)
// with a placeholder document naming the run and its sampling interval, intervalS seconds (replaced when the
// files are written), first under the plain Names, then with runID as suffix. It creates dir if needed. It
// returns the plain Names and an error when it cannot claim either (an unwritable directory: the error then
// recurs, and is reported, at WriteAll).
func Reserve(dir, config string, start time.Time, intervalS float64, runID string) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Names(dir, config, start, ""), fmt.Errorf("create directory %s: %w", dir, err)
	}
	placeholder, _ := marshal(SnapshotFile{RunID: runID, ConfigID: config, Start: start, IntervalS: intervalS,
		Snapshots: []snapshot.Snapshot{}})
	var lastErr error
	for _, suffix := range []string{"", runID} {
		f := Names(dir, config, start, suffix)
		fh, err := os.OpenFile(f.SnapshotsJSON, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			lastErr = err
			continue
		}
		_, werr := fh.Write(placeholder)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		return f, werr
	}
	return Names(dir, config, start, ""), fmt.Errorf("claim file names in %s: %w", dir, lastErr)
}

// WriteAll writes the seven files named by files (the pictures titled with the configuration id). checks, when
// not nil, is called once the data files and the summaries are written (so a check's failure can name them)
// and before the HTML report, which shows the verdicts it returns (when checks is nil the page says the
// verdicts are not known: a run rebuilt from its journal). sum.Files is set to the paths of the files that were written (the summaries and the HTML
// report included), so no message points at a file that does not exist. It writes every file it can and
// returns the errors of those it could not, joined (one error when the directory itself cannot be made). A file
// whose name in files is "" is not written.
func WriteAll(files Files, sf SnapshotFile, recs []recorder.Record, sum *summary.Summary, checks func(*summary.Summary) []Verdict) error {
	sum.Files = map[string]string{}
	dir := filepath.Dir(files.SnapshotsJSON)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	all := files.Map()
	var errs []error
	put := func(kind string, b []byte, err error) bool {
		path := all[kind]
		if path == "" {
			return false
		}
		if err == nil {
			err = WriteFileAtomic(path, b)
		} else {
			err = fmt.Errorf("encode %s: %w", path, err)
		}
		if err != nil {
			errs = append(errs, err)
			return false
		}
		sum.Files[kind] = path
		return true
	}
	b, err := marshal(sf)
	put("snapshots_json", b, err)
	b, err = SnapshotsCSV(sf.Snapshots, sf.GPUKeys...)
	put("snapshots_csv", b, err)
	b, err = RequestsCSV(recs)
	put("requests_csv", b, err)
	if recs == nil {
		recs = []recorder.Record{} // known: none
	}
	charts := runCharts(Run{Title: sf.ConfigID, IntervalS: sf.IntervalS, Snapshots: sf.Snapshots, Records: recs})
	if files.PlotPNG != "" {
		b, err = gridPNG(charts, 2) // PlotPNG and the HTML's pictures are the same charts, built once
		put("plot_png", b, err)
	}
	// The summary lists itself: claim its paths, then drop any that could not be written.
	for kind, path := range map[string]string{"run_summary_json": files.RunSummaryJSON, "summary_json": files.SummaryJSON} {
		if path != "" {
			sum.Files[kind] = path
		}
	}
	if files.ReportHTML != "" { // the summary lists it: claimed now, dropped below if it cannot be written
		sum.Files["report_html"] = files.ReportHTML
	}
	b, err = marshal(sum)
	for _, kind := range []string{"run_summary_json", "summary_json"} {
		if !put(kind, b, err) {
			delete(sum.Files, kind)
		}
	}
	delete(sum.Files, "report_html")
	var verdicts []Verdict
	if checks != nil {
		verdicts = checks(sum)
	}
	b, err = runHTML(charts, sum, verdicts)
	put("report_html", b, err)
	return errors.Join(errs...)
}

// RecordsOf returns the request records rows were written from (RequestsCSV's inverse): an empty cell is NaN
// for a duration and 0 for a count, as in recorder.Record; ITLGaps is not in the CSV and stays 0.
func RecordsOf(rows []RequestRow) []recorder.Record {
	recs := make([]recorder.Record, len(rows))
	for i := range rows {
		recs[i] = recordOf(&rows[i])
	}
	return recs
}

// recordOf is RecordsOf of one row.
func recordOf(r *RequestRow) recorder.Record {
	ms := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	n := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	return recorder.Record{
		ID: r.ID, StartS: r.StartS, EndS: r.EndS, Outcome: recorder.Outcome(r.Outcome), HTTPStatus: n(r.HTTPStatus),
		TTFTMS: ms(r.TTFTMS), TPOTMS: ms(r.TPOTMS), ITLMeanMS: ms(r.ITLMeanMS), E2EMS: ms(r.E2EMS),
		TTFTFromIntendedMS: ms(r.TTFTFromIntendedMS), E2EFromIntendedMS: ms(r.E2EFromIntendedMS),
		SlotWaitMS: r.SlotWaitMS, PromptTokens: n(r.PromptTokens), OutputTokens: r.OutputTokens,
		OutputTokensEstimated: r.OutputTokensEstimated, RequestedOutputTokens: n(r.RequestedOutputTokens),
		FinishReason: r.FinishReason, Error: r.Error, TimeToRejectMS: ms(r.TimeToRejectMS),
		TTFOMS: ms(r.TTFOMS), ReasoningTokens: n(r.ReasoningTokens),
		Model: r.Model, Turn: n(r.Turn),
		SendLagMS: ms(r.SendLagMS), IgnoreEOS: r.IgnoreEOS,
	}
}

// LatenciesOf returns the CDF series of one configuration from its request rows: the TTFT and E2E latency
// of each successful request (outcome ok), ms.
func LatenciesOf(id string, rows []RequestRow) CDFSeries {
	s := CDFSeries{ID: id}
	for _, r := range rows {
		if r.Outcome != string(recorder.OutcomeOK) {
			continue
		}
		if r.TTFTMS != nil {
			s.TTFTMS = append(s.TTFTMS, *r.TTFTMS)
		}
		if r.E2EMS != nil {
			s.E2EMS = append(s.E2EMS, *r.E2EMS)
		}
	}
	return s
}
