package serverstats

import (
	"fmt"
	"math"
	"time"
)

// Tolerances of CrossCheck. A server figure and the client's differ "beyond tolerance" when
// |server − client| > max(floor, CrossCheckRelTolerance × max(server, client)).
const (
	// CrossCheckRelTolerance is the relative part of the tolerance: 5 % of the larger of the two figures.
	CrossCheckRelTolerance = 0.05
	// CrossCheckMinRequests is the floor of the tolerance on request counts, requests: one request in flight
	// at each edge of the window is not worth a warning.
	CrossCheckMinRequests = 2
	// CrossCheckMinTokens is the floor of the tolerance on token counts, tokens.
	CrossCheckMinTokens = 64
)

// Tolerances of CrossCheck's latency means. The server's TTFT and E2E latency run from the request's arrival
// at the server, the client's from its send, so the client's are longer by the network and the HTTP front
// end; the means differ "beyond tolerance" when |server − client| > max(CrossCheckLatencyMinMS,
// CrossCheckLatencyRelTolerance × max(server, client)).
const (
	// CrossCheckLatencyRelTolerance is the relative part: 20 % of the larger mean.
	CrossCheckLatencyRelTolerance = 0.20
	// CrossCheckLatencyMinMS is the floor, ms: a front end's few ms are not worth a warning.
	CrossCheckLatencyMinMS = 20
)

// ClientTally is the client's side of CrossCheck: what it recorded over the window.
type ClientTally struct {
	// OK is the number of measured requests the client completed successfully; OutputTokens their output
	// tokens (usage.completion_tokens, or counted chunks when the server sent no usage).
	OK           int
	OutputTokens int64
	// WarmupOK and WarmupOutputTokens are the same for the warm-up requests the load generator reported
	// (recorder.WarmupCounts): in no client statistic, but the server counted them.
	WarmupOK           int
	WarmupOutputTokens int64
	// TTFTMeanMS and E2EMeanMS are the client's mean TTFT and E2E latency over its measured successful
	// requests, ms; nil when unknown (then not compared).
	TTFTMeanMS, E2EMeanMS *float64
	// RunStart is when the run began: the restarts a count difference names are said in s since it
	// (Stats.RestartText); zero means since the window's first scrape (Stats.Start).
	RunStart time.Time
	// Scope, when not "", says which of the client's requests these are (" (…)"); it follows each warning's
	// why, before a restart's text.
	Scope string
}

// tallyText is n, with the warm-up's share when there is one: "32", or "32 + 4 warm-up".
func tallyText(n, warmup int64) string {
	if warmup == 0 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d + %d warm-up", n, warmup)
}

// CrossCheck compares the server's view of the window with the client's and returns one warning per figure
// that differs beyond tolerance (see CrossCheckRelTolerance). They are warnings, never failures: the two can
// legitimately differ.
//
//   - Requests: the server's TTFT observation count over the window (stats.TTFT.Count, one observation per
//     request that produced a first token) against client.OK + client.WarmupOK, the requests the client
//     completed successfully in the window, measured or warm-up.
//   - Tokens: the increase of vllm:generation_tokens_total (stats.GenerationTokens) against
//     client.OutputTokens + client.WarmupOutputTokens, the output tokens of those requests.
//
// Why they can differ: other clients of the same server, or warm-up requests not reported to the client's
// sink, inside the window (server higher); requests in flight at either edge of the window, whose first token
// or tokens fall on one side of a scrape and whose client record on the other; requests that got a first
// token and then failed, were aborted or cut by the client's limits (server higher: the client counts them as
// failed); the scrape interval, since the window's server figures run from the first to the last successful
// scrape, not from the test's first to last request; and vLLM versions whose TTFT histogram miscounts
// (vllm-project/vllm#8115). A large difference with none of these usually means the scrapes are of another
// server or model (VLLMConfig.Model).
//
//   - Latency: the server's mean TTFT (stats.TTFT.MeanMS, _sum over _count increases) against
//     client.TTFTMeanMS, and its mean E2E latency (stats.E2ELatency.MeanMS) against client.E2EMeanMS, each
//     only when both are known and the histogram's count agrees with the client's requests as above (then
//     the two means are of the same requests, warm-up aside), beyond CrossCheckLatencyRelTolerance and
//     CrossCheckLatencyMinMS. A server mean well under the client's says time was spent between them (a
//     proxy, a slow network, a busy client; see client_statistics); well over it, that the scrapes are of
//     other requests. With warm-up requests in the window a server mean over the client's is not judged:
//     the server's includes them and the client's does not, and a warm-up's cold start can be seconds.
//
// A count that differs while the server restarted in the window (stats.Restarts) says so, with when
// (Stats.RestartText): a restart loses what the server generated since its last scrape.
//
// It returns nil when stats has fewer than two scrapes (nothing to compare); a figure the server does not
// expose gives one line saying it was not checked. It compares whatever it is given, zeros included: a caller
// whose client recorded no request at all (requests sent by others only) should not call it;
// summary.Compute does not.
func CrossCheck(stats Stats, client ClientTally) []string {
	if stats.Scrapes < 2 {
		return nil
	}
	var out []string
	restarts := restartTail(stats, client.RunStart)
	add := func(w string, count bool) { // every warning says its scope; a count difference, a restart too
		w += client.Scope
		if count {
			w += restarts
		}
		out = append(out, w)
	}
	ok := client.OK + client.WarmupOK
	tokens := client.OutputTokens + client.WarmupOutputTokens
	if stats.TTFT == nil {
		add("cross-check of requests not done: the server's TTFT histogram gives no increase over the window ("+
			stats.NotExposed[ttftField()]+")", false)
	} else if msg := compare(stats.TTFT.Count, float64(ok), CrossCheckMinRequests); msg != "" {
		add(fmt.Sprintf("server TTFT observations over the window (%s from %s) and requests the client completed (%s) %s: "+
			"other clients or warm-up on the server, requests in flight at the window's edges, or requests that failed after their first token",
			fmtF(stats.TTFT.Count), stats.TTFT.Metric, tallyText(int64(client.OK), int64(client.WarmupOK)), msg), true)
	}
	warm := client.WarmupOK > 0
	for _, w := range append(latencyCheck("TTFT", stats.TTFT, client.TTFTMeanMS, ok, warm),
		latencyCheck("E2E latency", stats.E2ELatency, client.E2EMeanMS, ok, warm)...) {
		add(w, false)
	}
	if stats.GenerationTokens == nil {
		add("cross-check of output tokens not done: the server's generation-token counter gives no increase over the window ("+
			stats.NotExposed[scalarFields[cGen].Field]+")", false)
	} else if msg := compare(*stats.GenerationTokens, float64(tokens), CrossCheckMinTokens); msg != "" {
		name := stats.NamesUsed[scalarFields[cGen].Field]
		add(fmt.Sprintf("server generation tokens over the window (%s from %s) and the client's output tokens (%s) %s: "+
			"other clients or warm-up on the server, requests in flight at the window's edges, failed requests, or output_tokens estimated from chunks",
			fmtF(*stats.GenerationTokens), name, tallyText(client.OutputTokens, client.WarmupOutputTokens), msg), true)
	}
	return out
}

