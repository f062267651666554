package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

// countSink counts records and those that are not OK with exactly want tokens from usage.
type countSink struct {
	n, bad atomic.Int64
	want   int
	first  atomic.Pointer[recorder.Request]
}

func (s *countSink) RecordRequest(r recorder.Request) {
	s.n.Add(1)
	if r.Outcome != recorder.OutcomeOK || r.OutputTokens != s.want || r.OutputTokensEstimated || len(r.TokenTimes) != s.want {
		s.bad.Add(1)
		s.first.CompareAndSwap(nil, &r)
	}
}

// benchRun runs b.N requests (after 64 warm-up ones) of params through client, 32 workers in a closed loop,
// timing only the requests, and fails b unless every record is OK with exactly params.MaxTokens tokens from
// usage, one token time each.
func benchRun(b *testing.B, client ClientConfig, prompts []Prompt, params Params) Result {
	sink := &countSink{want: params.MaxTokens}
	cfg := LoadConfig{Client: client, Prompts: prompts, Params: params, Concurrency: 32, Warmup: 64, Requests: b.N, Sink: sink}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), cfg)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if bad := sink.bad.Load(); bad > 0 || sink.n.Load() != int64(b.N) {
		b.Fatalf("%d of %d records not OK with %d tokens (recorded %d); first: %+v", bad, b.N, params.MaxTokens, sink.n.Load(), sink.first.Load())
	}
	return res
}

// BenchmarkDriverThroughput: sustained streaming requests/s of 16 tokens each, closed loop, against the
// in-process simulator with every latency zero (it shares the machine's cores with the client). Target on a
// 2-core machine: ≥ 2,000 req/s.
func BenchmarkDriverThroughput(b *testing.B) {
	for _, chat := range []bool{false, true} {
		name := "completions"
		prompts := TextPrompts("Measure me")
		if chat {
			name, prompts = "chat", ChatPrompts("Measure me")
		}
		b.Run(name, func(b *testing.B) {
			sim := vllmsim.New(b, vllmsim.Config{})
			res := benchRun(b, ClientConfig{BaseURL: sim.URL}, prompts, Params{Model: vllmsim.DefaultModel, MaxTokens: 16})
			b.ReportMetric(res.RequestsPerSecond(), "req/s")
			b.ReportMetric(100*res.CPUUtilization, "%cpu")
			b.ReportMetric(float64(res.SchedLatencyP99.Microseconds()), "sched-p99-µs")
		})
	}
}

// BenchmarkClientTTFTOverhead: what the client adds to a measured TTFT. A minimal server writes the first token
// as soon as it has read the request and notes how long that took (request read → first chunk flushed); the
// metric is the median over requests of client TTFT − that server time. Target: < 100 µs.
func BenchmarkClientTTFTOverhead(b *testing.B) {
	serverTimes := make(chan time.Duration, 1)
	first := []byte(textChunk("Hi", ""))
	rest := []byte(textChunk("!", "stop") + usageChunk(2, 2) + done)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now() // net/http has read the request line and headers
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(first)
		w.(http.Flusher).Flush()
		serverTimes <- time.Since(t0)
		_, _ = w.Write(rest)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{BaseURL: srv.URL, MaxConns: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	enc, err := newEncoder(Params{Model: "m", MaxTokens: 2})
	if err != nil {
		b.Fatal(err)
	}
	p := TextPrompts("Time to first token")[0]
	for range 50 { // warm the connection and the code paths
		c.do(context.Background(), enc, &p)
		<-serverTimes
	}
	overhead := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := c.do(context.Background(), enc, &p)
		st := <-serverTimes
		if r.Outcome != recorder.OutcomeOK {
			b.Fatalf("outcome %s: %v", r.Outcome, r.Err)
		}
		overhead = append(overhead, r.FirstToken.Sub(r.Start)-st)
	}
	b.StopTimer()
	slices.Sort(overhead)
	b.ReportMetric(float64(overhead[len(overhead)/2].Nanoseconds())/1e3, "overhead-µs-p50")
	b.ReportMetric(float64(overhead[len(overhead)*9/10].Nanoseconds())/1e3, "overhead-µs-p90")
}
