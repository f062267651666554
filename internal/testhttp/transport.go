// Package testhttp holds in-memory HTTP transports for tests: a request reaches an http.Handler, or a
// function, without a socket, so client and server can run inside a testing/synctest bubble (where time moves
// only when every goroutine waits). Only tests import it.
package testhttp

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"sync"
)

// Transport is an http.RoundTripper that serves each request by calling Handler on a goroutine of its own,
// the response body streaming through an io.Pipe. The response comes back once the handler has sent its
// headers (WriteHeader, a first Write or Flush) or returned; Write blocks until the client has read the bytes.
// Closing the body or cancelling the request's context cancels the handler's request context, as a closed
// connection does; after a cancellation the body's reads fail, never with a clean io.EOF. RoundTrip returns
// the context's error when the request is cancelled before the headers.
type Transport struct{ Handler http.Handler }

// RoundTrip implements http.RoundTripper.
func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	pr, pw := io.Pipe()
	rw := &responseWriter{header: http.Header{}, body: pw, ready: make(chan struct{})}
	stop := context.AfterFunc(req.Context(), func() { pr.CloseWithError(req.Context().Err()) })
	sreq := req.Clone(ctx)
	go func() {
		t.Handler.ServeHTTP(rw, sreq)
		rw.WriteHeader(http.StatusOK)
		_ = pw.CloseWithError(cmp.Or(req.Context().Err(), io.EOF))
	}()
	select {
	case <-rw.ready:
	case <-req.Context().Done():
		stop()
		cancel()
		_ = pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	body := &closeFuncBody{Reader: pr, close: func() error { stop(); cancel(); return pr.Close() }}
	return &http.Response{StatusCode: rw.status, Header: rw.header, Body: body, Request: req}, nil
}

type closeFuncBody struct {
	io.Reader
	close func() error
}

func (b *closeFuncBody) Close() error { return b.close() }

// responseWriter is the handler's side of Transport: headers are sent (ready closed) on the first
// WriteHeader, Write or Flush.
type responseWriter struct {
	header http.Header
	body   *io.PipeWriter
	once   sync.Once
	status int
	ready  chan struct{}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	w.once.Do(func() { w.status = code; close(w.ready) })
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *responseWriter) Flush() { w.WriteHeader(http.StatusOK) }

// RoundTripFunc is an http.RoundTripper that answers with the function itself.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip implements http.RoundTripper by calling f.
func (f RoundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
