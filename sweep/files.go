package sweep

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/summary"
)

// writeFiles writes the sweep's report in opts.OutputDir: comparison_report_<ts>.md and .html (one row per
// step, the answer and the knee in the settings, the throughput-versus-latency and latency-versus-load
// pictures, each step's TTFT and E2E latency CDFs) and sweep_<ts>.json (the Result and the settings), and
// records their paths in res.Files.
func writeFiles(opts *Options, started time.Time, res *Result) error {
	title := opts.Title
	if title == "" {
		title = fmt.Sprintf("Load sweep (%s)", opts.Mode)
	}
	settings := settingsOf(opts, res)
	entries := make([]report.ComparisonEntry, len(res.Steps))
	series := make([]report.CDFSeries, len(res.Steps))
	points := make([]report.SweepPoint, len(res.Steps))
	var errs []error
	for i, s := range res.Steps {
		entries[i] = report.ComparisonEntry{ID: s.ID, Params: fmt.Sprintf("%s %v: %s", opts.Mode, s.Load, stepVerdict(s)), Summary: s.Summary, Err: s.Error}
		series[i] = report.CDFSeries{ID: s.ID}
		points[i] = report.SweepPoint{Load: s.Load, Met: s.Met, Knee: res.Knee != nil && res.Knee.Load == s.Load,
			ThroughputTokS: known(s.Summary, "output_token_throughput"), LatencyMS: known(s.Summary, opts.KneeMetric)}
		if p := s.Files["requests_csv"]; p != "" {
			rows, err := report.ReadRequestsCSV(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("sweep: %s: %w", s.ID, err))
				continue
			}
			series[i] = report.LatenciesOf(s.ID, rows)
		}
	}
	base := filepath.Join(opts.OutputDir, "comparison_report_"+started.Format(report.TimestampLayout))
	md := report.ComparisonMarkdown(title, started, settings, entries)
	if err := report.WriteFileAtomic(base+".md", md); err != nil {
		errs = append(errs, err)
	} else {
		res.Files["markdown"] = base + ".md"
	}
	loadLabel := "concurrency"
	if opts.Mode == Rate {
		loadLabel = "request rate (req/s)"
	}
	pics, err := report.SweepSVGs(loadLabel, opts.KneeMetric+" (ms)", points)
	var page []byte
	if err == nil {
		page, err = report.ComparisonHTML(title, started, settings, entries, series, pics...)
	}
	if err == nil {
		err = report.WriteFileAtomic(base+".html", page)
	}
	if err != nil {
		errs = append(errs, err)
	} else {
		res.Files["html"] = base + ".html"
	}
	js := filepath.Join(opts.OutputDir, "sweep_"+started.Format(report.TimestampLayout)+".json")
	if err := report.WriteJSON(js, struct {
		Settings []string `json:"settings"`
		*Result
	}{settings, res}); err != nil {
		errs = append(errs, err)
	} else {
		res.Files["json"] = js
	}
	for _, k := range []string{"markdown", "html", "json"} {
		if p := res.Files[k]; p != "" {
			opts.logf("wrote %s", p)
		}
	}
	return errors.Join(errs...)
}

// known is the summary's figure for metric, nil when unknown.
func known(s *summary.Summary, metric string) *float64 {
	v, err := s.Lookup(metric)
	if err != nil || !v.Known {
		return nil
	}
	return &v.Value
}

// settingsOf are the report's settings lines: the answer first, then how it was found.
func settingsOf(opts *Options, res *Result) []string {
	out := []string{"answer: " + verdictLine(res)}
	if res.Knee != nil {
		out = append(out, fmt.Sprintf("knee: the Kneedle method (Satopää et al., 2011) over %s by %s, sensitivity %g (DESIGN.md)",
			res.Knee.Metric, opts.Mode, opts.KneeSensitivity))
	}
	if s := opts.Search; s != nil {
		res := fmt.Sprintf("resolution %v", s.resolution(opts.Mode))
		if s.Resolution == 0 {
			res += ", the default"
		}
		out = append(out, fmt.Sprintf("steps: bisection between %s %v and %v (%s)", opts.Mode, s.Lo, s.Hi, res))
	} else {
		out = append(out, fmt.Sprintf("steps: the ladder %s %v", opts.Mode, opts.Loads))
	}
	slo := make([]string, 0, len(opts.SLO)+len(opts.Checks))
	slo = append(slo, opts.SLO...)
	for _, c := range opts.Checks {
		slo = append(slo, c.String())
	}
	out = append(out, "SLO, checked over each step's summary: "+strings.Join(slo, "; "))
	l := opts.Load
	per := []string{}
	if l.Requests > 0 {
		per = append(per, fmt.Sprintf("%d requests", l.Requests))
	}
	if l.Duration > 0 {
		per = append(per, fmt.Sprintf("at most %v", l.Duration))
	}
	warm := "one warm-up request per worker (closed loop) or one second of requests (open loop), not measured"
	if l.Warmup > 0 {
		warm = fmt.Sprintf("%d warm-up requests, not measured", l.Warmup)
	} else if l.Warmup < 0 {
		warm = "no warm-up"
	}
	out = append(out, "each step: "+strings.Join(per, ", ")+"; "+warm+"; its own collector and files (<step>/)",
		fmt.Sprintf("prompts: %d, the same for every step, in the same order", len(l.Prompts)),
		"early stop: a step ends once an error_rate or client-percentile threshold can no longer be met by its planned requests (DESIGN.md)",
		"latencies: client side, successful requests only; percentiles by linear interpolation (numpy default)")
	for _, w := range res.Warnings {
		out = append(out, "warning: "+w)
	}
	return out
}
