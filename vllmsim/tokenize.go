package vllmsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// Special token ids of the simulator's tokenizer; a word's id is 16 or above.
const (
	tokMsgStart = 1 // opens a chat message, before its role
	tokMsgEnd   = 2 // closes a chat message's content
	tokNewline  = 3 // follows tokMsgEnd
	firstWordID = 16
	wordIDs     = 50000 // word ids are firstWordID + fnv64(word) % wordIDs
)

var specialStrs = map[int]string{tokMsgStart: "<|im_start|>", tokMsgEnd: "<|im_end|>", tokNewline: "\n"}

// tokenizer appends a prompt's token ids (and, when strs is not nil, their strings) as the simulator counts
// them: one id per whitespace-separated word; a chat message is <|im_start|> role content... <|im_end|> \n,
// that is its words plus ChatTokensPerMessage.
type tokenizer struct {
	ids  []int
	strs *[]string
}

func (t *tokenizer) words(s string) {
	start := -1
	for i := 0; i <= len(s); i++ {
		sep := i == len(s)
		if !sep {
			switch s[i] {
			case ' ', '\t', '\n', '\r', '\v', '\f':
				sep = true
			}
		}
		switch {
		case sep && start >= 0:
			t.word(s[start:i])
			start = -1
		case !sep && start < 0:
			start = i
		}
	}
}

func (t *tokenizer) word(w string) {
	t.ids = append(t.ids, firstWordID+int(fnv64(0, w)%wordIDs))
	if t.strs != nil {
		*t.strs = append(*t.strs, w)
	}
}

func (t *tokenizer) special(id int) {
	t.ids = append(t.ids, id)
	if t.strs != nil {
		*t.strs = append(*t.strs, specialStrs[id])
	}
}

// message appends one chat message: ChatTokensPerMessage (4) tokens around its content's words.
func (t *tokenizer) message(role, text string) {
	t.special(tokMsgStart)
	t.word(role)
	t.words(text)
	t.special(tokMsgEnd)
	t.special(tokNewline)
}

// tokenizeRequest is vLLM's TokenizeCompletionRequest and TokenizeChatRequest together: exactly one of
// prompt and messages. add_special_tokens and add_generation_prompt are accepted and change nothing (the
// simulator adds no BOS and no generation prompt, on /tokenize as on the generation endpoints).
type tokenizeRequest struct {
	Model               *string         `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessage   `json:"messages"`
	AddSpecialTokens    *bool           `json:"add_special_tokens"`
	AddGenerationPrompt *bool           `json:"add_generation_prompt"`
	ReturnTokenStrs     bool            `json:"return_token_strs"`
}

// tokenizeResponse is vLLM's TokenizeResponse.
type tokenizeResponse struct {
	Count       int      `json:"count"`
	MaxModelLen int      `json:"max_model_len"`
	Tokens      []int    `json:"tokens"`
	TokenStrs   []string `json:"token_strs,omitempty"`
}

// serveTokenize serves POST /tokenize: the prompt's token ids as the generation endpoints count them, so
// "count" equals the usage.prompt_tokens of a completion or chat request with the same prompt or messages.
func (s *Server) serveTokenize(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, maxBodyBytes)); err != nil {
		writeError(w, http.StatusBadRequest, "", "reading request body: "+err.Error())
		return
	}
	var req tokenizeRequest
	if err := json.Unmarshal(body.Bytes(), &req); err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid JSON body: "+err.Error())
		return
	}
	if req.Model != nil && *req.Model != s.cfg.Model {
		writeError(w, http.StatusNotFound, "model", "The model `"+*req.Model+"` does not exist.")
		return
	}
	hasPrompt := len(req.Prompt) > 0 && string(req.Prompt) != "null"
	if hasPrompt == (req.Messages != nil) {
		writeError(w, http.StatusBadRequest, "", "exactly one of `prompt` and `messages` is required")
		return
	}
	var t tokenizer
	var strs []string
	if req.ReturnTokenStrs {
		t.strs = &strs
	}
	if hasPrompt {
		if _, rerr := tokenizePrompt(&t, req.Prompt); rerr != nil {
			writeError(w, rerr.status, rerr.param, rerr.msg)
			return
		}
	} else if rerr := tokenizeMessages(&t, req.Messages); rerr != nil {
		writeError(w, rerr.status, rerr.param, rerr.msg)
		return
	}
	if t.ids == nil {
		t.ids = []int{}
	}
	writeJSON(w, http.StatusOK, tokenizeResponse{Count: len(t.ids), MaxModelLen: s.cfg.MaxModelLen, Tokens: t.ids, TokenStrs: strs})
}

// tokenizeMessages appends the tokens of chat messages, or returns the 400 naming the bad message.
func tokenizeMessages(t *tokenizer, msgs []chatMessage) *requestError {
	if len(msgs) == 0 {
		return badRequest("messages", "`messages` must not be empty")
	}
	for i, m := range msgs {
		if m.Role == "" {
			return badRequest("messages", "messages[%d].role is required", i)
		}
		text, err := messageText(m.Content)
		if err != nil {
			return badRequest("messages", "messages[%d].content: %v", i, err)
		}
		t.message(m.Role, text)
	}
	return nil
}

// tokenizePrompt appends the tokens of a completions prompt (a string's words, or the given token ids; or a
// one-element array of either) and returns its hash, the seed of the output text.
func tokenizePrompt(t *tokenizer, raw json.RawMessage) (uint64, *requestError) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, badRequest("prompt", "%v", err)
		}
		t.words(s)
		return fnv64(0, s), nil
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return 0, badRequest("prompt", "%v", err)
		}
		if len(items) == 0 {
			return 0, badRequest("prompt", "prompt must not be empty")
		}
		first := bytes.TrimSpace(items[0])
		if len(first) > 0 && (first[0] == '"' || first[0] == '[') {
			if len(items) != 1 {
				return 0, badRequest("prompt", "vllmsim serves one prompt per request, got %d", len(items))
			}
			return tokenizePrompt(t, first)
		}
		var h uint64
		for _, it := range items {
			id, err := strconv.Atoi(string(bytes.TrimSpace(it)))
			if err != nil {
				return 0, badRequest("prompt", "prompt token ids must be integers")
			}
			t.ids = append(t.ids, id)
			if t.strs != nil {
				*t.strs = append(*t.strs, "<"+strconv.Itoa(id)+">")
			}
			h = fnv64(h, string(it)+",")
		}
		return h, nil
	}
	return 0, badRequest("prompt", "prompt must be a string, an array of strings, or an array of token ids")
}
