package assert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmtest/vmtest/summary"
)

// ErrInvalidCheck matches (with errors.Is) every error a Check carries because of its own arguments
// rather than the run: an unknown metric name, a limit that is always or never met, a bad tolerance, a
// threshold expression that does not parse (*ThresholdError). A Check tests its arguments when it is built, before
// they look at the summary, so such an error comes back for any summary, nil included; vmtest's Collector
// relies on this to fail a test when a check is registered instead of when the test ends.
var ErrInvalidCheck = errors.New("vmtest: invalid check")

// invalidError is an error about a check's arguments; it matches ErrInvalidCheck.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalidCheck }

func invalidf(format string, a ...any) error { return &invalidError{msg: fmt.Sprintf(format, a...)} }

// latencyMetrics are the client-side latency metrics P99Below and its siblings accept, in the order
// messages list them; latencyAliases are other names for one of them.
var (
	latencyMetrics = []string{"ttft", "tpot", "itl", "e2e", "ttft_from_intended", "e2e_from_intended"}
	latencyAliases = map[string]string{"latency": "e2e", "e2e_latency": "e2e"}
)

// LatencyMetricsText lists the names P99Below, P90Below, P50Below and MeanBelow accept,
// as their messages print it.
const LatencyMetricsText = "ttft, tpot, itl, e2e (also called latency or e2e_latency), ttft_from_intended or e2e_from_intended"

// checkLatencyMetric returns an ErrInvalidCheck error when metric is not a client-side latency metric.
func checkLatencyMetric(metric string) error {
	m := strings.ToLower(metric) // as summary.Summary.Latency reads it: no trimming
	if slices.Contains(latencyMetrics, m) || latencyAliases[m] != "" {
		return nil
	}
	msg := fmt.Sprintf("vmtest: unknown latency metric %q", metric)
	if near := nearest(m, append(slices.Clone(latencyMetrics), "latency", "e2e_latency"), 3); len(near) > 0 {
		msg += " (did you mean " + orList(near) + "?)"
	}
	return invalidf("%s; want %s", msg, LatencyMetricsText)
}

// checkLatencyLimit returns an ErrInvalidCheck error for a latency limit that no run can meet: a latency is
// never below 0, so "< 0" or "< -5ms" always fails.
func checkLatencyLimit(what string, limit time.Duration) error {
	if limit <= 0 {
		return invalidf("vmtest: %s < %v: a latency is never below 0, so the check could never pass; want a positive limit", what, limit)
	}
	return nil
}

// checkRateLimit returns an ErrInvalidCheck error for a "rate > limit" check that is always met (a negative
// limit: a rate is never below 0) or meaningless (NaN, ±Inf).
func checkRateLimit(metric string, reqPerSec float64) error {
	switch {
	case math.IsNaN(reqPerSec) || math.IsInf(reqPerSec, 0):
		return invalidf("vmtest: %s > %v req/s: want a finite limit", metric, reqPerSec)
	case reqPerSec < 0:
		return invalidf("vmtest: %s > %v req/s: a rate is never below 0, so the check could never fail; want a limit ≥ 0", metric, reqPerSec)
	}
	return nil
}

// lookupNames are the canonical summary.Lookup names that suggestions are drawn from: every family with its
// statistics spelled out, gpu_<i> as gpu_0, no synonyms.
var lookupNames = func() []string {
	var ns []string
	add := func(heads []string, tails ...string) {
		for _, h := range heads {
			if len(tails) == 0 {
				ns = append(ns, h)
			}
			for _, t := range tails {
				ns = append(ns, h+"."+t)
			}
		}
	}
	add(latencyMetrics, "p50", "p90", "p95", "p99", "mean", "median", "std", "min", "max")
	add([]string{"error_rate", "request_throughput", "throughput", "output_token_throughput", "total_token_throughput",
		"goodput", "goodput_requests", "energy_per_output_token_j"})
	add([]string{"requests"}, "ok", "failed", "incomplete", "rejected", "total", "dropped", "output_tokens", "prompt_tokens")
	for _, g := range []string{"gpu", "gpu_0"} {
		add([]string{g + ".utilization", g + ".memory_used_mb", g + ".power_w"}, "avg", "max")
		add([]string{g + ".temp_c.max", g + ".energy_j"})
	}
	add([]string{"server.tokens_per_second", "server.queue", "server.batch", "server.kv_cache_usage"}, "avg", "max")
	add([]string{"server.requests_per_second.avg", "server.generation_tokens"})
	add([]string{"server.ttft", "server.e2e", "server.queue_time", "server.itl"}, "p50", "p90", "p95", "p99", "mean")
	add([]string{"cpu", "memory_gb"}, "avg", "max")
	return ns
}()

