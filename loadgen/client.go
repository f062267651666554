package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/recorder"
)

// Endpoint is the path of an OpenAI-compatible generation endpoint.
type Endpoint string

// The two endpoints the client speaks, as the OpenAI API (and vLLM's server) names them.
const (
	// Completions is /v1/completions: a text "prompt"; tokens arrive in choices[].text.
	Completions Endpoint = "/v1/completions"
	// ChatCompletions is /v1/chat/completions: "messages"; tokens arrive in choices[].delta.content,
	// reasoning_content, reasoning or tool_calls.
	ChatCompletions Endpoint = "/v1/chat/completions"
)

// Defaults of ClientConfig.
const (
	// DefaultMaxConns is the connection-pool size when ClientConfig.MaxConns is 0.
	DefaultMaxConns = 64
	// DefaultConnectTimeout bounds TCP connect plus TLS handshake.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultFirstTokenTimeout bounds Start → first token (headers included). Generous: a loaded server may
	// legitimately queue a request for minutes; the limit is there to end hung requests, not to judge latency.
	DefaultFirstTokenTimeout = 5 * time.Minute
	// DefaultHeaderTimeout bounds Start → response headers of a streaming request. vLLM sends a stream's
	// headers as soon as it accepts the request, before queueing it; a proxy that queues requests before
	// forwarding them needs it raised.
	DefaultHeaderTimeout = time.Minute
	// DefaultStallTimeout bounds the gap between two reads of a response body once its first bytes came
	// (a role-only chunk or a keep-alive included).
	DefaultStallTimeout = time.Minute
	// AfterEndTimeout bounds reading what follows once a response's outcome is known (after [DONE], an
	// error event or an error status): at most this long and 256 KiB, then the body is closed.
	AfterEndTimeout = time.Second
	// DefaultMaxEventSize bounds one server-sent event (16 MiB); larger events fail the request.
	DefaultMaxEventSize = 16 << 20
)

// Errors a request can end with (in recorder.Request.Err, wrapped; test with errors.Is or errors.As).
var (
	// ErrConnectTimeout: the TCP connection (and TLS handshake) did not complete within ConnectTimeout.
	// Outcome failed.
	ErrConnectTimeout = errors.New("loadgen: connect timeout")
	// ErrFirstTokenTimeout: no token arrived within FirstTokenTimeout of Start. Outcome failed.
	ErrFirstTokenTimeout = errors.New("loadgen: first-token timeout")
	// ErrHeaderTimeout: a streaming request's response headers did not come within HeaderTimeout of Start.
	// Outcome failed.
	ErrHeaderTimeout = errors.New("loadgen: response header timeout")
	// ErrStallTimeout: once the body's first bytes came (before or after the first token), the stream
	// delivered no bytes for StallTimeout. Outcome failed.
	ErrStallTimeout = errors.New("loadgen: stall timeout")
	// ErrEventTooLarge: one server-sent event (or a non-streaming body) was larger than
	// ClientConfig.MaxEventSize. Outcome failed.
	ErrEventTooLarge = errors.New("loadgen: server-sent event larger than ClientConfig.MaxEventSize")
	// ErrInvalidUsage: the response's usage object has a token count that is not a whole number from 0 to
	// 2^31−1. Outcome failed; the record's OutputTokens is the count of token-bearing chunks (estimated)
	// and PromptTokens 0, so the invalid count reaches no figure.
	ErrInvalidUsage = errors.New("loadgen: invalid usage in response")
	// ErrTruncated: the stream ended (cleanly or with an unexpected EOF) before [DONE] and without a finish
	// reason. Outcome incomplete.
	ErrTruncated = errors.New("loadgen: stream ended without [DONE] or a finish reason")
	// ErrNoTokens: the response finished ([DONE] or a finish reason) without carrying a single token.
	// Outcome incomplete.
	ErrNoTokens = errors.New("loadgen: response finished without a token")
	// ErrCanceled: the caller's context ended while the request was in flight (for example when a load run is
	// stopped). Outcome incomplete from Client.Do; Run records it as recorder.OutcomeCanceled when Run's own
	// caller ended the run (see Run). The context's cause is wrapped too.
	ErrCanceled = errors.New("loadgen: request cancelled by its context")
)

