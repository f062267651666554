package vmtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// Outside a test (a command, a service, a notebook's driver), Start and Finish collect without package
// testing: the log goes to Options.Log, the checks registered with Assert come back in Finish's error.
func ExampleStart() {
	sim, err := vllmsim.NewServer(vllmsim.Config{Seed: 1, TTFTBase: 20 * time.Millisecond, TimePerOutputToken: time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	dir, err := os.MkdirTemp("", "vmtest-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	c, err := vmtest.Start(context.Background(), vmtest.Options{
		ConfigID: "sim-example", VLLMBaseURL: sim.URL, Interval: 100 * time.Millisecond, OutputDir: dir,
		GPUSource: "none", NoSystem: true, // Log: os.Stderr to see the run's log
	})
	if err != nil {
		panic(err)
	}
	c.Assert(assert.P99Below("ttft", 5*time.Second), assert.Expr("error_rate < 1%"))
	_, err = loadgen.Run(context.Background(), loadgen.LoadConfig{
		Client:      loadgen.ClientConfig{BaseURL: sim.URL},
		Prompts:     loadgen.ChatPrompts("What is a KV cache?"),
		Params:      loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: 8},
		Concurrency: 2,
		Requests:    6,
		Sink:        c,
	})
	if err != nil {
		panic(err)
	}
	sum, err := c.Finish()
	fmt.Println("checks not met:", err)
	fmt.Printf("requests: %d ok of %d, %d output tokens\n", sum.Requests.OK, sum.Requests.Total, sum.Requests.OutputTokens)
	names := make([]string, 0, len(sum.Files))
	for name, path := range sum.Files {
		if filepath.Dir(path) == dir {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	fmt.Println("files in dir:", names)
	// Output:
	// checks not met: <nil>
	// requests: 6 ok of 6, 48 output tokens
	// files in dir: [plot_png report_html requests_csv run_summary_json snapshots_csv snapshots_json summary_json]
}
