// Command vmtest measures an LLM inference server (vLLM, or any OpenAI-compatible server with vLLM-style
// Prometheus metrics) outside `go test`, with the same library and the same files a perf test produces:
//
//	vmtest collect -url http://localhost:8000 -duration 5m        # sample server, GPUs and host; write the files
//	vmtest load -url http://localhost:8000 -concurrency 16 -requests 500 -slo "p(99) ttft < 500ms"
//	vmtest sweep -url http://localhost:8000 -concurrency 1:64 -requests 200 -slo "p(99) ttft < 500ms"
//	vmtest load -url http://vllm:8000 -concurrency 64 -shard-index 0 -shard-count 4 -start-at 2026-01-02T15:04:05Z -out shard-0
//	vmtest merge -out merged -slo "p(99) ttft < 500ms" shard-0 shard-1 shard-2 shard-3
//	vmtest compare before/summary_statistics.json after/summary_statistics.json
//	vmtest report metrics_output/load/metrics_load_20250101_120000.json
//	vmtest report metrics_output/TestServe                       # rebuild a killed run from its journal
//
// Subcommands:
//
//   - collect samples the server's /metrics, the GPUs and the host every -interval, exactly as vmtest.Collect
//     does in a test, until -duration has passed or SIGINT/SIGTERM arrives; then it takes a last snapshot,
//     writes metrics_<config>_<timestamp>.json/.csv/.png, requests_<config>_<timestamp>.csv,
//     report_<config>_<timestamp>.html, summary_<config>_<timestamp>.json and summary_statistics.json under
//     -out, and prints the summary and the paths. -duration 0 collects until a signal. A second SIGINT kills the command at once.
//   - load does the same while driving load into the server with package loadgen (closed loop with
//     -concurrency, or open loop with -rate), recording every request; -slo threshold expressions
//     (assert.ParseThreshold) are checked over the final summary. A signal ends the load early; the files are
//     still written and the SLOs checked.
//   - sweep finds the highest load that meets the -slo thresholds (package sweep): a ladder of concurrencies or
//     rates (-concurrency 1,2,4,8; -rate 1,2,5), or a bisection between bounds (-concurrency 1:64), one step
//     after another, each with its warm-up and its own files under -out/<step>; a step stops early once an
//     -slo can no longer be met by its -requests. It writes comparison_report_<ts>.md/.html and sweep_<ts>.json
//     and prints the highest load that met every -slo and the knee of -knee-metric; exit status 1 when no
//     step met them.
//   - load -shard-index I -shard-count N (or $JOB_COMPLETION_INDEX, which a Kubernetes Indexed Job sets, and
//     $VMTEST_SHARD_COUNT) makes the run one shard of N: it drives its share of -concurrency (or -rate, with
//     its own arrival seed), -requests and -warmup, starts from its own offset into the prompts, waits for
//     -start-at when given, and writes shard_<config>_<ts>.json (its mergeable request distributions) beside
//     its files. merge combines the shards' directories into one file set and summary (package shard); it
//     refuses fewer shards than their count unless -partial, and checks -slo thresholds over the merged run.
//   - compare reads two or more summary JSON files (summary_statistics.json or summary_<config>_<ts>.json) and
//     prints one row per metric (summary.Summary.Lookup names; by default summary.KeyMetrics), one column per
//     file, and the change of each later file from the first in %, marked better or worse by the metric's
//     direction in the metric registry (summary.Registry). A value a summary does not have is "n/a", never 0.
//     It also writes comparison_report_<timestamp>.md and .html (self-contained, with each run's TTFT and E2E
//     latency CDFs) under -out (default $VMTEST_OUTPUT_DIR/compare, else metrics_output/compare).
//   - report re-renders the CSV, the PNG and the HTML report (from the run's summary_<config>_<ts>.json)
//     beside a snapshots file metrics_<config>_<ts>.json, atomically;
//     given a directory, it rebuilds the full file set and summary of each run there that did not finish
//     (killed, timed out: it left a journal_<config>_<ts>.jsonl) up to the end of its last request, and says
//     so; it renames the journal's files to .rebuilt.jsonl, .requests.rebuilt.bin and .checks.rebuilt.json.
//   - help prints this overview, or a subcommand's flags (also -h on each subcommand); help metrics lists
//     every metric name (summary.Registry) that -slo, compare -metrics and sweep -knee-metric take.
//
// On a terminal, load and collect with a -duration draw a progress bar on stderr (elapsed and remaining time,
// requests done against -requests); with -display, a live dashboard instead, redrawn in place every
// -interval (a row per GPU, the server, the client, the host, the progress), or one line per interval when
// stderr is not a terminal.
//
// The default -config is the subcommand's name; the default -out is $VMTEST_OUTPUT_DIR/<config>, else
// metrics_output/<config> in the working directory, as for a test of that name. -url defaults to
// $VMTEST_VLLM_URL. For GPUs through NVML in process, build with `-tags gpu` (needs cgo and, at run time, the
// NVIDIA driver); otherwise GPUs are read with nvidia-smi or dcgm-exporter (-gpu, -dcgm-url).
//
// Exit status:
//
//	0  done: the files were written, every -slo was met; or help was asked for
//	1  the run failed: an -slo was not met (or had no data; for sweep: at no step), no measured request succeeded (in a run that was
//	   not interrupted), the files could not be written or read (an output directory that cannot be written
//	   is found before anything runs), the load could not run, or the server could not be asked for its model
//	2  invalid usage: an unknown or malformed flag, a bad -slo expression, a missing argument, or an option
//	   vmtest.Start rejects (it stops at once; nothing is collected)
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vmtest/vmtest/summary"
)

