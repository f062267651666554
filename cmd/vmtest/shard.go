package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/shard"
	"github.com/vmtest/vmtest/summary"
	"github.com/vmtest/vmtest/vmtest"
)

// shardFlags are `vmtest load`'s flags for one shard of a load spread over several processes.
type shardFlags struct {
	index, count int
	startAt      string
}

func (f *shardFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.index, "shard-index", -1, "this process's shard, 0 to -shard-count − 1 (default $"+shard.EnvIndex+", which a Kubernetes Indexed Job sets)")
	fs.IntVar(&f.count, "shard-count", -1, "how many shards share the load: each drives its share of -concurrency, -rate, -requests and -warmup and writes a shard file for vmtest merge (default $"+shard.EnvCount+")")
	fs.StringVar(&f.startAt, "start-at", "", "wall-clock time to start the load at, RFC 3339 (e.g. 2026-01-02T15:04:05Z): every shard waits for it")
}

// spec returns the shard's place and the start time (zero when none); errors name the flag or variable.
func (f *shardFlags) spec() (shard.Spec, time.Time, error) {
	s, err := shard.FromFlags(f.index, f.count, os.Getenv)
	if err != nil {
		return s, time.Time{}, err
	}
	var at time.Time
	if f.startAt != "" {
		if at, err = time.Parse(time.RFC3339, f.startAt); err != nil {
			return s, at, fmt.Errorf("-start-at %q: not an RFC 3339 time such as 2026-01-02T15:04:05Z", f.startAt)
		}
	}
	return s, at, nil
}

// workloadOf describes the load test lc (before it is split) is, for shard files.
func workloadOf(config string, lc *loadgen.LoadConfig, startAt string) (shard.Workload, error) {
	b, err := json.Marshal(lc.Prompts)
	if err != nil {
		return shard.Workload{}, err
	}
	sum := sha256.Sum256(b)
	return shard.Workload{ConfigID: config, Model: lc.Params.Model, Concurrency: lc.Concurrency, Rate: lc.Rate,
		Burstiness: lc.Burstiness, MaxConcurrency: lc.MaxConcurrency, Requests: lc.Requests, DurationS: lc.Duration.Seconds(),
		MaxTokens: lc.Params.MaxTokens, Prompts: hex.EncodeToString(sum[:]), StartAt: startAt}, nil
}

// splitLoad gives lc the shard's share: of the workers (closed loop) or the rate and its cap (open loop), of
// the requests and the warm-up, its own arrival seed and its own offset into the prompts. The error names
// the flag whose total is too small to give this shard any.
func splitLoad(lc *loadgen.LoadConfig, s shard.Spec) error {
	share := func(flag string, total int) (int, error) {
		n := s.Share(total)
		if total > 0 && n == 0 {
			return 0, fmt.Errorf("-%s %d leaves shard %d of %d nothing: give at least %d", flag, total, s.Index, s.Count, s.Count)
		}
		return n, nil
	}
	var err error
	if lc.Rate > 0 {
		lc.Rate = s.Rate(lc.Rate)
		if lc.MaxConcurrency, err = share("max-concurrency", lc.MaxConcurrency); err != nil {
			return err
		}
	} else if lc.Concurrency, err = share("concurrency", max(lc.Concurrency, 1)); err != nil {
		return err
	}
	if lc.Requests, err = share("requests", lc.Requests); err != nil {
		return err
	}
	lc.Warmup = s.Share(lc.Warmup)
	lc.Seed = s.Seed(lc.Seed)
	off := s.PromptOffset(len(lc.Prompts))
	lc.Prompts = append(slices.Clone(lc.Prompts[off:]), lc.Prompts[:off]...)
	return nil
}

// waitUntil waits until at (at once when it is zero or past) or ctx's end, and reports whether ctx is
// still live.
func waitUntil(ctx context.Context, at time.Time) bool {
	if d := time.Until(at); !at.IsZero() && d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return ctx.Err() == nil
}

