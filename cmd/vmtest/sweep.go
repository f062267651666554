package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vmtest/vmtest/live"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/sweep"
)

// sweepLoads reads -concurrency or -rate: a comma-separated ladder ("1,2,4,8") or bounds to bisect ("1:64").
func sweepLoads(s string) (ladder []float64, search *sweep.Search, err error) {
	if lo, hi, ok := strings.Cut(s, ":"); ok {
		a, err1 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("%q: want LO:HI, two numbers", s)
		}
		return nil, &sweep.Search{Lo: a, Hi: b}, nil
	}
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%q: want a comma-separated list of numbers, or LO:HI", s)
		}
		ladder = append(ladder, v)
	}
	return ladder, nil, nil
}

func sweepMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "sweep"
	fs := newFlagSet(cmd, "-url URL -slo EXPR [-slo EXPR ...] (-concurrency 1,2,4,8 | -concurrency 1:64 | -rate 1,2,5 | -rate 0.5:20 [-resolution R])\n"+
		"       [-requests N | -duration D] [-warmup N] [-model M | -model A=3,B=1] [-prompts FILE.jsonl | -prompt TEXT ...] [-max-tokens N] [-knee-metric NAME] [-out DIR]\n"+
		"       [-input-tokens DIST [-output-tokens DIST] [-num-prompts N] [-prefixes N -prefix-tokens N -suffixes-per-prefix M]] [-ignore-eos] [-min-tokens N] [-seed S]\n"+
		"       [-dataset FILE [-dataset-entries N] [-multi-turn [-think-time D]]] [-drain-timeout D] [-header-timeout D] [-first-token-timeout D] [-stall-timeout D]",
		"Finds the highest load that meets the SLO: runs each step of a ladder of concurrencies (closed loop) or request\n"+
			"rates (open loop), or bisects between LO:HI, one step after another, each with its warm-up, its own collector and\n"+
			"files (<out>/<step>/), judged by every -slo. A step stops early once an error_rate or client-percentile -slo can\n"+
			"no longer be met by its -requests. Writes comparison_report_<ts>.md/.html (one row per step, the throughput-versus-\n"+
			"latency picture) and sweep_<ts>.json, and prints the highest load that met the SLO and the knee of -knee-metric\n"+
			"(the Kneedle method). Exit status 1 when no step met the SLO.")
	var cf collectFlags
	cf.register(fs)
	cf.registerRouter(fs)
	var (
		slos            stringList
		lc              loadgen.LoadConfig
		slo             recorder.SLO
		pf              promptFlags
		conc, rate      string
		resolution      float64
		kneeMetric      string
		kneeSensitivity float64
	)
	fs.StringVar(&conc, "concurrency", "", "closed-loop steps: a ladder 1,2,4,8 or bounds LO:HI to bisect")
	fs.StringVar(&rate, "rate", "", "open-loop steps, req/s: a ladder 1,2,5 or bounds LO:HI to bisect")
	fs.Float64Var(&resolution, "resolution", 0, "bisection: stop when the highest load met and the lowest failed are this close (default 1 for concurrency, (HI−LO)/16 for rate)")
	pf.register(fs, &lc.Params.Model)
	fs.Float64Var(&lc.Burstiness, "burstiness", 0, "rate steps: gamma shape of the gaps between requests; 1 is Poisson (default 1)")
	fs.IntVar(&lc.MaxConcurrency, "max-concurrency", 0, "rate steps: most requests in flight at once (default no cap)")
	fs.IntVar(&lc.Requests, "requests", 200, "measured requests per step, or sessions when the prompts are multi-turn (needed to stop a step early); 0 with -duration: time-bounded steps")
	fs.DurationVar(&lc.Duration, "duration", 0, "longest time per step (default none)")
	fs.IntVar(&lc.Warmup, "warmup", 0, "warm-up requests per step (default one per worker, or one second of requests at a rate; -1: none)")
	fs.IntVar(&lc.Params.MaxTokens, "max-tokens", 128, "max_tokens of each request (a prompt's own max_tokens wins); 0 leaves it to the server")
	fs.BoolVar(&lc.Params.ContinuousUsage, "continuous-usage", false, "ask for usage on every chunk (vLLM's stream_options.continuous_usage_stats): ITL per token, not per chunk")
	fs.StringVar(&lc.Client.APIKey, "api-key", "", "sent as a bearer token (default $OPENAI_API_KEY; never printed)")
	registerTimeouts(fs, &lc)
	fs.Var(&slos, "slo", `threshold expression every step must meet, e.g. "p(99) ttft < 500ms" or "error_rate < 1%" (repeatable; required)`)
	fs.StringVar(&kneeMetric, "knee-metric", "ttft.p99", "the latency whose curve over the steps' loads the knee is found on (a summary metric name)")
	fs.Float64Var(&kneeSensitivity, "knee-sensitivity", 0, "the Kneedle method's sensitivity S ≥ 0")
	fs.DurationVar(&slo.TTFT, "goodput-ttft", 0, "goodput: a request counts when its TTFT is at most this")
	fs.DurationVar(&slo.TPOT, "goodput-tpot", 0, "goodput: a request counts when its TPOT is at most this")
	fs.DurationVar(&slo.E2E, "goodput-e2e", 0, "goodput: a request counts when its E2E latency is at most this")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	bad := func(format string, args ...any) int { return usageErr(stderr, cmd, format, args...) }
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case !cf.anyServer():
		return bad("-url (or -servers) is required (or $VMTEST_VLLM_URL)")
	case len(slos) == 0:
		return bad("-slo is required: the thresholds every step must meet")
	case (conc == "") == (rate == ""):
		return bad("give exactly one of -concurrency and -rate")
	case conc != "" && (set["burstiness"] || set["max-concurrency"]):
		return bad("-burstiness and -max-concurrency apply to -rate steps")
	case lc.Requests < 0 || lc.Duration < 0 || lc.Params.MaxTokens < 0 || lc.Warmup < -1:
		return bad("-requests, -duration and -max-tokens must not be negative, -warmup not below -1")
	}
	if err := pf.check(set, &lc.Params.Model); err != nil {
		return bad("%v", err)
	}
	if err := checkTimeouts(set, &lc); err != nil {
		return bad("%v", err)
	}
	checks, err := sloChecks(slos, slo, noGoodputFlags)
	if err != nil {
		return bad("%v", err)
	}
	opts := sweep.Options{Mode: sweep.Concurrency, SLO: slos, KneeMetric: kneeMetric, KneeSensitivity: kneeSensitivity, Log: stdout}
	spec, flagName := conc, "-concurrency"
	if rate != "" {
		opts.Mode, spec, flagName = sweep.Rate, rate, "-rate"
	}
	if opts.Loads, opts.Search, err = sweepLoads(spec); err != nil {
		return bad("%s %v", flagName, err)
	}
	if opts.Search != nil {
		opts.Search.Resolution = resolution
	} else if set["resolution"] {
		return bad("-resolution applies to a search (%s LO:HI)", flagName)
	}
	if lc.Requests == 0 && lc.Duration == 0 {
		return bad("each step needs -requests or -duration")
	}
	if opts.Collect, err = cf.options(cmd); err != nil {
		return bad("%v", err)
	}
	if err := sloReplicas(opts.Collect, slos, checks); err != nil {
		return bad("%v", err)
	}
	opts.Collect.Goodput = slo
	if lc.Prompts, err = pf.base(); err != nil {
		return bad("%v", err)
	}
	lc.Client.BaseURL, lc.Client.MoreBaseURLs = cf.targets[0], cf.targets[1:]
	if !set["api-key"] {
		lc.Client.APIKey = os.Getenv("OPENAI_API_KEY") // read here, not as the flag's default, which -h would print
	}
	if code, ok := resolveModel(ctx, &lc, cmd, stderr); !ok {
		return code
	}
	warnings, err := pf.apply(ctx, &lc, cmd, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
		return exitFail
	}
	opts.Collect.Warnings = append(opts.Collect.Warnings, warnings...)
	if err := sloModels(&lc, slos, checks); err != nil {
		return bad("%v", err)
	}
	opts.Load = lc
	if err := prepare(&opts.Collect, cf.out, stdout); err != nil {
		fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
		return exitFail
	}
	opts.OutputDir, opts.Collect.OutputDir = opts.Collect.OutputDir, ""
	var stepsDone atomic.Int64
	opts.OnStep = func(sweep.Step) { stepsDone.Add(1) }
	bar := progressBar(cf.display, stderr, cmd, live.Goal{Count: opts.MaxSteps(), Unit: "steps"}, func() int { return int(stepsDone.Load()) })
	// Every log line, the sweep's and each step's collector's, goes above the bar, not into its line.
	opts.Log = bar.Beside(opts.Log)
	if opts.Collect.Log != nil {
		opts.Collect.Log = bar.Beside(opts.Collect.Log)
	}
	res, err := sweep.Run(ctx, opts)
	bar.Stop()
	if res == nil {
		return bad("%v", err)
	}
	code := exitOK
	if err != nil {
		fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
		code = exitFail
	}
	if res.MaxMet == nil {
		code = exitFail
	}
	if s := opts.Search; s != nil && res.MaxMet != nil && *res.MaxMet == s.Hi {
		fmt.Fprintf(stdout, "vmtest %s: the upper bound %v met every -slo: give a higher HI in %s LO:HI to search higher\n", cmd, s.Hi, flagName)
	}
	return code
}
