package loadgen

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/recorder"
)

const gap = 20 * time.Millisecond

// between asserts that got lies in [from, from+gap): the event that was written at from, not a later one.
// The tests that use it run in a synctest bubble, where no time passes between a pipe write and the read
// that consumes it, so a loaded machine cannot move got past from+gap.
func between(t *testing.T, got, from time.Time, what string) {
	t.Helper()
	assert.False(t, got.Before(from), "%s %v is before its event was written", what, got.Sub(from))
	assert.Less(t, got.Sub(from), gap, "%s is later than its event", what)
}

func TestRoleOnlyFirstChatChunkIsNotAToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		write(t, w, chatChunk(`{"role":"assistant","content":""}`))
		write(t, w, chatChunk(`{"role":"assistant"}`))
		time.Sleep(gap)
		t1 := write(t, w, chatChunk(`{"content":"Hi"}`))
		time.Sleep(gap)
		t2 := write(t, w, chatChunk(`{"content":" there"}`))
		time.Sleep(gap)
		write(t, w, chatFinish("stop")) // empty content: not a token
		write(t, w, done)
		w.Close()
		r := wait(t, ch)

		require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
		between(t, r.FirstToken, t1, "FirstToken")
		assert.Equal(t, r.FirstToken, r.FirstContent)
		require.Len(t, r.TokenTimes, 2)
		between(t, r.TokenTimes[1], t2, "second token")
		assert.Equal(t, r.TokenTimes[1], r.End, "End is the last token-bearing chunk, not the finish chunk")
		assert.Equal(t, 2, r.OutputTokens)
		assert.True(t, r.OutputTokensEstimated, "no usage sent: counted")
		assert.Equal(t, "stop", r.FinishReason)
		assert.Equal(t, 200, r.HTTPStatus)
		assert.True(t, r.Start.Before(t1))
	})
}

