package vllmsim

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	s := New(t, Config{ReasoningTokens: 2})
	for _, b := range []string{
		`{"model":"vmtest-sim","prompt":"hello world","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"messages":[{"role":"user","content":"hello world"}],"max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`,
	} {
		path := "/v1/completions"
		if strings.Contains(b, "messages") {
			path = "/v1/chat/completions"
		}
		resp, err := http.Post(s.URL+path, "application/json", strings.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		t.Logf("%d %s\n%s", resp.StatusCode, resp.Header, out)
		b = strings.Replace(strings.Replace(b, `"stream":true,"stream_options":{"include_usage":true}`, `"stream":false`, 1), "x", "", 0)
		resp, err = http.Post(s.URL+path, "application/json", strings.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, _ = io.ReadAll(resp.Body)
		t.Logf("%d\n%s", resp.StatusCode, out)
	}
	resp, _ := http.Get(s.URL + "/metrics")
	out, _ := io.ReadAll(resp.Body)
	t.Logf("%s", out)
	resp, _ = http.Get(s.URL + "/v1/models")
	out, _ = io.ReadAll(resp.Body)
	t.Logf("%s", out)
}
