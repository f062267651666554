// Package vllmsim is an in-process simulator of vLLM's OpenAI-compatible
// server, for hermetic performance tests of vmtest and of any client that
// speaks vLLM's API. It is started like httptest:
//
//	s := vllmsim.New(t, vllmsim.Config{TTFTBase: 50 * time.Millisecond, TimePerOutputToken: 10 * time.Millisecond})
//	resp, err := http.Post(s.URL+"/v1/completions", "application/json", body)
//
// Outside a test, NewServer returns the server or an error; ExampleNewServer (example_test.go, shown by `go
// doc -http`) runs one and prints a completion.
//
// # Endpoints
//
//   - GET /health: 200, empty body.
//   - GET /v1/models: {"object":"list","data":[{"id":Model,"object":"model","owned_by":"vllm","max_model_len":...}]}.
//   - POST /v1/completions and POST /v1/chat/completions, streaming ("stream": true) or not.
//   - POST /tokenize: vLLM's tokenizer endpoint. The body has "prompt" (a string or token ids) or
//     "messages" (and optionally "model", "add_special_tokens", "add_generation_prompt", which change
//     nothing here, and "return_token_strs"); the answer is {"count", "max_model_len", "tokens"} and, when
//     asked, "token_strs". "count" is the usage.prompt_tokens a generation request with the same prompt or
//     messages gets.
//   - GET /metrics: Prometheus text format from the simulator's own registry
//     (see Metrics below).
//
// # Wire format (as vLLM writes it)
//
// Streaming responses are Server-Sent Events with Content-Type
// "text/event-stream; charset=utf-8": each event is one line
// `data: <JSON>` followed by a blank line, and the stream ends with
// `data: [DONE]`. Every chunk of one response carries the same "id"
// ("cmpl-" or "chatcmpl-" and 32 hex digits), "object" ("text_completion" or
// "chat.completion.chunk"), "created" (unix seconds) and "model". Each
// output token is one chunk with one choice (index 0): completions put it in
// "text", chat in "delta"."content" (or, for the first Config.ReasoningTokens
// tokens, in "delta"."reasoning_content" / "reasoning"). "finish_reason" is
// null on every chunk but the last token's, which says "length" and also
// carries "stop_reason": null. A chat stream starts with a role-only chunk,
// delta {"role":"assistant","content":""}, which carries no token; as vLLM
// does, the simulator writes it together with the first token (the fault
// Config.EarlyRoleChunk sends it at admission instead, so a client that
// wrongly counts it as the first token measures a TTFT of ~0 and is caught).
// With "stream_options": {"include_usage": true}, a last chunk before [DONE]
// has "choices": [] and "usage": {"prompt_tokens", "total_tokens",
// "completion_tokens", "prompt_tokens_details": null, and for chat with
// Config.ReasoningTokens "completion_tokens_details": {"reasoning_tokens"}};
// without it no chunk carries usage. With "continuous_usage_stats": true
// beside include_usage, every chunk also carries "usage" with the
// completion tokens sent so far (0 on the role chunk). With Config.TokensPerChunk
// above 1 a chunk carries up to that many tokens in one text (the first token
// alone; a group ends at the reasoning/content boundary and before a fault),
// sent when its last token is due.
//
// With "n" > 1 every choice has its own text (choice 0's is what n=1 sends):
// a stream sends, at each step, one chunk per choice in index order, each
// carrying its "index" (a chat stream starts with one role chunk per
// choice); usage counts the tokens of every choice, and the KV cache holds
// prompt + n × max_tokens. Non-streaming responses ("object" "text_completion" or
// "chat.completion") always carry usage and arrive when the last token is due.
//
// Errors are HTTP 4xx/5xx with Content-Type application/json and an OpenAI
// body {"error": {"message", "type", "param", "code"}}: 400 for bad JSON, a
// missing "prompt"/"messages", max_tokens < 1, min_tokens outside
// [0, max_tokens], n outside 1..MaxN, stream_options without stream, or prompt+max_tokens above MaxModelLen or KVCacheTokens; 404 for a
// "model" other than Config.Model; 405 for a wrong method; 429/500 when
// injected. A mid-stream failure (Config.StreamError) is the event
// `data: {"error": {...,"code":500}}` followed by `data: [DONE]`, with no
// finish_reason; a truncated stream (Config.Truncate, or Close) ends the
// connection without finish_reason or [DONE], so the client's read fails; a
// stalled stream (Config.Stall) sends its first bytes and then nothing until
// the client goes away.
//
// # Tokens
//
// Prompt tokens are whitespace-separated words: a completions prompt of
// "a b c" is 3 tokens; a prompt of token ids counts one per id. A chat
// prompt is the words of every message's content (string or text parts)
// plus ChatTokensPerMessage per message. Output is max_tokens tokens (or
// Config.DefaultMaxTokens), each a word with a leading space, chosen from a
// fixed vocabulary by a hash of Seed, the prompt and the position; the
// finish reason is "length". With Config.EOSAfterTokens the model "emits EOS":
// a request stops after max(EOSAfterTokens, "min_tokens") tokens with
// finish reason "stop" when that is below its max_tokens, unless it sends
// "ignore_eos": true. "min_tokens" above max_tokens is a 400.
//
// # Prefix cache
//
// Unless Config.NoPrefixCaching, prompts are cached in blocks of 16 tokens, as
// vLLM's automatic prefix caching does: a request reuses the leading whole
// blocks another request computed (at most prompt_tokens-1 tokens), pays
// TTFTPerPromptToken only for the rest, and counts its prompt tokens in
// vllm:prefix_cache_queries_total and the reused ones in
// vllm:prefix_cache_hits_total.
//
// # Timing
//
// A request waits in a FIFO queue until fewer than MaxNumSeqs are running and
// its prompt+max_tokens fits in the free KV cache; then its token k (0-based)
// is due at admission + TTFTBase + prompt_tokens*TTFTPerPromptToken +
// k*TimePerOutputToken (each term scaled by Jitter), on that absolute
// schedule. Waits use a Go timer up to 2 ms before the due time and a kernel
// nanosleep for the rest, so on Linux tokens leave within ~0.1 ms of their
// due time. A chunk is flushed to the socket before each wait; chunks that
// are already due (all of them when the latencies are zero) are written
// back to back and flushed once, as a busy server's socket would coalesce
// them. With all latencies zero nothing sleeps and the per-token path does
// not allocate. A client disconnect ends the request and frees its slot.
//
// # Metrics
//
// /metrics serves vLLM V1 names with labels model_name=Config.Model and
// engine="0" and vLLM's default buckets: gauges vllm:num_requests_running,
// vllm:num_requests_waiting, vllm:kv_cache_usage_perc (0..1); counters
// vllm:prompt_tokens_total, vllm:generation_tokens_total,
// vllm:num_preemptions_total (always 0), vllm:prefix_cache_queries_total,
// vllm:prefix_cache_hits_total and
// vllm:request_success_total{finished_reason} (stop, length, abort, error,
// repetition); histograms vllm:time_to_first_token_seconds (from arrival, so
// queue time included, as vLLM), vllm:inter_token_latency_seconds,
// vllm:e2e_request_latency_seconds, vllm:request_queue_time_seconds,
// vllm:request_inference_time_seconds, vllm:request_prefill_time_seconds,
// vllm:request_decode_time_seconds,
// vllm:request_time_per_output_token_seconds, vllm:request_prompt_tokens,
// vllm:request_generation_tokens and vllm:request_params_max_tokens; and the
// process_* families, process_start_time_seconds included. Observations are
// the measured times of the simulated events. Requests rejected with an
// injected 429 or 500 never reach the engine and appear in no metric; a
// client disconnect or truncation counts as finished_reason="abort", an
// injected stream error as "error".
//
// # Determinism
//
// Given Config.Seed, ids, output text, jitter and fault choices depend only
// on the request's number (1, 2, ... in order of arrival) and its prompt, so
// requests sent one at a time get the same bytes on every run, except
// "created".
package vllmsim
