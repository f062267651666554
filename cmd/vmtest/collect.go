package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/live"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/shard"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vmtest"
)

// collectFlags are the flags collect and load share: they become vmtest.Options.
type collectFlags struct {
	url      string     // the one server's base URL (one -url, one -servers entry or $VMTEST_VLLM_URL); "" for several
	urls     stringList // -url, repeatable: each a replica
	servers  string     // -servers name=url,...
	router   string     // -router: where load goes while every server is scraped
	targets  []string   // where load goes: -router, else every server's base URL (round robin)
	model    string     // Options.Model: the server's series of one model_name
	interval time.Duration
	out      string
	config   string
	gpu      string
	gpuIDs   string
	dcgm     stringList
	nodes    stringList // -node-exporter: Options.NodeExporterURLs
	display  bool
	noPNG    bool
	// Headers sent with the scrapes, "Name: value" (repeatable; never printed).
	metricsHeaders, dcgmHeaders, nodeHeaders headerList
	prom                                     promFlags // -prometheus and its selectors
	gpuSet                                   bool      // -gpu was given
}

var gpuSources = []string{samplers.GPUSourceAuto, samplers.GPUSourceNVML, samplers.GPUSourceNvidiaSMI, samplers.GPUSourceDCGM, samplers.GPUSourceNone}

func (f *collectFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.urls, "url", "the server's base URL, e.g. http://localhost:8000 (http://user:password@host for basic auth); /metrics is scraped from it (default $"+vmtest.EnvVLLMURL+
		"); repeat it for several replicas (named r0, r1, ...), each scraped")
	fs.StringVar(&f.servers, "servers", "", "several replicas with names, name=URL,name=URL,... (instead of -url): each scraped")
	fs.StringVar(&f.model, "metrics-model", "", "read only the server's /metrics series whose model_name is this (default: sum every model's)")
	fs.DurationVar(&f.interval, "interval", vmtest.DefaultInterval, "time between snapshots (at least "+vmtest.MinInterval.String()+")")
	fs.StringVar(&f.out, "out", "", "output directory (default $"+vmtest.EnvOutputDir+"/<config>, else metrics_output/<config>)")
	fs.StringVar(&f.config, "config", "", "configuration id in file names and snapshots (default the command's name)")
	f.gpu = samplers.GPUSourceAuto
	fs.Func("gpu", "GPU source: "+strings.Join(gpuSources, ", ")+" (default auto; nvml needs a binary built with -tags gpu)", func(s string) error {
		for _, g := range gpuSources {
			if s == g {
				f.gpu, f.gpuSet = s, true
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(gpuSources, ", "))
	})
	fs.StringVar(&f.gpuIDs, "gpus", "", "comma-separated GPU indexes or UUIDs to sample (default all)")
	fs.Var(&f.dcgm, "dcgm-url", "a dcgm-exporter /metrics URL (repeatable; selects the dcgm source under -gpu auto)")
	fs.Var(&f.nodes, "node-exporter", "a server node's node_exporter /metrics URL, name=url or url (the name then is its host): "+
		"its CPU, load, memory, network and disk go beside the load generator's host (repeatable: one per node)")
	fs.Var(&f.nodeHeaders, "node-exporter-header", `a header sent with every node_exporter scrape, "Name: value" (repeatable; never printed; `+
		`also $`+vmtest.EnvNodeExporterAuth+`_BEARER_TOKEN, ...)`)
	fs.BoolVar(&f.display, "display", false, "show a live dashboard on stderr every interval: redrawn in place on a terminal, one line per interval elsewhere (without it, a terminal gets a progress bar)")
	fs.BoolVar(&f.noPNG, "no-png", false, "write no metrics_<config>_<stamp>.png (the HTML report has the same charts; vmtest report draws it later)")
	fs.Var(&f.metricsHeaders, "metrics-header", `a header sent with every /metrics scrape, "Name: value" (repeatable; never printed; `+
		`a bearer token or basic auth also from $`+vmtest.EnvVLLMAuth+`_BEARER_TOKEN, _USERNAME, _PASSWORD, _HEADERS)`)
	fs.Var(&f.dcgmHeaders, "dcgm-header", `a header sent with every dcgm-exporter scrape, "Name: value" (repeatable; never printed; `+
		`also $`+vmtest.EnvDCGMAuth+`_BEARER_TOKEN, ...)`)
	f.prom.register(fs)
}

// registerRouter defines -router, for the commands that send load (load, sweep), and says in -url's and
// -servers' help where their load goes; collect sends none. It follows register.
func (f *collectFlags) registerRouter(fs *flag.FlagSet) {
	fs.StringVar(&f.router, "router", "", "send every request to this URL (a router in front of the servers) while each -url or -servers server is scraped")
	for _, name := range []string{"url", "servers"} {
		fs.Lookup(name).Usage += " and, without -router, sent load round robin"
	}
}