// HTTPError is a response with a non-2xx status. Status 429 and 503 make the outcome rejected (the server
// shed load); any other status makes it failed.
type HTTPError struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Body is the start of the response body (at most MaxErrorText bytes, trimmed, "…" when cut), with the
	// client's secrets redacted (auth.Redact).
	Body string
	// RetryAfter is the response's Retry-After (RFC 9110 §10.2.3: seconds, or an HTTP date taken relative to
	// when the response arrived), uncapped; 0 when absent, unparseable or in the past.
	RetryAfter time.Duration
}

// Error formats the status and the body excerpt.
func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("loadgen: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("loadgen: HTTP %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Body)
}

// ClientConfig configures a Client. Only BaseURL is required.
type ClientConfig struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8000"; a trailing "/" or "/v1" is accepted.
	BaseURL string
	// MoreBaseURLs are more replicas of the same server (same model), each a root as BaseURL: requests go
	// round robin over BaseURL and these, in that order (the i-th request Do sends goes to the (i mod n)-th).
	// Models asks BaseURL only. Empty: every request goes to BaseURL.
	MoreBaseURLs []string
	// Endpoint forces every request to one endpoint. Empty (the default) sends chat prompts (Prompt.Messages)
	// to ChatCompletions and text prompts to Completions. With ChatCompletions, a text prompt is sent as
	// one user message; with Completions, a chat prompt is an error.
	Endpoint Endpoint
	// APIKey, when set, is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// Header is added to every request.
	Header http.Header
	// MaxConns sizes the connection pool (idle connections kept per host); set it to the run's concurrency.
	// Default DefaultMaxConns. The pool never limits how many requests are in flight: the caller does.
	MaxConns int
	// ConnectTimeout bounds dialing plus the TLS handshake; default DefaultConnectTimeout, negative: none.
	ConnectTimeout time.Duration
	// FirstTokenTimeout bounds Start → first token; default DefaultFirstTokenTimeout, negative: none.
	FirstTokenTimeout time.Duration
	// HeaderTimeout bounds Start → response headers of a streaming request (a non-streaming one gets its
	// headers with the whole answer: FirstTokenTimeout bounds it); default DefaultHeaderTimeout, negative: none.
	HeaderTimeout time.Duration
	// StallTimeout bounds the silence between reads of the body once its first bytes came, before the
	// first token as after it; default DefaultStallTimeout, negative: none.
	StallTimeout time.Duration
	// MaxEventSize bounds one server-sent event in bytes; default DefaultMaxEventSize.
	MaxEventSize int
	// MaxEventSizeSetting is where the error of an event over MaxEventSize says to raise it (a command gives
	// its flag, "vmtest load -max-event-size"); empty means "ClientConfig.MaxEventSize".
	MaxEventSizeSetting string
	// Transport replaces the client's own transport (tests, custom TLS). MaxConns and ConnectTimeout then
	// have no effect.
	Transport http.RoundTripper
}

// Client sends requests to one OpenAI-compatible server and times each into a recorder.Request. It is safe for
// concurrent use. Its http.Client has no overall Timeout (that would cut long streams); the connect, header,
// first-token and stall limits of ClientConfig apply instead, and AfterEndTimeout once the outcome is known.
type Client struct {
	cfg        ClientConfig
	hc         *http.Client
	ownTr      *http.Transport
	completURL string
	chatURL    string
	more       []target      // MoreBaseURLs' endpoints; with completURL and chatURL, the round robin
	next       atomic.Uint64 // requests sent, for the round robin
	secrets    []string      // what auth.Redact hides in every error and body excerpt the client gives
}

