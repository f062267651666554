package vllmsim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by NewServer to zero-valued Config fields.
const (
	// DefaultModel is the served model name when Config.Model is empty.
	DefaultModel = "vmtest-sim"
	// DefaultMaxNumSeqs mirrors vLLM's --max-num-seqs default (256 running sequences).
	DefaultMaxNumSeqs = 256
	// DefaultKVCacheTokens is the simulated KV-cache capacity in tokens.
	DefaultKVCacheTokens = 524288
	// DefaultMaxModelLen is the simulated context window in tokens (vLLM --max-model-len).
	DefaultMaxModelLen = 8192
	// DefaultMaxTokens is the output length when a request gives no max_tokens
	// (the OpenAI completions default).
	DefaultMaxTokens = 16
	// DefaultReasoningField is the delta/message field that carries reasoning
	// tokens, as vLLM's reasoning parsers emit it (newer vLLM also uses "reasoning").
	DefaultReasoningField = "reasoning_content"
	// MaxN is the most choices ("n") one request may ask for.
	MaxN = 16
	// ChatTokensPerMessage is the prompt-token overhead counted for each chat
	// message, standing in for the role markers a chat template adds.
	ChatTokensPerMessage = 4
)

// Config sets the simulated server's model, latency model, capacity and
// faults. The zero value is valid: every zero field takes the default named
// in its comment, and every latency is zero.
//
// Determinism: everything random (request ids, output text, jitter, which
// requests get a fault) is a pure function of Seed, the request's number
// (1, 2, ... in order of arrival of valid completion requests) and, for the
// text, the prompt. A client that sends its requests one after another gets
// byte-identical bodies (except "created", a wall-clock second) on every run.
type Config struct {
	// Addr is the listen address, host:port. Default "127.0.0.1:0" (a random
	// free port on loopback, as httptest does).
	Addr string

	// Model is the served model name: the only entry of /v1/models, the
	// "model" field of every response, and the model_name label of every
	// vllm:* metric. Default DefaultModel ("vmtest-sim"). A request naming
	// another model gets 404, as vLLM answers; a request without "model" is
	// served.
	Model string

	// LoRAModules are further model names served as LoRA adapters of Model, as vLLM's --lora-modules
	// serves them: each is listed in /v1/models (root itself, parent Model), accepted as a request's
	// "model" and echoed in its response's "model" field. They share Model's engine and latency model;
	// their requests enter the vllm:* metrics under model_name Model, as vLLM labels an adapter's
	// requests with the base model's name. Names must be distinct, non-empty and not Model.
	LoRAModules []string

	// APIKey, when set, is required on every /v1 route as "Authorization:
	// Bearer <APIKey>", as vLLM's --api-key does; a request without it gets
	// 401 and enters no metric. /health and /metrics stay open.
	APIKey string

	// MetricsUsername and MetricsPassword, when MetricsUsername is set, are
	// required as basic auth on /metrics, as an authenticating proxy in
	// front of the server would; a scrape without them gets 401.
	MetricsUsername, MetricsPassword string

	// Seed makes ids, output text, jitter and probabilistic faults
	// reproducible. Default 0 (itself a valid seed).
	Seed uint64

	// TTFTBase is the fixed part of the time to first token, measured from
	// the moment the request leaves the waiting queue (queue wait is added
	// on top, as in vLLM's TTFT, which starts at arrival). Default 0.
	TTFTBase time.Duration

	// TTFTPerPromptToken is the prefill cost per prompt token, added to
	// TTFTBase. Default 0.
	TTFTPerPromptToken time.Duration

	// TimePerOutputToken is the fixed decode time of each output token after
	// the first (TPOT/ITL). Token k (0-based) is due at
	// admission + TTFT + k*TimePerOutputToken on an absolute schedule, so
	// wake-up errors do not accumulate. Default 0.
	TimePerOutputToken time.Duration

	// Jitter scales each TTFT and each per-token interval by a factor drawn
	// uniformly from [1-Jitter, 1+Jitter), deterministic from Seed. A
	// fraction in [0, 1). Default 0 (exact timings).
	Jitter float64

	// MaxNumSeqs is the most requests generating at once (vLLM
	// --max-num-seqs); later requests wait in a FIFO queue and are counted
	// in vllm:num_requests_waiting. Default DefaultMaxNumSeqs (256).
	MaxNumSeqs int

	// KVCacheTokens is the KV-cache capacity in tokens. A request is admitted
	// only when prompt+max_tokens fits beside the requests already running
	// (so there is never a preemption); vllm:kv_cache_usage_perc reports the
	// tokens actually in flight (prompt + generated so far, over running
	// requests) divided by this capacity. Default DefaultKVCacheTokens.
	KVCacheTokens int

	// MaxModelLen is the context window in tokens: a request with
	// prompt+max_tokens above it gets 400, as vLLM answers. It also bounds
	// the 1-2-5 buckets of the token-count histograms, as vLLM's
	// build_1_2_5_buckets(max_model_len) does. Default DefaultMaxModelLen (8192).
	MaxModelLen int

	// DefaultMaxTokens is the number of output tokens when the request gives
	// neither max_tokens nor max_completion_tokens. Default DefaultMaxTokens (16).
	DefaultMaxTokens int

	// EOSAfterTokens, when > 0, is where the model emits its end-of-sequence token: a request without
	// "ignore_eos": true stops after max(EOSAfterTokens, min_tokens) tokens with finish_reason "stop" when
	// that is fewer than its max_tokens (vLLM's min_tokens suppresses EOS until then). Default 0: the model
	// never emits EOS and every request ends at max_tokens with "length".
	EOSAfterTokens int

	// NoPrefixCaching turns the simulated automatic prefix cache off (vLLM --no-enable-prefix-caching). When
	// on (the default, as in vLLM V1), a request's prompt is cut into blocks of 16 tokens; the leading whole
	// blocks another request already computed are hits (at most prompt_tokens-1 tokens, rounded down to
	// whole blocks), cost no prefill time (TTFTPerPromptToken applies to the other prompt tokens only), and
	// are counted in vllm:prefix_cache_hits_total beside vllm:prefix_cache_queries_total (every prompt
	// token). The cache holds KVCacheTokens/16 blocks, the oldest evicted first.
	NoPrefixCaching bool

	// EarlyRoleChunk is a fault: chat streams send their role-only chunk (delta {"role":"assistant",
	// "content":""}) as soon as the request is scheduled, before the first token is due, instead of with the
	// first token as vLLM does; a client that counts it as the first token then reads a TTFT of ~0.
	EarlyRoleChunk bool

	// ReasoningTokens, when > 0, makes the first ReasoningTokens output
	// tokens of every chat response reasoning tokens, sent in
	// ReasoningField instead of "content" (as vLLM does with a reasoning
	// parser). Completions are not affected. Default 0.
	ReasoningTokens int

	// TokensPerChunk, when > 1, makes a stream send its tokens in chunks of up to TokensPerChunk, each
	// when its last token is due, as a server running speculative decoding, or one that batches its
	// output, does: the first token alone (TTFT), then groups of TokensPerChunk; a group never spans the
	// reasoning/content boundary, and the tokens before an injected fault are sent before it. With
	// continuous_usage_stats each chunk's usage counts every token sent so far. Default 0 (1: one token
	// per chunk).
	TokensPerChunk int

	// ReasoningField is the JSON field for reasoning tokens:
	// "reasoning_content" (default) or "reasoning".
	ReasoningField string

	// Reject429 selects requests answered at once with HTTP 429 and an
	// OpenAI-style error body (and Retry-After: 1), as an overloaded gateway
	// answers. They never enter the queue or the metrics.
	Reject429 Fault

	// Error500 selects requests answered at once with HTTP 500 and an
	// OpenAI-style error body. They never enter the queue or the metrics.
	Error500 Fault

	// StreamError selects requests that, after FaultAfterTokens tokens, get
	// a `data: {"error": {...}}` event followed by `data: [DONE]` (vLLM's
	// behaviour when generation fails mid-stream); a non-streaming request
	// gets HTTP 500 at that moment. Counted with finished_reason="error".
	StreamError Fault

	// Truncate selects requests whose connection is closed abruptly after
	// FaultAfterTokens tokens: no finish_reason, no usage, no [DONE]
	// (a crashed server). Counted with finished_reason="abort".
	Truncate Fault

	// Stall selects streaming requests that go silent after their first
	// bytes (a chat stream's role-only chunk, a completions stream's
	// headers), before any token, and stay open until the client goes away
	// (a hung engine); a non-streaming request gets no answer until then.
	// Counted with finished_reason="abort".
	Stall Fault

	// StreamErrorBytes, when > 0, pads the message of a StreamError event
	// (or body) to this many bytes, as a server sending a whole traceback
	// would: for testing a client's bounds. At most 64 MiB. Default 0: a
	// short message.
	StreamErrorBytes int

	// FaultAfterTokens is how many tokens a StreamError or Truncate request
	// sends before failing, capped at max_tokens-1. Default 0 means half the
	// request's max_tokens, rounded down, at least 1 where max_tokens > 1.
	FaultAfterTokens int
}

