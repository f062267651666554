// Package recorder keeps per-request records for one test: the timed requests that a test's own client or
// vmtest's loadgen reports, the windows over them (what finished since the last tick), and the statistics
// over them (mean, std, min, max and percentiles as numpy computes them by default, R type 7).
package recorder
