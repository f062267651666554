package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/recorder"
)

// The limits are checked in testing/synctest bubbles: time moves only when every goroutine waits, so a
// request that ends "at the stall timeout" ends exactly then, whatever the machine's load.

func TestStallAfterRoleOnlyChunkEndsAtStallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		t0 := write(t, w, chatChunk(`{"role":"assistant","content":""}`))
		r := <-ch
		assert.Equal(t, DefaultStallTimeout, time.Since(t0), "ends one stall limit after the role-only chunk")
		assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
		assert.ErrorIs(t, r.Err, ErrStallTimeout)
		assert.NotErrorIs(t, r.Err, ErrFirstTokenTimeout)
		assert.True(t, r.FirstToken.IsZero())
		assert.Equal(t, 200, r.HTTPStatus)
	})
}

func TestFirstTokenTimeoutWhileKeepalivesCome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		writer := make(chan struct{})
		go func() { // a keep-alive every 30 s (under the stall limit), never a token
			defer close(writer)
			if _, err := io.WriteString(w, chatChunk(`{"role":"assistant","content":""}`)); err != nil {
				return
			}
			for {
				time.Sleep(30 * time.Second)
				if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
					return
				}
			}
		}()
		r := <-ch
		assert.Equal(t, DefaultFirstTokenTimeout, time.Since(r.Start))
		<-writer // its next write fails: the request closed the stream
		assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
		assert.ErrorIs(t, r.Err, ErrFirstTokenTimeout)
		assert.NotErrorIs(t, r.Err, ErrStallTimeout)
	})
}

func TestStallAfterFirstToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{StallTimeout: 80 * time.Millisecond})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		write(t, w, chatChunk(`{"content":"a"}`))
		r := <-ch
		assert.Equal(t, 80*time.Millisecond, time.Since(r.FirstToken))
		assert.ErrorIs(t, r.Err, ErrStallTimeout)
		assert.ErrorContains(t, r.Err, "80ms without data")
		assert.Equal(t, 1, r.OutputTokens, "the token that came is counted")
	})
}

// silentHandler never answers: no headers, no body, until the client goes away.
var silentHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

func TestHeaderTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := NewClient(ClientConfig{BaseURL: "http://fake.invalid", Transport: testhttp.Transport{Handler: silentHandler}})
		require.NoError(t, err)
		r := c.Do(context.Background(), chat1, Params{Model: "m"})
		assert.Equal(t, DefaultHeaderTimeout, time.Since(r.Start))
		assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
		assert.ErrorIs(t, r.Err, ErrHeaderTimeout)
		assert.NotErrorIs(t, r.Err, ErrFirstTokenTimeout)
		assert.Equal(t, 0, r.HTTPStatus)
	})
	// A non-streaming answer's headers come with the whole answer: only the first-token limit applies.
	synctest.Test(t, func(t *testing.T) {
		c, err := NewClient(ClientConfig{BaseURL: "http://fake.invalid", Transport: testhttp.Transport{Handler: silentHandler},
			HeaderTimeout: time.Second, FirstTokenTimeout: 3 * time.Minute})
		require.NoError(t, err)
		r := c.Do(context.Background(), chat1, Params{Model: "m", NoStream: true})
		assert.Equal(t, 3*time.Minute, time.Since(r.Start))
		assert.ErrorIs(t, r.Err, ErrFirstTokenTimeout)
	})
}

func TestReadAfterDoneIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(w *io.PipeWriter) // what the server does once it sent [DONE]
	}{
		{"held open", func(*io.PipeWriter) {}},
		{"dribbling", func(w *io.PipeWriter) {
			for {
				time.Sleep(10 * time.Millisecond)
				if _, err := io.WriteString(w, ": x\n\n"); err != nil {
					return
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, pt := pipeClient(t, ClientConfig{})
				ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
				w := <-pt.streams
				write(t, w, aStream())
				tDone := time.Now()
				writer := make(chan struct{})
				go func() { tc.after(w); close(writer) }()
				r := <-ch
				assert.Equal(t, AfterEndTimeout, time.Since(tDone))
				<-writer
				require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
				assert.Equal(t, 3, r.OutputTokens)
			})
		})
	}
}