// Fault chooses which requests get an injected fault. A request is chosen
// when either rule picks it. When several faults pick the same request, the
// first in the order Reject429, Error500, StreamError, Truncate, Stall wins.
// The zero value chooses none.
type Fault struct {
	// Probability in [0, 1]: each request is picked independently with this
	// probability, decided by a hash of Config.Seed, the fault kind and the
	// request number, so the same run picks the same requests.
	Probability float64
	// Every, when > 0, picks requests number Every, 2*Every, ... (1-based,
	// in order of arrival).
	Every int
}

// ParseFault reads a Fault from text, for flags and environment variables:
// "" or "0" (none), a probability such as "0.05" or "p=0.05", "every=10",
// or both joined by a comma ("p=0.01,every=100"). Errors name the bad part.
func ParseFault(s string) (Fault, error) {
	var f Fault
	s = strings.TrimSpace(s)
	if s == "" {
		return f, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			key, val = "p", part
		}
		switch strings.TrimSpace(key) {
		case "p", "prob", "probability":
			p, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || p < 0 || p > 1 {
				return Fault{}, fmt.Errorf("vllmsim: fault %q: probability must be a number in [0,1]", part)
			}
			f.Probability = p
		case "every":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 0 {
				return Fault{}, fmt.Errorf("vllmsim: fault %q: every must be a whole number >= 0", part)
			}
			f.Every = n
		default:
			return Fault{}, fmt.Errorf("vllmsim: fault %q: want p=<probability> or every=<n>", part)
		}
	}
	return f, nil
}