// secrets lists what the command must never print: the credentials in its URLs and its header values.
func (f *collectFlags) secrets() []string {
	s := append(append(f.metricsHeaders.values(), f.dcgmHeaders.values()...), f.nodeHeaders.values()...)
	for _, prefix := range []string{vmtest.EnvVLLMAuth, vmtest.EnvDCGMAuth, vmtest.EnvNodeExporterAuth} {
		if env, err := auth.FromEnv(prefix); err == nil {
			s = append(s, env.Secrets()...)
		}
	}
	urls := append(append([]string{f.url, f.router}, f.urls...), f.dcgm...)
	for _, item := range strings.Split(f.servers, ",") {
		_, u, _ := strings.Cut(item, "=")
		urls = append(urls, item, u)
	}
	for _, u := range urls {
		s = append(s, auth.URLSecrets(u)...)
	}
	for _, spec := range f.nodes {
		if _, u, err := samplers.ParseNodeExporter(spec); err == nil {
			s = append(s, auth.URLSecrets(u)...)
		}
	}
	return append(s, f.prom.secrets()...)
}

// options checks the flags (errors name the flag) and returns the collector options for command cmd.
func (f *collectFlags) options(cmd string) (vmtest.Options, error) {
	servers, err := f.serverList()
	if err != nil {
		return vmtest.Options{}, err
	}
	if f.interval < vmtest.MinInterval {
		return vmtest.Options{}, fmt.Errorf("-interval %v: must be at least %v", f.interval, vmtest.MinInterval)
	}
	if f.config == "" {
		f.config = cmd
	}
	o := vmtest.Options{
		ConfigID: f.config, Interval: f.interval, VLLMBaseURL: f.url, Model: f.model, Display: f.display,
		GPUSource: f.gpu, DCGMURLs: f.dcgm, NodeExporterURLs: f.nodes, KernelTimer: true, NoPNG: f.noPNG,
	}
	if len(servers) > 1 {
		o.Servers = servers
	}
	if o.VLLMAuth, err = f.metricsHeaders.config("metrics-header", vmtest.EnvVLLMAuth); err != nil {
		return vmtest.Options{}, err
	}
	if o.DCGMAuth, err = f.dcgmHeaders.config("dcgm-header", vmtest.EnvDCGMAuth); err != nil {
		return vmtest.Options{}, err
	}
	if o.NodeExporterAuth, err = f.nodeHeaders.config("node-exporter-header", vmtest.EnvNodeExporterAuth); err != nil {
		return vmtest.Options{}, err
	}
	if err = f.prom.apply(&o, f.gpuSet); err != nil {
		return vmtest.Options{}, err
	}
	if o.Prometheus != nil {
		o.Servers = nil // the metrics come from Prometheus; -url and -servers only say where load goes (f.targets)
	}
	if f.gpuIDs != "" {
		for _, id := range strings.Split(f.gpuIDs, ",") {
			if id = strings.TrimSpace(id); id != "" {
				o.GPUIDs = append(o.GPUIDs, id)
			}
		}
	}
	return o, nil
}

// anyServer says whether a server was named (-url, -servers or $VMTEST_VLLM_URL, after fromEnv).
func (f *collectFlags) anyServer() bool { return len(f.urls) > 0 || f.servers != "" }

// serverList checks -url, -servers and -router and returns the servers they name (errors name the flag);
// it sets f.url when there is one server, and f.targets, where load goes.
func (f *collectFlags) serverList() ([]vmtest.Server, error) {
	var out []vmtest.Server
	if f.servers != "" && len(f.urls) > 0 {
		return nil, errors.New("-url and -servers exclude each other: name every server one way")
	}
	for i, u := range f.urls {
		if err := checkURL(u); err != nil {
			return nil, fmt.Errorf("-url %q: %v", auth.Redact(u), err)
		}
		name := ""
		if len(f.urls) > 1 {
			name = "r" + strconv.Itoa(i)
		}
		out = append(out, vmtest.Server{Name: name, BaseURL: u})
	}
	if f.servers != "" {
		for i, item := range strings.Split(f.servers, ",") {
			name, u, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("-servers item %d %q: want name=URL", i+1, auth.Redact(item))
			}
			if err := checkURL(u); err != nil {
				return nil, fmt.Errorf("-servers %s=%q: %v", name, auth.Redact(u), err)
			}
			out = append(out, vmtest.Server{Name: name, BaseURL: u})
		}
		if err := serverstats.CheckReplicaNames(serverNames(out)); err != nil {
			return nil, fmt.Errorf("-servers: %w", err)
		}
	}
	if i, j, dup := vmtest.DuplicateServer(out); dup {
		what := fmt.Sprintf("-url #%d and -url #%d", i+1, j+1)
		if f.servers != "" {
			what = fmt.Sprintf("-servers %s (item %d) and %s (item %d)", out[i].Name, i+1, out[j].Name, j+1)
		}
		return nil, fmt.Errorf("%s are the same server (%s): its figures would be counted twice; give each replica once",
			what, auth.Redact(out[j].BaseURL))
	}
	if f.router != "" {
		if err := checkURL(f.router); err != nil {
			return nil, fmt.Errorf("-router %q: %v", auth.Redact(f.router), err)
		}
	}
	f.url, f.targets = "", nil
	if len(out) == 1 {
		f.url = out[0].BaseURL
	}
	switch {
	case f.router != "":
		f.targets = []string{f.router}
	default:
		for _, sv := range out {
			f.targets = append(f.targets, sv.BaseURL)
		}
	}
	return out, nil
}

