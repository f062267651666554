package report

import (
	"fmt"
	"strings"

	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// RunNotes says why a run's figures may cover less than the run set out to do, one line each, from its
// summary (Summary.Finished and its events): first that it did not finish, with the journal's account when it
// was rebuilt from its journal (journal.Load: "did not finish: rebuilt from its journal up to …") or, without
// one, that the summary was taken while the run went on; then each early stop and why (the collector's
// "stopped early: <cause>" events: a signal, the test's deadline, a sweep's SLO). None for a run that ran to
// its end, and none for nil (a configuration that did not run, which says so itself).
func RunNotes(s *summary.Summary) []string {
	if s == nil {
		return nil
	}
	var notes []string
	if !s.Finished {
		note := "did not finish: the summary was taken while the run went on, not at its end"
		for _, e := range s.Events {
			if e.Source == snapshot.EventSourceJournal && strings.HasPrefix(e.Message, snapshot.DidNotFinishPrefix) {
				note = "did not finish: " + strings.TrimPrefix(e.Message, snapshot.DidNotFinishPrefix)
			}
		}
		notes = append(notes, note)
	}
	for _, e := range s.Events {
		if e.Source == snapshot.EventSourceCollector && strings.HasPrefix(e.Message, snapshot.StoppedEarlyPrefix) {
			notes = append(notes, e.Message)
		}
	}
	return notes
}

// ComparisonCaveat is the warning a comparison gives when one of its entries did not run to its end
// (RunNotes): their figures cover different windows and request sets, each entry's given (the collection's
// duration, Summary.DurationS, and the requests recorded, request_statistics.total), so a change between
// them may come from that rather than from what was compared; request sets are named only when some entry
// recorded a request (a collect-only run sends none). "" when every entry that ran ran to its end.
func ComparisonCaveat(entries []ComparisonEntry) string {
	var short, windows, requests []string
	anyRequests := false
	for _, e := range entries {
		if e.Summary == nil {
			continue
		}
		if len(RunNotes(e.Summary)) > 0 {
			short = append(short, e.ID)
		}
		windows = append(windows, fmt.Sprintf("%.1f s for %s", e.Summary.DurationS, e.ID))
		requests = append(requests, fmt.Sprintf("%d for %s", e.Summary.Requests.Total, e.ID))
		anyRequests = anyRequests || e.Summary.Requests.Total > 0
	}
	if len(short) == 0 {
		return ""
	}
	verb := "do"
	if len(short) == 1 {
		verb = "does"
	}
	sets := ""
	if anyRequests {
		sets = fmt.Sprintf(" and request sets (requests: %s)", strings.Join(requests, ", "))
	}
	return fmt.Sprintf("%s %s not cover a whole run: the figures compared cover different windows (%s)%s, so a change between them may come from that rather than from what was compared.",
		strings.Join(short, ", "), verb, strings.Join(windows, ", "), sets)
}
