package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/recorder"
)

// sliceSink is a recorder.Sink that keeps every record.
type sliceSink struct {
	mu   sync.Mutex
	recs []recorder.Request
}

func (s *sliceSink) RecordRequest(r recorder.Request) {
	s.mu.Lock()
	s.recs = append(s.recs, r)
	s.mu.Unlock()
}

func (s *sliceSink) all() []recorder.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorder.Request(nil), s.recs...)
}

// pipeTransport answers every request with 200 text/event-stream whose body the test writes through the
// *io.PipeWriter it receives on streams; the request (with its body read) comes on reqs.
type pipeTransport struct {
	streams chan *io.PipeWriter
	reqs    chan *http.Request
	status  int
	ctype   string
}

func newPipeTransport() *pipeTransport {
	return &pipeTransport{streams: make(chan *io.PipeWriter, 1), reqs: make(chan *http.Request, 1), status: 200, ctype: "text/event-stream"}
}

func (p *pipeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	go func() {
		<-req.Context().Done()
		pr.CloseWithError(req.Context().Err()) // what a real transport does on cancellation
	}()
	select {
	case p.reqs <- req:
	default:
	}
	p.streams <- pw
	return &http.Response{
		StatusCode: p.status,
		Header:     http.Header{"Content-Type": {p.ctype}},
		Body:       pr,
		Request:    req,
	}, nil
}

// pipeClient returns a client whose requests are answered by the test through the returned transport.
func pipeClient(t *testing.T, cfg ClientConfig) (*Client, *pipeTransport) {
	t.Helper()
	pt := newPipeTransport()
	cfg.Transport = pt
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://sim.invalid"
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, pt
}

// doAsync runs c.Do in a goroutine and returns a channel for its record.
func doAsync(c *Client, ctx context.Context, p Prompt, params Params) <-chan recorder.Request {
	ch := make(chan recorder.Request, 1)
	go func() { ch <- c.Do(ctx, p, params) }()
	return ch
}

func wait(t *testing.T, ch <-chan recorder.Request) recorder.Request {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("request did not return within 10s")
		return recorder.Request{}
	}
}

// write writes s to w and returns the time right before the write. A pipe write returns only once the reader
// has consumed it, so an event's arrival as the client records it lies after the returned time.
func write(t *testing.T, w io.Writer, s string) time.Time {
	t.Helper()
	before := time.Now()
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatalf("write: %v", err)
	}
	return before
}

// Chunks as vLLM's OpenAI server frames them.
func chatChunk(delta string) string {
	return fmt.Sprintf(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":null}],"usage":null}`+"\n\n", delta)
}

func chatFinish(reason string) string {
	return fmt.Sprintf(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":%q}],"usage":null}`+"\n\n", reason)
}

func usageChunk(prompt, completion int) string {
	return fmt.Sprintf(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"total_tokens":%d,"completion_tokens":%d}}`+"\n\n", prompt, prompt+completion, completion)
}

func textChunk(text string, finish string) string {
	fr := "null"
	if finish != "" {
		fr = fmt.Sprintf("%q", finish)
	}
	return fmt.Sprintf(`data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":%q,"logprobs":null,"finish_reason":%s,"stop_reason":null}],"usage":null}`+"\n\n", text, fr)
}

const done = "data: [DONE]\n\n"

// aStream is a complete chat stream with three content tokens, a finish and usage.
func aStream() string {
	return chatChunk(`{"role":"assistant","content":""}`) +
		chatChunk(`{"content":"Hé"}`) + chatChunk(`{"content":"llo 世"}`) + chatChunk(`{"content":"界 🚀"}`) +
		chatFinish("stop") + usageChunk(7, 3) + done
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

var chat1 = ChatPrompts("hi")[0]

// newFakeHandler is a fakeServer without a socket, for testhttp.Transport (see inProcess).
func newFakeHandler(delay time.Duration, tokens int) *fakeServer {
	return &fakeServer{delay: delay, tokens: tokens, prompts: map[string]int{}}
}

// inProcess returns a ClientConfig whose requests fs serves through testhttp.Transport.
func (fs *fakeServer) inProcess() ClientConfig {
	return ClientConfig{BaseURL: "http://fake.invalid", Transport: testhttp.Transport{Handler: http.HandlerFunc(fs.serve)}}
}
