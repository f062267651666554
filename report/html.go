package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplates are the run and comparison pages (report.html.tmpl).
var htmlTemplates = template.Must(template.New("report").Parse(htmlSource))

// Verdict is the outcome of one SLO check over a run's summary.
type Verdict struct {
	// Check says how the check was built (assert.Check's String: `P99Below("ttft", 200ms)`, `threshold "..."`).
	Check string
	// Err is why the check was not met; "" when it was.
	Err string
	// Reason is Err without the check's own name or the "vmtest: " head (assert.Reason), for a line that
	// names the check before it; set where the verdict was evaluated for such a line (journal's rebuild),
	// else "".
	Reason string
	// Unknown is why the verdict is not known (Err is then ""): a check of a run rebuilt from its journal that
	// the rebuild could not run again (one built in Go code). "" when the check ran.
	Unknown string
	// NoData is true when the check was not met because its figure had no data (assert.BoundError with
	// NotMet false): no data is a failure, never a pass, and is labelled "NOT met (no data)", not "not known".
	NoData bool
}

// runPage is what the "run" template shows; every figure is already formatted.
type runPage struct {
	RunID, ConfigID, TestName, Start, End, Duration, Interval string
	Snapshots                                                 int
	Finished, VerdictsKnown                                   bool
	Verdicts                                                  []verdictRow
	Warnings, Events, Files, ServerLimits                     []string
	Counts                                                    []string
	LastError                                                 string
	Client, ServerHists                                       [][]string
	Throughput, ServerGauges, Host                            [][2]string
	GPUs, Nodes, ByModel, ByTurn                              [][]string
	Sources                                                   []sourceRow
	Plots                                                     []svgCell
}

type verdictRow struct {
	Check, Detail        string
	Met, Unknown, NoData bool
}

// sourceRow is one source of the Sources table: readings ok of all, the share of the readings that succeeded
// (summary.SourceStatus.CoveredFraction, %), its outages (outageText, at most maxOutageLines and a line for
// the rest) and its note and errors.
type sourceRow struct {
	Name, OK, Covered, Note string
	Outages                 []string
}

// svgCell is a picture for the template: its markup is ours (gonum's SVG, text escaped), so it is trusted.
type svgCell struct {
	Name   string
	Markup template.HTML
}

// RunHTML renders a run's report as one self-contained HTML page (no script, no external style, font or
// image): the run's identity, the SLO verdicts, the warnings, the request counts, the client's latency
// statistics (ms), per model and per turn when there are such groups, throughput, the server's gauges and histogram percentiles (a range where the bucket is
// wide, as TextSummary prints them), the GPUs, the server nodes' hosts, the host, the state of each source, the events, the
// pictures PlotSVGs draws (inline SVG) and the files written. sum must not be nil. verdicts nil means the
// verdicts are not known (a page made from a run's files, which do not hold them) and the page says so; an
// empty, non-nil verdicts means no check was evaluated.
func RunHTML(r Run, sum *summary.Summary, verdicts []Verdict) ([]byte, error) {
	return runHTML(runCharts(r), sum, verdicts)
}

