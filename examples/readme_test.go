package examples

// This file is the README's "Use it in your tests" example, kept here so that it compiles and passes.

import (
	"testing"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

func TestChatLatency(t *testing.T) {
	url := vllmsim.New(t, vllmsim.Config{TTFTBase: 50 * time.Millisecond, TimePerOutputToken: 10 * time.Millisecond}).URL

	c := vmtest.Collect(t, vmtest.Options{VLLMBaseURL: url, Interval: time.Second})
	c.Assert( // checked when the test ends; a typo in a name fails the test here
		assert.P99Below("ttft", 500*time.Millisecond),
		assert.Expr("p(90) tpot < 50ms"),
		assert.Expr("error_rate < 1%"),
	)

	// c.Context() ends before go test -timeout would kill the test, so the load stops in time
	_, err := loadgen.Run(c.Context(), loadgen.LoadConfig{
		Client:      loadgen.ClientConfig{BaseURL: url},
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
