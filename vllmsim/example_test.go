package vllmsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vmtest/vmtest/vllmsim"
)

// The simulator outside a test: NewServer starts it (New does the same in a test and closes it at the end).
// Its output is the same for the same Seed and prompt; the timing follows the Config.
func ExampleNewServer() {
	s, err := vllmsim.NewServer(vllmsim.Config{Seed: 1, TTFTBase: 20 * time.Millisecond, TimePerOutputToken: time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	body := `{"model": "` + vllmsim.DefaultModel + `", "prompt": "What is a KV cache?", "max_tokens": 4}`
	resp, err := http.Post(s.URL+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Text         string `json:"text"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		panic(err)
	}
	fmt.Printf("%d %q finish_reason=%s\n", resp.StatusCode, out.Choices[0].Text, out.Choices[0].FinishReason)
	fmt.Printf("prompt_tokens=%d completion_tokens=%d\n", out.Usage.PromptTokens, out.Usage.CompletionTokens)
	// Output:
	// 200 " keys model cache the" finish_reason=length
	// prompt_tokens=5 completion_tokens=4
}
