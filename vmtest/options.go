package vmtest

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/live"
	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
)

// Defaults for Options.
const (
	// DefaultInterval is the sampling interval when Options.Interval is 0 (the original Python collector's collection_interval).
	DefaultInterval = 2 * time.Second
	// DefaultMaxSnapshots keeps 24 h of snapshots at the default interval.
	DefaultMaxSnapshots = 24 * 60 * 60 / 2
	// MinInterval is the shortest Interval accepted.
	MinInterval = 10 * time.Millisecond
)

// Environment variables read when the matching option is empty.
const (
	// EnvVLLMURL is the vLLM base URL used when Options.VLLMBaseURL is empty.
	EnvVLLMURL = "VMTEST_VLLM_URL"
	// EnvOutputDir is the output directory used when Options.OutputDir is empty and -artifacts was not given.
	EnvOutputDir = "VMTEST_OUTPUT_DIR"
	// EnvRequireGPU set to "1" or "true" turns a missing GPU into a test failure, as Options.RequireGPU does.
	EnvRequireGPU = "VMTEST_REQUIRE_GPU"
	// EnvDisplay set to "1" or "true" turns on the console dashboard, as Options.Display does.
	EnvDisplay = "VMTEST_DISPLAY"
)

// Options configures Start and Collect. The zero value is valid: a 2 s interval, the server from VMTEST_VLLM_URL (none
// if unset), every GPU from the best available source, files under metrics_output/<test name>/.
type Options struct {
	// ConfigID names the configuration under test in file names and snapshots (the original Python collector's config_id).
	// Default: the sanitized test name. It is sanitized for use in file names.
	ConfigID string
	// Interval is the time between snapshots; 0 means DefaultInterval. Must be at least MinInterval.
	Interval time.Duration
	// SampleTimeout bounds each sampler's reading per tick; 0 means 80% of Interval. Must be less than Interval.
	// A sampler that misses it yields nulls with reason "timeout" and is not called again until it returns.
	SampleTimeout time.Duration
	// VLLMBaseURL is the server's base URL, an http or https URL with a host (e.g. "http://localhost:8000",
	// not "localhost:8000"); /metrics is scraped from it. Default: $VMTEST_VLLM_URL. When both are empty no
	// server metrics are sampled and the summary says so.
	VLLMBaseURL string
	// MetricsURL, when set, is the full /metrics URL to scrape instead of VLLMBaseURL+"/metrics" (an http or
	// https URL with a host).
	MetricsURL string
	// Servers are the replicas of the server under test (several vLLM servers of one model, e.g. behind a
	// router), each scraped every tick into its own tracker: vllm_metrics and server_statistics are then
	// their aggregate, with each replica's figures under "replicas" (serverstats.Fleet; DESIGN.md, "Several
	// servers"). One entry is the same as VLLMBaseURL/MetricsURL (no replica figures). Set either Servers or
	// VLLMBaseURL/MetricsURL, not both (Start refuses).
	Servers []Server
	// Model, when set, keeps only the server's series whose model_name label equals it (several models on one
	// server); empty sums every model's series (samplers.VLLMConfig.Model). A Model no series carries makes
	// each scrape fail, naming the models the server exposes.
	Model string
	// OutputDir is where files go. Default: t.ArtifactDir() when `go test -artifacts` was given, else
	// $VMTEST_OUTPUT_DIR/<test name>, else metrics_output/<test name>/ in the package directory.
	OutputDir string
	// Display shows a live dashboard on stderr every interval (also turned on by VMTEST_DISPLAY=1): on a
	// terminal one frame redrawn in place (a row per GPU, the server, the client, the host, the progress
	// against Goal); elsewhere one compact line per interval.
	Display bool
	// Goal is what the run works towards, for the dashboard's progress row: a duration, a number of requests
	// (counted as the requests recorded, of any outcome), or both, whichever comes first. The zero Goal shows
	// the elapsed time only. It bounds nothing: the caller's load does.
	Goal live.Goal
	// MaxSnapshots bounds the snapshots kept in memory and written; the oldest are dropped past it and the
	// summary counts them. The journal keeps at most twice as many on disk (package journal). 0 means
	// DefaultMaxSnapshots (24 h at 2 s). Negative is invalid.
	MaxSnapshots int
	// MaxRequests bounds the rows kept for the requests CSV, and journaled; 0 means recorder.DefaultMaxRecords.
	// Requests past it still enter every statistic. Negative is invalid.
	MaxRequests int
	// Goodput is the per-request SLO that goodput (successful requests per second meeting every limit, as
	// DistServe and vLLM's bench serve --goodput define it) counts against; zero fields are not checked. A
	// negative limit, or one under assert.MinLatencyLimit (a number without a unit), is invalid.
	Goodput recorder.SLO
	// GPUSource is "auto" (default), "nvml", "nvidia-smi", "dcgm" or "none"; see samplers.GPUConfig.
	GPUSource string
	// GPUIDs selects GPUs by index ("0", never negative) or UUID, the original Python collector's gpu_ids;
	// empty means all.
	GPUIDs []string
	// DCGMURLs are dcgm-exporter /metrics URLs (http or https, with a host: "http://node1:9400/metrics");
	// setting them selects the dcgm source under "auto".
	DCGMURLs []string
	// NodeExporterURLs are the server nodes' Prometheus node_exporter /metrics URLs, each "name=url" or "url"
	// (the name then is the URL's host): each node's CPU, load, memory, network and disk figures go to
	// node_metrics.<name> in the snapshots, node_<name>_<field> CSV columns and node_statistics in the summary
	// (samplers.NodeExporter). Names must differ and use letters, digits, '.', '-' and '_' only.
	NodeExporterURLs []string
	// VLLMAuth is sent with every scrape of the server's /metrics (a bearer token, basic auth, headers);
	// credentials in VLLMBaseURL or MetricsURL (http://user:pass@host) are sent as basic auth too. Zero: from
	// $VMTEST_VLLM_BEARER_TOKEN, _USERNAME, _PASSWORD and _HEADERS (auth.FromEnv). No credential is ever
	// shown: logs, errors, snapshots, summaries and files hold them redacted (auth.Redact).
	VLLMAuth auth.Config
	// DCGMAuth is VLLMAuth for the dcgm-exporter scrapes; zero: from $VMTEST_DCGM_*.
	DCGMAuth auth.Config
	// NodeExporterAuth is VLLMAuth for the node_exporter scrapes; zero: from $VMTEST_NODE_EXPORTER_*.
	NodeExporterAuth auth.Config
	// Prometheus, when set, reads the server's metrics from a Prometheus-compatible HTTP API (Prometheus,
	// Thanos, Mimir, VictoriaMetrics) instead of scraping /metrics: promsource.Sampler, the targets its
	// labels select read live each interval (several: replicas, as with Servers, named by their pod or
	// instance label). VLLMBaseURL is then only where load goes; MetricsURL and several Servers must be
	// empty. Its Model, when empty, is Options.Model; its Auth, when zero, comes from $VMTEST_PROMETHEUS_*.
	// Invalid: promsource.Config.Validate's errors.
	Prometheus *promsource.Config
	// RequireGPU fails the test at Collect when no GPU source is available (also VMTEST_REQUIRE_GPU=1).
	RequireGPU bool
	// NoSystem turns off host sampling.
	NoSystem bool
	// NoPNG leaves out metrics_<config>_<stamp>.png (plot_png in summary.Summary.Files) and the time drawing
	// it takes, most of the CPU a short run's end costs; the HTML report keeps the same charts (as SVG), and
	// `vmtest report` draws the PNG again from the snapshots JSON and the requests CSV.
	NoPNG bool
	// KernelTimer times the ticks with a kernel timer (a Linux timerfd) instead of a Go timer, which wakes
	// the process on time and with fewer wake-ups between ticks (DESIGN.md, "One tick", has the measurements).
	// Leave it false inside a testing/synctest bubble, whose fake clock a kernel timer does not follow.
	// Ignored off Linux; where the kernel gives no timer, a Go timer is used and the log says so. The vmtest
	// command sets it.
	KernelTimer bool
	// Warnings are lines the caller knows make the run less trustworthy (e.g. loadgen.Workload.Note: input
	// lengths only approximate); they lead the summary's warnings, in the JSON, the text and the HTML.
	Warnings []string
	// Samplers are extra metric sources sampled on the same clock.
	Samplers []samplers.Sampler
	// Log receives Start's log lines, one "vmtest: ..." line per write (the run, its sources, the summary, the
	// files written); nil discards them. Collect does not use it: a test's lines go to t.Logf.
	Log io.Writer
}