// NewClient validates cfg, fills in its defaults and builds the client's own http.Transport. It returns an
// error naming the field when BaseURL is empty or not http(s), Endpoint is unknown, or a size is negative.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := rootOf(cfg.BaseURL, "BaseURL")
	if err != nil {
		return nil, err
	}
	var more []target
	for i, u := range cfg.MoreBaseURLs {
		b, err := rootOf(u, "MoreBaseURLs["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		more = append(more, target{complet: b + string(Completions), chat: b + string(ChatCompletions)})
	}
	switch cfg.Endpoint {
	case "", Completions, ChatCompletions:
	default:
		return nil, fmt.Errorf("loadgen: ClientConfig.Endpoint %q is neither %s nor %s", cfg.Endpoint, Completions, ChatCompletions)
	}
	if cfg.MaxConns < 0 {
		return nil, fmt.Errorf("loadgen: ClientConfig.MaxConns %d is negative", cfg.MaxConns)
	}
	if cfg.MaxEventSize < 0 {
		return nil, fmt.Errorf("loadgen: ClientConfig.MaxEventSize %d is negative", cfg.MaxEventSize)
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxEventSize == 0 {
		cfg.MaxEventSize = DefaultMaxEventSize
	}
	cfg.ConnectTimeout = orDefault(cfg.ConnectTimeout, DefaultConnectTimeout)
	cfg.FirstTokenTimeout = orDefault(cfg.FirstTokenTimeout, DefaultFirstTokenTimeout)
	cfg.HeaderTimeout = orDefault(cfg.HeaderTimeout, DefaultHeaderTimeout)
	cfg.StallTimeout = orDefault(cfg.StallTimeout, DefaultStallTimeout)

	c := &Client{
		cfg:        cfg,
		completURL: base + string(Completions),
		chatURL:    base + string(ChatCompletions),
		more:       more,
		secrets:    clientSecrets(cfg),
	}
	rt := cfg.Transport
	if rt == nil {
		dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
		c.ownTr = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: cfg.ConnectTimeout,
			MaxIdleConns:        cfg.MaxConns,
			MaxIdleConnsPerHost: cfg.MaxConns,
			IdleConnTimeout:     90 * time.Second,
			// Compressed SSE would be buffered by the decompressor; ask for identity.
			DisableCompression: true,
		}
		rt = c.ownTr
	}
	c.hc = &http.Client{Transport: rt} // no Timeout: see the type's doc
	return c, nil
}

// target is one replica's two endpoint URLs.
type target struct{ complet, chat string }

// rootOf returns a base URL without its trailing "/" or "/v1", or an error naming field when it is not http(s).
func rootOf(raw, field string) (string, error) {
	base := strings.TrimSuffix(strings.TrimRight(raw, "/"), "/v1")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return "", fmt.Errorf("loadgen: ClientConfig.%s %q is not an http(s) URL", field, auth.Redact(raw, auth.URLSecrets(raw)...))
	}
	return base, nil
}

// endpointURL returns the URL of the next request's endpoint: the round robin over the replicas.
func (c *Client) endpointURL(chat bool) string {
	t := target{c.completURL, c.chatURL}
	if n := uint64(len(c.more) + 1); n > 1 {
		if i := (c.next.Add(1) - 1) % n; i > 0 {
			t = c.more[i-1]
		}
	}
	if chat {
		return t.chat
	}
	return t.complet
}

func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Close closes the client's idle connections. In-flight requests are not affected.
func (c *Client) Close() {
	if c.ownTr != nil {
		c.ownTr.CloseIdleConnections()
	}
}

// Do sends one request for prompt p with params and returns its timed record; it never returns an error
// apart from the record's Outcome and Err (an invalid prompt or params gives a failed record). The request
// ends when the response body has been read to its end. Cancelling ctx ends it at once (Outcome incomplete,
// Err wrapping ErrCanceled).
func (c *Client) Do(ctx context.Context, p Prompt, params Params) recorder.Request {
	enc, err := newEncoder(params)
	if err == nil && len(p.Turns) > 0 {
		err = errors.New("loadgen: a session (Prompt.Turns) is sent turn by turn by Run, not by Client.Do")
	}
	if err != nil {
		return recorder.Request{ID: p.ID, Start: time.Now(), Outcome: recorder.OutcomeFailed, Err: err}
	}
	return c.do(ctx, enc, &p)
}