// serverNames returns the names of servers, in order.
func serverNames(servers []vmtest.Server) []string {
	names := make([]string, len(servers))
	for i, sv := range servers {
		names[i] = sv.Name
	}
	return names
}

// checkURL checks a server URL flag as vmtest.Start checks Options.VLLMBaseURL, with the same message.
func checkURL(s string) error { return vmtest.CheckHTTPURL(s, "http://localhost:8000") }

// checkWritable makes dir if needed and checks that a file can be created in it, so that a run whose files
// could not be written fails before it starts rather than at its end.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %q: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".vmtest-probe-*")
	if err != nil {
		return fmt.Errorf("output directory %q is not writable: %w", dir, err)
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return nil
}

// optionsHint follows an error from vmtest.Start, which names an Options field: it says which flag set it.
const optionsHint = "(the options come from the flags: -url VLLMBaseURL (several: Servers), -servers Servers, -interval Interval, -gpu GPUSource, " +
	"-gpus GPUIDs, -dcgm-url DCGMURLs, -node-exporter NodeExporterURLs, -prometheus Prometheus.URL, -config ConfigID, -out OutputDir)"

// configName names a run after its configuration, for vmtest.OutputDir.
type configName string

func (n configName) Name() string { return string(n) }

// prepare sets o.OutputDir from -out, else as vmtest.Start would pick it, and where the log goes, and checks
// that the directory is writable.
func prepare(o *vmtest.Options, out string, stdout io.Writer) error {
	o.OutputDir = vmtest.OutputDir(configName(vmtest.Sanitize(o.ConfigID)), out)
	o.Log = stdout
	return checkWritable(o.OutputDir)
}

// startRun starts the collector; an invalid option (which vmtest names) is printed with the flag that set it
// and status exitUsage returned. The collector's context is not the signal's: a signal first stops the load,
// whose last requests are recorded, and stopRun then tells the collector why it stops early.
func startRun(o vmtest.Options, stderr io.Writer) (*vmtest.Collector, context.CancelCauseFunc, int) {
	ctx, stop := context.WithCancelCause(context.Background())
	c, err := vmtest.Start(ctx, o)
	if err != nil {
		stop(nil)
		fmt.Fprintf(stderr, "%v\n%s\n", err, optionsHint)
		return nil, nil, exitUsage
	}
	return c, stop, exitOK
}

// stopRun ends the collector's context with the signal's cause when sig ended (the summary's events then say
// the run stopped early, and why), else plainly.
func stopRun(sig context.Context, stop context.CancelCauseFunc) {
	if sig.Err() != nil {
		stop(context.Cause(sig))
	}
}

// finishRun finishes the collector and returns exitFail when its files could not be written or a check was
// not met (each printed to stderr), else code.
func finishRun(c *vmtest.Collector, code int, stderr io.Writer) (*summary.Summary, int) {
	sum, err := c.Finish()
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		code = exitFail
	}
	return sum, code
}

// waitFor waits until d after c's start (forever when d is 0) or ctx, drawing bar meanwhile, and logs an
// interruption (with d 0, the signal that ends the wait) once the bar is done, beside c's dashboard.
func waitFor(ctx context.Context, c *vmtest.Collector, stdout io.Writer, d time.Duration, bar *live.Bar) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(time.Until(c.Started().Add(d)))
		defer t.Stop()
		timeout = t.C
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		bar.Stop()
		what := "interrupted"
		if d == 0 {
			what = "signal received (-duration 0 runs until one)"
		}
		fmt.Fprintf(besideDisplay(c, stdout), "vmtest: %s after %v: stopping\n", what, time.Since(start).Round(time.Millisecond))
	case <-timeout:
		bar.Stop()
	}
}

// progressBar starts the bar that long work (load, collect with a duration, sweep) shows on stderr when it is a
// terminal (live.StartBar): label, the goal, and done, the units of work done so far (nil when the goal
// counts none). With -display on (display) the dashboard shows the progress instead, and the bar draws
// nothing. Stop it before writing anything else.
func progressBar(display bool, stderr io.Writer, label string, goal live.Goal, done func() int) *live.Bar {
	if display {
		stderr = io.Discard
	}
	return live.StartBar(stderr, label, goal, done)
}

// besideDisplay returns w, or, when w is a terminal, a writer whose every write goes beside c's dashboard
// (Collector.BesideDisplay), so that what the command prints while the run goes never breaks a frame.
func besideDisplay(c *vmtest.Collector, w io.Writer) io.Writer {
	if !live.IsTerminal(w) {
		return w
	}
	return displayWriter{c: c, w: w}
}

