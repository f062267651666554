package examples

import (
	"context"
	"testing"
	"time"

	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// BenchmarkServe sends b.N streamed requests from 8 clients and reports TTFT, TPOT, ITL and E2E percentiles
// (seconds), throughput and goodput through b.ReportMetric, so benchstat can compare two builds or two server
// configurations. Fix the request count so runs compare like with like:
//
//	go test -run XXX -bench Serve -benchtime 200x -count 6 ./examples/ | tee old.txt
//	# ... change the server or the client ...
//	go test -run XXX -bench Serve -benchtime 200x -count 6 ./examples/ | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkServe(b *testing.B) {
	url := vllmsim.New(b, vllmsim.Config{
		Seed: 1, TTFTBase: 20 * time.Millisecond, TimePerOutputToken: 2 * time.Millisecond, Jitter: 0.05, MaxNumSeqs: 8,
	}).URL
	c := vmtest.Collect(b, vmtest.Options{
		VLLMBaseURL: url, Interval: 500 * time.Millisecond,
		Goodput: recorder.SLO{TTFT: 50 * time.Millisecond, TPOT: 5 * time.Millisecond},
	})
	b.ResetTimer()
	_, err := loadgen.Run(context.Background(), loadgen.LoadConfig{
		Client:      loadgen.ClientConfig{BaseURL: url},
		Prompts:     loadgen.ChatPrompts("Summarize the plot of Hamlet.", "What is speculative decoding?"),
		Params:      loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: 32},
		Concurrency: 8,
		Requests:    b.N,
		Sink:        c,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	c.ReportMetrics(b)
}