// request phases, for the timers that enforce the limits.
const (
	phaseHeaders  int32 = iota // waiting for the response headers
	phaseBody                  // reading the body
	phaseAfterEnd              // the outcome is known: reading what is left, bounded
	phaseDone
)

// watchdog enforces a request's limits with one timer, set to the nearest deadline: the header limit (with
// the first-token limit, from Start), the first-token limit, the stall limit (from the last read, once the
// body's first bytes came; with the first-token limit until the first token), then AfterEndTimeout. When it
// fires, the phase and the first-token deadline tell which limit it was.
type watchdog struct {
	phase  atomic.Int32
	gotTok atomic.Bool
	timer  *time.Timer
	ftAt   time.Time // Start + FirstTokenTimeout; zero: no first-token limit
	stall  time.Duration
	cancel context.CancelCauseFunc
}

// start arms the first-token limit and, when header > 0, the header limit, from now.
func (w *watchdog) start(now time.Time, firstToken, header time.Duration) {
	d := firstToken
	if firstToken > 0 {
		w.ftAt = now.Add(firstToken)
	}
	if header > 0 && (d <= 0 || header < d) {
		d = header
	}
	if d > 0 {
		w.timer = time.AfterFunc(d, w.fire)
	}
}

func (w *watchdog) fire() {
	phase := w.phase.Load()
	switch {
	case phase == phaseAfterEnd:
		w.cancel(errAfterEnd)
	case phase == phaseDone:
	case !w.gotTok.Load() && !w.ftAt.IsZero() && !time.Now().Before(w.ftAt):
		w.cancel(ErrFirstTokenTimeout)
	case phase == phaseHeaders:
		w.cancel(ErrHeaderTimeout)
	default:
		w.cancel(ErrStallTimeout)
	}
}

// errAfterEnd is the cause with which a body is closed past AfterEndTimeout once its outcome is known.
var errAfterEnd = errors.New("loadgen: body still open after the response ended")

// gotHeaders ends the header limit: until the body's first bytes only the first-token limit runs.
func (w *watchdog) gotHeaders() {
	w.phase.Store(phaseBody)
	if w.timer == nil {
		return
	}
	if w.ftAt.IsZero() {
		w.timer.Stop()
	} else {
		w.timer.Reset(time.Until(w.ftAt))
	}
}

// gotToken ends the first-token limit; the stall limit runs from now.
func (w *watchdog) gotToken() {
	if w.gotTok.Swap(true) {
		return
	}
	if w.stall > 0 {
		w.arm(w.stall)
	} else if w.timer != nil {
		w.timer.Stop()
	}
}

// progress restarts the stall limit after bytes arrived at now.
func (w *watchdog) progress(now time.Time) {
	if w.stall <= 0 || w.phase.Load() != phaseBody {
		return
	}
	d := w.stall
	if !w.gotTok.Load() && !w.ftAt.IsZero() {
		d = min(d, w.ftAt.Sub(now))
	}
	w.arm(d)
}

func (w *watchdog) arm(d time.Duration) {
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.fire)
	} else {
		w.timer.Reset(d)
	}
}

// afterEnd bounds what is read once the outcome is known by AfterEndTimeout.
func (w *watchdog) afterEnd() {
	if w.phase.Load() >= phaseAfterEnd {
		return
	}
	w.phase.Store(phaseAfterEnd)
	w.arm(AfterEndTimeout)
}

func (w *watchdog) stop() {
	w.phase.Store(phaseDone)
	if w.timer != nil {
		w.timer.Stop()
	}
}

// progressReader reports every successful read to the watchdog and notes when it returned. The SSE parser
// only reads when its buffer holds no complete event, so every event it yields was completed by the most
// recent read: that read's time is the event's arrival time (taken before any parsing, so events that arrive
// together get the same time rather than times spread by the client's own parsing work).
type progressReader struct {
	r        io.Reader
	w        *watchdog
	lastRead time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.lastRead = time.Now()
		p.w.progress(p.lastRead)
	}
	return n, err
}