// displayWriter writes to w beside c's dashboard.
type displayWriter struct {
	c *vmtest.Collector
	w io.Writer
}

func (d displayWriter) Write(p []byte) (n int, err error) {
	d.c.BesideDisplay(func() { n, err = d.w.Write(p) })
	return n, err
}

// countingSink counts the requests recorded into the collector, for the progress bar.
type countingSink struct {
	c *vmtest.Collector
	n atomic.Int64
}

func (s *countingSink) RecordRequest(r recorder.Request) {
	s.c.RecordRequest(r)
	s.n.Add(1)
}

// RecordWarmup passes a warm-up request to the collector; the progress does not count it.
func (s *countingSink) RecordWarmup(r recorder.Request) { s.c.RecordWarmup(r) }

// RecordClientCost passes the load run's cost to its process to the collector's client_statistics.
func (s *countingSink) RecordClientCost(c recorder.ClientCost) { s.c.RecordClientCost(c) }

// loadGoal is the load's bounds, for the progress: -duration and -requests, whichever comes first.
func loadGoal(lc loadgen.LoadConfig) live.Goal {
	return live.Goal{Duration: lc.Duration, Count: lc.Requests, Unit: "requests"}
}

func collectMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("collect", "[-url URL ... | -servers NAME=URL,...] [-duration 60s] [-interval 2s] [-out DIR] [-config ID] [-gpu auto|nvml|nvidia-smi|dcgm|none] [-slo EXPR ...] [-display]",
		"Samples the server's /metrics, the GPUs and the host every -interval, as vmtest.Collect does in a test,\n"+
			"until -duration has passed or SIGINT/SIGTERM arrives (with -duration 0, the signal is its end: the run\n"+
			"finished); then writes the files, prints the summary and their paths, and checks each -slo over it: exit\n"+
			"status 1 when one is not met.")
	var cf collectFlags
	cf.register(fs)
	duration := fs.Duration("duration", 60*time.Second, "how long to collect; 0: until SIGINT/SIGTERM")
	var slos stringList
	fs.Var(&slos, "slo", `threshold expression checked at the end over what was collected, as for load, e.g. "server.ttft.p99 < 500ms" or "server.kv_cache_usage.max < 90" (repeatable; exit status 1 when one is not met; kept in the journal, so vmtest report checks it again on a killed run)`)
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	cf.fromEnv()
	stdout, stderr = redacting(stdout, cf.secrets()), redacting(stderr, cf.secrets())
	if fs.NArg() > 0 {
		return usageErr(stderr, "collect", "unexpected argument %q", fs.Arg(0))
	}
	if *duration < 0 {
		return usageErr(stderr, "collect", "-duration %v: must not be negative", *duration)
	}
	o, err := cf.options("collect")
	if err != nil {
		return usageErr(stderr, "collect", "%v", err)
	}
	checks, err := sloChecks(slos, recorder.SLO{}, "collect sends no requests, so it has no goodput: check goodput with load or sweep")
	if err == nil {
		err = sloReplicas(o, slos, checks)
	}
	if err != nil {
		return usageErr(stderr, "collect", "%v", err)
	}
	o.Goal = live.Goal{Duration: *duration}
	if err := prepare(&o, cf.out, stdout); err != nil {
		fmt.Fprintf(stderr, "vmtest collect: %v\n", err)
		return exitFail
	}
	c, stop, code := startRun(o, stderr)
	if c == nil {
		return code
	}
	defer stop(nil)
	for i, check := range checks {
		c.AssertFrom(fmt.Sprintf("from -slo %q", slos[i]), check)
	}
	waitFor(ctx, c, stdout, *duration, progressBar(cf.display, stderr, "collect", o.Goal, nil))
	if *duration > 0 { // -duration 0 ends at SIGINT/SIGTERM, its documented end: the run finished, not early
		stopRun(ctx, stop)
	}
	sum, code := finishRun(c, code, stderr)
	if len(checks) > 0 {
		printSLOs(stdout, sum, checks)
	}
	return code
}

// discardSink stands in for the collector while a load configuration is validated.
type discardSink struct{}

func (discardSink) RecordRequest(recorder.Request) {}

// defaultPrompts are sent when neither -prompts nor -prompt is given.
var defaultPrompts = []string{
	"Explain the difference between prefill and decode in one paragraph.",
	"Write a haiku about GPUs.",
	"List three ways to reduce time to first token in an LLM server, with one sentence on each of them.",
	"What is a KV cache?",
}

func loadMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "load"
	fs := newFlagSet(cmd, "-url URL ... | -servers NAME=URL,... [-router URL] [-model M] [-prompts FILE.jsonl | -prompt TEXT ...] [-concurrency N | -rate R [-burstiness B] [-max-concurrency N]]\n"+
		"       [-duration D | -requests N] [-max-tokens N] [-warmup N] [-slo EXPR ...] [-goodput-ttft D -goodput-tpot D] [-out DIR] [-config ID]\n"+
		"       [-drain-timeout D] [-header-timeout D] [-first-token-timeout D] [-stall-timeout D] [-max-event-size BYTES]\n"+
		"       [-input-tokens DIST [-output-tokens DIST] [-num-prompts N] [-prefixes N -prefix-tokens N -suffixes-per-prefix M]] [-ignore-eos] [-min-tokens N] [-seed S] [-continuous-usage]\n"+
		"       [-dataset FILE [-dataset-entries N] [-multi-turn [-think-time D]]] [-model A=3,B=1]\n"+
		"       [-shard-index I -shard-count N [-start-at TIME]]",
		"Drives load into the server (package loadgen) while collecting as `vmtest collect` does, records every request,\n"+
			"writes the files, prints the summary, and checks each -slo over it: exit status 1 when one is not met.\n"+
			"Sending stops at -requests or -duration, whichever comes first, then requests in flight get -drain-timeout to\n"+
			"end (10 s, or twice the slowest OK request when longer, unless -drain-timeout is given); those still in flight\n"+
			"then are cut and counted incomplete (in error_rate). SIGINT/SIGTERM stops the run at once, canceling them.")
	var cf collectFlags
	cf.register(fs)
	cf.registerRouter(fs)
	var (
		slos stringList
		lc   loadgen.LoadConfig
		slo  recorder.SLO
		pf   promptFlags
		sh   shardFlags
	)
	pf.register(fs, &lc.Params.Model)
	sh.register(fs)
	fs.IntVar(&lc.Concurrency, "concurrency", 0, "closed loop: requests in flight at once (default 1 without -rate)")
	fs.Float64Var(&lc.Rate, "rate", 0, "open loop: requests per second on a Poisson (or gamma) schedule")
	fs.Float64Var(&lc.Burstiness, "burstiness", 0, "open loop: gamma shape of the gaps between requests; 1 is Poisson (default 1)")
	fs.IntVar(&lc.MaxConcurrency, "max-concurrency", 0, "open loop: most requests in flight at once (default no cap)")
	fs.DurationVar(&lc.Duration, "duration", 0, "how long to send requests (default 60s when -requests is not given)")
	fs.IntVar(&lc.Requests, "requests", 0, "how many measured requests to send, or sessions when the prompts are multi-turn (-multi-turn, \"turns\" in -prompts)")
	fs.IntVar(&lc.Params.MaxTokens, "max-tokens", 128, "max_tokens of each request (a prompt's own max_tokens wins); 0 leaves it to the server")
	fs.BoolVar(&lc.Params.ContinuousUsage, "continuous-usage", false, "ask for usage on every chunk (vLLM's stream_options.continuous_usage_stats): ITL per token, not per chunk")
	fs.IntVar(&lc.Warmup, "warmup", 0, "requests sent before the measured phase: in no statistic, row or rate, only counted in request_statistics.warmup")
	fs.StringVar(&lc.Client.APIKey, "api-key", "", "sent as a bearer token with every request and the model check (default $OPENAI_API_KEY; never printed)")
	var headers headerList
	fs.Var(&headers, "header", `a header sent with every request and the model check, "Name: value" (repeatable; never printed)`)
	fs.BoolVar(&lc.IgnoreRetryAfter, "ignore-retry-after", false, "closed loop: send the next request at once after a 429/503, ignoring Retry-After and the back-off")
	fs.DurationVar(&lc.MaxRetryAfter, "max-retry-after", loadgen.DefaultMaxRetryAfter, "closed loop: the longest a Retry-After holds a worker")
	registerTimeouts(fs, &lc)
	fs.IntVar(&lc.Client.MaxEventSize, "max-event-size", loadgen.DefaultMaxEventSize, "the largest server-sent event (or non-streaming answer) a request takes, bytes; a larger one fails the request")
	fs.Var(&slos, "slo", `threshold expression checked at the end, e.g. "p(99) ttft < 500ms" or "error_rate < 1%" (repeatable)`)
	fs.DurationVar(&slo.TTFT, "goodput-ttft", 0, "goodput: a request counts when its TTFT is at most this")
	fs.DurationVar(&slo.TPOT, "goodput-tpot", 0, "goodput: a request counts when its TPOT is at most this")
	fs.DurationVar(&slo.E2E, "goodput-e2e", 0, "goodput: a request counts when its E2E latency is at most this")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	cf.fromEnv()
	if lc.Client.APIKey == "" {
		lc.Client.APIKey = os.Getenv("OPENAI_API_KEY")
	}
	secrets := append(append(cf.secrets(), headers.values()...), lc.Client.APIKey)
	stdout, stderr = redacting(stdout, secrets), redacting(stderr, secrets)
	bad := func(format string, args ...any) int { return usageErr(stderr, cmd, format, args...) }
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case !cf.anyServer():
		return bad("-url (or -servers) is required (or $%s)", vmtest.EnvVLLMURL)
	case set["rate"] && set["concurrency"]:
		return bad("-concurrency is the closed loop's; with -rate use -max-concurrency")
	case !set["rate"] && (set["burstiness"] || set["max-concurrency"]):
		return bad("-burstiness and -max-concurrency need -rate")
	case set["rate"] && !(lc.Rate > 0):
		return bad("-rate %v: must be above 0", lc.Rate)
	}
	if err := pf.check(set, &lc.Params.Model); err != nil {
		return bad("%v", err)
	}
	for _, n := range []struct {
		name string
		v    float64
	}{{"concurrency", float64(lc.Concurrency)}, {"burstiness", lc.Burstiness}, {"max-concurrency", float64(lc.MaxConcurrency)},
		{"duration", float64(lc.Duration)}, {"requests", float64(lc.Requests)}, {"max-tokens", float64(lc.Params.MaxTokens)},
		{"warmup", float64(lc.Warmup)}, {"max-retry-after", float64(lc.MaxRetryAfter)}, {"max-event-size", float64(lc.Client.MaxEventSize)}, {"goodput-ttft", float64(slo.TTFT)}, {"goodput-tpot", float64(slo.TPOT)},
		{"goodput-e2e", float64(slo.E2E)}} {
		if n.v < 0 {
			return bad("-%s: must not be negative", n.name)
		}
	}
	if err := checkTimeouts(set, &lc); err != nil {
		return bad("%v", err)
	}
	checks, err := sloChecks(slos, slo, noGoodputFlags)
	if err != nil {
		return bad("%v", err)
	}
	spec, startAt, err := sh.spec()
	if err != nil {
		return bad("%v", err)
	}
	if lc.Duration == 0 && lc.Requests == 0 {
		lc.Duration = 60 * time.Second
	}
	o, err := cf.options(cmd)
	if err != nil {
		return bad("%v", err)
	}
	if err := sloReplicas(o, slos, checks); err != nil {
		return bad("%v", err)
	}
	ha, err := headers.config("header", "")
	if err != nil {
		return bad("%v", err)
	}
	lc.Client.Header = ha.Header
	o.Goodput = slo
	o.Goal = loadGoal(lc)
	if lc.Prompts, err = pf.base(); err != nil {
		return bad("%v", err)
	}
	lc.Client.BaseURL, lc.Client.MoreBaseURLs = cf.targets[0], cf.targets[1:]
	lc.Client.MaxEventSizeSetting = "vmtest load -max-event-size"
	lc.Sink = discardSink{}
	if err := lc.Validate(); err != nil {
		return bad("%v", err)
	}
	if code, ok := resolveModel(ctx, &lc, cmd, stderr); !ok {
		return code
	}
	warnings, err := pf.apply(ctx, &lc, cmd, stdout, stderr)
	o.Warnings = append(o.Warnings, warnings...)
	if err != nil {
		fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
		return exitFail
	}
	if err := sloModels(&lc, slos, checks); err != nil {
		return bad("%v", err)
	}
	var wl shard.Workload
	if spec.Sharded() {
		if wl, err = workloadOf(o.ConfigID, &lc, sh.startAt); err != nil {
			return bad("%v", err)
		}
		if err := splitLoad(&lc, spec); err != nil {
			return bad("%v", err)
		}
		o.Goal = loadGoal(lc)
		fmt.Fprintf(stdout, "vmtest: load: shard %d of %d\n", spec.Index, spec.Count)
	}

	if err := prepare(&o, cf.out, stdout); err != nil {
		fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
		return exitFail
	}
	if note := lateStart(startAt, time.Now()); note != "" {
		fmt.Fprintf(stderr, "vmtest %s: warning: %s\n", cmd, note)
		o.Warnings = append(o.Warnings, note)
	} else if !startAt.IsZero() {
		fmt.Fprintf(stdout, "vmtest: load: waiting until %s to start\n", startAt.Format(time.RFC3339))
		if !waitUntil(ctx, startAt) {
			fmt.Fprintln(stderr, "vmtest: load: interrupted before -start-at: nothing was sent")
			return exitFail
		}
	}
	c, stop, code := startRun(o, stderr)
	if c == nil {
		return code
	}
	defer stop(nil)
	for i, check := range checks {
		c.AssertFrom(fmt.Sprintf("from -slo %q", slos[i]), check)
	}
	code = runLoad(ctx, c, lc, cf.display, stdout, stderr)
	stopRun(ctx, stop)
	sum, code := finishRun(c, code, stderr)
	if spec.Sharded() {
		if path, err := writeShardFile(c, sum, spec, wl); err != nil {
			fmt.Fprintf(stderr, "vmtest load: %v\n", err)
			code = exitFail
		} else {
			fmt.Fprintf(stdout, "vmtest: shard file %s\n", path)
		}
	}
	if len(checks) > 0 {
		printSLOs(stdout, sum, checks)
	}
	return code
}