func TestReasoningCountsAsFirstTokenFirstContentSeparate(t *testing.T) {
	for _, field := range []string{"reasoning_content", "reasoning"} {
		t.Run(field, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, pt := pipeClient(t, ClientConfig{})
				ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
				w := <-pt.streams
				write(t, w, chatChunk(`{"role":"assistant","content":null}`))
				t1 := write(t, w, chatChunk(`{"`+field+`":"Let me think","content":null}`))
				time.Sleep(gap)
				write(t, w, chatChunk(`{"`+field+`":" hard"}`))
				time.Sleep(gap)
				t3 := write(t, w, chatChunk(`{"content":"42"}`))
				time.Sleep(gap)
				t4 := write(t, w, chatChunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}`))
				write(t, w, chatFinish("stop")+usageChunk(5, 4)+done)
				w.Close()
				r := wait(t, ch)

				require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
				between(t, r.FirstToken, t1, "FirstToken")
				between(t, r.FirstContent, t3, "FirstContent")
				require.Len(t, r.TokenTimes, 4, "reasoning, reasoning, content, tool_calls")
				between(t, r.End, t4, "End (tool call)")
				assert.Equal(t, 4, r.OutputTokens)
				assert.False(t, r.OutputTokensEstimated)
			})
		})
	}
}

func TestTrailingUsageChunkLastWinsNeverSummed(t *testing.T) {
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	// continuous_usage_stats style: usage on every chunk, cumulative; then a trailing usage chunk with
	// "choices": [] (include_usage), which must not panic and must win.
	u := func(p, n int) string {
		return `,"usage":{"prompt_tokens":` + itoa(p) + `,"completion_tokens":` + itoa(n) + `}`
	}
	write(t, w, `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"a"}}]`+u(9, 1)+"}\n\n")
	write(t, w, `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"b"}}]`+u(9, 2)+"}\n\n")
	write(t, w, `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"length"}]`+u(9, 2)+"}\n\n")
	write(t, w, usageChunk(11, 3))
	write(t, w, `data: {"object":"chat.completion.chunk","choices":[]}`+"\n\n") // empty choices, no usage
	write(t, w, done)
	w.Close()
	r := wait(t, ch)
	require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	assert.Equal(t, 3, r.OutputTokens, "last usage (3), not the sum (8) nor the chunk count (2)")
	assert.Equal(t, 11, r.PromptTokens)
	assert.False(t, r.OutputTokensEstimated)
	assert.Equal(t, "length", r.FinishReason)
	assert.Len(t, r.TokenTimes, 2)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestKeepalivesIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		write(t, w, ": ping\n\n")
		write(t, w, "data:\n\n")
		write(t, w, "data: \n\n")
		write(t, w, "event: ping\n\n")
		write(t, w, "event: ping\ndata: {\"type\":\"ping\"}\n\n")
		write(t, w, ": keep-alive comment\n")
		time.Sleep(gap)
		t1 := write(t, w, chatChunk(`{"content":"x"}`))
		write(t, w, ": ping\n\n"+"event: ping\n\n"+chatChunk(`{"content":"y"}`)+": ping\n\n"+chatFinish("stop")+done)
		w.Close()
		r := wait(t, ch)
		require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
		between(t, r.FirstToken, t1, "FirstToken")
		assert.Len(t, r.TokenTimes, 2)
		assert.Equal(t, 2, r.OutputTokens)
	})
}

// checkAStream asserts what aStream() must yield.
func checkAStream(t *testing.T, r recorder.Request) {
	t.Helper()
	require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	assert.Len(t, r.TokenTimes, 3)
	assert.Equal(t, 3, r.OutputTokens)
	assert.Equal(t, 7, r.PromptTokens)
	assert.Equal(t, "stop", r.FinishReason)
	assert.False(t, r.FirstToken.IsZero())
	assert.Equal(t, r.TokenTimes[2], r.End)
}

func TestEventsSplitAtEveryByteOffset(t *testing.T) {
	for _, variant := range []struct{ name, stream string }{
		{"LF", aStream()},
		{"CRLF", crlf(aStream())},
		{"CR", strings.ReplaceAll(aStream(), "\n", "\r")},
		{"NoSpace", strings.ReplaceAll(aStream(), "data: ", "data:")},
	} {
		t.Run(variant.name, func(t *testing.T) {
			s := variant.stream
			require.True(t, strings.Contains(s, "世"), "the stream has multi-byte characters to split")
			c, pt := pipeClient(t, ClientConfig{})
			for k := 0; k <= len(s); k++ {
				ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
				w := <-pt.streams
				write(t, w, s[:k])
				write(t, w, s[k:])
				w.Close()
				r := wait(t, ch)
				if r.Outcome != recorder.OutcomeOK || len(r.TokenTimes) != 3 || r.OutputTokens != 3 {
					t.Fatalf("split at byte %d: outcome %s, %d tokens, err %v", k, r.Outcome, len(r.TokenTimes), r.Err)
				}
			}
		})
	}
	t.Run("OneBytePerRead", func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		s := crlf(aStream())
		for i := 0; i < len(s); i++ {
			write(t, w, s[i:i+1])
		}
		w.Close()
		checkAStream(t, wait(t, ch))
	})
}

// A real HTTP server that flushes one byte at a time: framing survives TCP and chunked encoding at every byte.
func TestOneBytePerFlushOverHTTP(t *testing.T) {
	s := aStream()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		for i := 0; i < len(s); i++ {
			_, _ = io.WriteString(w, s[i:i+1])
			f.Flush()
		}
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{BaseURL: srv.URL})
	require.NoError(t, err)
	defer c.Close()
	checkAStream(t, c.Do(context.Background(), chat1, Params{Model: "m"}))
}

func TestDataWithoutSpaceAndCRLF(t *testing.T) {
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	s := strings.ReplaceAll(aStream(), "data: ", "data:")
	write(t, w, crlf(s))
	w.Close()
	checkAStream(t, wait(t, ch))
}

func TestEventLargerThan64KiB(t *testing.T) {
	big := strings.Repeat("é", 150_000) // 300 KB of two-byte characters in one event
	stream := chatChunk(`{"content":"`+big+`"}`) + chatChunk(`{"content":"!"}`) + chatFinish("stop") + done
	require.Greater(t, len(stream), 64<<10*4)

	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	write(t, w, stream)
	w.Close()
	r := wait(t, ch)
	require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	assert.Len(t, r.TokenTimes, 2)

	// Over the configured limit: a failure that says so, not a hang or a silent drop.
	c, pt = pipeClient(t, ClientConfig{MaxEventSize: 64 << 10})
	ch = doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w = <-pt.streams
	go func() { _, _ = io.WriteString(w, stream); w.Close() }()
	r = wait(t, ch)
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	assert.ErrorIs(t, r.Err, ErrEventTooLarge)
	assert.ErrorContains(t, r.Err, "65536 bytes", "names the limit in force")
	assert.ErrorContains(t, r.Err, "raise ClientConfig.MaxEventSize", "says how to raise it")
}

func TestStreamWithoutDoneOrFinishIsIncomplete(t *testing.T) {
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	write(t, w, chatChunk(`{"content":"a"}`)+chatChunk(`{"content":"b"}`))
	w.Close()
	r := wait(t, ch)
	assert.Equal(t, recorder.OutcomeIncomplete, r.Outcome)
	assert.ErrorIs(t, r.Err, ErrTruncated)
	assert.Len(t, r.TokenTimes, 2, "the tokens that did arrive are kept")

	// Cut mid-event by a broken connection: truncated too.
	ch = doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w = <-pt.streams
	write(t, w, chatChunk(`{"content":"a"}`)+`data: {"choi`)
	w.CloseWithError(io.ErrUnexpectedEOF)
	r = wait(t, ch)
	assert.Equal(t, recorder.OutcomeIncomplete, r.Outcome)
	assert.ErrorIs(t, r.Err, ErrTruncated)
}