// do times one request. It is the whole measurement: Start is taken right before the transport gets the
// request, each event's arrival right after the parser completes it.
func (c *Client) do(ctx context.Context, enc *encoder, p *Prompt) (rec recorder.Request) {
	defer c.redact(&rec)
	rec.ID = p.ID
	rec.RequestedOutputTokens = enc.maxTokens(p)
	rec.Model = enc.modelOf(p)
	rec.IgnoreEOS = enc.ignoreEOS(p)
	chat := p.IsChat()
	switch c.cfg.Endpoint {
	case ChatCompletions:
		chat = true
	case Completions:
		chat = false
	}
	body, err := enc.body(p, chat)
	if err != nil {
		rec.Start, rec.Outcome, rec.Err = time.Now(), recorder.OutcomeFailed, err
		return rec
	}
	url := c.endpointURL(chat)
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		rec.Start, rec.Outcome, rec.Err = time.Now(), recorder.OutcomeFailed, err
		return rec
	}
	req.Header.Set("Content-Type", "application/json")
	if !enc.params.NoStream {
		req.Header.Set("Accept", "text/event-stream")
	}
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	for k, vs := range c.cfg.Header {
		req.Header[k] = append(req.Header[k], vs...)
	}

	wd := &watchdog{stall: c.cfg.StallTimeout, cancel: cancel}
	defer wd.stop()

	header := c.cfg.HeaderTimeout
	if enc.params.NoStream {
		header = 0
	}
	rec.Start = time.Now()
	wd.start(rec.Start, c.cfg.FirstTokenTimeout, header)
	resp, err := c.hc.Do(req)
	if err != nil {
		rec.Outcome, rec.Err = c.classify(ctx, rctx, err)
		return rec
	}
	wd.gotHeaders()
	defer resp.Body.Close()
	rec.HTTPStatus = resp.StatusCode
	br := &progressReader{r: resp.Body, w: wd}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		rec.Responded = time.Now()
		head, _ := io.ReadAll(io.LimitReader(br, MaxErrorText))
		wd.afterEnd()
		drain(br)
		rec.Err = c.httpError(resp, head, rec.Responded)
		rec.Outcome = recorder.OutcomeFailed
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			rec.Outcome = recorder.OutcomeRejected
		}
		return rec
	}

	if enc.params.NoStream || isJSON(resp.Header.Get("Content-Type")) {
		c.readWhole(ctx, rctx, br, wd, &rec)
		return rec
	}
	c.readStream(ctx, rctx, br, wd, &rec)
	return rec
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// drain reads what is left of a body (bounded) so the connection can be reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 256<<10))
}

// maxTokenTimesHint caps the room a stream's TokenTimes is given up front (from max_tokens).
const maxTokenTimesHint = 1024

// streamState accumulates one stream's timing.
type streamState struct {
	finish     string
	done       bool
	usage      wireUsage // the last usage object, when hasUsage
	hasUsage   bool
	tokenCount int
	// counted is usage.completion_tokens as of the last token-bearing chunk; perToken stays true while
	// every token-bearing chunk carried a usage count above it (see tokenChunk).
	counted  int
	perToken bool
}

// tokenChunk notes token-bearing chunk ci in rec.TokenCounts: the tokens it carried are its completion_tokens
// less the previous token-bearing chunk's. A chunk without usage, or whose count is invalid or did not grow,
// makes ITL per chunk for the whole request (TokenCounts nil).
func (st *streamState) tokenChunk(rec *recorder.Request, ci *chunkInfo) {
	if !st.perToken {
		return
	}
	var k int
	if ci.hasUsage {
		if n, err := ci.usage.CompletionTokens.check("completion_tokens"); err == nil {
			k = n - st.counted
			st.counted = n
		}
	}
	if k < 1 {
		st.perToken, rec.TokenCounts = false, nil
		return
	}
	if rec.TokenCounts == nil {
		rec.TokenCounts = make([]int, 0, cap(rec.TokenTimes))
	}
	rec.TokenCounts = append(rec.TokenCounts, k)
}

