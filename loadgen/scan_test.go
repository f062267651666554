package loadgen

import (
	"bytes"
	"reflect"
	"testing"
)

// checkScanAgrees fails t when scanChunk reads data (ok) differently from encoding/json (decodeChunk).
func checkScanAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	got, ok := scanChunk(data)
	if !ok {
		return false
	}
	want, err := decodeChunk(data)
	if err != nil {
		t.Fatalf("scanChunk read %q, encoding/json refused it: %v", data, err)
	}
	if got.token != want.token || got.content != want.content || got.finish != want.finish || want.err != nil ||
		got.hasUsage != want.hasUsage || !reflect.DeepEqual(got.usage, want.usage) {
		t.Fatalf("scanChunk read %q as %+v (usage %+v), encoding/json as %+v (usage %+v)", data, got, got.usage, want, want.usage)
	}
	return true
}

// scanCases are chunks as servers send them, and the odd ones scanChunk must leave to encoding/json or
// read exactly as it does.
var scanCases = []struct {
	data string
	fast bool // scanChunk reads it itself
}{
	{`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`, true},
	{`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`, true},
	{`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" steady"},"logprobs":null,"finish_reason":"length","stop_reason":null}],"usage":{"prompt_tokens":7,"total_tokens":9,"completion_tokens":2,"prompt_tokens_details":null}}`, true},
	{`{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"completion_tokens_details":{"reasoning_tokens":2}}}`, true},
	{`{"choices":[{"delta":{"reasoning_content":"hm","content":null}}]}`, true},
	{`{"choices":[{"delta":{"reasoning":"\u00e9\n\"x\""}}]}`, true},
	{`{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}]}`, true},
	{`{"choices":[{"delta":{"tool_calls":[],"function_call":{}}}]}`, true},
	{`{"choices":[{"message":{"content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}`, true},
	{` { "choices" : [ { "text" : "\\" , "finish_reason" : null } ] , "x" : [1, -2.5e+3, true, false, null, {"a": []}] } `, true},
	{`{"choices":null,"usage":{}}`, true},
	{`{"choices":[{"text":"x"}],"usage":{"completion_tokens":-7,"prompt_tokens":null,"completion_tokens_details":null}}`, true},
	{`{}`, true},
	// Left to encoding/json:
	{`{"error":{"message":"boom","type":"InternalServerError","code":500}}`, false},
	{`{"object":"error","message":"old style","type":"BadRequestError"}`, false},
	{`{"Choices":[{"text":"x"}]}`, false},
	{`{"choices":[{"TEXT":"x"}]}`, false},
	{`{"choices":[{"text":"x","text":""}]}`, false},
	{`{"choices":[{"text":5}]}`, false},
	{`{"choices":[null]}`, false},
	{`{"choices":[{"finish_reason":"st\u006fp"}]}`, false},
	{`{"choices":[{"text":"x"}],"usage":{"completion_tokens":1e400}}`, false},
	{`{"choices":[{"text":"x"}],"usage":{"completion_tokens":3.0}}`, false},
	{`{"choices":[{"text":"x"}]} x`, false},
	{`{"choices":[{"text":"x\q"}]}`, false},
	{`{"choices":[{"text":"x"}],}`, false},
	{`{"a":01}`, false},
	{`null`, false},
	{`[]`, false},
	{`{"choices":[{"text":"cut`, false},
	{"{\"choices\":[{\"text\":\"a\x01\"}]}", false},
	{`{"\u0063hoices":[{"text":"x"}]}`, false},
	{`{"a":` + string(bytes.Repeat([]byte("["), 300)) + string(bytes.Repeat([]byte("]"), 300)) + `}`, false},
}

// scanChunk reads the chunks vLLM sends itself, and every chunk it reads it reads as encoding/json does.
func TestScanChunkAgrees(t *testing.T) {
	for _, c := range scanCases {
		if fast := checkScanAgrees(t, []byte(c.data)); fast != c.fast {
			t.Errorf("scanChunk read %q itself: %v, want %v", c.data, fast, c.fast)
		}
	}
}

// FuzzScanChunk: for any bytes, scanChunk either leaves them to encoding/json or reads them as it does.
func FuzzScanChunk(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkScanAgrees(t, data) })
}
