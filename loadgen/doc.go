// Package loadgen is vmtest's load generator for OpenAI-compatible LLM servers (vLLM and the like): a streaming
// client that times each request into a recorder.Request, and a load driver that sends requests in a closed
// loop (N concurrent workers) or an open loop (a request rate with Poisson or gamma arrivals, as vLLM's
// `bench serve` draws them).
//
// # What is measured, and when
//
// The client takes Start from time.Now() right before the request is handed to the HTTP transport (as vLLM's
// `bench serve` starts its clock before posting), and the arrival time of every server-sent event from
// time.Now() right after the read of the response body that delivered the event's last byte, before any
// parsing (events that arrive in one read share its time, as AIPerf stamps each received chunk).
// All times carry Go's monotonic clock reading, so durations computed from them with Sub are immune to
// wall-clock steps. The definitions follow DESIGN.md:
//
//   - FirstToken (TTFT = FirstToken − Start): the first chunk carrying a generated token in any channel
//     (chat delta content, reasoning_content, reasoning, tool_calls; completions text). A role-only chunk, a
//     chunk with empty strings, a usage-only chunk and a finish-only chunk carry no token.
//   - FirstContent: the first chunk carrying visible content (delta content or completions text); the
//     recorder's TTFOT (time to first output token) is FirstContent − Start.
//   - ReasoningTokens: usage.completion_tokens_details.reasoning_tokens, when the server sends it.
//   - TokenTimes: the arrival time of every token-bearing chunk (vLLM `bench serve` computes ITL per chunk
//     from these gaps; AIPerf calls the same gaps inter-chunk latency).
//   - End (E2E = End − Start): the arrival of the last token-bearing chunk, as vLLM `bench serve` takes its
//     most recent timestamp.
//   - OutputTokens: usage.completion_tokens from the last chunk carrying usage (the client always asks for
//     stream_options.include_usage); never summed over chunks. Without usage, the count of token-bearing
//     chunks, with OutputTokensEstimated set.
//
// # Outcomes
//
// A request is recorder.OutcomeOK only if it produced at least one token and finished ([DONE] or a finish
// reason). HTTP 429 and 503 are recorder.OutcomeRejected; other HTTP errors, connection errors, the client's
// timeouts and an {"error": ...} event inside a 200 stream are recorder.OutcomeFailed; a stream that ends
// without [DONE] and without a finish reason, a stream that finished without any token, and a request
// cancelled by its caller's context are recorder.OutcomeIncomplete, except that Run records a request it
// cancelled because its own caller's context ended the run as recorder.OutcomeCanceled (Err still wraps
// ErrCanceled); one still in flight LoadConfig.DrainTimeout after sending stopped is cut, incomplete, its Err
// wrapping ErrCutAtEnd too. Err always says why.
//
// # Workloads
//
// Synthetic.Generate makes prompts whose lengths in tokens come from a distribution (Lengths), fitted to the
// server's own count with its POST /tokenize (ServerTokenizer), optionally as shared prefixes × suffixes;
// their max_tokens come from another distribution, with ignore_eos on by default. Without the endpoint the
// lengths are word counts and Workload.Exact is false.
//
// # Measurement integrity
//
// The client owns its http.Transport, sized to the run's concurrency; it never sets http.Client.Timeout on a
// stream (which would cut long generations) but applies three separate limits, each reported as its own
// error: ErrConnectTimeout, ErrFirstTokenTimeout and ErrStallTimeout. Response bodies are read to the end
// before they are closed so connections are reused. Run reports the client process's own CPU time and Go
// scheduler latency beside its counts, so a report can say whether the client was the bottleneck.
//
// SSE framing is parsed by the package's own reader (sse.go), which reads what github.com/tmaxmax/go-sse reads
// (LF, CR and CRLF line ends, `data:` with or without a space, comments, multi-line data, a maximum event
// size; proven by FuzzSSEReader against it) without allocating per event; a chunk's fields are read by a
// hand-written scanner (scan.go) that leaves anything unusual to encoding/json (FuzzScanChunk).
package loadgen
