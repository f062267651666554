package vllmsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const maxBodyBytes = 32 << 20

var bufPool = sync.Pool{New: func() any { return &genBuf{} }}

// genBuf is per-request scratch space, reused across requests.
type genBuf struct {
	body      bytes.Buffer
	out       []byte
	head      int // len of out's fixed prefix: `data: {"id":...,"choices":[`
	toks      []int
	chunkToks []int     // the tokens of the chunk being written (Config.TokensPerChunk)
	tok       tokenizer // the prompt's token ids
	blocks    []uint64  // the prompt's block hashes
}

// Fragments of the SSE chunks; a chunk is head + open + token + close.
var (
	chatOpen       = []byte(`{"index":0,"delta":{`)
	roleChunk      = []byte(`"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	chatClose      = []byte(`},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	chatCloseLast  = []byte(`},"logprobs":null,"finish_reason":"length","stop_reason":null}]}` + "\n\n")
	chatCloseStop  = []byte(`},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}` + "\n\n")
	complOpen      = []byte(`{"index":0,"text":`)
	complClose     = []byte(`,"logprobs":null,"finish_reason":null,"stop_reason":null}]}` + "\n\n")
	complCloseLast = []byte(`,"logprobs":null,"finish_reason":"length","stop_reason":null}]}` + "\n\n")
	complCloseStop = []byte(`,"logprobs":null,"finish_reason":"stop","stop_reason":null}]}` + "\n\n")
	doneEvent      = []byte("data: [DONE]\n\n")
	contentKey     = []byte(`"content":`)
)

