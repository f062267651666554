// Package vmtest turns `go test` into a performance lab for LLM inference servers (vLLM and any
// OpenAI-compatible server with vLLM-style Prometheus metrics). A collector samples GPU, server and host
// metrics on one clock, times every request reported through RecordRequest, and when it finishes writes the
// files and computes the summary that the SLO checks of package assert run over.
//
// In a test, Collect starts a collector for the test, finishes it when the test ends (or before the test's
// deadline) and reports the checks registered with Assert:
//
//	func TestServe(t *testing.T) {
//		c := vmtest.Collect(t, vmtest.Options{VLLMBaseURL: url})
//		c.Assert(assert.P99Below("ttft", 500*time.Millisecond), assert.Expr("error_rate < 1%"))
//		// ... send requests bounded by c.Context() (done before the test's deadline), c.RecordRequest(...) each ...
//	}
//
// Anywhere else (a command, a service), Start and Finish do the same without package testing:
//
//	c, err := vmtest.Start(ctx, vmtest.Options{VLLMBaseURL: url, Log: os.Stderr})
//	// ... send requests, c.RecordRequest(...) each ...
//	sum, err := c.Finish()
//
// Examples: ExampleCollect (a whole perf test), ExampleStart (outside a test, run against the simulator,
// with its output checked by go test); the checks' examples are in package assert (ExampleExpr,
// ExampleP99Below, ExampleParseThreshold) and the simulator's in package vllmsim (ExampleNewServer). Their
// source is in example_test.go and example_collect_test.go; `go test -run Example -v ./vmtest` runs them
// offline (`go doc -http` also shows them, but fetches pkgsite the first time).
package vmtest