func envTrue(name string) bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(name)))
	return v == "1" || v == "true" || v == "yes"
}

// resolve fills defaults and validates, naming the field of the first invalid option (or the environment
// variable it came from) as the user wrote it, never an internal type's field.
func (o Options) resolve() (Options, error) {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Interval < MinInterval {
		return o, fmt.Errorf("vmtest: Options.Interval = %v: must be at least %v", o.Interval, MinInterval)
	}
	if o.SampleTimeout == 0 {
		o.SampleTimeout = o.Interval * 4 / 5
	}
	if o.SampleTimeout < 0 || o.SampleTimeout >= o.Interval {
		return o, fmt.Errorf("vmtest: Options.SampleTimeout = %v: must be positive and less than Interval (%v)", o.SampleTimeout, o.Interval)
	}
	if o.MaxSnapshots == 0 {
		o.MaxSnapshots = DefaultMaxSnapshots
	}
	if o.MaxSnapshots < 0 {
		return o, fmt.Errorf("vmtest: Options.MaxSnapshots = %d: must not be negative", o.MaxSnapshots)
	}
	if o.MaxRequests < 0 {
		return o, fmt.Errorf("vmtest: Options.MaxRequests = %d: must not be negative", o.MaxRequests)
	}
	if o.Goal.Duration < 0 || o.Goal.Count < 0 {
		return o, fmt.Errorf("vmtest: Options.Goal = {Duration: %v, Count: %d}: must not be negative (0: no bound)", o.Goal.Duration, o.Goal.Count)
	}
	for _, l := range []struct {
		field string
		limit time.Duration
	}{{"TTFT", o.Goodput.TTFT}, {"TPOT", o.Goodput.TPOT}, {"E2E", o.Goodput.E2E}} {
		if l.limit < 0 {
			return o, fmt.Errorf("vmtest: Options.Goodput.%s = %v: must not be negative (0: not checked)", l.field, l.limit)
		}
		if l.limit > 0 && l.limit < assert.MinLatencyLimit {
			return o, fmt.Errorf("vmtest: Options.Goodput.%s = %v: want 0 (not checked) or a limit of at least %v (a time.Duration counts nanoseconds: write e.g. %d*time.Millisecond)",
				l.field, l.limit, assert.MinLatencyLimit, int64(l.limit))
		}
	}
	if o.VLLMBaseURL == "" && len(o.Servers) == 0 {
		if env := os.Getenv(EnvVLLMURL); env != "" {
			o.VLLMBaseURL = strings.TrimSpace(env)
			if err := CheckHTTPURL(o.VLLMBaseURL, "http://localhost:8000"); err != nil {
				return o, fmt.Errorf("vmtest: %s %q (read because Options.VLLMBaseURL is empty): %v", EnvVLLMURL, env, err)
			}
		}
	} else if o.VLLMBaseURL != "" {
		if err := CheckHTTPURL(o.VLLMBaseURL, "http://localhost:8000"); err != nil {
			return o, fmt.Errorf("vmtest: Options.VLLMBaseURL %q: %v", o.VLLMBaseURL, err)
		}
	}
	if o.MetricsURL != "" {
		if err := CheckHTTPURL(o.MetricsURL, "http://localhost:8000/metrics"); err != nil {
			return o, fmt.Errorf("vmtest: Options.MetricsURL %q: %v", o.MetricsURL, err)
		}
	}
	switch src := strings.ToLower(strings.TrimSpace(o.GPUSource)); src {
	case "", samplers.GPUSourceAuto, samplers.GPUSourceNVML, samplers.GPUSourceNvidiaSMI, samplers.GPUSourceNone:
	case samplers.GPUSourceDCGM:
		if len(o.DCGMURLs) == 0 {
			return o, fmt.Errorf("vmtest: Options.GPUSource %q needs at least one dcgm-exporter URL in Options.DCGMURLs (e.g. http://localhost:9400/metrics)", o.GPUSource)
		}
	default:
		return o, fmt.Errorf("vmtest: Options.GPUSource %q: unknown GPU source (want %s, %s, %s, %s or %s)", o.GPUSource,
			samplers.GPUSourceAuto, samplers.GPUSourceNVML, samplers.GPUSourceNvidiaSMI, samplers.GPUSourceDCGM, samplers.GPUSourceNone)
	}
	for i, u := range o.DCGMURLs {
		if err := CheckHTTPURL(strings.TrimSpace(u), "http://localhost:9400/metrics"); err != nil {
			return o, fmt.Errorf("vmtest: Options.DCGMURLs[%d] %q: %v", i, u, err)
		}
	}
	if err := o.resolveNodes(); err != nil {
		return o, err
	}
	for i, id := range o.GPUIDs {
		id = strings.TrimSpace(id)
		if id == "" {
			return o, fmt.Errorf("vmtest: Options.GPUIDs[%d] is empty (want a GPU index such as \"0\" or a UUID)", i)
		}
		if n, err := strconv.Atoi(id); err == nil && n < 0 {
			return o, fmt.Errorf("vmtest: Options.GPUIDs[%d] %q: a GPU index is never negative", i, id)
		}
	}
	if envTrue(EnvRequireGPU) {
		o.RequireGPU = true
	}
	if envTrue(EnvDisplay) {
		o.Display = true
	}
	if err := resolveAuth(&o.VLLMAuth, "VLLMAuth", EnvVLLMAuth); err != nil {
		return o, err
	}
	if err := resolveAuth(&o.DCGMAuth, "DCGMAuth", EnvDCGMAuth); err != nil {
		return o, err
	}
	if err := resolveServers(&o); err != nil {
		return o, err
	}
	if err := resolveAuth(&o.NodeExporterAuth, "NodeExporterAuth", EnvNodeExporterAuth); err != nil {
		return o, err
	}
	if err := o.resolvePrometheus(); err != nil {
		return o, err
	}
	for i, s := range o.Samplers {
		if s == nil {
			return o, errors.New("vmtest: Options.Samplers[" + fmt.Sprint(i) + "] is nil")
		}
	}
	return o, nil
}

