// Package compare runs several server or request configurations over the same prompts and load, each as a
// subtest with its own vmtest collector, and writes the original tool's comparison files: per configuration
// <config_id>_metrics.json, <config_id>_metrics.csv and <config_id>_results.json, and one
// comparison_report_<timestamp>.md with its HTML twin comparison_report_<timestamp>.html (the table and each
// configuration's TTFT and E2E latency CDFs), in the parent test's output directory (the original Python collector's VLLMConfigTester).
package compare

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vmtest"
)

// Config is one configuration under comparison.
type Config struct {
	// ID names the configuration in file names, subtest names and the report (sanitized for file names).
	ID string
	// Params are this configuration's request parameters (max_tokens, temperature, top_p, ...).
	Params loadgen.Params
	// Server, when set, starts the server for this configuration and returns its base URL; it runs inside the
	// configuration's subtest, so it can register its own shutdown with tb.Cleanup (which runs after the
	// collector's). When nil, Options.BaseURL is used.
	Server func(tb testing.TB) (baseURL string)
}

// Options are the settings shared by every configuration.
type Options struct {
	// BaseURL is the server for configurations without a Server function.
	BaseURL string
	// Load is the load every configuration gets: prompts, concurrency or rate, duration or request count,
	// warm-up. Its Sink and Params are set per configuration; Client.BaseURL is set from the configuration's
	// server when empty.
	Load loadgen.LoadConfig
	// Collect are the collector options for every configuration; ConfigID, VLLMBaseURL and OutputDir are set
	// per configuration (OutputDir: <parent output dir>/<config id>).
	Collect vmtest.Options
	// OutputDir is where the comparison files go; default vmtest.OutputDir(t, "").
	OutputDir string
	// Title heads the report; default "Configuration comparison: <test name>".
	Title string
}

// Result is one configuration's outcome.
type Result struct {
	// ID is the sanitized configuration id.
	ID string `json:"config_id"`
	// Params are the request parameters sent.
	Params paramsJSON `json:"params"`
	// Load is the load driver's own account of the run.
	Load loadJSON `json:"load"`
	// Summary is the collector's final summary.
	Summary *summary.Summary `json:"summary"`
	// Error is why the configuration did not run to the end, if it did not.
	Error string `json:"error,omitempty"`
	// RunNotes say why the collector's figures cover less than the whole run, one line each
	// (report.RunNotes: it stopped early, at the test's deadline, and why); none when it ran to its end.
	RunNotes []string `json:"run_notes,omitempty"`
}

type paramsJSON struct {
	Model       string         `json:"model,omitempty"`
	MaxTokens   int            `json:"max_tokens,omitempty"`
	Temperature *float64       `json:"temperature,omitempty"`
	TopP        *float64       `json:"top_p,omitempty"`
	Stream      bool           `json:"stream"`
	Extra       map[string]any `json:"extra,omitempty"`
}

func paramsOf(p loadgen.Params) paramsJSON {
	return paramsJSON{Model: p.Model, MaxTokens: p.MaxTokens, Temperature: p.Temperature, TopP: p.TopP, Stream: !p.NoStream, Extra: p.Extra}
}

func (p paramsJSON) String() string {
	parts := []string{}
	if p.Model != "" {
		parts = append(parts, "model="+p.Model)
	}
	if p.MaxTokens > 0 {
		parts = append(parts, fmt.Sprintf("max_tokens=%d", p.MaxTokens))
	}
	if p.Temperature != nil {
		parts = append(parts, fmt.Sprintf("temperature=%g", *p.Temperature))
	}
	if p.TopP != nil {
		parts = append(parts, fmt.Sprintf("top_p=%g", *p.TopP))
	}
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p.Extra[k]))
	}
	if !p.Stream {
		parts = append(parts, "stream=false")
	}
	if len(parts) == 0 {
		return "(server defaults)"
	}
	return strings.Join(parts, " ")
}

type loadJSON struct {
	Mode           string         `json:"mode"`
	Sent           int            `json:"sent"`
	Completed      int            `json:"completed"`
	Outcomes       map[string]int `json:"outcomes"`
	Warmup         int            `json:"warmup"`
	WallS          float64        `json:"wall_s"`
	ClientCPUS     float64        `json:"client_cpu_s"`
	CPUUtilization float64        `json:"client_cpu_utilization"`
	SchedP99MS     float64        `json:"sched_latency_p99_ms"`
	MaxSendLagMS   float64        `json:"max_send_lag_ms"`
}

