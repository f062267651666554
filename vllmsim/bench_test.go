package vllmsim

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// benchClient reuses keep-alive connections, as a load driver does.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0, DisableCompression: true}}
}

var doneLine = []byte("data: [DONE]")

// streamOnce sends one streaming request and reads it to [DONE], counting events.
func streamOnce(b *testing.B, c *http.Client, url string, body []byte, wantEvents int) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	n, done := 0, false
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte("data: ")) {
			n++
			done = bytes.Equal(line, doneLine)
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !done || n != wantEvents {
		b.Fatalf("got %d events, done=%v", n, done)
	}
}

// BenchmarkStream16 is one streaming completions request of 16 tokens,
// end to end over loopback HTTP with all latencies zero (client included).
func BenchmarkStream16(b *testing.B) {
	s := New(b, Config{})
	c := benchClient()
	body := []byte(`{"prompt":"benchmark prompt","max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
	url := s.URL + "/v1/completions"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		streamOnce(b, c, url, body, 18)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkChatStream16 is BenchmarkStream16 for /v1/chat/completions
// (one more event: the role-only chunk).
func BenchmarkChatStream16(b *testing.B) {
	s := New(b, Config{})
	c := benchClient()
	body := []byte(`{"messages":[{"role":"user","content":"benchmark prompt"}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
	url := s.URL + "/v1/chat/completions"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		streamOnce(b, c, url, body, 19)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkStream16Parallel runs BenchmarkStream16 from 32 goroutines at once.
func BenchmarkStream16Parallel(b *testing.B) {
	s := New(b, Config{})
	c := benchClient()
	body := []byte(`{"prompt":"benchmark prompt","max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
	url := s.URL + "/v1/completions"
	b.ReportAllocs()
	b.SetParallelism(16) // x GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			streamOnce(b, c, url, body, 18)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkHandlerStream16 measures the handler alone (no sockets): one
// streaming request of 16 tokens written into a discarding ResponseWriter.
func BenchmarkHandlerStream16(b *testing.B) {
	s := New(b, Config{})
	h := s.Handler()
	body := []byte(`{"prompt":"benchmark prompt","max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, "/v1/completions", bytes.NewReader(body))
		w.n = 0
		h.ServeHTTP(w, req)
		if w.n < 16*150 {
			b.Fatalf("short body: %d bytes", w.n)
		}
	}
}

type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}