// Server is one replica of Options.Servers.
type Server struct {
	// Name keys the replica's figures (vllm_metrics.replicas.<name>, replica_<name>_<field> CSV columns,
	// server_statistics.replicas.<name>, the threshold names replica.<name>.server.*): 1–64 letters, digits
	// or '_'. Default: "r<index>" (r0, r1, ...).
	Name string
	// BaseURL is the replica's base URL, as Options.VLLMBaseURL; /metrics is scraped from it.
	BaseURL string
	// MetricsURL, when set, is the replica's full /metrics URL, as Options.MetricsURL.
	MetricsURL string
	// Auth is sent with the replica's scrapes; zero: Options.VLLMAuth.
	Auth auth.Config
}

// resolveServers checks Options.Servers and fills their default names and Auth.
func resolveServers(o *Options) error {
	if len(o.Servers) == 0 {
		return nil
	}
	if o.VLLMBaseURL != "" || o.MetricsURL != "" {
		return errors.New("vmtest: Options.Servers and Options.VLLMBaseURL/MetricsURL are both set: name the server(s) one way (a one-entry Servers is VLLMBaseURL)")
	}
	o.Servers = slices.Clone(o.Servers)
	names := make([]string, len(o.Servers))
	for i := range o.Servers {
		sv := &o.Servers[i]
		if sv.Name == "" {
			sv.Name = "r" + strconv.Itoa(i)
		}
		names[i] = sv.Name
		switch {
		case sv.BaseURL == "" && sv.MetricsURL == "":
			return fmt.Errorf("vmtest: Options.Servers[%d] (%s): set BaseURL or MetricsURL", i, sv.Name)
		case sv.MetricsURL != "":
			if err := CheckHTTPURL(sv.MetricsURL, "http://localhost:8000/metrics"); err != nil {
				return fmt.Errorf("vmtest: Options.Servers[%d].MetricsURL %q: %v", i, auth.Redact(sv.MetricsURL), err)
			}
		default:
			if err := CheckHTTPURL(sv.BaseURL, "http://localhost:8000"); err != nil {
				return fmt.Errorf("vmtest: Options.Servers[%d].BaseURL %q: %v", i, auth.Redact(sv.BaseURL), err)
			}
		}
		if sv.Auth.IsZero() {
			sv.Auth = o.VLLMAuth
		} else if err := sv.Auth.Validate(); err != nil {
			return fmt.Errorf("vmtest: Options.Servers[%d].Auth: %w", i, err)
		}
	}
	if err := serverstats.CheckReplicaNames(names); err != nil {
		return fmt.Errorf("vmtest: Options.Servers: %w", err)
	}
	if i, j, dup := DuplicateServer(o.Servers); dup {
		return fmt.Errorf("vmtest: Options.Servers[%d] (%s) and Options.Servers[%d] (%s) are the same server (%s): "+
			"its figures would be counted twice; give each replica once", i, o.Servers[i].Name, j, o.Servers[j].Name, auth.Redact(serverURL(o.Servers[j])))
	}
	return nil
}