// restartTail is "; and " and the restart text (Stats.RestartText, times from start, or from the window's
// first scrape when start is zero) when the server restarted in the window, else "".
func restartTail(stats Stats, start time.Time) string {
	if stats.Restarts == 0 {
		return ""
	}
	if start.IsZero() && stats.Start != nil {
		start = *stats.Start
	}
	return "; and " + stats.RestartText(start)
}

// latencyCheck compares the server histogram h's mean with the client's mean (ms) when both are known and
// h's count agrees with ok, the requests the client completed; warmup says warm-up requests are among them,
// on the server's side only, which leaves a server mean above the client's unjudged. It returns the
// warning, or nothing.
func latencyCheck(what string, h *Histogram, client *float64, ok int, warmup bool) []string {
	if h == nil || h.MeanMS == nil || client == nil || compare(h.Count, float64(ok), CrossCheckMinRequests) != "" {
		return nil
	}
	server := *h.MeanMS
	diff := server - *client
	tol := math.Max(CrossCheckLatencyMinMS, CrossCheckLatencyRelTolerance*math.Max(server, *client))
	if math.Abs(diff) <= tol || (warmup && diff > 0) {
		return nil
	}
	return []string{fmt.Sprintf("server and client disagree on mean %s: %s ms on the server (%s over %s observations) against %s ms on the client, "+
		"%+.1f ms (%+.1f%% of the client's), beyond the tolerance of %s ms (max(%d ms, %.0f%% of the larger)); "+
		"a server far under the client: time spent between them (a proxy, the network, a busy client: see client_statistics); far over it: the scrapes are of other requests",
		what, fmtF(math.Round(server*100)/100), h.Metric, fmtF(h.Count), fmtF(math.Round(*client*100)/100), diff, 100*diff/(*client),
		fmtF(math.Round(tol*100)/100), CrossCheckLatencyMinMS, 100*CrossCheckLatencyRelTolerance)}
}

// compare returns "" when server and client agree within tolerance, else how they differ.
func compare(server, client, floor float64) string {
	diff := server - client
	tol := math.Max(floor, CrossCheckRelTolerance*math.Max(server, client))
	if math.Abs(diff) <= tol {
		return ""
	}
	rel := "∞"
	if client > 0 {
		rel = fmt.Sprintf("%+.1f%%", 100*diff/client)
	}
	return fmt.Sprintf("differ by %s (%s of the client's), beyond the tolerance of %s (max(%s, %.0f%% of the larger))",
		fmtF(diff), rel, fmtF(math.Round(tol*100)/100), fmtF(floor), 100*CrossCheckRelTolerance)
}

func ttftField() string { return histFields[hTTFT] }