// lateStart returns the warning of a load whose -start-at, at, had passed by now: it starts at once, late
// against the shards that waited for at. It returns "" when at is zero or still ahead.
func lateStart(at, now time.Time) string {
	late := now.Sub(at)
	if at.IsZero() || late <= 0 {
		return ""
	}
	return fmt.Sprintf("-start-at %s passed %v ago: the load starts now, that late against shards that started on time",
		at.Format(time.RFC3339), late.Round(time.Millisecond))
}

// writeShardFile writes the shard file of the run whose summary is sum beside its snapshots file.
func writeShardFile(c *vmtest.Collector, sum *summary.Summary, s shard.Spec, wl shard.Workload) (string, error) {
	snaps := sum.Files["snapshots_json"]
	if snaps == "" {
		return "", fmt.Errorf("vmtest load: no shard file: the run's files were not written")
	}
	path := shard.PathFor(snaps)
	return path, shard.WriteFile(path, shard.File{Shard: s, RunID: sum.RunID, Workload: wl, Requests: c.RequestState()})
}

func mergeMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "merge"
	fs := newFlagSet(cmd, "[-out DIR] [-partial] [-slo EXPR ...] DIR...",
		"Merges the results of the shards of one load test (vmtest load -shard-count N, each writing to its own\n"+
			"DIR) into one file set and summary under -out: counts summed, percentiles over every shard's requests.\n"+
			"Snapshots, server, GPU and host figures are the lowest-index shard's. Refuses shards of different load tests,\n"+
			"and fewer shards than their count unless -partial. Checks each -slo over the merged summary: exit status 1\n"+
			"when one is not met.")
	out := fs.String("out", "", "output directory (default $"+vmtest.EnvOutputDir+"/merge, else metrics_output/merge)")
	partial := fs.Bool("partial", false, "merge even when some of the shards are missing (a warning names them); without it, nothing is written and the exit status is 1")
	var slos stringList
	fs.Var(&slos, "slo", `threshold expression checked over the merged summary, as for load, e.g. "p(99) ttft < 500ms" (repeatable)`)
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return usageErr(stderr, cmd, "give the shards' directories")
	}
	checks := make([]assert.Check, len(slos))
	for i, e := range slos {
		if checks[i] = assert.Expr(e); checks[i].Err() != nil {
			return usageErr(stderr, cmd, "-slo #%d: %v", i+1, checks[i].Err())
		}
	}
	m, err := shard.Merge(fs.Args(), shard.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "vmtest merge: %v\n", err)
		return exitFail
	}
	if len(m.Missing) > 0 {
		what := fmt.Sprintf("%d of the %d shards given (missing: %s)", fs.NArg(), fs.NArg()+len(m.Missing), shardsText(m.Missing))
		if !*partial {
			fmt.Fprintf(stderr, "vmtest merge: %s; nothing written (give every shard's directory, or -partial to merge these)\n", what)
			return exitFail
		}
		fmt.Fprintf(stderr, "vmtest merge: warning: %s: the requests of the missing shards are in no figure\n", what)
	}
	dir := vmtest.OutputDir(configName(cmd), *out)
	if err := shard.Write(dir, m); err != nil {
		fmt.Fprintf(stderr, "vmtest merge: %v\n", err)
		return exitFail
	}
	r := m.Summary.Requests
	fmt.Fprintf(stdout, "vmtest: merged %s: %d requests, %d ok; files in %s\n", plural(fs.NArg(), "shard"), r.Total, r.OK, dir)
	for _, k := range []string{"summary_json", "run_summary_json", "requests_csv", "report_html"} {
		if p := m.Summary.Files[k]; p != "" {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	if len(checks) == 0 {
		return exitOK
	}
	code := exitOK
	for i, v := range printSLOs(stdout, m.Summary, checks) {
		if v.Err != "" {
			fmt.Fprintf(stderr, "vmtest merge: %s (from -slo %q)\n", strings.TrimPrefix(v.Err, "vmtest: "), slos[i])
			code = exitFail
		}
	}
	return code
}

// shardsText names the shard indexes ns: "shard 2", "shards 1, 3 and 4".
func shardsText(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return "shard " + s[0]
	}
	return "shards " + strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// plural is "1 shard" or "n shards" for n and the singular noun word.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
