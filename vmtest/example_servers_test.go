package vmtest_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// Two replicas of one model: each is scraped into its own figures, vllm_metrics and server_statistics are
// their aggregate, and a check can address either (server.* or replica.<name>.server.*). The load goes round
// robin over both (loadgen.ClientConfig.MoreBaseURLs).
func ExampleOptions_servers() {
	var urls []string
	for seed := range uint64(2) {
		sim, err := vllmsim.NewServer(vllmsim.Config{Seed: seed + 1, TTFTBase: 20 * time.Millisecond})
		if err != nil {
			panic(err)
		}
		defer sim.Close()
		urls = append(urls, sim.URL)
	}
	dir, err := os.MkdirTemp("", "vmtest-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	c, err := vmtest.Start(context.Background(), vmtest.Options{
		Servers:  []vmtest.Server{{Name: "a", BaseURL: urls[0]}, {Name: "b", BaseURL: urls[1]}},
		Interval: time.Minute, OutputDir: dir, GPUSource: "none", NoSystem: true,
	})
	if err != nil {
		panic(err)
	}
	c.Assert(assert.Expr("server.ttft.p99 < 5s"), assert.Expr("replica.b.server.ttft.p99 < 5s"))
	_, err = loadgen.Run(context.Background(), loadgen.LoadConfig{
		Client:  loadgen.ClientConfig{BaseURL: urls[0], MoreBaseURLs: urls[1:]},
		Prompts: loadgen.TextPrompts("hello"), Params: loadgen.Params{MaxTokens: 4}, Concurrency: 2, Requests: 8, Sink: c,
	})
	if err != nil {
		panic(err)
	}
	sum, err := c.Finish()
	if err != nil {
		panic(err)
	}
	fmt.Printf("all: %.0f tokens; a: %.0f; b: %.0f\n", *sum.Server.GenerationTokens,
		*sum.Server.Replicas["a"].GenerationTokens, *sum.Server.Replicas["b"].GenerationTokens)
	// Output: all: 32 tokens; a: 16; b: 16
}