// runHTML is RunHTML with the run's charts already built.
func runHTML(charts []*chart, sum *summary.Summary, verdicts []Verdict) ([]byte, error) {
	svgs, err := chartSVGs(charts)
	if err != nil {
		return nil, err
	}
	rq := &sum.Requests
	page := runPage{
		RunID: sum.RunID, ConfigID: sum.ConfigID, TestName: sum.TestName,
		Start: sum.Start.Format(time.RFC3339), End: sum.End.Format(time.RFC3339),
		Duration: fmt.Sprintf("%.1f", sum.DurationS), Interval: strconv.FormatFloat(sum.IntervalS, 'f', -1, 64),
		Snapshots: sum.Snapshots, Finished: sum.Finished, VerdictsKnown: verdicts != nil, Warnings: sum.Warnings, LastError: rq.LastError,
		Counts: []string{itoa(rq.Total), itoa(rq.OK), itoa(rq.Failed), itoa(rq.Incomplete), itoa(rq.Rejected),
			itoa(rq.Canceled), pct(scale(rq.ErrorRate, 100), "%.2f")},
		Client: [][]string{statsRow("TTFT", rq.TTFTMS), statsRow("TPOT", rq.TPOTMS), statsRow("ITL", rq.ITLMS),
			statsRow("E2E", rq.E2EMS)},
		Throughput: [][2]string{
			{"request throughput (req/s)", num(rq.RequestThroughput, "%.2f")},
			{"output token throughput (tok/s)", num(rq.OutputTokenThroughput, "%.1f")},
			{"total token throughput (tok/s)", num(rq.TotalTokenThroughput, "%.1f")},
			{"goodput (req/s)", num(rq.Goodput, "%.2f")},
			{"measured window (s)", num(rq.WindowS, "%.2f")}},
		ServerGauges: serverGauges(sum), GPUs: gpuRows(sum), Sources: sourceRows(sum), Nodes: nodeRows(sum.Nodes),
		ByModel: modelRows(rq), ByTurn: turnRows(rq),
		Host: [][2]string{{"CPU avg (%)", num(sum.System.AvgCPUPercent, "%.1f")}, {"CPU max (%)", num(sum.System.MaxCPUPercent, "%.1f")},
			{"memory avg (GiB)", num(sum.System.AvgMemoryGB, "%.2f")}, {"memory max (GiB)", num(sum.System.MaxMemoryGB, "%.2f")}},
	}
	if rq.SendLagMS.N > 0 {
		page.Client = append(page.Client, statsRow("send lag (open loop)", rq.SendLagMS))
	}
	if c := sum.Client; c != nil {
		page.Host = append(page.Host, [][2]string{{"client process CPU (s)", fmt.Sprintf("%.2f", c.CPUS)},
			{"client process CPU (% of GOMAXPROCS=" + itoa(c.GOMAXPROCS) + ")", num(scale(c.CPUUtilization, 100), "%.0f")},
			{"client Go scheduler latency p99 (ms)", num(c.SchedLatencyP99MS, "%.3f")}}...)
	}
	for _, v := range verdicts {
		row := verdictRow{Check: v.Check, Met: v.Err == "" && v.Unknown == "", NoData: v.Err != "" && v.NoData, Detail: v.Err}
		if v.Unknown != "" {
			row.Unknown, row.Detail = true, v.Unknown
		}
		page.Verdicts = append(page.Verdicts, row)
	}
	if sv := sum.Server; sv != nil {
		for _, h := range []struct {
			name string
			h    *serverstats.Histogram
		}{{"TTFT", sv.TTFT}, {"E2E", sv.E2ELatency}, {"queue time", sv.QueueTime}, {"ITL", sv.ITL}} {
			page.ServerHists = append(page.ServerHists, serverRow(h.name, h.h))
		}
		page.ServerLimits = sv.Limits
	}
	for _, e := range sum.Events {
		page.Events = append(page.Events, fmt.Sprintf("%s %s: %s", e.Time.Format("15:04:05.000"), e.Source, e.Message))
	}
	for _, k := range sortedKeys(sum.Files) {
		page.Files = append(page.Files, sum.Files[k])
	}
	for _, s := range svgs {
		page.Plots = append(page.Plots, svgCell{Name: s.Name, Markup: template.HTML(s.Markup)}) // #nosec: our SVG
	}
	var b bytes.Buffer
	if err := htmlTemplates.ExecuteTemplate(&b, "run", page); err != nil {
		return nil, fmt.Errorf("render HTML: %w", err)
	}
	return b.Bytes(), nil
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// scale returns v × k, nil for nil.
func scale(v *float64, k float64) *float64 {
	if v == nil {
		return nil
	}
	x := *v * k
	return &x
}

// statsRow is one client latency distribution: name, mean, p50, p90, p99, n.
func statsRow(name string, s recorder.Stats) []string {
	return []string{name, num(s.Mean, "%.1f"), num(s.P50, "%.1f"), num(s.P90, "%.1f"), num(s.P99, "%.1f"), itoa(s.N)}
}

// serverRow is one server histogram: name, mean, p50, p90, p99 (as serverQuantile prints them), n.
func serverRow(name string, h *serverstats.Histogram) []string {
	if h == nil {
		return []string{name + " (not exposed)", "n/a", "n/a", "n/a", "n/a", "0"}
	}
	mean := "n/a"
	if h.MeanMS != nil {
		mean = msNum(*h.MeanMS)
	}
	return []string{name, mean, serverQuantile(h.P50MS), serverQuantile(h.P90MS), serverQuantile(h.P99MS),
		strconv.FormatFloat(h.Count, 'f', -1, 64)}
}

func serverGauges(s *summary.Summary) [][2]string {
	v := &s.VLLM
	jt := num(s.EnergyPerOutputTokenJ, "%.4f")
	if s.EnergyPerOutputTokenNote != "" {
		jt += " (caveat: " + s.EnergyPerOutputTokenNote + ")"
	}
	return [][2]string{
		{"generation throughput avg (tok/s)", num(v.AvgTokensPerSecond, "%.1f")},
		{"generation throughput max (tok/s)", num(v.MaxTokensPerSecond, "%.1f")},
		{"queue avg / max (requests)", num(v.AvgRequestQueueSize, "%.1f") + " / " + num(v.MaxRequestQueueSize, "%.0f")},
		{"batch avg / max (requests)", num(v.AvgActiveBatchSize, "%.1f") + " / " + num(v.MaxActiveBatchSize, "%.0f")},
		{"KV-cache usage avg / max (%)", num(v.AvgKVCacheUsagePercent, "%.1f") + " / " + num(v.MaxKVCacheUsagePercent, "%.1f")},
		{"energy per output token (J/token)", jt},
	}
}

func gpuRows(s *summary.Summary) [][]string {
	keys := make([]string, 0, len(s.GPU))
	for k := range s.GPU {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		g := s.GPU[k]
		rows = append(rows, []string{k, g.Name, num(g.AvgUtilization, "%.1f"), num(g.MaxUtilization, "%.0f"),
			num(g.AvgMemoryUsedMB, "%.0f"), num(g.MaxMemoryUsedMB, "%.0f"), num(g.AvgPowerW, "%.1f"),
			num(g.MaxTempC, "%.0f"), num(g.EnergyJ, "%.1f")})
	}
	return rows
}

func sourceRows(s *summary.Summary) []sourceRow {
	var rows []sourceRow
	for _, k := range sortedKeys(s.Sources) {
		st := s.Sources[k]
		note := st.Note
		if st.Failed > 0 && st.DominantError != "" && st.DominantError != st.LastError {
			note += " mostly: " + st.DominantError + ";"
		}
		if st.Failed > 0 && st.LastError != "" {
			note += " last error: " + st.LastError
		}
		row := sourceRow{Name: k, OK: fmt.Sprintf("%d/%d", st.Readings-st.Failed, st.Readings),
			Covered: pct(scale(st.CoveredFraction, 100), "%.1f"), Note: note, Outages: outageTexts(st)}
		if n := moreOutages(st); n > 0 {
			row.Outages = append(row.Outages, moreOutagesText(n))
		}
		rows = append(rows, row)
	}
	return rows
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// comparisonPage is what the "comparison" template shows.
type comparisonPage struct {
	Title, At string
	Settings  []string
	ShortRuns []configLine // RunNotes, one per line (ID, Text)
	Caveat    string       // ComparisonCaveat
	Headers   []string
	Rows      []comparisonRow
	Plots     []svgCell
	Configs   []configLine
}

type comparisonRow struct {
	ID    string
	Cells []comparisonCell
}

type configLine struct{ ID, Text, Err string }

// ComparisonHTML renders the comparison report as one self-contained HTML page: the run settings, the runs
// that did not run to their end (RunNotes) with the warning of ComparisonCaveat, the
// table ComparisonMarkdown holds (the best of each column marked ★), the CDF pictures of ComparisonSVGs
// (inline SVG) drawn from series (one per configuration; nil latencies draw nothing for it), and each
// configuration's requests, files and failure. extra pictures (a load sweep's, SweepSVGs) come first.
func ComparisonHTML(title string, at time.Time, settings []string, entries []ComparisonEntry, series []CDFSeries, extra ...SVG) ([]byte, error) {
	svgs, err := ComparisonSVGs(series)
	if err != nil {
		return nil, err
	}
	svgs = append(extra[:len(extra):len(extra)], svgs...)
	page := comparisonPage{Title: title, At: at.Format(time.RFC3339), Settings: settings, Caveat: ComparisonCaveat(entries)}
	for _, c := range ComparisonColumns {
		page.Headers = append(page.Headers, c.Header)
	}
	cells := comparisonCells(entries)
	for i, e := range entries {
		page.Rows = append(page.Rows, comparisonRow{ID: e.ID, Cells: cells[i]})
		page.Configs = append(page.Configs, configLine{ID: e.ID, Text: configText(e), Err: e.Err})
		for _, n := range RunNotes(e.Summary) {
			page.ShortRuns = append(page.ShortRuns, configLine{ID: e.ID, Text: n})
		}
	}
	for _, s := range svgs {
		page.Plots = append(page.Plots, svgCell{Name: s.Name, Markup: template.HTML(s.Markup)}) // #nosec: our SVG
	}
	var b bytes.Buffer
	if err := htmlTemplates.ExecuteTemplate(&b, "comparison", page); err != nil {
		return nil, fmt.Errorf("render HTML: %w", err)
	}
	return b.Bytes(), nil
}
