package assert

import (
	"fmt"
	"math"
	"strconv"
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
