package loadgen

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/vllmsim"
)

// benchChunks is how many one-token chunks each request of BenchmarkStreamChunks streams.
const benchChunks = 64

// BenchmarkStreamChunks: the cost per chunk when every token is its own chunk. 32 workers (closed loop) send
// requests for 64 tokens each. "sim": the in-process simulator answers through testhttp.Transport (no socket;
// its work is in the figures). "client": each response is the simulator's own 64-chunk stream, captured once
// and replayed from memory, so the figures are the client's alone (HTTP response plumbing, SSE scanning, chunk
// decoding, timing, recording). CPU is this process's getrusage time over the measured phase, per request and
// per chunk. "client-usage": the same with usage on every chunk (Params.ContinuousUsage, per-token ITL).
func BenchmarkStreamChunks(b *testing.B) {
	for _, chat := range []bool{false, true} {
		name, prompts, path := "completions", TextPrompts("Measure me"), "/v1/completions"
		if chat {
			name, prompts, path = "chat", ChatPrompts("Measure me"), "/v1/chat/completions"
		}
		sim := vllmsim.New(b, vllmsim.Config{})
		b.Run("sim/"+name, func(b *testing.B) {
			benchChunkRun(b, prompts, testhttp.Transport{Handler: sim.Handler()}, false)
		})
		body := captureStream(b, sim.Handler(), path, chat, false)
		b.Run("client/"+name, func(b *testing.B) {
			benchChunkRun(b, prompts, bodyTransport{body: body, ctype: "text/event-stream"}, false)
		})
		body = captureStream(b, sim.Handler(), path, chat, true)
		b.Run("client-usage/"+name, func(b *testing.B) {
			benchChunkRun(b, prompts, bodyTransport{body: body, ctype: "text/event-stream"}, true)
		})
	}
}

// benchChunkRun runs b.N requests through tr; usage asks for usage on every chunk (per-token ITL).
func benchChunkRun(b *testing.B, prompts []Prompt, tr http.RoundTripper, usage bool) {
	res := benchRun(b, ClientConfig{BaseURL: "http://sim.invalid", Transport: tr}, prompts,
		Params{Model: vllmsim.DefaultModel, MaxTokens: benchChunks, ContinuousUsage: usage})
	perReq := float64(res.ClientCPU.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perReq, "cpu-ns/req")
	b.ReportMetric(perReq/benchChunks, "cpu-ns/chunk")
	b.ReportMetric(res.RequestsPerSecond(), "req/s")
}

// captureStream returns the body the simulator streams for one request of benchChunks tokens, with usage on
// every chunk when usage.
func captureStream(b *testing.B, h http.Handler, path string, chat, usage bool) []byte {
	opts := `{"include_usage":true}`
	if usage {
		opts = `{"include_usage":true,"continuous_usage_stats":true}`
	}
	body := `{"model":"` + vllmsim.DefaultModel + `","prompt":"Measure me","max_tokens":64,"stream":true,"stream_options":` + opts + `}`
	if chat {
		body = `{"model":"` + vllmsim.DefaultModel + `","messages":[{"role":"user","content":"Measure me"}],"max_tokens":64,"stream":true,"stream_options":` + opts + `}`
	}
	req, err := http.NewRequest(http.MethodPost, "http://sim.invalid"+path, bytes.NewReader([]byte(body)))
	if err != nil {
		b.Fatal(err)
	}
	resp, err := testhttp.Transport{Handler: h}.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("capture: status %d, %v", resp.StatusCode, err)
	}
	return out
}