// serverURL is the URL sv was given by: BaseURL, else MetricsURL.
func serverURL(sv Server) string {
	if sv.BaseURL != "" {
		return sv.BaseURL
	}
	return sv.MetricsURL
}

// CheckHTTPURL returns an error when raw is not an absolute http or https URL with a host, as Start checks
// Options.VLLMBaseURL, MetricsURL and DCGMURLs (the vmtest command checks -url with it too). The message,
// "not an http(s) URL with a host (want e.g. ...)", gives an example: raw with http:// in front when it has
// no scheme ("localhost:8000"), else example.
func CheckHTTPURL(raw, example string) error {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	if guess, err := url.Parse("http://" + raw); err == nil && !strings.Contains(raw, "://") && guess.Hostname() != "" {
		example = guess.Redacted()
	}
	return fmt.Errorf("not an http(s) URL with a host (want e.g. %s)", example)
}

// resolvePrometheus checks Options.Prometheus and fills its defaults (Model, Auth from the environment).
func (o *Options) resolvePrometheus() error {
	if o.Prometheus == nil {
		return nil
	}
	if o.MetricsURL != "" {
		return fmt.Errorf("vmtest: Options.MetricsURL and Options.Prometheus are both set: the server's metrics come from one of them")
	}
	if len(o.Servers) > 1 {
		return fmt.Errorf("vmtest: Options.Servers (%d replicas) and Options.Prometheus are both set: the servers' metrics come from one of them", len(o.Servers))
	}
	cfg := *o.Prometheus
	if cfg.Model == "" {
		cfg.Model = o.Model
	}
	if err := resolveAuth(&cfg.Auth, "Prometheus.Auth", EnvPrometheusAuth); err != nil {
		return err
	}
	cfg, err := cfg.Validate()
	if err != nil {
		return fmt.Errorf("vmtest: Options.Prometheus: %w", err)
	}
	o.Prometheus = &cfg
	return nil
}

// resolveNodes checks Options.NodeExporterURLs: each parses (samplers.ParseNodeExporter) and no two name one node.
func (o *Options) resolveNodes() error {
	seen := map[string]int{}
	for i, spec := range o.NodeExporterURLs {
		name, _, err := samplers.ParseNodeExporter(spec)
		if err != nil {
			return fmt.Errorf("vmtest: Options.NodeExporterURLs[%d] %w", i, err)
		}
		if j, dup := seen[name]; dup {
			return fmt.Errorf("vmtest: Options.NodeExporterURLs[%d] and [%d] both name node %q: give each its own name (name=url)", j, i, name)
		}
		seen[name] = i
	}
	return nil
}
