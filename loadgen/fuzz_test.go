package loadgen

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/vmtest/vmtest/recorder"
)

// bodyTransport answers every request with 200 and the given body and Content-Type, from memory.
type bodyTransport struct {
	body  []byte
	ctype string
}

func (b bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {b.ctype}},
		Body: io.NopCloser(bytes.NewReader(b.body)), Request: req}, nil
}

// FuzzStream: whatever bytes a server sends as a 200 response body (as an SSE stream, or as a JSON body when
// asJSON), Client.Do returns (in a synctest bubble: no real waiting, and a request that waited on nothing
// would be a deadlock the bubble reports) with a record that keeps the client's rules: an outcome of ok,
// failed or incomplete, an error exactly when it is not ok, no negative token count, one token time per
// token-bearing event and no more than the body has events, the output count estimated from those token
// times when the server sent no usage, and the first token, first content and end in order. Seeds: streams
// as vLLM and llm-d-inference-sim send them, and the malformed ones client_test.go tries.
func FuzzStream(f *testing.F) {
	chat := `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n" +
		`data: {"choices":[{"delta":{"content":"Hi"}}]}` + "\n\n" +
		`data: {"choices":[{"delta":{"reasoning_content":"hm"}}]}` + "\n\n" +
		`data: {"choices":[{"delta":{"tool_calls":[{"index":0}]},"finish_reason":"tool_calls"}]}` + "\n\n" +
		`data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3}}` + "\n\n" + "data: [DONE]\n\n"
	for _, s := range []string{
		chat,
		`data: {"object":"text_completion","choices":[{"text":"a"}]}` + "\n\n" + `data: {"choices":[{"text":"b","finish_reason":"length"}]}` + "\n\n",
		": keep-alive\n\nevent: ping\ndata: {}\n\ndata:\n\ndata: {\"choices\":[{\"text\":\"x\"}]}\r\n\r\ndata: [DONE]\n\n",
		`data: {"choices":[{"text":"x"}]}` + "\n\n" + `data: {"error":{"message":"boom","type":"InternalServerError","code":500}}` + "\n\n",
		`data: {"object":"error","message":"old style","type":"BadRequestError"}` + "\n\n",
		"event: error\ndata: plain text failure\n\n",
		`data: {"choices":[{"text":"x"}],"usage":{"prompt_tokens":-3,"completion_tokens":-7}}` + "\n\ndata: [DONE]\n\n",
		`data: {"choices":[{"text":"x"}],"usage":{"completion_tokens":1e400}}` + "\n\ndata: [DONE]\n\n",
		`data: {"choices":[{"text":"x"}]}` + "\n\ndata: not json\n\n",
		`data: {"choices":[{"text":"cut`,
		"data: [DONE]\n\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{"choices":[{"message":{"content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}`), true)
	f.Add([]byte(`{"error":{"message":"bad"}}`), true)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ctype := "text/event-stream"
		if asJSON {
			ctype = "application/json"
		}
		c, err := NewClient(ClientConfig{BaseURL: "http://sim.invalid", Transport: bodyTransport{body, ctype}, MaxEventSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		var rec recorder.Request
		synctest.Test(t, func(t *testing.T) {
			rec = c.Do(context.Background(), Prompt{Text: "p"}, Params{Model: "m", MaxTokens: 4})
		})
		checkStreamRecord(t, rec, body, asJSON)
		// Every chunk the hand-written scanner reads, it reads as encoding/json does.
		checkScanAgrees(t, body)
		for _, line := range bytes.Split(body, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				checkScanAgrees(t, bytes.TrimSpace(d))
			}
		}
	})
}

// checkStreamRecord fails t unless rec, the record of a 200 response with body, keeps the rules FuzzStream
// lists.
func checkStreamRecord(t *testing.T, rec recorder.Request, body []byte, asJSON bool) {
	t.Helper()
	switch rec.Outcome {
	case recorder.OutcomeOK:
		if rec.Err != nil {
			t.Fatalf("ok with an error: %v", rec.Err)
		}
		if rec.FirstToken.IsZero() {
			t.Fatal("ok without a first token")
		}
	case recorder.OutcomeFailed, recorder.OutcomeIncomplete:
		if rec.Err == nil {
			t.Fatalf("%s without an error", rec.Outcome)
		}
	default:
		t.Fatalf("outcome %q for a 200 response", rec.Outcome)
	}
	if rec.HTTPStatus != 200 {
		t.Fatalf("HTTPStatus %d", rec.HTTPStatus)
	}
	if rec.OutputTokens < 0 || rec.PromptTokens < 0 {
		t.Fatalf("negative token count: output %d, prompt %d (%s, %v)", rec.OutputTokens, rec.PromptTokens, rec.Outcome, rec.Err)
	}
	events := bytes.Count(body, []byte("data")) // every event with data has a data field
	if asJSON {
		events = min(1, len(body))
	}
	if len(rec.TokenTimes) > events {
		t.Fatalf("%d token times from a body with %d data fields", len(rec.TokenTimes), events)
	}
	if rec.OutputTokensEstimated && !asJSON && rec.OutputTokens != len(rec.TokenTimes) {
		t.Fatalf("estimated %d output tokens from %d token times", rec.OutputTokens, len(rec.TokenTimes))
	}
	if (len(rec.TokenTimes) == 0) != rec.FirstToken.IsZero() && !asJSON {
		t.Fatalf("%d token times, first token %v", len(rec.TokenTimes), rec.FirstToken)
	}
	if !rec.FirstToken.IsZero() && (rec.FirstToken.Before(rec.Start) || rec.End.Before(rec.FirstToken)) {
		t.Fatalf("start %v, first token %v, end %v out of order", rec.Start, rec.FirstToken, rec.End)
	}
	if !rec.FirstContent.IsZero() && rec.FirstContent.Before(rec.FirstToken) {
		t.Fatalf("first content %v before first token %v", rec.FirstContent, rec.FirstToken)
	}
}

// A usage object with negative counts (FuzzStream's first find, in its seeds) fails the request and reaches
// no figure: the output count is the number of token-bearing events, estimated, and the prompt count 0.
func TestNegativeUsageFails(t *testing.T) {
	body := `data: {"choices":[{"text":"a"}]}` + "\n\n" + `data: {"choices":[{"text":"b"}],"usage":{"prompt_tokens":-3,"completion_tokens":-7}}` +
		"\n\ndata: [DONE]\n\n"
	c, err := NewClient(ClientConfig{BaseURL: "http://sim.invalid", Transport: bodyTransport{[]byte(body), "text/event-stream"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := c.Do(context.Background(), Prompt{Text: "p"}, Params{Model: "m"})
	if rec.Outcome != recorder.OutcomeFailed || rec.Err == nil || !strings.Contains(rec.Err.Error(), "usage") {
		t.Fatalf("outcome %s, err %v; want failed naming the usage", rec.Outcome, rec.Err)
	}
	if rec.OutputTokens != 2 || !rec.OutputTokensEstimated || rec.PromptTokens != 0 {
		t.Fatalf("output %d (estimated %v), prompt %d; want 2 estimated, 0", rec.OutputTokens, rec.OutputTokensEstimated, rec.PromptTokens)
	}
}