// lookupDoc is where every summary.Lookup name is listed.
const lookupDoc = "go doc github.com/vmtest/vmtest/summary Summary.Lookup"

// unknownMetricText rewrites summary.Lookup's error for an unknown name into a short message: the name, the
// note (when not empty), what is wrong with it, the nearest valid names, and where the full list is. Other
// errors are returned as is.
func unknownMetricText(err error, note string) string {
	var u *summary.UnknownMetricError
	if !errors.As(err, &u) {
		return err.Error()
	}
	msg := fmt.Sprintf("unknown metric %q", u.Name)
	if note != "" {
		msg += " (" + note + ")"
	}
	if u.Reason != "" {
		msg += " (" + u.Reason + ")"
	}
	if near := nearest(strings.ToLower(strings.TrimSpace(u.Name)), lookupNames, 3); len(near) > 0 {
		msg += "; did you mean " + orList(near) + "?"
	} else if u.Reason == "" {
		msg += "; names look like ttft.p99, e2e.mean, error_rate, throughput, requests.failed, gpu.utilization.avg, server.ttft.p99, cpu.max"
	}
	return msg + " (every name: " + lookupDoc + ")"
}

// lookupStatic looks name up as a check registered before the run must: in no summary. It returns the
// canonical name and unit, or the *summary.UnknownMetricError of a name outside every family. Lookup with no
// server data answers "no data" for server.<histogram>.<anything>, so that statistic is checked here.
func lookupStatic(name string) (summary.Value, error) {
	v, err := (*summary.Summary)(nil).Lookup(name)
	if err != nil {
		return v, err
	}
	parts := strings.Split(strings.ToLower(strings.TrimSpace(name)), ".")
	if len(parts) == 3 && parts[0] == "server" {
		switch parts[1] {
		case "ttft", "e2e", "queue_time", "itl":
			switch parts[2] {
			case "p50", "p90", "p95", "p99", "mean", "avg", "median", "med":
			default:
				return summary.Value{}, &summary.UnknownMetricError{Name: name,
					Reason: "want p50, p90, p95, p99 or mean after server." + parts[1]}
			}
		}
	}
	return v, nil
}

// lookupName checks that name is a summary.Lookup name and returns its canonical Value (unknown, with its
// unit), or an ErrInvalidCheck error starting with prefix and naming the nearest valid names.
func lookupName(prefix, name string) (summary.Value, error) {
	v, err := lookupStatic(name)
	if err != nil {
		return v, invalidf("%s%s", prefix, unknownMetricText(err, ""))
	}
	return v, nil
}

// nearest returns up to k candidates close to name: those whose dot-separated parts each start with name's
// parts ("gpu.util.avg" → gpu.utilization.avg), or, when there is none, those at the smallest edit distance
// from name, if that distance is small.
func nearest(name string, candidates []string, k int) []string {
	if name == "" {
		return nil
	}
	var out []string
	parts := strings.Split(name, ".")
	for _, c := range candidates {
		cp := strings.Split(c, ".")
		if len(cp) != len(parts) || c == name {
			continue
		}
		ok := true
		for i := range cp {
			if parts[i] == "" || !strings.HasPrefix(cp[i], parts[i]) {
				ok = false
				break
			}
		}
		if ok && len(out) < k {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		return out
	}
	limit := max(2, len(name)/3)
	type scored struct {
		name string
		d    int
	}
	var close []scored
	for _, c := range candidates {
		if d := editDistance(name, c); d <= limit {
			close = append(close, scored{c, d})
		}
	}
	slices.SortStableFunc(close, func(a, b scored) int { return a.d - b.d })
	for _, c := range close {
		if len(out) == k || c.d > close[0].d { // only the closest: "ttfb.p99" gives ttft.p99, not ttft.p90 too
			break
		}
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, counted in bytes (names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// formatNum formats x as the shortest decimal that reads back as x.
func formatNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
