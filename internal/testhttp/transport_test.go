package testhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
)

func get(t *testing.T, ctx context.Context, rt http.RoundTripper) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://mem.invalid/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	return rt.RoundTrip(req)
}

// The handler's status, headers and every written byte reach the client, and the body ends cleanly.
func TestTransportServes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "data: a\n\n")
			w.(http.Flusher).Flush()
			io.WriteString(w, "data: "+r.URL.Path+"\n\n")
		})
		resp, err := get(t, t.Context(), Transport{Handler: h})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "text/event-stream" ||
			string(body) != "data: a\n\ndata: /x\n\n" {
			t.Fatalf("got %d %v %q, %v", resp.StatusCode, resp.Header, body, err)
		}
	})
}

// A handler that returns without writing answers 200 with an empty body.
func TestTransportSilentHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		resp, err := get(t, t.Context(), Transport{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || len(body) != 0 {
			t.Fatalf("got %d %q, %v", resp.StatusCode, body, err)
		}
	})
}

// Cancelling before the headers fails the round trip with the context's error and cancels the handler.
func TestTransportCancelBeforeHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		handlerDone := make(chan error, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			handlerDone <- r.Context().Err()
		})
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, err := get(t, ctx, Transport{Handler: h})
			errc <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("RoundTrip: %v, want context.Canceled", err)
		}
		if err := <-handlerDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("handler's context: %v, want context.Canceled", err)
		}
	})
}

// Cancelling mid-body: the client's next read fails, never a clean end; the handler is cancelled.
func TestTransportCancelMidBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		handlerDone := make(chan error, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "first")
			<-r.Context().Done()
			handlerDone <- r.Context().Err()
		})
		ctx, cancel := context.WithCancel(t.Context())
		resp, err := get(t, ctx, Transport{Handler: h})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
			t.Fatalf("read %q, %v", buf, err)
		}
		cancel()
		if _, err := resp.Body.Read(buf); err == nil || err == io.EOF {
			t.Fatalf("read after cancel: %v, want an error other than io.EOF", err)
		}
		if err := <-handlerDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("handler's context: %v, want context.Canceled", err)
		}
	})
}

// Closing the body cancels the handler's context, as a closed connection does.
func TestTransportCloseCancelsHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		handlerDone := make(chan error, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			handlerDone <- r.Context().Err()
		})
		resp, err := get(t, t.Context(), Transport{Handler: h})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := <-handlerDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("handler's context: %v, want context.Canceled", err)
		}
	})
}

func TestRoundTripFunc(t *testing.T) {
	var seen string
	rt := RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = r.URL.String()
		return &http.Response{StatusCode: 204, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	resp, err := get(t, t.Context(), rt)
	if err != nil || resp.StatusCode != 204 || seen != "http://mem.invalid/x" {
		t.Fatalf("got %v, %v, saw %q", resp, err, seen)
	}
}