func loadOf(r loadgen.Result) loadJSON {
	out := loadJSON{Mode: r.Mode, Sent: r.Sent, Completed: r.Completed, Outcomes: map[string]int{}, Warmup: r.Warmup,
		WallS: r.Wall.Seconds(), ClientCPUS: r.ClientCPU.Seconds(), CPUUtilization: r.CPUUtilization,
		SchedP99MS: float64(r.SchedLatencyP99) / 1e6, MaxSendLagMS: float64(r.MaxSendLag) / 1e6}
	for k, v := range r.Outcomes {
		out.Outcomes[string(k)] = v
	}
	return out
}

// validate checks what Run needs before anything starts, naming the field.
func validate(opts Options, configs []Config) error {
	if len(configs) == 0 {
		return errors.New("compare: no configurations")
	}
	seen := map[string]bool{}
	for i, c := range configs {
		if c.ID == "" {
			return fmt.Errorf("compare: configs[%d].ID is empty", i)
		}
		id := vmtest.Sanitize(c.ID)
		if seen[id] {
			return fmt.Errorf("compare: configs[%d].ID %q repeats another configuration's id", i, c.ID)
		}
		seen[id] = true
		if c.Server == nil && opts.BaseURL == "" && opts.Load.Client.BaseURL == "" {
			return fmt.Errorf("compare: configs[%d] (%q) has no Server and Options.BaseURL is empty", i, c.ID)
		}
	}
	if len(opts.Load.Prompts) == 0 {
		return errors.New("compare: Options.Load.Prompts is empty")
	}
	if opts.Load.Duration <= 0 && opts.Load.Requests <= 0 {
		return errors.New("compare: Options.Load needs a Duration or a Requests count")
	}
	return nil
}