func TestTokensBeforeErrorEventKeepPartialCountAndCode(t *testing.T) {
	for _, tc := range []struct{ code, want string }{
		{`500`, "500"}, {`"context_length_exceeded"`, "context_length_exceeded"}, {`null`, ""},
	} {
		synctest.Test(t, func(t *testing.T) {
			c, pt := pipeClient(t, ClientConfig{})
			ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
			w := <-pt.streams
			write(t, w, chatChunk(`{"role":"assistant","content":""}`)+chatChunk(`{"content":"a"}`)+
				chatChunk(`{"content":"b"}`)+chatChunk(`{"content":"c"}`))
			write(t, w, `data: {"error": {"object": "error", "message": "CUDA out of memory", "type": "InternalServerError", "code": `+tc.code+`}}`+"\n\n")
			tErr := time.Now()
			r := <-ch // the server holds the stream open: the after-end limit closes it
			assert.Equal(t, AfterEndTimeout, time.Since(tErr))
			assert.Equal(t, recorder.OutcomeFailed, r.Outcome)
			var se *StreamError
			require.ErrorAs(t, r.Err, &se)
			assert.Equal(t, tc.want, se.Code)
			assert.Equal(t, "CUDA out of memory", se.Message)
			assert.False(t, se.Truncated)
			if tc.want != "" {
				assert.Contains(t, r.Err.Error(), "(code "+tc.want+")")
			}
			assert.Equal(t, 3, r.OutputTokens, "the partial output is kept")
			assert.True(t, r.OutputTokensEstimated)
			assert.Len(t, r.TokenTimes, 3)
			assert.False(t, r.FirstToken.IsZero())
		})
	}
}

func TestInvalidUsageIsNotOK(t *testing.T) {
	for _, tc := range []struct{ usage, why string }{
		{`{"prompt_tokens":5,"completion_tokens":-7}`, "completion_tokens -7 is negative"},
		{`{"prompt_tokens":-1,"completion_tokens":2}`, "prompt_tokens -1 is negative"},
		{`{"prompt_tokens":5,"completion_tokens":1e30}`, "completion_tokens 1e30 is not a whole number"},
		{`{"prompt_tokens":5,"completion_tokens":9223372036854775808}`, "not a whole number in int64"},
		{`{"prompt_tokens":5,"completion_tokens":2147483648}`, "completion_tokens 2147483648 is over 2147483647"},
		{`{"prompt_tokens":5,"completion_tokens":2.5}`, "not a whole number"},
	} {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		write(t, w, chatChunk(`{"content":"a"}`)+chatChunk(`{"content":"b"}`)+chatFinish("stop")+
			`data: {"object":"chat.completion.chunk","choices":[],"usage":`+tc.usage+"}\n\n"+done)
		w.Close()
		r := wait(t, ch)
		assert.Equal(t, recorder.OutcomeFailed, r.Outcome, tc.usage)
		assert.ErrorIs(t, r.Err, ErrInvalidUsage, tc.usage)
		assert.ErrorContains(t, r.Err, tc.why)
		assert.Equal(t, 2, r.OutputTokens, "the invalid count is never passed on: chunks counted")
		assert.True(t, r.OutputTokensEstimated)
		assert.Equal(t, 0, r.PromptTokens)
	}
	// The largest valid counts pass.
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	write(t, w, chatChunk(`{"content":"a"}`)+chatFinish("stop")+usageChunk(0, 1<<31-1)+done)
	w.Close()
	r := wait(t, ch)
	require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	assert.Equal(t, 1<<31-1, r.OutputTokens)
}

func TestServerTextIsCapped(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	c, pt := pipeClient(t, ClientConfig{})
	ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
	w := <-pt.streams
	write(t, w, chatChunk(`{"content":"a"}`)+chatFinish(long)+done)
	w.Close()
	r := wait(t, ch)
	require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
	assert.Equal(t, strings.Repeat("x", MaxFinishReason)+"…", r.FinishReason)

	for _, ev := range []string{
		`data: {"error": {"message": "` + long + `", "type": "` + long + `", "code": "` + long + `"}}` + "\n\n",
		`data: {"object": "error", "message": "` + long + `", "type": "` + long + `", "code": "` + long + `"}` + "\n\n",
		"event: error\ndata: " + long + "\n\n",
	} {
		ch = doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w = <-pt.streams
		write(t, w, ev)
		w.Close()
		r = wait(t, ch)
		var se *StreamError
		require.ErrorAs(t, r.Err, &se)
		assert.True(t, se.Truncated)
		assert.Equal(t, strings.Repeat("x", MaxErrorText)+"…", se.Message)
		assert.LessOrEqual(t, len(se.Raw), MaxErrorText+len("…"))
		assert.LessOrEqual(t, len(se.Type), MaxErrorField+len("…"))
		assert.LessOrEqual(t, len(se.Code), MaxErrorField+len("…"))
		assert.Less(t, len(r.Err.Error()), 2*MaxErrorText)
	}
}

