package sweep

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"sync"
)

// handlerTransport serves each request by calling h on a goroutine of its own, the response body streaming
// through an io.Pipe: no socket, so the client, the simulator's handler and the collector can all run inside
// a testing/synctest bubble, where time moves only when every goroutine waits (as loadgen's tests do).
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	pr, pw := io.Pipe()
	rw := &pipeWriter{header: http.Header{}, body: pw, ready: make(chan struct{})}
	stop := context.AfterFunc(req.Context(), func() { pr.CloseWithError(req.Context().Err()) })
	sreq := req.Clone(ctx)
	go func() {
		ht.h.ServeHTTP(rw, sreq)
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
	body := &closeBody{Reader: pr, close: func() error { stop(); cancel(); return pr.Close() }}
	return &http.Response{StatusCode: rw.status, Header: rw.header, Body: body, Request: req}, nil
}

type closeBody struct {
	io.Reader
	close func() error
}

func (b *closeBody) Close() error { return b.close() }

// pipeWriter is the handler's side: headers go out on the first WriteHeader, Write or Flush.
type pipeWriter struct {
	header http.Header
	body   *io.PipeWriter
	once   sync.Once
	status int
	ready  chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	w.once.Do(func() { w.status = code; close(w.ready) })
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *pipeWriter) Flush() { w.WriteHeader(http.StatusOK) }
