package recorder

import "github.com/vmtest/vmtest/snapshot"

// entryOf is rec's entry in the interval window: its end, TTFT and E2E latency, and whether it succeeded
// (OutcomeOK) with its output tokens.
func entryOf(rec *Record) winEntry {
	e := winEntry{endS: rec.EndS, ttftMS: rec.TTFTMS, e2eMS: rec.E2EMS}
	if rec.Outcome == OutcomeOK {
		e.ok, e.out = true, int64(rec.OutputTokens)
	}
	return e
}

// AddRecord counts rec in w as DrainWindowUntil does: every row in Total; a successful one (OutcomeOK) in
// OK and OutputTokens, with its TTFT and E2E latency in TTFTMS and E2EMS.
func (w *Window) AddRecord(rec *Record) { w.add(entryOf(rec)) }

// FillSnapshot sets the original Python collector's client latency fields of v from w's successful requests
// (ms): FirstTokenLatencyMS the mean TTFT; MeanLatencyMS, P50LatencyMS, P90LatencyMS and P99LatencyMS the
// E2E latency's (ComputeStats: nil when unknown); RequestsFinished their count. It returns the TTFT and E2E
// latency Stats.
func (w *Window) FillSnapshot(v *snapshot.VLLM) (ttft, e2e Stats) {
	ttft, e2e = ComputeStats(w.TTFTMS), ComputeStats(w.E2EMS)
	v.FirstTokenLatencyMS = ttft.Mean
	v.MeanLatencyMS, v.P50LatencyMS, v.P90LatencyMS, v.P99LatencyMS = e2e.Mean, e2e.P50, e2e.P90, e2e.P99
	v.RequestsFinished = w.OK
	return ttft, e2e
}