// Exit statuses; see the package comment.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "collect" && os.Getenv("GOMAXPROCS") == "" {
		// Sampling alone needs no parallelism, and with one P a tick's wake-ups hand nothing to other threads:
		// 1.2 against 2.4 CPU-ms per idle 2 s tick (BENCHMARKS.md). $GOMAXPROCS still decides when set.
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext returns a context that SIGINT or SIGTERM ends; after the first signal the default handling
// is back, so a second one kills the process at once. stop releases the signal handling.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// command is one subcommand: its main function takes the arguments after its name.
type command struct {
	name, summary string
	main          func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"collect", "sample the server, GPUs and host until -duration or a signal; write the files", collectMain},
		{"load", "drive load into the server while collecting; check -slo thresholds", loadMain},
		{"sweep", "find the highest concurrency or rate that meets -slo thresholds, and the latency knee", sweepMain},
		{"merge", "merge the results of a load test's shards (load -shard-count) into one file set and summary", mergeMain},
		{"compare", "compare summary JSON files metric by metric", compareMain},
		{"report", "rebuild a killed run's files from its journal (DIR), or re-render a metrics_<config>_<ts>.json's CSV, PNG and HTML report", reportMain},
		{"help", "print this overview, or a subcommand's flags", nil},
	}
}

// run runs the command line args (without the program name) and returns the exit status. ctx ending is
// what SIGINT/SIGTERM does: collect and load stop early and still write their files.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(args) > 1 && args[1] == "metrics" {
			printMetrics(stdout)
			return exitOK
		}
		if name == "help" && len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name && c.main != nil {
			return c.main(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "vmtest: unknown command %q\n(vmtest help lists the commands)\n", name)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "vmtest measures an LLM inference server outside go test.")
	fmt.Fprintln(w, "\nusage: vmtest <command> [flags] [arguments]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`vmtest help <command>` or `vmtest <command> -h` lists a command's flags;")
	fmt.Fprintln(w, "`vmtest help metrics` lists the metric names -slo, compare -metrics and sweep -knee-metric take.")
	fmt.Fprintln(w, "exit status: 0 ok, 1 an SLO not met or the run failed, 2 invalid usage.")
}

// printMetrics lists every metric name (summary.Registry) with its unit, its direction and what it is, as
// README.md's table does.
func printMetrics(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tunit\tbetter\twhat it is")
	for _, m := range summary.Registry() {
		name := m.Name
		if len(m.Synonyms) > 0 {
			name += " (also " + strings.Join(m.Synonyms, ", ") + ")"
		}
		better := "lower"
		switch m.Direction {
		case summary.HigherIsBetter:
			better = "higher"
		case summary.Neutral:
			better = "neither"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, m.Unit, better, m.Doc)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nA name chooses one word where it lists several (ttft.<p50|p99> stands for ttft.p50 and ttft.p99); <gpu> is gpu\n"+
		"(all GPUs) or gpu_<i> (GPU i). With several servers, server.* is their aggregate and replica.<name>.server.*\n"+
		"one replica's. model.<name>.* and turn.<k>.* (k from 1) are the client's request figures (ttft, tpot, itl,\n"+
		"e2e, error_rate, goodput, requests.*, and the others above) over one model's requests or the k-th turns of\n"+
		"multi-turn sessions (model.base.ttft.p99, turn.2.e2e.p50); ITL is not kept per turn (no turn.<k>.itl.*).\n"+
		"Names are case-insensitive. README.md's table of metric names says more.")
}