// serveGenerate serves POST /v1/completions (chat=false) and
// POST /v1/chat/completions (chat=true).
func (s *Server) serveGenerate(w http.ResponseWriter, r *http.Request, chat bool) {
	if !s.enter() {
		writeError(w, http.StatusServiceUnavailable, "", errClosed.Error())
		return
	}
	defer s.active.Done()

	gb := bufPool.Get().(*genBuf)
	defer bufPool.Put(gb)
	gb.body.Reset()
	if _, err := gb.body.ReadFrom(http.MaxBytesReader(w, r.Body, maxBodyBytes)); err != nil {
		writeError(w, http.StatusBadRequest, "", "reading request body: "+err.Error())
		return
	}
	p, rerr := parseRequest(gb.body.Bytes(), chat, &s.cfg, &gb.tok, gb.blocks)
	if p.blocks != nil {
		gb.blocks = p.blocks
	}
	if rerr != nil {
		writeError(w, rerr.status, rerr.param, rerr.msg)
		return
	}

	cfg := &s.cfg
	n := s.reqSeq.Add(1)
	switch {
	case cfg.Reject429.picks(cfg.Seed, kind429, n):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "", "vllmsim: injected 429: server overloaded, retry later")
		return
	case cfg.Error500.picks(cfg.Seed, kind500, n):
		writeError(w, http.StatusInternalServerError, "", "vllmsim: injected 500 internal server error")
		return
	}
	outLen, endReason := p.outputLen(cfg.EOSAfterTokens)
	faultAt := -1 // token index at which the stream fails
	var fault string
	if cfg.StreamError.picks(cfg.Seed, kindStreamErr, n) {
		fault = finishError
	} else if cfg.Truncate.picks(cfg.Seed, kindTruncate, n) {
		fault = finishAbort
	} else if cfg.Stall.picks(cfg.Seed, kindStall, n) {
		fault = faultStall
	}
	if fault != "" {
		faultAt = cfg.FaultAfterTokens
		if faultAt == 0 {
			faultAt = p.maxTokens / 2
			if faultAt == 0 && p.maxTokens > 1 {
				faultAt = 1
			}
		}
		if faultAt > outLen-1 {
			faultAt = outLen - 1
		}
		if fault == faultStall {
			faultAt = 0
		}
	}

	// Output plumbing. Bytes are flushed to the socket only before a wait,
	// so chunks already due leave together.
	var fl http.Flusher
	dirty := false // bytes (or headers) written since the last flush
	writeErr := false
	write := func(b []byte) {
		if writeErr {
			return
		}
		if _, err := w.Write(b); err != nil {
			writeErr = true
		}
		dirty = true
	}
	flushIfDirty := func() {
		if dirty && fl != nil {
			fl.Flush()
			dirty = false
		}
	}
	if p.stream {
		// Headers go out as soon as the request waits (in the queue or for
		// its first token), as vLLM's StreamingResponse sends them at once.
		fl, _ = w.(http.Flusher)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		dirty = true
	}

	ctx := r.Context()
	arrival := time.Now()
	need := int64(p.promptTokens + p.n*p.maxTokens)
	s.lora.wait(p.adapter)
	if err := s.eng.acquire(ctx, need, flushIfDirty); err != nil {
		s.lora.gaveUp(p.adapter)
		s.met.success[finishAbort].Inc()
		if p.stream && s.ctx.Err() != nil {
			panic(http.ErrAbortHandler) // Close: cut the response, as for running streams
		}
		return
	}
	admitted := time.Now()
	s.lora.run(p.adapter)
	var sl sleeper
	inFlight := int64(p.promptTokens)
	s.eng.kvInUse.Add(inFlight)
	defer func() {
		s.lora.done(p.adapter)
		sl.stop()
		s.eng.kvInUse.Add(-inFlight)
		s.eng.release(need)
	}()
	s.met.queue.Observe(admitted.Sub(arrival).Seconds())
	cached := 0
	if s.eng.cache != nil {
		cached = s.eng.cache.lookup(p.blocks, p.promptTokens)
		s.met.prefixQueries.Add(float64(p.promptTokens))
		s.met.prefixHits.Add(float64(cached))
	}

	// The SSE prefix shared by every chunk of this request.
	out := gb.out[:0]
	out = append(out, `data: {"id":"`...)
	object := "text_completion"
	if chat {
		out = append(out, "chatcmpl-"...)
		object = "chat.completion.chunk"
	} else {
		out = append(out, "cmpl-"...)
	}
	out = appendID(out, cfg.Seed, n)
	var id string
	if !p.stream {
		id = string(out[len(`data: {"id":"`):])
	}
	out = append(out, `","object":"`...)
	out = append(out, object...)
	out = append(out, `","created":`...)
	created := time.Now().Unix()
	out = strconv.AppendInt(out, created, 10)
	out = append(out, `,"model":`...)
	if p.adapter != "" {
		out = append(out, p.adapterJSON...)
	} else {
		out = append(out, s.quotedModel...)
	}
	out = append(out, `,"choices":[`...)
	gb.head = len(out)

	roleDue := p.stream && chat // the role-only chunks (one per choice) are still to be sent
	if roleDue && cfg.EarlyRoleChunk {
		for c := range p.n {
			write(s.appendRoleChunk(out[:gb.head], &p, c))
		}
		roleDue = false
	}

	reasoning := 0
	if chat {
		reasoning = cfg.ReasoningTokens
	}
	if !p.stream {
		gb.toks = gb.toks[:0]
	}

	ttft := time.Duration(float64(cfg.TTFTBase+time.Duration(p.promptTokens-cached)*cfg.TTFTPerPromptToken) * jitterFactor(cfg.Seed, n, 0, cfg.Jitter))
	due := admitted.Add(ttft)
	var first, last time.Time
	generated := 0
	sendFrom, perChunk := 0, max(cfg.TokensPerChunk, 1) // the first token not yet sent; tokens per chunk
	reason := endReason

	for k := 0; k < outLen; k++ {
		if k > 0 {
			due = due.Add(time.Duration(float64(cfg.TimePerOutputToken) * jitterFactor(cfg.Seed, n, k, cfg.Jitter)))
		}
		now := time.Now()
		if due.After(now) {
			flushIfDirty()
			if err := sl.until(ctx, due); err != nil {
				reason = finishAbort
				break
			}
			now = time.Now()
		} else if ctx.Err() != nil {
			reason = finishAbort
			break
		}
		if k == faultAt {
			reason = fault
			if fault == faultStall {
				for c := 0; roleDue && c < p.n; c++ { // a stalled chat stream's first bytes: its role-only chunks
					write(s.appendRoleChunk(out[:gb.head], &p, c))
				}
				flushIfDirty()
				<-ctx.Done() // silent until the client goes away (or Close)
				reason = finishAbort
			}
			break
		}
		if k == 0 {
			first = now
			s.met.promptTokens.Add(float64(p.promptTokens))
			s.met.ttft.Observe(now.Sub(arrival).Seconds())
		} else {
			s.met.itl.Observe(now.Sub(last).Seconds())
		}
		last = now
		generated++
		inFlight += int64(p.n)
		s.eng.kvInUse.Add(int64(p.n))
		s.met.genTokens.Add(float64(p.n))

		if !p.stream {
			for c := range p.n {
				gb.toks = append(gb.toks, tokenIndex(cfg.Seed, choiceHash(p.promptHash, c), k))
			}
			continue
		}
		if roleDue { // vLLM sends them with the first token, in the same write
			for c := range p.n {
				write(s.appendRoleChunk(out[:gb.head], &p, c))
			}
			roleDue = false
		}
		if !sendNow(k, sendFrom, outLen, perChunk, reasoning, faultAt) {
			continue
		}
		for c := range p.n {
			toks := gb.chunkToks[:0]
			for j := sendFrom; j <= k; j++ {
				toks = append(toks, tokenIndex(cfg.Seed, choiceHash(p.promptHash, c), j))
			}
			gb.chunkToks = toks
			out = s.appendTokenChunk(out[:gb.head], chat, c, toks, k < reasoning, k == outLen-1, reason)
			if p.continuousUsage {
				out = appendChunkUsage(out, p.promptTokens, sendFrom*p.n+(c+1)*(k+1-sendFrom))
			}
			write(out)
		}
		sendFrom = k + 1
		if writeErr {
			reason = finishAbort
			break
		}
	}
	gb.out = out

	end := time.Now()
	s.met.success[reason].Inc()
	if generated > 0 {
		s.met.e2e.Observe(end.Sub(arrival).Seconds())
		s.met.inference.Observe(end.Sub(admitted).Seconds())
		s.met.prefill.Observe(first.Sub(admitted).Seconds())
		s.met.decode.Observe(last.Sub(first).Seconds())
		if generated > 1 {
			s.met.tpot.Observe(last.Sub(first).Seconds() / float64(generated-1))
		}
		s.met.reqPrompt.Observe(float64(p.promptTokens))
		s.met.reqGen.Observe(float64(generated * p.n))
		s.met.reqMaxToks.Observe(float64(p.maxTokens))
	}

	switch reason {
	case finishAbort:
		if fault == finishAbort && ctx.Err() == nil || s.ctx.Err() != nil && p.stream {
			// Injected truncation, or Close: drop the connection mid-response.
			if fl != nil && !writeErr {
				fl.Flush()
			}
			panic(http.ErrAbortHandler)
		}
		return // the client is gone
	case finishError:
		msg := "vllmsim: injected error after " + strconv.Itoa(generated) + " tokens"
		if pad := cfg.StreamErrorBytes - len(msg); pad > 0 {
			msg += strings.Repeat(".", pad)
		}
		if !p.stream {
			writeError(w, http.StatusInternalServerError, "", msg)
			return
		}
		eb, _ := json.Marshal(errorBody{Error: errorInfo{Message: msg, Type: errorType(500), Code: 500}})
		out = append(append(append(out[:0], "data: "...), eb...), "\n\n"...)
		write(out)
		write(doneEvent)
		gb.out = out
		return
	}

	if p.stream {
		if p.includeUsage {
			out = append(out[:gb.head], `],"usage":`...)
			out = appendUsage(out, p.promptTokens, generated*p.n, reasoningDone(reasoning, generated)*p.n)
			out = append(out, "}\n\n"...)
			write(out)
		}
		write(doneEvent)
		gb.out = out
		return // net/http flushes and ends the chunked body when the handler returns
	}
	s.writeFinal(w, chat, id, created, &p, gb.toks, reasoning, reason)
}

