package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flagLine is one flag's first line in flag.PrintDefaults's output: "  -name argname".
var flagLine = regexp.MustCompile(`(?m)^  -(\S+)(?: (.*))?$`)

// TestHelpOfEveryCommandHasNoPanicAndTheArgNames runs each subcommand's -h and help <cmd> in process: no
// "panic calling String method" (flag.PrintDefaults on the zero once), and each flag's argument name is its
// type's (int, duration, string, float; none for a boolean; value for a list), never a phrase taken from
// backquotes in its usage.
func TestHelpOfEveryCommandHasNoPanicAndTheArgNames(t *testing.T) {
	allowed := map[string]bool{"": true, "value": true, "int": true, "duration": true, "string": true, "float": true, "uint": true}
	for _, c := range commands() {
		if c.main == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCmd(context.Background(), c.name, "-h")
			require.Equal(t, exitOK, code, errOut)
			assert.NotContains(t, out+errOut, "panic")
			_, viaHelp, _ := runCmd(context.Background(), "help", c.name)
			assert.Equal(t, out, viaHelp, "help %s and %s -h print the same", c.name, c.name)
			lines := flagLine.FindAllStringSubmatch(out, -1)
			if !strings.Contains(out, "It takes no flags.") {
				require.NotEmpty(t, lines)
			}
			for _, m := range lines {
				assert.True(t, allowed[m[2]], "-%s prints the argument name %q", m[1], m[2])
			}
			for _, l := range strings.Split(out, "\n") {
				assert.LessOrEqual(t, strings.Count(l, "(default "), 1, "one default per flag: %s", l)
			}
		})
	}
	_, out, _ := runCmd(context.Background(), "load", "-h")
	want := map[string]string{"requests": "int", "duration": "duration", "display": "", "burstiness": "float",
		"shard-count": "int", "start-at": "string", "url": "value"}
	got := map[string]string{}
	for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2]
	}
	for name, arg := range want {
		assert.Equal(t, arg, got[name], "-%s", name)
	}
	assert.Contains(t, out, "Poisson (default 1)\n", "a default the wrapped flag prints")
	assert.Contains(t, out, "for vmtest merge (default $VMTEST_SHARD_COUNT)")
	assert.False(t, strings.Contains(out, "-shard-count vmtest"))
	assert.Contains(t, out, "how many measured requests to send, or sessions when the prompts are multi-turn")
	assert.Contains(t, out, "before the measured phase: in no statistic, row or rate, only counted in request_statistics.warmup\n",
		"as the README says: warm-up requests are counted, apart")
	_, sweepOut, _ := runCmd(context.Background(), "sweep", "-h")
	assert.Contains(t, sweepOut, "measured requests per step, or sessions when the prompts are multi-turn")
	assert.Contains(t, out, "(default $VMTEST_SHARD_COUNT)\n", "the usage's default only, not the sentinel -1 too")
}

// collect takes -slo (as load does) and no -router (it sends no load); load and sweep take -router; report
// documents -wait and that typed checks are checked again and an unknown verdict is not a pass.
func TestHelpNamesTheFlagsEachCommandTakes(t *testing.T) {
	flags := func(cmd string) map[string]bool {
		_, out, _ := runCmd(context.Background(), cmd, "-h")
		got := map[string]bool{}
		for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
			got[m[1]] = true
		}
		return got
	}
	c := flags("collect")
	assert.True(t, c["slo"])
	assert.False(t, c["router"])
	_, out, _ := runCmd(context.Background(), "collect", "-h")
	assert.Contains(t, out, "repeat it for several replicas (named r0, r1, ...), each scraped\n")
	assert.Contains(t, out, "name=URL,name=URL,... (instead of -url): each scraped\n")
	assert.NotContains(t, out, "round robin", "collect sends no load")
	assert.NotContains(t, out, "-router", "collect has no -router")
	for _, cmd := range []string{"load", "sweep"} {
		_, out, _ := runCmd(context.Background(), cmd, "-h")
		assert.Contains(t, out, "repeat it for several replicas (named r0, r1, ...), each scraped and, without -router, sent load round robin\n", cmd)
		assert.Contains(t, out, "(instead of -url): each scraped and, without -router, sent load round robin\n", cmd)
	}
	assert.True(t, flags("load")["router"])
	assert.True(t, flags("sweep")["router"])
	assert.True(t, flags("report")["wait"])
	_, out, _ = runCmd(context.Background(), "report", "-h")
	assert.Contains(t, out, "thresholds and typed checks such as P99Below: checked again")
	assert.Contains(t, out, "Exit status 1 when a check is not met or not known")
	assert.NotContains(t, out, "Collector.Assert with assert.Expr")
}