// newFlagSet returns a flag set whose usage starts with synopsis and description.
func newFlagSet(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("vmtest "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: vmtest %s %s\n\n%s\n", name, synopsis, description)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			fmt.Fprintln(fs.Output(), "\nIt takes no flags.")
			return
		}
		fmt.Fprintln(fs.Output(), "\nflags:")
		printDefaults(fs)
	}
	return fs
}

// printDefaults prints fs's flags as flag.PrintDefaults does, each with the Value it wraps (not the once
// around it), so that the argument name (int, duration, string) and the default are the wrapped type's.
func printDefaults(fs *flag.FlagSet) {
	p := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	p.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value
		if o, ok := v.(*once); ok && o.Value != nil {
			v = o.Value
		}
		p.Var(v, f.Name, f.Usage)
		p.Lookup(f.Name).DefValue = f.DefValue
		if strings.Contains(f.Usage, "(default ") {
			p.Lookup(f.Name).DefValue = zeroString(v)
		}
	})
	p.PrintDefaults()
}

// zeroString returns what the zero value of v's type prints, which flag.PrintDefaults takes for "no default":
// a flag whose usage text states its default itself (-shard-count: "(default $VMTEST_SHARD_COUNT)") then
// prints that one only, not its sentinel value as well.
func zeroString(v flag.Value) (s string) {
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Pointer {
		return v.String()
	}
	defer func() {
		if recover() != nil {
			s = v.String()
		}
	}()
	return reflect.New(t.Elem()).Interface().(flag.Value).String()
}

// parse parses args with fs, flags before, between and after the arguments (`vmtest compare a.json b.json
// -out DIR`), up to a "--", after which everything is an argument; fs.Args() then holds the arguments in
// order. With -h it prints the usage to stdout and returns exitOK, false; with a bad flag it prints one line,
// flag's error (which names the flag) after the command's name, then the hint (for a duration, its unit;
// always, how to list the flags) to stderr, and returns exitUsage, false.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (int, bool) {
	onceOnly(fs)
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := parseInterspersed(fs, args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(buf.Bytes())
		return exitOK, false
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		if name := badDurationFlag(fs, err); name != "" {
			fmt.Fprintf(stderr, "(-%s is a duration: give its unit, e.g. 5s, 500ms or 2m)\n", name)
		}
		fmt.Fprintf(stderr, "(%s -h lists the flags)\n", fs.Name())
		return exitUsage, false
	}
	return 0, true
}

// parseInterspersed parses args with fs, taking each argument that is not a flag aside and going on after it,
// until a "--" ends the flags; it leaves fs.Args() the arguments in the order given.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// badDurationFlag returns the name of the duration flag whose value err (from fs.Parse) rejected, or "".
func badDurationFlag(fs *flag.FlagSet, err error) string {
	_, rest, ok := strings.Cut(err.Error(), " for flag -")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ":")
	f := fs.Lookup(name)
	if f == nil {
		return ""
	}
	if g, ok := f.Value.(flag.Getter); ok {
		if _, isDur := g.Get().(time.Duration); isDur {
			return name
		}
	}
	return ""
}

// usageErr prints a usage error (it should name the flag or argument) and returns exitUsage.
func usageErr(stderr io.Writer, cmd string, format string, args ...any) int {
	fmt.Fprintf(stderr, "vmtest %s: %s\n(vmtest %s -h lists the flags)\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// repeatable marks a flag.Value that takes every value it is given (a list): onceOnly leaves it alone.
type repeatable interface{ repeatable() }

// onceOnly makes every flag of fs that is not repeatable refuse a second value ("given twice"), so that a
// repeated flag is never silently replaced by its last value. Called once, before parsing.
func onceOnly(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(repeatable); ok {
			return
		}
		if _, ok := f.Value.(*once); ok {
			return
		}
		f.Value = &once{Value: f.Value}
	})
}

// once wraps a flag.Value that takes one value.
type once struct {
	flag.Value
	first string
	set   bool
}

func (o *once) Set(v string) error {
	if o.set {
		return fmt.Errorf("given twice (first %q): it takes one value", o.first)
	}
	o.set, o.first = true, v
	return o.Value.Set(v)
}

// String returns the wrapped value's String, or "" when there is none (the zero once flag.PrintDefaults makes).
func (o *once) String() string {
	if o == nil || o.Value == nil {
		return ""
	}
	return o.Value.String()
}

// Get returns the wrapped value's Get (nil when it has none).
func (o *once) Get() any {
	if g, ok := o.Value.(flag.Getter); ok {
		return g.Get()
	}
	return nil
}

// IsBoolFlag says whether the wrapped value is a boolean flag (-display with no value).
func (o *once) IsBoolFlag() bool {
	b, ok := o.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// stringList is a flag that may be given several times.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ", ") }
func (s *stringList) repeatable()    {}
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