// noGoodputFlags is sloChecks' advice for load and sweep, whose -goodput-* flags give the objective.
const noGoodputFlags = "give -goodput-ttft, -goodput-tpot and/or -goodput-e2e, the limits a request must meet to count"

// sloChecks returns the checks of the -slo expressions, or an error naming the first invalid one: one that does
// not parse, or a goodput threshold without a goodput objective, with advice (noGoodputFlags for load and sweep).
func sloChecks(exprs []string, goodput recorder.SLO, advice string) ([]assert.Check, error) {
	checks := make([]assert.Check, 0, len(exprs))
	for i, e := range exprs {
		check := assert.Expr(e)
		if err := check.Err(); err != nil {
			return nil, fmt.Errorf("-slo #%d: %v", i+1, err)
		}
		if goodput.TTFT <= 0 && goodput.TPOT <= 0 && goodput.E2E <= 0 {
			for _, m := range check.Metrics() {
				if strings.HasPrefix(strings.ToLower(m), "goodput") {
					return nil, fmt.Errorf("-slo #%d %q: no goodput objective: %s", i+1, e, advice)
				}
			}
		}
		checks = append(checks, check)
	}
	return checks, nil
}

// sloReplicas returns an error naming the first -slo (checks[i] is slos[i]) that addresses a replica the run
// with options o does not have (vmtest.CheckReplicaMetrics), so that it is refused before any load.
func sloReplicas(o vmtest.Options, slos []string, checks []assert.Check) error {
	for i, check := range checks {
		if err := vmtest.CheckReplicaMetrics(o, check.Metrics()); err != nil {
			return fmt.Errorf("-slo #%d %q: %v", i+1, slos[i], err)
		}
	}
	return nil
}

