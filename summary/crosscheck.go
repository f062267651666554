package summary

import (
	"fmt"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
)

// CrossCheck returns the warnings of serverstats.CrossCheck between server's figures and the client's requests
// reqs (successful measured and warm-up requests, their output tokens, and the TTFT and E2E latency means), as
// Compute puts them in Summary.Warnings; start is the run's start, which the restarts a warning names are said
// from. It returns nil when server is nil or the client recorded no request (vmtest collect, or a test that
// sends requests without RecordRequest): the server's figures are then all of requests sent by others, and there
// is nothing to cross-check.
func CrossCheck(server *serverstats.Stats, reqs recorder.Summary, start time.Time) []string {
	if server == nil || reqs.Total == 0 {
		return nil
	}
	return serverstats.CrossCheck(*server, clientTally(reqs, start))
}

// clientTally is reqs of a run begun at start as serverstats.CrossCheck takes them.
func clientTally(reqs recorder.Summary, start time.Time) serverstats.ClientTally {
	w := reqs.Warmup
	return serverstats.ClientTally{OK: reqs.OK, OutputTokens: reqs.OutputTokens, WarmupOK: w.OK,
		WarmupOutputTokens: w.OutputTokens, TTFTMeanMS: reqs.TTFTMS.Mean, E2EMeanMS: reqs.E2EMS.Mean, RunStart: start}
}

// crossCheckCut is CrossCheck over the client's requests that ended by the server's last scrape (cut), for a
// run begun at start whose server figures stop before its requests (all, reqs): each warning says what was
// compared.
func crossCheckCut(server *serverstats.Stats, reqs recorder.Summary, cut ServerCut, start time.Time) []string {
	if server == nil || reqs.Total == 0 {
		return nil
	}
	partial := ""
	if cut.NoRow > 0 {
		partial = fmt.Sprintf("; partial: %d requests counted have no row (%s), and those that ended by then are not on the client's side, so a difference may be theirs", cut.NoRow, cut.NoRowCause)
	}
	tally := clientTally(cut.Requests, start)
	tally.Scope = fmt.Sprintf(" (the server's figures stop at its last scrape, %.3f s, while the requests run to %.3f s: "+
		"compared with the %d successful requests that ended by then, of %d%s)", cut.AtS, cut.EndS, cut.Requests.OK, reqs.OK, partial)
	return serverstats.CrossCheck(*server, tally)
}