// readStream parses the SSE body and fills rec.
func (c *Client) readStream(ctx, rctx context.Context, body *progressReader, wd *watchdog, rec *recorder.Request) {
	st := streamState{perToken: true}
	var readErr, failed error
	reply := replyOf(ctx)
	sr := newSSEReader(body, c.cfg.MaxEventSize)
	if n := rec.RequestedOutputTokens; n > 0 {
		rec.TokenTimes = make([]time.Time, 0, min(n, maxTokenTimesHint))
	}
	for {
		raw, typ, err := sr.next()
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		now := body.lastRead
		data := bytes.TrimSpace(raw)
		if len(data) == 0 || string(typ) == "ping" {
			continue // keep-alives: empty data frames, `event: ping`
		}
		if string(data) == "[DONE]" {
			st.done = true
			break
		}
		if string(typ) == "error" && data[0] != '{' {
			failed = &StreamError{Message: capText(string(data), MaxErrorText), Raw: excerpt(data, MaxErrorText), Truncated: len(data) > MaxErrorText}
			break
		}
		ci, perr := parseChunk(data)
		if perr != nil {
			failed = perr
			break
		}
		if ci.err != nil {
			failed = ci.err
			break
		}
		if ci.token {
			if rec.FirstToken.IsZero() {
				rec.FirstToken = now
				wd.gotToken()
			}
			if ci.content && rec.FirstContent.IsZero() {
				rec.FirstContent = now
			}
			rec.End = now
			rec.TokenTimes = append(rec.TokenTimes, now)
			st.tokenCount++
			st.tokenChunk(rec, &ci)
			if reply != nil && ci.content {
				appendReply(reply, data)
			}
		}
		if ci.finish != "" {
			st.finish = ci.finish
		}
		if ci.hasUsage {
			st.usage, st.hasUsage = ci.usage, true // the last usage wins; never summed
		}
	}
	if st.done || failed != nil {
		wd.afterEnd()
		drain(body) // the server closes the stream right after [DONE] or an error
	}
	if failed != nil {
		// The tokens that came before the error stay counted (its partial output).
		c.counts(rec, &st)
		rec.Outcome, rec.Err = recorder.OutcomeFailed, failed
		return
	}
	if errors.Is(readErr, bufio.ErrTooLong) {
		c.counts(rec, &st)
		rec.Outcome, rec.Err = recorder.OutcomeFailed, c.tooLarge()
		return
	}
	c.finish(ctx, rctx, rec, &st, readErr)
}

// tooLarge is the error of an event or body over MaxEventSize.
func (c *Client) tooLarge() error {
	setting := c.cfg.MaxEventSizeSetting
	if setting == "" {
		setting = "ClientConfig.MaxEventSize"
	}
	return fmt.Errorf("%w (%d bytes): raise %s", ErrEventTooLarge, c.cfg.MaxEventSize, setting)
}

// counts fills rec's finish reason and token counts from st: usage when valid, else the count of
// token-bearing chunks (estimated). It returns usage's error when usage is invalid.
func (c *Client) counts(rec *recorder.Request, st *streamState) error {
	rec.FinishReason = st.finish
	if st.hasUsage {
		p, o, err := st.usage.validate()
		if err == nil {
			rec.PromptTokens, rec.OutputTokens = p, o
			if d := st.usage.CompletionTokensDetails; d != nil {
				if n, err := d.ReasoningTokens.check("completion_tokens_details.reasoning_tokens"); err == nil && n <= o {
					rec.ReasoningTokens = n
				}
			}
			return nil
		}
		rec.OutputTokens, rec.OutputTokensEstimated = st.tokenCount, true
		return err
	}
	rec.OutputTokens, rec.OutputTokensEstimated = st.tokenCount, true
	return nil
}