// sloModels returns an error naming the first -slo (checks[i] is slos[i]) that addresses a model no request
// of lc will name (summary.ModelOf; a request names its prompt's model, else lc's -model), so that it is
// refused before any load, as sloReplicas refuses a replica. lc's model and prompts must be resolved.
func sloModels(lc *loadgen.LoadConfig, slos []string, checks []assert.Check) error {
	var models []string
	for i := range lc.Prompts {
		m := cmp.Or(lc.Prompts[i].Model, lc.Params.Model)
		if m != "" && !slices.Contains(models, m) {
			models = append(models, m)
		}
	}
	if len(models) == 0 {
		return nil
	}
	slices.Sort(models)
	for i, check := range checks {
		for _, metric := range check.Metrics() {
			if m, ok := summary.ModelOf(metric); ok && !slices.ContainsFunc(models, func(s string) bool { return strings.EqualFold(s, m) }) {
				return fmt.Errorf("-slo #%d %q: %s: no model %q in this run (models: %s)", i+1, slos[i], metric, m, strings.Join(models, ", "))
			}
		}
	}
	return nil
}

// resolveModel sets lc's model to the server's first when -model was not given, else checks that the server
// serves it, before anything starts: a model it does not serve fails with exitFail and no files.
func resolveModel(ctx context.Context, lc *loadgen.LoadConfig, cmd string, stderr io.Writer) (int, bool) {
	client, err := loadgen.NewClient(lc.Client)
	if err != nil {
		return usageErr(stderr, cmd, "%v", err), false
	}
	defer client.Close()
	if lc.Params.Model != "" {
		var notServed *loadgen.ModelNotServedError
		if err := loadgen.CheckModel(ctx, client, lc.Params.Model); errors.As(err, &notServed) {
			fmt.Fprintf(stderr, "vmtest: load: -model %q is not served by %s (it serves %s); nothing was sent\n", notServed.Model, notServed.BaseURL, notServed.ServedText())
			return exitFail, false
		}
		return exitOK, true
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ids, err := client.Models(mctx)
	if err != nil {
		fmt.Fprintf(stderr, "vmtest %s: %v%s\n", cmd, err, modelsHint(ctx, err))
		return exitFail, false
	}
	lc.Params.Model = ids[0]
	return exitOK, true
}

// modelsHint is what to do about err, the failure to list the server's models: check the credentials for a
// 401 or 403, check -url when no server answered, give -model only when the server answered without a usable
// model list (nothing at /v1/models, or not a list); "" when no hint would help.
func modelsHint(ctx context.Context, err error) string {
	var he *loadgen.HTTPError
	var ue *url.Error
	switch {
	case ctx.Err() != nil:
		return ""
	case errors.As(err, &he) && (he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden):
		return " (the server refused the credentials: check -api-key or $OPENAI_API_KEY, and -header)"
	case errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusMethodNotAllowed):
		return " (the server has no model list: give -model)"
	case errors.As(err, &he):
		return ""
	case errors.As(err, &ue):
		return " (no answer from the server: check -url, and that the server is up)"
	}
	return " (the server's model list is not usable: give -model)"
}

