package summary

import (
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
)

// CrossCheck returns the warnings of serverstats.CrossCheck between server's figures and the client's requests
// reqs (successful measured and warm-up requests, their output tokens, and the TTFT and E2E latency means), as
// Compute puts them in Summary.Warnings. It returns nil when server is nil or the client recorded no request
// (vmtest collect, or a test that sends requests without RecordRequest): the server's figures are then all of
// requests sent by others, and there is nothing to cross-check.
func CrossCheck(server *serverstats.Stats, reqs recorder.Summary) []string {
	if server == nil || reqs.Total == 0 {
		return nil
	}
	w := reqs.Warmup
	return serverstats.CrossCheck(*server, serverstats.ClientTally{OK: reqs.OK, OutputTokens: reqs.OutputTokens,
		WarmupOK: w.OK, WarmupOutputTokens: w.OutputTokens, TTFTMeanMS: reqs.TTFTMS.Mean, E2EMeanMS: reqs.E2EMS.Mean})
}