// Run runs every configuration in order as a subtest t.Run(config.ID): start its server (if any), collect,
// drive the load, stop the collector; then it writes the per-configuration files and the comparison report in
// the parent's output directory and logs their paths. A configuration whose load fails is reported as such
// (and fails its subtest) without stopping the others. It returns the results in the configurations' order.
// An invalid argument fails t at once, naming it.
func Run(t *testing.T, opts Options, configs ...Config) []Result {
	t.Helper()
	if err := validate(opts, configs); err != nil {
		t.Fatal(err)
		return nil
	}
	dir := opts.OutputDir
	if dir == "" {
		dir = vmtest.OutputDir(t, "")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	started := time.Now()
	results := make([]Result, 0, len(configs))
	for _, cfg := range configs {
		id := vmtest.Sanitize(cfg.ID)
		res := Result{ID: id, Params: paramsOf(cfg.Params)}
		t.Run(id, func(t *testing.T) {
			url := opts.BaseURL
			if cfg.Server != nil {
				url = cfg.Server(t)
			}
			co := opts.Collect
			co.ConfigID, co.VLLMBaseURL, co.OutputDir = id, url, filepath.Join(dir, id)
			c := vmtest.Collect(t, co)
			load := opts.Load
			load.Params, load.Sink = cfg.Params, c
			if load.Client.BaseURL == "" {
				load.Client.BaseURL = url
			}
			lr, err := loadgen.Run(context.Background(), load)
			res.Load = loadOf(lr)
			res.Summary, _ = c.Finish() // Collect's cleanup reports a write error or a check not met
			res.RunNotes = report.RunNotes(res.Summary)
			if err != nil {
				res.Error = err.Error()
				t.Errorf("compare: configuration %s: load: %v", id, err)
			}
			t.Log(lr)
			if err := writeConfigFiles(dir, c, res); err != nil {
				t.Errorf("compare: configuration %s: %v", id, err)
			}
		})
		if res.Summary == nil && res.Error == "" {
			res.Error = "the subtest stopped before the load ran (see its failure)"
		}
		results = append(results, res)
	}
	entries := make([]report.ComparisonEntry, len(results))
	for i, r := range results {
		entries[i] = report.ComparisonEntry{ID: r.ID, Params: r.Params.String(), Summary: r.Summary, Err: r.Error}
	}
	title := opts.Title
	if title == "" {
		title = "Configuration comparison: " + t.Name()
	}
	if c := report.ComparisonCaveat(entries); c != "" {
		t.Logf("compare: warning: %s", c)
	}
	md := report.ComparisonMarkdown(title, started, settings(opts), entries)
	base := filepath.Join(dir, "comparison_report_"+started.Format(report.TimestampLayout))
	if err := report.WriteFileAtomic(base+".md", md); err != nil {
		t.Errorf("compare: %v", err)
	} else {
		t.Logf("compare: wrote %s", base+".md")
	}
	page, err := report.ComparisonHTML(title, started, settings(opts), entries, latencies(t, results))
	if err == nil {
		err = report.WriteFileAtomic(base+".html", page)
	}
	if err != nil {
		t.Errorf("compare: %v", err)
	} else {
		t.Logf("compare: wrote %s", base+".html")
	}
	return results
}

// latencies reads each configuration's successful requests' latencies back from its requests CSV for the
// CDF pictures; a configuration without one has none (a file that cannot be read is logged).
func latencies(t *testing.T, results []Result) []report.CDFSeries {
	t.Helper()
	out := make([]report.CDFSeries, len(results))
	for i, r := range results {
		out[i] = report.CDFSeries{ID: r.ID}
		if r.Summary == nil || r.Summary.Files["requests_csv"] == "" {
			continue
		}
		rows, err := report.ReadRequestsCSV(r.Summary.Files["requests_csv"])
		if err != nil {
			t.Logf("compare: %s: no latency CDF: %v", r.ID, err)
			continue
		}
		out[i] = report.LatenciesOf(r.ID, rows)
	}
	return out
}

func settings(opts Options) []string {
	l := opts.Load
	mode := fmt.Sprintf("closed loop, %d concurrent clients", max(l.Concurrency, 1))
	if l.Rate > 0 {
		mode = fmt.Sprintf("open loop, %g req/s (burstiness %g), max concurrency %d", l.Rate, max(l.Burstiness, 1), l.MaxConcurrency)
	}
	s := []string{"load: " + mode}
	if l.Duration > 0 {
		s = append(s, fmt.Sprintf("duration per configuration: %v", l.Duration))
	}
	if l.Requests > 0 {
		s = append(s, fmt.Sprintf("requests per configuration: %d", l.Requests))
	}
	s = append(s, fmt.Sprintf("warm-up requests (not measured): %d", l.Warmup),
		fmt.Sprintf("prompts: %d, the same for every configuration, in the same order", len(l.Prompts)))
	iv := opts.Collect.Interval
	if iv == 0 {
		iv = vmtest.DefaultInterval
	}
	s = append(s, fmt.Sprintf("sampling interval: %v", iv),
		"latencies: client side, successful requests only; percentiles by linear interpolation (numpy default)")
	if g := opts.Collect.Goodput; g != (vmtest.Options{}).Goodput {
		s = append(s, fmt.Sprintf("goodput SLO: TTFT ≤ %v, TPOT ≤ %v, E2E ≤ %v (0 = not checked)", g.TTFT, g.TPOT, g.E2E))
	}
	return s
}

// writeConfigFiles writes <id>_metrics.json, <id>_metrics.csv and <id>_results.json in dir.
func writeConfigFiles(dir string, c *vmtest.Collector, res Result) error {
	snaps := c.Snapshots()
	sum := res.Summary
	var errs []error
	if err := report.WriteJSON(filepath.Join(dir, res.ID+"_metrics.json"), report.SnapshotFile{
		RunID: c.RunID(), ConfigID: res.ID, Start: sum.Start, IntervalS: sum.IntervalS, Snapshots: snaps}); err != nil {
		errs = append(errs, err)
	}
	if b, err := report.SnapshotsCSV(snaps); err != nil {
		errs = append(errs, err)
	} else if err := report.WriteFileAtomic(filepath.Join(dir, res.ID+"_metrics.csv"), b); err != nil {
		errs = append(errs, err)
	}
	if err := report.WriteJSON(filepath.Join(dir, res.ID+"_results.json"), res); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