func TestFinishReasonWithoutDoneIsOK(t *testing.T) {
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	write(t, w, chatChunk(`{"content":"a"}`)+chatFinish("length"))
	w.Close()
	r := wait(t, ch)
	assert.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	assert.Equal(t, "length", r.FinishReason)
}

func TestOnlyDoneIsIncomplete(t *testing.T) {
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	write(t, w, chatChunk(`{"role":"assistant","content":""}`)+done)
	w.Close()
	r := wait(t, ch)
	assert.Equal(t, recorder.OutcomeIncomplete, r.Outcome)
	assert.ErrorIs(t, r.Err, ErrNoTokens)
	assert.True(t, r.FirstToken.IsZero())
	assert.Equal(t, 0, r.OutputTokens)
}

func TestErrorEventIn200StreamFails(t *testing.T) {
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	write(t, w, chatChunk(`{"content":"a"}`))
	write(t, w, `data: {"error": {"object": "error", "message": "CUDA out of memory", "type": "InternalServerError", "code": 500}}`+"\n\n"+done)
	w.Close()
	r := wait(t, ch)
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	var se *StreamError
	require.ErrorAs(t, r.Err, &se)
	assert.Equal(t, "CUDA out of memory", se.Message)
	assert.Equal(t, "InternalServerError", se.Type)
	assert.Equal(t, 200, r.HTTPStatus)

	// The older top-level form.
	ch = doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w = <-pt.streams
	write(t, w, `data: {"object":"error","message":"boom","type":"BadRequestError","code":400}`+"\n\n")
	w.Close()
	r = wait(t, ch)
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	require.ErrorAs(t, r.Err, &se)
	assert.Equal(t, "boom", se.Message)
}

func TestHTTPErrorStatuses(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   recorder.Outcome
	}{
		{400, recorder.OutcomeFailed}, {404, recorder.OutcomeFailed}, {429, recorder.OutcomeRejected},
		{500, recorder.OutcomeFailed}, {503, recorder.OutcomeRejected},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, `{"object":"error","message":"nope `+itoa(tc.status)+`"}`+strings.Repeat(" ", 100_000))
		}))
		c, err := NewClient(ClientConfig{BaseURL: srv.URL})
		require.NoError(t, err)
		r := c.Do(context.Background(), chat1, Params{Model: "m"})
		assert.Equal(t, tc.want, r.Outcome, "status %d", tc.status)
		assert.Equal(t, tc.status, r.HTTPStatus)
		var he *HTTPError
		require.ErrorAs(t, r.Err, &he)
		assert.Equal(t, tc.status, he.StatusCode)
		assert.Contains(t, he.Body, "nope "+itoa(tc.status))
		assert.LessOrEqual(t, len(he.Body), 1024+len("…"))
		c.Close()
		srv.Close()
	}
}

func TestConnectionErrorsFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := NewClient(ClientConfig{BaseURL: "http://" + addr})
	require.NoError(t, err)
	r := c.Do(context.Background(), chat1, Params{Model: "m"})
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	assert.Equal(t, 0, r.HTTPStatus)
	assert.ErrorContains(t, r.Err, "connection refused")
	assert.False(t, r.Start.IsZero())

	// A server that closes the connection before answering.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, err = NewClient(ClientConfig{BaseURL: srv.URL})
	require.NoError(t, err)
	r = c.Do(context.Background(), chat1, Params{Model: "m"})
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	assert.Error(t, r.Err)
	assert.Equal(t, 0, r.HTTPStatus)
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func TestConnectTimeoutIsItsOwnError(t *testing.T) {
	// Only loopback is reachable here, so the dial timeout is produced the way net.Dialer reports it.
	c, err := NewClient(ClientConfig{BaseURL: "http://127.0.0.1:1", Transport: testhttp.RoundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
	})})
	require.NoError(t, err)
	r := c.Do(context.Background(), chat1, Params{Model: "m"})
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	assert.ErrorIs(t, r.Err, ErrConnectTimeout)
}

// stallServer sends the given prefix, flushes, then holds the stream open until the client goes away.
func stallServer(t *testing.T, prefix string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, prefix)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCancelledContextEndsRequestPromptly(t *testing.T) {
	srv := stallServer(t, chatChunk(`{"content":"a"}`))
	c, err := NewClient(ClientConfig{BaseURL: srv.URL})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r := c.Do(ctx, chat1, Params{Model: "m"})
	assert.Equal(t, recorder.OutcomeIncomplete, r.Outcome)
	assert.ErrorIs(t, r.Err, ErrCanceled)
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Less(t, time.Since(r.Start), 10*time.Second, "the server never ends the stream: the cancel ended the request")
}

