package assert

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/summary"
)

// errorRateBelow (ErrorRateBelow's check) returns nil when the run's error rate — (total − ok − canceled) /
// (total − canceled) over the recorded requests, a fraction — is strictly below limit (a fraction: 0.01 is 1 %). Otherwise it returns an error
// naming the rate, the limit, the outcome counts, the window, the run and the data file; with no request
// recorded, an error saying "no data". A limit outside (0, 1) is an error matching ErrInvalidCheck, whatever
// s is: 0 or less can never be met, and 1 or more is met by every run short of total failure (1 is 100 %, not
// 1 %); to demand no error at all, use the threshold "error_rate == 0".
func errorRateBelow(s *summary.Summary, limit float64) error {
	switch {
	case math.IsNaN(limit) || math.IsInf(limit, 0):
		return invalidf("vmtest: error_rate < %v: want a fraction between 0 and 1 (0.01 is 1%%)", limit)
	case limit >= 1:
		return invalidf("vmtest: error_rate < %s: %s (as this limit: %s)", formatNum(limit), fractionTooLarge("error_rate", "<", limit), formatNum(limit/100))
	case limit <= 0:
		return invalidf(`vmtest: error_rate < %s: error_rate is never below 0, so this could never pass; to allow no error at all, use the threshold "error_rate == 0"`, formatNum(limit))
	}
	text := strconv.FormatFloat(limit, 'g', -1, 64) + " (" + strconv.FormatFloat(100*limit, 'g', 4, 64) + "%)"
	err := checkBound(s, "", "error_rate", "<", limit, text)
	if err != nil && s != nil {
		r := s.Requests
		detail := fmt.Sprintf("; %d ok, %d failed, %d incomplete, %d rejected, %d canceled", r.OK, r.Failed, r.Incomplete, r.Rejected, r.Canceled)
		if r.LastError != "" {
			detail += "; last error: " + r.LastError
		}
		return fmt.Errorf("%w%s", err, detail)
	}
	return err
}

// throughputAbove (ThroughputAbove's check) returns nil when the client-side request throughput — successful requests per second
// over the requests' measured window (summary.Lookup "request_throughput") — is strictly above reqPerSec.
// Otherwise it returns an error naming the throughput in req/s, the limit, n (successful requests), the
// window, the run and the data file; with no successful request, an error saying "no data". A negative or
// non-finite reqPerSec is an error matching ErrInvalidCheck, whatever s is.
func throughputAbove(s *summary.Summary, reqPerSec float64) error {
	if err := checkRateLimit("request_throughput", reqPerSec); err != nil {
		return err
	}
	return checkBound(s, "", "request_throughput", ">", reqPerSec, strconv.FormatFloat(reqPerSec, 'g', -1, 64)+" req/s")
}

// goodputAbove (GoodputAbove's check) returns nil when the run's goodput — successful requests per second that met every given
// SLO, over the requests' measured window (DistServe; recorder.Summary.Goodput) — is strictly above
// reqPerSec. Otherwise it returns an error naming the goodput in req/s, the limit, how many of the recorded
// requests met the SLOs, the SLOs (ms), the window, the run and the data file. Goodput with no SLO given, or
// with no successful request, is unknown and fails with "no data". A negative or non-finite reqPerSec is an
// error matching ErrInvalidCheck, whatever s is.
func goodputAbove(s *summary.Summary, reqPerSec float64) error {
	if err := checkRateLimit("goodput", reqPerSec); err != nil {
		return err
	}
	limit := strconv.FormatFloat(reqPerSec, 'g', -1, 64) + " req/s"
	if s == nil {
		return fmt.Errorf("vmtest: goodput > %s: no summary", limit)
	}
	r := s.Requests
	slos := sloText(r.GoodputSLOs)
	if r.Goodput == nil || math.IsNaN(*r.Goodput) || math.IsInf(*r.Goodput, 0) {
		why := fmt.Sprintf("n=0 successful requests of %d recorded", r.Total)
		switch {
		case len(r.GoodputSLOs) == 0:
			why = "no SLO given"
		case r.WindowTooShort():
			why = r.TooShortText()
		}
		return fmt.Errorf("vmtest: goodput > %s: no data (%s; SLOs: %s; run %s; data: %s)", limit, why, slos, s.RunID, s.DataFile())
	}
	if *r.Goodput > reqPerSec {
		return nil
	}
	met := "an unknown number"
	if r.GoodputRequests != nil {
		met = strconv.Itoa(*r.GoodputRequests)
	}
	return fmt.Errorf("vmtest: goodput = %.3f req/s, want > %s (%s of %d requests met every SLO: %s; window %s, run %s; data: %s)",
		*r.Goodput, limit, met, r.Total, slos, windowText(r.WindowS), s.RunID, s.DataFile())
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

// fractionTooLarge explains why "metric op limit", with metric a fraction (0–1) and limit ≥ 1 written without
// a % sign, is refused, and how to write the percentage the user most likely meant.
func fractionTooLarge(metric, op string, limit float64) string {
	what := "is a fraction from 0 to 1 (1 is 100%)"
	switch {
	case op == "<" && limit == 1:
		what += `, so "< 1" passes unless every request failed`
	case op == "<" || op == "<=" || op == "!=":
		what += ", so this always passes"
	case op == ">=" && limit == 1, op == "==" && limit == 1:
		what += ", so this holds only when every request failed"
	default:
		what += ", so this never holds"
	}
	pct := formatNum(limit)
	return fmt.Sprintf("%s %s; for %s%% write %q or %q", metric, what, pct,
		metric+" "+op+" "+formatNum(limit/100), metric+" "+op+" "+pct+"%")
}
