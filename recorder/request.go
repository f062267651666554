package recorder

import (
	"time"
)

// Outcome classifies how a request ended. Only OutcomeOK requests enter latency statistics; the others are
// counted apart, never averaged in as zero.
type Outcome string

// Outcomes, as DESIGN.md's measurement-integrity rules separate them.
const (
	// OutcomeOK: the request produced at least one token and finished ([DONE] or a finish reason).
	OutcomeOK Outcome = "ok"
	// OutcomeFailed: a transport error, an HTTP error status other than a rejection, or an error event in the stream.
	OutcomeFailed Outcome = "failed"
	// OutcomeIncomplete: the stream ended without [DONE] and without a finish reason, or produced no token.
	OutcomeIncomplete Outcome = "incomplete"
	// OutcomeRejected: the server refused the request for load (HTTP 429 or 503).
	OutcomeRejected Outcome = "rejected"
	// OutcomeCanceled: the caller's context ended the run while the request was in flight, so the client
	// cancelled it; not the server's failure, so error_rate leaves it out (see Counts.ErrorRate).
	OutcomeCanceled Outcome = "canceled"
)

// Request is one timed LLM request, as a test's own client or vmtest's loadgen reports it through
// Collector.RecordRequest. Times must come from time.Now() so that they carry Go's monotonic clock reading;
// durations are computed from them with Sub, never from wall-clock differences.
type Request struct {
	// ID is an optional caller-chosen identifier, copied into the requests CSV.
	ID string
	// Start is when the request was sent (actual send time). Required.
	Start time.Time
	// IntendedStart is when an open-loop schedule meant to send it; zero in closed loop. When set, latencies
	// are also reported from it, so a generator that falls behind cannot hide queueing (coordinated omission).
	IntendedStart time.Time
	// FirstToken is when the first chunk carrying a generated token arrived in any channel (content,
	// reasoning_content, reasoning, tool_calls, completions text); a role-only or empty chunk is not a token.
	// Zero when no token arrived.
	FirstToken time.Time
	// FirstContent is when the first chunk carrying visible content (not reasoning) arrived; zero if none.
	FirstContent time.Time
	// End is when the last token-bearing chunk arrived (E2E latency = End − Start). Required for OutcomeOK.
	End time.Time
	// TokenTimes optionally holds the arrival time of every token-bearing chunk, in order; ITL is computed from
	// the gaps between consecutive entries (vLLM bench serve's per-chunk ITL), or per token with TokenCounts.
	TokenTimes []time.Time
	// TokenCounts optionally holds, parallel to TokenTimes, how many output tokens each token-bearing chunk
	// carried (from usage.completion_tokens on every chunk, vLLM's stream_options.continuous_usage_stats).
	// When it has TokenTimes' length and every count is at least 1, ITL is per token (ITLPerToken: a chunk
	// of k tokens contributes k gaps, so coalesced chunks and speculative decoding do not hide per-token
	// latency); otherwise it is ignored and ITL is per chunk.
	TokenCounts []int
	// PromptTokens is usage.prompt_tokens (0 when unknown).
	PromptTokens int
	// OutputTokens is usage.completion_tokens from the last chunk carrying usage; else the count of
	// token-bearing chunks with OutputTokensEstimated set.
	OutputTokens int
	// OutputTokensEstimated is true when OutputTokens was counted from chunks rather than read from usage.
	OutputTokensEstimated bool
	// ReasoningTokens is usage.completion_tokens_details.reasoning_tokens, the output tokens a reasoning
	// model spent thinking (part of OutputTokens); 0 when the server does not say.
	ReasoningTokens int
	// RequestedOutputTokens is the max_tokens the request asked for (0 when not set).
	RequestedOutputTokens int
	// IgnoreEOS is true when the request asked the server to ignore the end-of-sequence token ("ignore_eos",
	// vLLM), so that its output should be exactly RequestedOutputTokens long.
	IgnoreEOS bool
	// FinishReason is the last finish_reason the server sent ("stop", "length", ...).
	FinishReason string
	// HTTPStatus is the response status code (0 when no response arrived).
	HTTPStatus int
	// Responded is when a response's status line and headers arrived; loadgen sets it for a non-2xx
	// response. For a rejected request, Responded − Start is its time to rejection (Record.TimeToRejectMS).
	// Zero when unknown.
	Responded time.Time
	// SlotWait is how long the request waited for a concurrency slot before Start (load driver only); it is
	// part of Start − IntendedStart.
	SlotWait time.Duration
	// Outcome classifies the request; when empty it is derived: Err != nil → failed, else ok.
	Outcome Outcome
	// Err is why the request failed; nil for a success.
	Err error
	// Model is the "model" the request named ("" when it named none); requests with one are also summarized
	// per model (Summary.ByModel).
	Model string
	// Turn is the 1-based index of the request's user turn in a multi-turn session (0: not part of one);
	// requests with one are also summarized per turn (Summary.ByTurn).
	Turn int
}

// Sink receives timed requests. *vmtest.Collector implements it; loadgen writes to it. RecordRequest must be
// safe for concurrent use.
type Sink interface {
	RecordRequest(Request)
}

// WarmupSink is a Sink that is also told of warm-up requests: those a load generator sends before its
// measured phase, which reach the server like any other. *vmtest.Collector implements it; loadgen.Run
// reports each warm-up request to a Sink that does (RecordWarmup) and never through RecordRequest.
// RecordWarmup must be safe for concurrent use.
type WarmupSink interface {
	Sink
	RecordWarmup(Request)
}

// EffectiveOutcome returns r.Outcome, or the outcome derived from r when it is empty: Err != nil → failed,
// no first token → incomplete, else ok.
func (r *Request) EffectiveOutcome() Outcome {
	if r.Outcome != "" {
		return r.Outcome
	}
	if r.Err != nil {
		return OutcomeFailed
	}
	if r.FirstToken.IsZero() || r.End.IsZero() {
		return OutcomeIncomplete
	}
	return OutcomeOK
}