// Twenty streams whose error events carry 12 MB each: what the records keep is capped, so the run's memory
// and files do not grow with what the server sends. (Under the race detector, 2 MB each: decoding 240 MB of
// JSON instrumented takes half a minute, and the bound is the same.)
func TestHugeErrorEventsKeepSmallRecords(t *testing.T) {
	const streams = 20
	size := 12 << 20
	if raceEnabled {
		size = 2 << 20
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before) // before the server's message exists: what is left at the end is the client's and the records'
	msg := strings.Repeat("E", size)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, chatChunk(`{"content":"a"}`))
		_, _ = io.WriteString(w, `data: {"error": {"message": "`+msg+`", "type": "InternalServerError", "code": 500}}`+"\n\n")
	})
	c, err := NewClient(ClientConfig{BaseURL: "http://fake.invalid", Transport: testhttp.Transport{Handler: h}})
	require.NoError(t, err)
	rec := recorder.New(time.Now(), recorder.Config{})
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			r := c.Do(context.Background(), Prompt{ID: fmt.Sprint(i), Text: "p"}, Params{Model: "m"})
			rec.RecordRequest(r)
		})
	}
	wg.Wait()
	msg = ""
	runtime.GC()
	runtime.ReadMemStats(&after)

	_, rows := rec.Cut()
	require.Len(t, rows, streams)
	kept := 0
	for _, row := range rows {
		assert.Equal(t, recorder.OutcomeFailed, row.Outcome)
		assert.Equal(t, 1, row.OutputTokens)
		assert.Contains(t, row.Error, "(code 500)")
		kept += len(row.Error) + len(row.FinishReason)
	}
	assert.Less(t, kept, streams*(MaxErrorText+200), "each row keeps a capped error text")
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, grown, int64(8<<20), "the heap keeps %d bytes after %d × %d-byte error events", grown, streams, size)
	t.Logf("%d × %d-byte error events: %d bytes of heap kept, %d bytes of error and finish-reason text in the rows", streams, size, grown, kept)
	runtime.KeepAlive(rec)
}

// Whichever limit is nearest ends the request, with its own reason.
func TestNearestLimitWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) { // the first-token limit before the header limit
		c, err := NewClient(ClientConfig{BaseURL: "http://fake.invalid", Transport: testhttp.Transport{Handler: silentHandler},
			HeaderTimeout: 10 * time.Minute, FirstTokenTimeout: 2 * time.Minute})
		require.NoError(t, err)
		r := c.Do(context.Background(), chat1, Params{Model: "m"})
		assert.Equal(t, 2*time.Minute, time.Since(r.Start))
		assert.ErrorIs(t, r.Err, ErrFirstTokenTimeout)
	})
	synctest.Test(t, func(t *testing.T) { // no stall limit: the first-token limit after the role-only chunk
		c, pt := pipeClient(t, ClientConfig{StallTimeout: -1, FirstTokenTimeout: 3 * time.Minute})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		write(t, w, chatChunk(`{"role":"assistant","content":""}`))
		r := <-ch
		assert.Equal(t, 3*time.Minute, time.Since(r.Start))
		assert.ErrorIs(t, r.Err, ErrFirstTokenTimeout)
	})
	synctest.Test(t, func(t *testing.T) { // bytes keep coming under the stall limit, but no token
		c, pt := pipeClient(t, ClientConfig{StallTimeout: 40 * time.Second, FirstTokenTimeout: 90 * time.Second})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		write(t, w, chatChunk(`{"role":"assistant","content":""}`))
		time.Sleep(30 * time.Second)
		write(t, w, ": ping\n\n")
		time.Sleep(30 * time.Second)
		write(t, w, ": ping\n\n") // at 60 s: the stall limit would be at 100 s, the first-token one is at 90 s
		r := <-ch
		assert.Equal(t, 90*time.Second, time.Since(r.Start))
		assert.ErrorIs(t, r.Err, ErrFirstTokenTimeout)
	})
	synctest.Test(t, func(t *testing.T) { // after the first token the first-token limit is gone
		c, pt := pipeClient(t, ClientConfig{StallTimeout: 40 * time.Second, FirstTokenTimeout: 50 * time.Second})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m"})
		w := <-pt.streams
		time.Sleep(30 * time.Second)
		write(t, w, chatChunk(`{"content":"a"}`))
		r := <-ch
		assert.Equal(t, 70*time.Second, time.Since(r.Start), "30 s to the token, then the 40 s stall limit")
		assert.ErrorIs(t, r.Err, ErrStallTimeout)
	})
}

func TestParseWhole(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "7": 7, "-7": -7, "9223372036854775807": 1<<63 - 1} {
		n, ok := parseWhole([]byte(in))
		assert.True(t, ok, in)
		assert.Equal(t, want, n, in)
	}
	for _, in := range []string{"", "-", "9223372036854775808", "1e3", "2.5", `"3"`, "12345678901234567890", "null"} {
		_, ok := parseWhole([]byte(in))
		assert.False(t, ok, in)
	}
}