// runLoad drives lc's load into the server, recording into c, with a progress bar on a terminal unless the
// dashboard is on (display), and returns exitFail when the load could not run or no request succeeded.
func runLoad(ctx context.Context, c *vmtest.Collector, lc loadgen.LoadConfig, display bool, stdout, stderr io.Writer) int {
	sink := &countingSink{c: c}
	lc.Sink = sink
	out, errOut := besideDisplay(c, stdout), besideDisplay(c, stderr)
	fmt.Fprintf(out, "vmtest: load: model %q, %s\n", lc.Params.Model, describeLoad(lc))
	bar := progressBar(display, stderr, "load", loadGoal(lc), func() int { return int(sink.n.Load()) })
	res, err := loadgen.Run(ctx, lc)
	bar.Stop()
	return reportLoad(ctx, res, err, out, errOut)
}

// reportLoad prints how the load went and returns exitFail when it could not run or no request succeeded.
func reportLoad(ctx context.Context, res loadgen.Result, err error, stdout, stderr io.Writer) int {
	code := exitOK
	var notServed *loadgen.ModelNotServedError
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stdout, "vmtest: interrupted: load stopped early%s\n", canceledText(res.Outcomes[recorder.OutcomeCanceled]))
	case errors.As(err, &notServed):
		fmt.Fprintf(stderr, "vmtest: load: -model %q is not served by %s (it serves %s); nothing was sent\n", notServed.Model, notServed.BaseURL, notServed.ServedText())
		return exitFail
	case err != nil:
		fmt.Fprintf(stderr, "vmtest: load: %v\n", err)
		code = exitFail
	}
	fmt.Fprintf(stdout, "vmtest: load: %v\n", res)
	if ctx.Err() == nil && res.Sent > 0 && res.Outcomes[recorder.OutcomeOK] == 0 {
		fmt.Fprintf(stderr, "vmtest: load: no request succeeded (%d sent); the first failed with: %v\n", res.Sent, res.FirstErr)
		code = exitFail
	}
	return code
}

// canceledText says, after an interrupt, how many requests in flight it canceled and what that means for
// error_rate; "" for none.
func canceledText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d requests in flight were canceled by the interrupt: not the server's errors, they are left out of error_rate", n)
}

// describeLoad says in a few words what load is sent.
func describeLoad(lc loadgen.LoadConfig) string {
	var b strings.Builder
	if lc.Rate > 0 {
		fmt.Fprintf(&b, "open loop at %g req/s", lc.Rate)
		if lc.MaxConcurrency > 0 {
			fmt.Fprintf(&b, " (at most %d in flight)", lc.MaxConcurrency)
		}
	} else {
		fmt.Fprintf(&b, "closed loop, %d in flight", max(lc.Concurrency, 1))
	}
	var models []string
	sessions := 0
	for _, p := range lc.Prompts {
		if p.Model != "" && !slices.Contains(models, p.Model) {
			models = append(models, p.Model)
		}
		if len(p.Turns) > 0 {
			sessions++
		}
	}
	if lc.Requests > 0 {
		fmt.Fprintf(&b, ", %d %s", lc.Requests, countUnit(sessions, len(lc.Prompts)))
	}
	if lc.Duration > 0 {
		fmt.Fprintf(&b, ", for at most %v", lc.Duration)
	}
	fmt.Fprintf(&b, ", %d prompts", len(lc.Prompts))
	if sessions > 0 {
		fmt.Fprintf(&b, " (%d multi-turn sessions)", sessions)
	}
	if len(models) > 0 {
		fmt.Fprintf(&b, ", prompts naming models %s", strings.Join(models, ", "))
	}
	fmt.Fprintf(&b, "; %s", drainText(lc))
	return b.String()
}

// countUnit names what LoadConfig.Requests counts over prompts of which sessions are multi-turn: "sessions"
// when all are (each a run of turns), "requests" when none are, "requests or sessions" for a mix.
func countUnit(sessions, prompts int) string {
	switch {
	case sessions == 0:
		return "requests"
	case sessions == prompts:
		return "sessions"
	}
	return "requests or sessions"
}

// printSLOs prints the verdict of each -slo check over s as `vmtest report` prints a rebuilt run's
// (printVerdicts): `threshold "<the -slo expression>"`, then why when it is not met. It returns the verdicts.
func printSLOs(w io.Writer, s *summary.Summary, checks []assert.Check) []report.Verdict {
	verdicts := make([]report.Verdict, len(checks))
	for i, c := range checks {
		verdicts[i].Check = c.String()
		if err := c.Eval(s); err != nil {
			verdicts[i].Err, verdicts[i].Reason, verdicts[i].NoData = err.Error(), assert.Reason(err), assert.NoData(err)
		}
	}
	printVerdicts(w, verdicts)
	return verdicts
}

// chosenPrompts returns the prompts of -prompts FILE when given, else those of the -prompt flags, else
// defaultPrompts; the error names -prompts.
func chosenPrompts(file string, texts []string) ([]loadgen.Prompt, error) {
	switch {
	case file != "":
		p, err := loadgen.LoadPrompts(file)
		if err != nil {
			return nil, fmt.Errorf("-prompts: %w", err)
		}
		return p, nil
	case len(texts) > 0:
		return loadgen.ChatPrompts(texts...), nil
	}
	return loadgen.ChatPrompts(defaultPrompts...), nil
}
