package loadgen

import "testing"

// BenchmarkScanChunk: scanChunk alone on chunks as vLLM frames them (one op is one chunk): a completions token,
// a chat token, and a chat token carrying usage (continuous_usage_stats). scanChunk must read each itself.
func BenchmarkScanChunk(b *testing.B) {
	for _, c := range []struct{ name, data string }{
		{"completions", `{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`},
		{"chat", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" steady"},"logprobs":null,"finish_reason":null}]}`},
		{"chat-usage", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" steady"},"logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":{"prompt_tokens":7,"total_tokens":9,"completion_tokens":2,"prompt_tokens_details":null}}`},
	} {
		data := []byte(c.data)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if ci, ok := scanChunk(data); !ok || !ci.token {
					b.Fatalf("scanChunk left %s to encoding/json or found no token", data)
				}
			}
		})
	}
}
