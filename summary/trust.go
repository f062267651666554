package summary

import (
	"fmt"
	"math"
	"time"

	"github.com/vmtest/vmtest/recorder"
)

// Thresholds of TrustWarnings (DESIGN.md, "The run says when it cannot be trusted").
const (
	// OutputRatioMin: requests without ignore_eos whose output tokens sum to less than this share of the
	// max_tokens they asked for ended far below it, and the run warns.
	OutputRatioMin = 0.9
	// ShortShareMax: more than this share of requests without ignore_eos ending short of their max_tokens
	// (under recorder.ShortOutputFraction of it) makes the run warn, whatever the tokens' sum.
	ShortShareMax = 0.1
	// OffLengthShareMax: more than this share of requests sent with ignore_eos ending off their max_tokens
	// (any other length) makes the run warn: with ignore_eos the length is the server's to honour exactly.
	OffLengthShareMax = 0.01
	// SendLagRelTolerance and SendLagMinTolerance make the open loop's tolerance of send lag (intended start
	// to send, slot waits included): the run warns when its p99 exceeds max(SendLagRelTolerance × the mean
	// inter-arrival time, SendLagMinTolerance). A lag of a tenth of a gap keeps the arrival process the one
	// planned; 10 ms keeps a timer's or scheduler's hiccup at a high rate from warning.
	SendLagRelTolerance = 0.1
	SendLagMinTolerance = 10 * time.Millisecond
	// ClientCPUSaturation: a client process that used at least this share of GOMAXPROCS's cores over its
	// load runs (recorder.ClientCost.CPUUtilization) was near saturation, and the run warns.
	ClientCPUSaturation = 0.8
	// SchedLatencyRelTolerance and SchedLatencyMinTolerance bound the client's Go scheduler latency: the run
	// warns when its p99 exceeds max(SchedLatencyRelTolerance × ITL p50, SchedLatencyMinTolerance), since a
	// token's arrival time is taken that much late.
	SchedLatencyRelTolerance = 0.1
	SchedLatencyMinTolerance = time.Millisecond
)

// TrustWarnings returns one warning for each way the client's own figures say the run cannot be trusted,
// each naming its figures and what to do: output lengths not honoured (outputLengthWarnings), an open loop
// behind its schedule (sendLagWarning), the client the bottleneck (clientWarnings; client may be nil). Nil
// when none applies. Compute calls it; the cross-checks with the server are serverstats.CrossCheck's.
func TrustWarnings(req *recorder.Summary, client *recorder.ClientCost) []string {
	out := outputLengthWarnings(req.OutputLength)
	if w := sendLagWarning(req); w != "" {
		out = append(out, w)
	}
	return append(out, clientWarnings(client, req.ITLMS.P50)...)
}

