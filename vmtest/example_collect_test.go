package vmtest_test

import (
	"testing"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// testChatLatency is a perf test as it is written in a _test.go file, there named TestChatLatency and run
// with `go test -run TestChatLatency -v`: the collector samples from Collect to the end of the test, times
// every request loadgen sends into it, writes its files under metrics_output/TestChatLatency/ and checks the
// SLOs when the test ends (or, under go test -timeout, shortly before the deadline).
func testChatLatency(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{TTFTBase: 50 * time.Millisecond, TimePerOutputToken: 10 * time.Millisecond})

	c := vmtest.Collect(t, vmtest.Options{VLLMBaseURL: sim.URL, Interval: time.Second})
	c.Assert( // a typo in a metric name fails the test here, naming the nearest valid names
		assert.P99Below("ttft", 500*time.Millisecond),
		assert.Expr("p(90) tpot < 50ms"),
		assert.Expr("error_rate < 1%"),
	)

	// c.Context() ends before go test -timeout would kill the test, so the load stops in time
	_, err := loadgen.Run(c.Context(), loadgen.LoadConfig{
		Client:      loadgen.ClientConfig{BaseURL: sim.URL},
		Prompts:     loadgen.ChatPrompts("What is a KV cache?", "Write a haiku about GPUs."),
		Params:      loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: 64},
		Concurrency: 8,
		Duration:    2 * time.Second,
		Sink:        c, // every request is timed into the collector
	})
	if err != nil && c.Context().Err() == nil { // ended by c.Context() (vmtest.ErrTestDeadline, ErrFinished): not a failure
		t.Fatal(err)
	}
}

// In a test, Collect starts the collector for the test and Collector.Assert registers the checks; this
// file's testChatLatency is the whole test. It has no output to compare, so go test only compiles it here;
// the same test runs as TestChatLatency in the module's examples/readme_test.go.
func ExampleCollect() {
	_ = testChatLatency // named TestChatLatency in your own _test.go file
}