func TestRequestBodiesAndEndpoints(t *testing.T) {
	type seen struct {
		path string
		body map[string]any
		auth string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		got <- seen{r.URL.Path, b, r.Header.Get("Authorization")}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, textChunk("x", "")+textChunk("y", "stop")+usageChunk(3, 2)+done)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{BaseURL: srv.URL + "/v1/", APIKey: "k"})
	require.NoError(t, err)
	params := Params{Model: "m1", MaxTokens: 16, Temperature: Float(0), TopP: Float(0.9), Extra: map[string]any{"ignore_eos": true}}

	r := c.Do(context.Background(), Prompt{ID: "p1", Text: "Once"}, params)
	require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	s := <-got
	assert.Equal(t, "/v1/completions", s.path)
	assert.Equal(t, "Bearer k", s.auth)
	assert.Equal(t, map[string]any{
		"model": "m1", "prompt": "Once", "max_tokens": 16.0, "temperature": 0.0, "top_p": 0.9,
		"ignore_eos": true, "stream": true, "stream_options": map[string]any{"include_usage": true},
	}, s.body)
	assert.Equal(t, "p1", r.ID)
	assert.Equal(t, 16, r.RequestedOutputTokens)
	assert.Equal(t, 2, r.OutputTokens)
	assert.Len(t, r.TokenTimes, 2)

	r = c.Do(context.Background(), Prompt{Messages: []Message{{Role: "user", Content: "hi"}}, MaxTokens: 4}, Params{Model: "m2"})
	s = <-got
	assert.Equal(t, "/v1/chat/completions", s.path)
	assert.Equal(t, []any{map[string]any{"role": "user", "content": "hi"}}, s.body["messages"])
	assert.Equal(t, 4.0, s.body["max_tokens"])
	assert.Equal(t, 4, r.RequestedOutputTokens)
	_, hasTemp := s.body["temperature"]
	assert.False(t, hasTemp, "unset parameters are left to the server")

	// A text prompt forced to chat becomes one user message; a chat prompt cannot go to completions.
	cc, err := NewClient(ClientConfig{BaseURL: srv.URL, Endpoint: ChatCompletions})
	require.NoError(t, err)
	cc.Do(context.Background(), Prompt{Text: "yo"}, Params{Model: "m"})
	s = <-got
	assert.Equal(t, "/v1/chat/completions", s.path)
	assert.Equal(t, []any{map[string]any{"role": "user", "content": "yo"}}, s.body["messages"])
	ct, err := NewClient(ClientConfig{BaseURL: srv.URL, Endpoint: Completions})
	require.NoError(t, err)
	r = ct.Do(context.Background(), chat1, Params{Model: "m"})
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	assert.ErrorContains(t, r.Err, "cannot be sent")

	r = c.Do(context.Background(), chat1, Params{Model: "m", Extra: map[string]any{"stream": false}})
	assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
	assert.ErrorContains(t, r.Err, `"stream"`)
}

func TestNonStreamingResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		if b["stream"] != false {
			http.Error(w, "expected stream false", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		time.Sleep(30 * time.Millisecond)
		_, _ = io.WriteString(w, `{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":9}}`)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{BaseURL: srv.URL})
	require.NoError(t, err)
	r := c.Do(context.Background(), chat1, Params{Model: "m", NoStream: true})
	require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	assert.Equal(t, 9, r.OutputTokens)
	assert.Equal(t, r.FirstToken, r.End)
	assert.GreaterOrEqual(t, r.End.Sub(r.Start), 30*time.Millisecond)
}

func TestNewClientValidates(t *testing.T) {
	for _, cfg := range []ClientConfig{{}, {BaseURL: "localhost:8000"}, {BaseURL: "http://x", Endpoint: "/v1/embeddings"}, {BaseURL: "http://x", MaxConns: -1}} {
		_, err := NewClient(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestParseChunkEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		data           string
		token, content bool
	}{
		{`{"choices":[{"delta":{"role":"assistant"}}]}`, false, false},
		{`{"choices":[{"delta":{"content":null,"tool_calls":[]}}]}`, false, false},
		{`{"choices":[{"delta":{"content":" "}}]}`, true, true},
		{`{"choices":[{"text":""}]}`, false, false},
		{`{"choices":[{"text":"a"}]}`, true, true},
		{`{"choices":[]}`, false, false},
		{`{"choices":null,"usage":null}`, false, false},
		{`{}`, false, false},
	} {
		ci, err := parseChunk([]byte(tc.data))
		require.NoError(t, err, tc.data)
		assert.Equal(t, tc.token, ci.token, tc.data)
		assert.Equal(t, tc.content, ci.content, tc.data)
	}
	_, err := parseChunk([]byte(`{"choices":[`))
	assert.Error(t, err)
}