// String formats f in the syntax ParseFault reads.
func (f Fault) String() string {
	var parts []string
	if f.Probability > 0 {
		parts = append(parts, "p="+strconv.FormatFloat(f.Probability, 'g', -1, 64))
	}
	if f.Every > 0 {
		parts = append(parts, "every="+strconv.Itoa(f.Every))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ",")
}

// picks reports whether request n (1-based) is chosen; kind separates the
// random streams of different faults.
func (f Fault) picks(seed, kind, n uint64) bool {
	if f.Every > 0 && n%uint64(f.Every) == 0 {
		return true
	}
	if f.Probability > 0 {
		return unitFloat(hash3(seed, kind, n)) < f.Probability
	}
	return false
}

// withDefaults returns c with zero fields replaced by defaults, or an error
// naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.MaxNumSeqs == 0 {
		c.MaxNumSeqs = DefaultMaxNumSeqs
	}
	if c.KVCacheTokens == 0 {
		c.KVCacheTokens = DefaultKVCacheTokens
	}
	if c.MaxModelLen == 0 {
		c.MaxModelLen = DefaultMaxModelLen
	}
	if c.DefaultMaxTokens == 0 {
		c.DefaultMaxTokens = DefaultMaxTokens
	}
	if c.ReasoningField == "" {
		c.ReasoningField = DefaultReasoningField
	}
	bad := func(field, want string, got any) (Config, error) {
		return Config{}, fmt.Errorf("vllmsim: invalid Config.%s: %s, got %v", field, want, got)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"TTFTBase", c.TTFTBase}, {"TTFTPerPromptToken", c.TTFTPerPromptToken}, {"TimePerOutputToken", c.TimePerOutputToken}} {
		if d.v < 0 {
			return bad(d.name, "must be >= 0", d.v)
		}
	}
	if !(c.Jitter >= 0 && c.Jitter < 1) {
		return bad("Jitter", "must be in [0, 1)", c.Jitter)
	}
	if err := c.checkLoRA(); err != nil {
		return Config{}, err
	}
	if c.MaxNumSeqs < 0 {
		return bad("MaxNumSeqs", "must be >= 0 (0 = default)", c.MaxNumSeqs)
	}
	if c.KVCacheTokens < 0 {
		return bad("KVCacheTokens", "must be >= 0 (0 = default)", c.KVCacheTokens)
	}
	if c.MaxModelLen < 0 {
		return bad("MaxModelLen", "must be >= 0 (0 = default)", c.MaxModelLen)
	}
	if c.DefaultMaxTokens < 0 {
		return bad("DefaultMaxTokens", "must be >= 0 (0 = default)", c.DefaultMaxTokens)
	}
	if c.TokensPerChunk < 0 {
		return bad("TokensPerChunk", "must be >= 0", c.TokensPerChunk)
	}
	if c.ReasoningTokens < 0 {
		return bad("ReasoningTokens", "must be >= 0", c.ReasoningTokens)
	}
	if c.ReasoningField != "reasoning_content" && c.ReasoningField != "reasoning" {
		return bad("ReasoningField", `must be "reasoning_content" or "reasoning"`, c.ReasoningField)
	}
	if c.EOSAfterTokens < 0 {
		return bad("EOSAfterTokens", "must be >= 0", c.EOSAfterTokens)
	}
	if c.FaultAfterTokens < 0 {
		return bad("FaultAfterTokens", "must be >= 0", c.FaultAfterTokens)
	}
	if c.StreamErrorBytes < 0 || c.StreamErrorBytes > 64<<20 {
		return bad("StreamErrorBytes", "must be in [0, 64 MiB]", c.StreamErrorBytes)
	}
	for _, f := range []struct {
		name string
		f    Fault
	}{{"Reject429", c.Reject429}, {"Error500", c.Error500}, {"StreamError", c.StreamError}, {"Truncate", c.Truncate}, {"Stall", c.Stall}} {
		if !(f.f.Probability >= 0 && f.f.Probability <= 1) {
			return bad(f.name+".Probability", "must be in [0, 1]", f.f.Probability)
		}
		if f.f.Every < 0 {
			return bad(f.name+".Every", "must be >= 0", f.f.Every)
		}
	}
	return c, nil
}

// checkLoRA refuses an empty, repeated or base-model name in LoRAModules.
func (c *Config) checkLoRA() error {
	seen := map[string]bool{c.Model: true}
	for i, m := range c.LoRAModules {
		if m == "" || seen[m] {
			return fmt.Errorf("vllmsim: invalid Config.LoRAModules[%d]: %q is empty, repeated or the base Model", i, m)
		}
		seen[m] = true
	}
	return nil
}

// serves reports whether model is Model or one of LoRAModules.
func (c *Config) serves(model string) bool {
	return model == c.Model || slices.Contains(c.LoRAModules, model)
}
