package assert

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vmtest/vmtest/summary"
)

// CheckErrorRateBelow returns nil when the run's error rate — (total − ok) / total over every recorded
// request, a fraction — is strictly below limit (a fraction: 0.01 is 1 %). Otherwise it returns an error
// naming the rate, the limit, the outcome counts, the window, the run and the data file; with no request
// recorded, an error saying "no data"; with limit outside [0, 1] or NaN, an error saying so.
func CheckErrorRateBelow(s *summary.Summary, limit float64) error {
	if math.IsNaN(limit) || limit < 0 || limit > 1 {
		return fmt.Errorf("vmtest: error_rate limit %v is not a fraction in [0, 1] (0.01 is 1%%)", limit)
	}
	text := strconv.FormatFloat(limit, 'g', -1, 64) + " (" + strconv.FormatFloat(100*limit, 'g', 4, 64) + "%)"
	err := checkBound(s, "", "error_rate", "<", limit, text)
	if err != nil && s != nil {
		r := s.Requests
		detail := fmt.Sprintf("; %d ok, %d failed, %d incomplete, %d rejected", r.OK, r.Failed, r.Incomplete, r.Rejected)
		if r.LastError != "" {
			detail += "; last error: " + r.LastError
		}
		return fmt.Errorf("%w%s", err, detail)
	}
	return err
}

// AssertErrorRateBelow reports CheckErrorRateBelow's error through tb.Errorf and returns whether the objective
// was met.
func AssertErrorRateBelow(tb testing.TB, s *summary.Summary, limit float64) bool {
	tb.Helper()
	return report(tb, CheckErrorRateBelow(s, limit))
}

// CheckThroughputAbove returns nil when the client-side request throughput — successful requests per second
// over the requests' measured window (summary.Lookup "request_throughput") — is strictly above reqPerSec.
// Otherwise it returns an error naming the throughput in req/s, the limit, n (successful requests), the
// window, the run and the data file; with no successful request, an error saying "no data".
func CheckThroughputAbove(s *summary.Summary, reqPerSec float64) error {
	return checkBound(s, "", "request_throughput", ">", reqPerSec, strconv.FormatFloat(reqPerSec, 'g', -1, 64)+" req/s")
}

// AssertThroughputAbove reports CheckThroughputAbove's error through tb.Errorf and returns whether the
// objective was met.
func AssertThroughputAbove(tb testing.TB, s *summary.Summary, reqPerSec float64) bool {
	tb.Helper()
	return report(tb, CheckThroughputAbove(s, reqPerSec))
}

// CheckGoodputAbove returns nil when the run's goodput — successful requests per second that met every given
// SLO, over the requests' measured window (DistServe; recorder.Summary.Goodput) — is strictly above
// reqPerSec. Otherwise it returns an error naming the goodput in req/s, the limit, how many of the recorded
// requests met the SLOs, the SLOs (ms), the window, the run and the data file. Goodput with no SLO given, or
// with no successful request, is unknown and fails with "no data".
func CheckGoodputAbove(s *summary.Summary, reqPerSec float64) error {
	limit := strconv.FormatFloat(reqPerSec, 'g', -1, 64) + " req/s"
	if s == nil {
		return fmt.Errorf("vmtest: goodput > %s: no summary", limit)
	}
	r := s.Requests
	slos := sloText(r.GoodputSLOs)
	if r.Goodput == nil || math.IsNaN(*r.Goodput) || math.IsInf(*r.Goodput, 0) {
		why := fmt.Sprintf("n=0 successful requests of %d recorded", r.Total)
		if len(r.GoodputSLOs) == 0 {
			why = "no SLO given"
		}
		return fmt.Errorf("vmtest: goodput > %s: no data (%s; SLOs: %s; run %s; data: %s)", limit, why, slos, s.RunID, s.DataFile())
	}
	if *r.Goodput > reqPerSec {
		return nil
	}
	return fmt.Errorf("vmtest: goodput = %.3f req/s, want > %s (%d of %d requests met every SLO: %s; window %s, run %s; data: %s)",
		*r.Goodput, limit, r.GoodputRequests, r.Total, slos, windowText(r.WindowS), s.RunID, s.DataFile())
}

// sloText lists SLOs in ms by name, sorted: "e2e 2000 ms, ttft 150 ms".
func sloText(slos map[string]float64) string {
	if len(slos) == 0 {
		return "none"
	}
	names := make([]string, 0, len(slos))
	for k := range slos {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + " " + strconv.FormatFloat(slos[k], 'g', -1, 64) + " ms"
	}
	return strings.Join(parts, ", ")
}

// AssertGoodputAbove reports CheckGoodputAbove's error through tb.Errorf and returns whether the objective was
// met.
func AssertGoodputAbove(tb testing.TB, s *summary.Summary, reqPerSec float64) bool {
	tb.Helper()
	return report(tb, CheckGoodputAbove(s, reqPerSec))
}