// finish decides the outcome of a read response.
func (c *Client) finish(ctx, rctx context.Context, rec *recorder.Request, st *streamState, readErr error) {
	usageErr := c.counts(rec, st)
	finished := st.done || st.finish != ""
	switch {
	case readErr != nil && !finished:
		if errors.Is(readErr, io.ErrUnexpectedEOF) && rctx.Err() == nil {
			rec.Outcome, rec.Err = recorder.OutcomeIncomplete, fmt.Errorf("%w: %w", ErrTruncated, readErr)
			return
		}
		rec.Outcome, rec.Err = c.classify(ctx, rctx, readErr)
	case !finished:
		rec.Outcome, rec.Err = recorder.OutcomeIncomplete, ErrTruncated
	case rec.FirstToken.IsZero():
		rec.Outcome, rec.Err = recorder.OutcomeIncomplete, ErrNoTokens
	case usageErr != nil:
		rec.Outcome, rec.Err = recorder.OutcomeFailed, usageErr
	default:
		rec.Outcome = recorder.OutcomeOK
	}
}

// readWhole handles a non-streaming (application/json) response: the whole body is one chunk.
func (c *Client) readWhole(ctx, rctx context.Context, body *progressReader, wd *watchdog, rec *recorder.Request) {
	data, err := io.ReadAll(io.LimitReader(body, int64(c.cfg.MaxEventSize)+1))
	now := body.lastRead
	var st streamState
	if err != nil {
		c.finish(ctx, rctx, rec, &st, err)
		return
	}
	if len(data) > c.cfg.MaxEventSize {
		wd.afterEnd()
		drain(body)
		rec.Outcome, rec.Err = recorder.OutcomeFailed, c.tooLarge()
		return
	}
	ci, perr := parseChunk(data)
	switch {
	case perr != nil:
		rec.Outcome, rec.Err = recorder.OutcomeFailed, perr
		return
	case ci.err != nil:
		rec.Outcome, rec.Err = recorder.OutcomeFailed, ci.err
		return
	}
	if ci.token {
		rec.FirstToken, rec.End = now, now
		if ci.content {
			rec.FirstContent = now
			if reply := replyOf(ctx); reply != nil {
				appendReply(reply, data)
			}
		}
		st.tokenCount = 1
	}
	st.finish, st.usage, st.hasUsage = ci.finish, ci.usage, ci.hasUsage
	st.done = true // a complete JSON body is a finished response
	c.finish(ctx, rctx, rec, &st, nil)
}

// classify maps a transport error to an outcome and a specific error.
func (c *Client) classify(ctx, rctx context.Context, err error) (recorder.Outcome, error) {
	var op *net.OpError
	connecting := errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect")
	switch cause := context.Cause(rctx); {
	case errors.Is(cause, ErrFirstTokenTimeout) && connecting:
		// Still connecting when the first token was due: a failure to connect, kept in the chain so that the
		// load driver backs off and can tell the server unreachable.
		return recorder.OutcomeFailed, fmt.Errorf("%w (%v) while connecting: %w", ErrFirstTokenTimeout, c.cfg.FirstTokenTimeout, err)
	case errors.Is(cause, ErrHeaderTimeout) && connecting:
		return recorder.OutcomeFailed, fmt.Errorf("%w (%v) while connecting: %w", ErrHeaderTimeout, c.cfg.HeaderTimeout, err)
	case errors.Is(cause, ErrFirstTokenTimeout):
		return recorder.OutcomeFailed, fmt.Errorf("%w (%v)", ErrFirstTokenTimeout, c.cfg.FirstTokenTimeout)
	case errors.Is(cause, ErrHeaderTimeout):
		return recorder.OutcomeFailed, fmt.Errorf("%w (%v)", ErrHeaderTimeout, c.cfg.HeaderTimeout)
	case errors.Is(cause, ErrStallTimeout):
		return recorder.OutcomeFailed, fmt.Errorf("%w (%v without data)", ErrStallTimeout, c.cfg.StallTimeout)
	}
	if ctx.Err() != nil {
		return recorder.OutcomeIncomplete, fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
	}
	if (connecting && op.Timeout()) || strings.Contains(err.Error(), "TLS handshake timeout") {
		return recorder.OutcomeFailed, fmt.Errorf("%w (%v): %w", ErrConnectTimeout, c.cfg.ConnectTimeout, err)
	}
	return recorder.OutcomeFailed, fmt.Errorf("loadgen: %w", err)
}