// num formats a figure with three significant digits, and whole from 100 up: 0.0123, 1.5, 25.3, 1406.
func num(v float64) string {
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// numP is num(*v), or "n/a" for nil.
func numP(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return num(*v)
}

// msOf is d in ms, as num formats it.
func msOf(d time.Duration) string { return num(float64(d) / float64(time.Millisecond)) }

// pct is part/whole in percent.
func pct(part, whole float64) float64 { return 100 * part / whole }

// outputLengthWarnings: without ignore_eos, output tokens under OutputRatioMin of those asked for, or more
// than ShortShareMax of the requests short; with it, more than OffLengthShareMax of the requests off length.
func outputLengthWarnings(c recorder.OutputLengthCounts) []string {
	var out []string
	if f := c.Free; f.Requests > 0 && f.RequestedTokens > 0 {
		ratio, short := float64(f.OutputTokens)/float64(f.RequestedTokens), float64(f.Short)/float64(f.Requests)
		if ratio < OutputRatioMin || short > ShortShareMax {
			out = append(out, fmt.Sprintf("requested output lengths not honoured: %d successful requests without ignore_eos "+
				"produced %d of the %d tokens their max_tokens asked for (%.1f %%; warned under %.0f %%), and %d of them (%.1f %%; warned over %.0f %%) "+
				"ended more than %.0f %% short: the model ended them (finish_reason stop), so the load was lighter than planned and latencies are of shorter outputs; "+
				"send ignore_eos (-ignore-eos, loadgen.Params.IgnoreEOS) so the server produces the requested lengths, or ask for the lengths the model produces",
				f.Requests, f.OutputTokens, f.RequestedTokens, 100*ratio, 100*OutputRatioMin, f.Short, 100*short, 100*ShortShareMax,
				100*(1-recorder.ShortOutputFraction)))
		}
	}
	if e := c.IgnoreEOS; e.Requests > 0 && float64(e.Off) > OffLengthShareMax*float64(e.Requests) {
		out = append(out, fmt.Sprintf("requested output lengths not honoured with ignore_eos: %d of %d successful requests sent with ignore_eos "+
			"(%.1f %%; warned over %.0f %%) ended off their max_tokens, producing %d of the %d tokens asked for: the server ignores ignore_eos "+
			"(vLLM honours it; OpenAI's API and some servers do not), or stop strings or the context length ended them; "+
			"check the server's support for ignore_eos and the prompts' lengths against the context length",
			e.Off, e.Requests, pct(float64(e.Off), float64(e.Requests)), 100*OffLengthShareMax, e.OutputTokens, e.RequestedTokens))
	}
	return out
}

// SendLagTolerance is the open loop's tolerance of send lag p99 for a schedule whose mean inter-arrival time
// is meanIA ms (nil: unknown): max(SendLagRelTolerance × meanIA, SendLagMinTolerance), ms.
func SendLagTolerance(meanIA *float64) float64 {
	tol := float64(SendLagMinTolerance) / float64(time.Millisecond)
	if meanIA != nil {
		tol = math.Max(tol, SendLagRelTolerance**meanIA)
	}
	return tol
}

// sendLagWarning: the open loop's send lag p99 over SendLagTolerance; "" when not, or in closed loop.
func sendLagWarning(req *recorder.Summary) string {
	lag := req.SendLagMS
	if lag.N == 0 || lag.P99 == nil {
		return ""
	}
	tol := SendLagTolerance(req.MeanInterArrivalMS)
	if *lag.P99 <= tol {
		return ""
	}
	ia := "unknown"
	if req.MeanInterArrivalMS != nil {
		ia = num(*req.MeanInterArrivalMS) + " ms"
	}
	return fmt.Sprintf("the open loop fell behind its schedule: send lag (intended start to send, slot waits included) p50 %s ms, p99 %s ms, max %s ms "+
		"over %d requests, beyond the tolerance of %s ms (max(%.0f %% of the mean inter-arrival time %s, %s ms)); mean wait for a concurrency slot %s ms of a mean lag of %s ms: "+
		"the offered load was not the one planned; if slot waits make most of the lag, raise the concurrency cap (-max-concurrency, LoadConfig.MaxConcurrency) or lower the rate, "+
		"else the client is too slow for this rate (see client_statistics)",
		numP(lag.P50), num(*lag.P99), numP(lag.Max), lag.N, num(tol), 100*SendLagRelTolerance, ia, msOf(SendLagMinTolerance), numP(req.SlotWaitMS.Mean), numP(lag.Mean))
}

// clientWarnings: the client's CPU at or over ClientCPUSaturation of GOMAXPROCS, or its scheduler latency
// p99 over max(SchedLatencyRelTolerance × ITL p50, SchedLatencyMinTolerance).
func clientWarnings(c *recorder.ClientCost, itlP50 *float64) []string {
	if c == nil {
		return nil
	}
	var out []string
	if u := c.CPUUtilization; u != nil && *u >= ClientCPUSaturation {
		out = append(out, fmt.Sprintf("the client may have been the bottleneck: its process used %s CPU-s over %s s of load, %.0f %% of GOMAXPROCS=%d cores "+
			"(warned from %.0f %%; an in-process simulator counts too), so its requests and their timings waited for CPU; "+
			"give it more cores (GOMAXPROCS, the container's CPU limit), run it apart from the server, or lower the load",
			num(c.CPUS), num(c.WallS), 100**u, c.GOMAXPROCS, 100*ClientCPUSaturation))
	}
	if p := c.SchedLatencyP99MS; p != nil && itlP50 != nil {
		tol := math.Max(SchedLatencyRelTolerance**itlP50, float64(SchedLatencyMinTolerance)/float64(time.Millisecond))
		if *p > tol {
			out = append(out, fmt.Sprintf("the client's Go scheduler latency p99 %s ms (runtime/metrics /sched/latencies:seconds) is over %s ms, "+
				"max(%.0f %% of ITL p50 %s ms, %s ms): token arrival times were taken late enough to distort ITL; "+
				"give the client more cores (GOMAXPROCS), move other work out of its process, or lower the concurrency",
				num(*p), num(tol), 100*SchedLatencyRelTolerance, num(*itlP50), msOf(SchedLatencyMinTolerance)))
		}
	}
	return out
}
