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
	body bytes.Buffer
	out  []byte
	head int // len of out's fixed prefix: `data: {"id":...,"choices":[`
	toks []int
}

// Fragments of the SSE chunks; a chunk is head + open + token + close.
var (
	chatOpen       = []byte(`{"index":0,"delta":{`)
	roleChunk      = []byte(`"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	chatClose      = []byte(`},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	chatCloseLast  = []byte(`},"logprobs":null,"finish_reason":"length","stop_reason":null}]}` + "\n\n")
	complOpen      = []byte(`{"index":0,"text":`)
	complClose     = []byte(`,"logprobs":null,"finish_reason":null,"stop_reason":null}]}` + "\n\n")
	complCloseLast = []byte(`,"logprobs":null,"finish_reason":"length","stop_reason":null}]}` + "\n\n")
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
	p, rerr := parseRequest(gb.body.Bytes(), chat, &s.cfg)
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
		if faultAt > p.maxTokens-1 {
			faultAt = p.maxTokens - 1
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
	need := int64(p.promptTokens + p.maxTokens)
	if err := s.eng.acquire(ctx, need, flushIfDirty); err != nil {
		s.met.success[finishAbort].Inc()
		if p.stream && s.ctx.Err() != nil {
			panic(http.ErrAbortHandler) // Close: cut the response, as for running streams
		}
		return
	}
	admitted := time.Now()
	var sl sleeper
	inFlight := int64(p.promptTokens)
	s.eng.kvInUse.Add(inFlight)
	defer func() {
		sl.stop()
		s.eng.kvInUse.Add(-inFlight)
		s.eng.release(need)
	}()
	s.met.queue.Observe(admitted.Sub(arrival).Seconds())

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
	out = append(out, s.quotedModel...)
	out = append(out, `,"choices":[`...)
	gb.head = len(out)

	if p.stream && chat {
		out = append(append(out[:gb.head], chatOpen...), roleChunk...)
		write(out)
	}

	reasoning := 0
	if chat {
		reasoning = cfg.ReasoningTokens
	}
	if !p.stream {
		gb.toks = gb.toks[:0]
	}

	ttft := time.Duration(float64(cfg.TTFTBase+time.Duration(p.promptTokens)*cfg.TTFTPerPromptToken) * jitterFactor(cfg.Seed, n, 0, cfg.Jitter))
	due := admitted.Add(ttft)
	var first, last time.Time
	generated := 0
	reason := finishLength

	for k := 0; k < p.maxTokens; k++ {
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
		inFlight++
		s.eng.kvInUse.Add(1)
		s.met.genTokens.Inc()

		tok := tokenIndex(cfg.Seed, p.promptHash, k)
		if !p.stream {
			gb.toks = append(gb.toks, tok)
			continue
		}
		lastTok := k == p.maxTokens-1
		out = out[:gb.head]
		if chat {
			out = append(out, chatOpen...)
			if k < reasoning {
				out = append(out, s.reasoningKey...)
			} else {
				out = append(out, contentKey...)
			}
			out = append(out, quotedVocab[tok]...)
			if lastTok {
				out = append(out, chatCloseLast...)
			} else {
				out = append(out, chatClose...)
			}
		} else {
			out = append(out, complOpen...)
			out = append(out, quotedVocab[tok]...)
			if lastTok {
				out = append(out, complCloseLast...)
			} else {
				out = append(out, complClose...)
			}
		}
		write(out)
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
		s.met.reqGen.Observe(float64(generated))
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
			out = appendUsage(out, p.promptTokens, generated)
			out = append(out, "}\n\n"...)
			write(out)
		}
		write(doneEvent)
		gb.out = out
		return // net/http flushes and ends the chunked body when the handler returns
	}
	s.writeFinal(w, chat, id, created, &p, gb.toks, reasoning)
}

func appendUsage(b []byte, prompt, completion int) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	return append(b, `,"prompt_tokens_details":null}`...)
}

// usage is the OpenAI usage object.
type usage struct {
	PromptTokens        int  `json:"prompt_tokens"`
	TotalTokens         int  `json:"total_tokens"`
	CompletionTokens    int  `json:"completion_tokens"`
	PromptTokensDetails *any `json:"prompt_tokens_details"`
}

// writeFinal writes a non-streaming response (vLLM's CompletionResponse or
// ChatCompletionResponse).
func (s *Server) writeFinal(w http.ResponseWriter, chat bool, id string, created int64, p *parsed, toks []int, reasoning int) {
	var text, think bytes.Buffer
	for k, t := range toks {
		if k < reasoning {
			think.WriteString(vocab[t])
		} else {
			text.WriteString(vocab[t])
		}
	}
	u := usage{PromptTokens: p.promptTokens, CompletionTokens: len(toks), TotalTokens: p.promptTokens + len(toks)}
	if !chat {
		type choice struct {
			Index          int     `json:"index"`
			Text           string  `json:"text"`
			Logprobs       *any    `json:"logprobs"`
			FinishReason   string  `json:"finish_reason"`
			StopReason     *string `json:"stop_reason"`
			PromptLogprobs *any    `json:"prompt_logprobs"`
		}
		writeJSON(w, http.StatusOK, struct {
			ID      string   `json:"id"`
			Object  string   `json:"object"`
			Created int64    `json:"created"`
			Model   string   `json:"model"`
			Choices []choice `json:"choices"`
			Usage   usage    `json:"usage"`
		}{id, "text_completion", created, s.cfg.Model, []choice{{Text: text.String(), FinishReason: finishLength}}, u})
		return
	}
	type message struct {
		Role             string   `json:"role"`
		Content          *string  `json:"content"`
		ReasoningContent *string  `json:"reasoning_content,omitempty"`
		Reasoning        *string  `json:"reasoning,omitempty"`
		ToolCalls        []string `json:"tool_calls"`
	}
	m := message{Role: "assistant", ToolCalls: []string{}}
	if c := text.String(); c != "" || reasoning == 0 {
		m.Content = &c
	}
	if reasoning > 0 {
		r := think.String()
		if s.cfg.ReasoningField == "reasoning" {
			m.Reasoning = &r
		} else {
			m.ReasoningContent = &r
		}
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		Logprobs     *any    `json:"logprobs"`
		FinishReason string  `json:"finish_reason"`
		StopReason   *string `json:"stop_reason"`
	}
	writeJSON(w, http.StatusOK, struct {
		ID             string   `json:"id"`
		Object         string   `json:"object"`
		Created        int64    `json:"created"`
		Model          string   `json:"model"`
		Choices        []choice `json:"choices"`
		Usage          usage    `json:"usage"`
		PromptLogprobs *any     `json:"prompt_logprobs"`
	}{id, "chat.completion", created, s.cfg.Model, []choice{{Message: m, FinishReason: finishLength}}, u, nil})
}