// outputLen is how many tokens a request generates when nothing fails, and its finish reason: max_tokens
// ("length"), or, when the model emits EOS after eos tokens and the request does not ignore it, the larger
// of eos and min_tokens if that is shorter ("stop").
func (p *parsed) outputLen(eos int) (int, string) {
	if eos > 0 && !p.ignoreEOS {
		if n := max(eos, p.minTokens); n < p.maxTokens {
			return n, finishStop
		}
	}
	return p.maxTokens, finishLength
}

// choiceHash is the text seed of choice c of a prompt with hash h (h itself for the first choice).
func choiceHash(h uint64, c int) uint64 {
	if c == 0 {
		return h
	}
	return hash3(h, kindText, uint64(c))
}

// appendOpen appends a choice's opening fragment (chatOpen or complOpen) with index c.
func appendOpen(b, open []byte, c int) []byte {
	if c == 0 {
		return append(b, open...)
	}
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(c), 10)
	return append(b, open[len(`{"index":0`):]...)
}

// sendNow reports whether a stream sends its tokens sendFrom..k once token k is due (Config.TokensPerChunk):
// the first token alone, a full group, the last token, the last reasoning token, or the token before a fault.
func sendNow(k, sendFrom, outLen, perChunk, reasoning, faultAt int) bool {
	return k == 0 || k+1-sendFrom >= perChunk || k == outLen-1 || k+1 == reasoning || k+1 == faultAt
}

// appendQuotedTokens appends the text of toks as one JSON string.
func appendQuotedTokens(b []byte, toks []int) []byte {
	if len(toks) == 1 {
		return append(b, quotedVocab[toks[0]]...)
	}
	b = append(b, '"')
	for _, t := range toks {
		q := quotedVocab[t]
		b = append(b, q[1:len(q)-1]...)
	}
	return append(b, '"')
}

// appendTokenChunk appends the rest of the chunk of tokens toks of choice c to b, which holds the chunk head:
// chat delta content (or the reasoning field), or completions text; the last token carries the finish reason.
func (s *Server) appendTokenChunk(b []byte, chat bool, c int, toks []int, thinking, lastTok bool, reason string) []byte {
	if !chat {
		b = appendQuotedTokens(appendOpen(b, complOpen, c), toks)
		switch {
		case lastTok && reason == finishStop:
			return append(b, complCloseStop...)
		case lastTok:
			return append(b, complCloseLast...)
		}
		return append(b, complClose...)
	}
	b = appendOpen(b, chatOpen, c)
	if thinking {
		b = append(b, s.reasoningKey...)
	} else {
		b = append(b, contentKey...)
	}
	b = appendQuotedTokens(b, toks)
	switch {
	case lastTok && reason == finishStop:
		return append(b, chatCloseStop...)
	case lastTok:
		return append(b, chatCloseLast...)
	}
	return append(b, chatClose...)
}

// reasoningDone is how many of generated tokens were reasoning tokens, the first reasoning of them.
func reasoningDone(reasoning, generated int) int { return min(reasoning, generated) }

// appendRoleChunk appends the chat stream's role-only chunk (with usage when continuous_usage_stats is on,
// as vLLM sends it: no completion token yet) to b, which holds the chunk head.
func (s *Server) appendRoleChunk(b []byte, p *parsed, c int) []byte {
	b = append(appendOpen(b, chatOpen, c), roleChunk...)
	if p.continuousUsage {
		b = appendChunkUsage(b, p.promptTokens, 0)
	}
	return b
}

// appendChunkUsage adds "usage" to the chunk that ends b (`...]}` and a blank line), for
// stream_options.continuous_usage_stats: the prompt tokens and the completion tokens sent so far.
func appendChunkUsage(b []byte, prompt, completion int) []byte {
	b = append(b[:len(b)-3], `,"usage":`...)
	b = appendUsage(b, prompt, completion, 0)
	return append(b, "}\n\n"...)
}

// appendUsage appends the usage object; completion_tokens_details.reasoning_tokens only when reasoning > 0.
func appendUsage(b []byte, prompt, completion, reasoning int) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	b = append(b, `,"prompt_tokens_details":null`...)
	if reasoning > 0 {
		b = append(b, `,"completion_tokens_details":{"reasoning_tokens":`...)
		b = strconv.AppendInt(b, int64(reasoning), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// usage is the OpenAI usage object.
type usage struct {
	PromptTokens            int            `json:"prompt_tokens"`
	TotalTokens             int            `json:"total_tokens"`
	CompletionTokens        int            `json:"completion_tokens"`
	PromptTokensDetails     *any           `json:"prompt_tokens_details"`
	CompletionTokensDetails *tokensDetails `json:"completion_tokens_details,omitempty"`
}

// tokensDetails is usage.completion_tokens_details.
type tokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// writeFinal writes a non-streaming response (vLLM's CompletionResponse or
// ChatCompletionResponse).
func (s *Server) writeFinal(w http.ResponseWriter, chat bool, id string, created int64, p *parsed, toks []int, reasoning int, finish string) {
	steps := len(toks) / p.n // toks holds each step's token of every choice in turn
	u := usage{PromptTokens: p.promptTokens, CompletionTokens: len(toks), TotalTokens: p.promptTokens + len(toks)}
	if r := reasoningDone(reasoning, steps) * p.n; r > 0 {
		u.CompletionTokensDetails = &tokensDetails{ReasoningTokens: r}
	}
	texts := make([]string, p.n)
	thinks := make([]string, p.n)
	for c := range p.n {
		var text, think bytes.Buffer
		for k := range steps {
			if t := toks[k*p.n+c]; k < reasoning {
				think.WriteString(vocab[t])
			} else {
				text.WriteString(vocab[t])
			}
		}
		texts[c], thinks[c] = text.String(), think.String()
	}
	if !chat {
		type choice struct {
			Index          int     `json:"index"`
			Text           string  `json:"text"`
			Logprobs       *any    `json:"logprobs"`
			FinishReason   string  `json:"finish_reason"`
			StopReason     *string `json:"stop_reason"`
			PromptLogprobs *any    `json:"prompt_logprobs"`
		}
		choices := make([]choice, p.n)
		for c := range choices {
			choices[c] = choice{Index: c, Text: texts[c], FinishReason: finish}
		}
		writeJSON(w, http.StatusOK, struct {
			ID      string   `json:"id"`
			Object  string   `json:"object"`
			Created int64    `json:"created"`
			Model   string   `json:"model"`
			Choices []choice `json:"choices"`
			Usage   usage    `json:"usage"`
		}{id, "text_completion", created, p.modelName(s.cfg.Model), choices, u})
		return
	}
	type message struct {
		Role             string   `json:"role"`
		Content          *string  `json:"content"`
		ReasoningContent *string  `json:"reasoning_content,omitempty"`
		Reasoning        *string  `json:"reasoning,omitempty"`
		ToolCalls        []string `json:"tool_calls"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		Logprobs     *any    `json:"logprobs"`
		FinishReason string  `json:"finish_reason"`
		StopReason   *string `json:"stop_reason"`
	}
	choices := make([]choice, p.n)
	for c := range choices {
		m := message{Role: "assistant", ToolCalls: []string{}}
		if texts[c] != "" || reasoning == 0 {
			m.Content = &texts[c]
		}
		if reasoning > 0 {
			if s.cfg.ReasoningField == "reasoning" {
				m.Reasoning = &thinks[c]
			} else {
				m.ReasoningContent = &thinks[c]
			}
		}
		choices[c] = choice{Index: c, Message: m, FinishReason: finish}
	}
	writeJSON(w, http.StatusOK, struct {
		ID             string   `json:"id"`
		Object         string   `json:"object"`
		Created        int64    `json:"created"`
		Model          string   `json:"model"`
		Choices        []choice `json:"choices"`
		Usage          usage    `json:"usage"`
		PromptLogprobs *any     `json:"prompt_logprobs"`
	}{id, "chat.completion", created, p.modelName(s.cfg.Model), choices, u, nil})
}
