package examples

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/sweep"
	"github.com/vmtest/vmtest/vmtest"
)

// TestSweepSLO finds the highest concurrency at which p99 TTFT stays under its limit and no request fails:
// each step of the ladder is its own run (warm-up, collector, files under metrics_output/TestSweepSLO/<step>/),
// a step stops as soon as its p99 can no longer meet the limit, and the comparison report beside the steps
// shows every step, the highest concurrency that met the SLO and the knee of the TTFT curve.
//
// Against the simulator (16 sequences at once, 40 ms TTFT, 8 ms a token, 32 tokens: a request runs about
// 300 ms) TTFT stays near 45 ms up to concurrency 16, and at 32 half the requests wait a whole request for a
// slot (about 345 ms): the answer is 16, the simulator's MaxNumSeqs.
func TestSweepSLO(t *testing.T) {
	url, model := server(t)
	loads, requests, ttft := []float64{1, 2, 4, 8, 16, 32, 64}, 200, "200ms"
	if os.Getenv(vmtest.EnvVLLMURL) == "" {
		// The simulator's prefill takes 40 ms: 10 times that, as DESIGN.md's rule for a loaded machine says.
		loads, requests, ttft = []float64{8, 16, 32}, 32, "400ms"
	}
	res, err := sweep.Run(context.Background(), sweep.Options{
		Mode:  sweep.Concurrency,
		Loads: loads,
		SLO:   []string{"p(99) ttft < " + ttft, "error_rate < 1%"},
		Load: loadgen.LoadConfig{
			Client:   loadgen.ClientConfig{BaseURL: url},
			Prompts:  loadgen.ChatPrompts("What is a KV cache?", "Write a haiku about GPUs."),
			Params:   loadgen.Params{Model: model, MaxTokens: 32},
			Requests: requests,
		},
		Collect:   vmtest.Options{VLLMBaseURL: url, Interval: time.Second},
		OutputDir: vmtest.OutputDir(t, ""),
		Log:       tlog{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxMet == nil {
		t.Fatalf("no concurrency met the SLO; see %s", res.Files["markdown"])
	}
	t.Logf("highest concurrency within the SLO: %v; report: %s", *res.MaxMet, res.Files["html"])
}

// tlog writes each log line to the test's log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }
