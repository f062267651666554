package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

// runAll sends every prompt once, one at a time, and returns the records in order.
func runAll(t *testing.T, url string, prompts []Prompt, chat bool) []*sliceSink {
	t.Helper()
	sink := &sliceSink{}
	ep := Completions
	if chat {
		ep = ChatCompletions
	}
	_, err := Run(context.Background(), LoadConfig{
		Client:      ClientConfig{BaseURL: url, Endpoint: ep},
		Prompts:     prompts,
		Params:      Params{Model: vllmsim.DefaultModel},
		Concurrency: 1,
		Requests:    len(prompts),
		Sink:        sink,
	})
	require.NoError(t, err)
	return []*sliceSink{sink}
}

// Every prompt's usage.prompt_tokens, as the simulator counts it when served, is the requested length, and
// every request generates its max_tokens although the model would stop after 3 (ignore_eos by default).
func TestSyntheticExactLengthsAgainstSimulator(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{EOSAfterTokens: 3})
	for _, chat := range []bool{false, true} {
		w, err := Synthetic{
			Count: 12, Input: FixedLengths(100), Output: UniformLengths(5, 9), Chat: chat, Seed: 7,
			Tokenizer: &ServerTokenizer{BaseURL: sim.URL + "/v1", Model: vllmsim.DefaultModel},
		}.Generate(context.Background())
		require.NoError(t, err)
		assert.True(t, w.Exact)
		assert.Empty(t, w.Note)
		require.Len(t, w.Prompts, 12)
		for i, p := range w.Prompts {
			assert.Equal(t, chat, p.IsChat())
			assert.Equal(t, 100, w.InputTokens[i])
			require.NotNil(t, p.IgnoreEOS)
			assert.True(t, *p.IgnoreEOS)
			assert.GreaterOrEqual(t, p.MaxTokens, 5)
			assert.LessOrEqual(t, p.MaxTokens, 9)
		}
		recs := runAll(t, sim.URL, w.Prompts, chat)[0].all()
		require.Len(t, recs, 12)
		for i, r := range recs {
			assert.Equal(t, 100, r.PromptTokens, "request %d: the server's usage.prompt_tokens", i)
			assert.Equal(t, r.RequestedOutputTokens, r.OutputTokens, "request %d: ignore_eos makes it generate max_tokens", i)
		}
	}
}

// Shared-prefix mode: 2 prefixes of 64 tokens × 8 suffixes of 20 tokens. Sent one at a time, the first
// request of each prefix misses and the 14 others hit its 4 blocks (64 tokens), so the simulator counts
// 14·64 hits over 16·84 queried tokens, whatever the shuffled order.
func TestSyntheticSharedPrefixHitsTheCache(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{})
	w, err := Synthetic{
		Input: FixedLengths(20), Output: FixedLengths(2), Prefixes: 2, PrefixTokens: 64, SuffixesPerPrefix: 8,
		Seed: 3, Tokenizer: &ServerTokenizer{BaseURL: sim.URL},
	}.Generate(context.Background())
	require.NoError(t, err)
	require.Len(t, w.Prompts, 16)
	heads := map[string]int{}
	for i, p := range w.Prompts {
		assert.Equal(t, 84, w.InputTokens[i])
		heads[strings.Join(strings.Fields(p.Text)[:64], " ")]++
	}
	assert.Equal(t, map[string]int{}, without(heads, 8), "two prefixes, 8 prompts each")
	runAll(t, sim.URL, w.Prompts, false)

	resp, err := http.Get(sim.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	counter := func(name string) float64 { return fams[name].GetMetric()[0].GetCounter().GetValue() }
	assert.Equal(t, float64(16*84), counter("vllm:prefix_cache_queries_total"))
	assert.Equal(t, float64(14*64), counter("vllm:prefix_cache_hits_total"))
}

// without returns m less the keys whose value is v (and fails the comparison when there are not two).
func without(m map[string]int, v int) map[string]int {
	out := map[string]int{}
	for k, n := range m {
		if n != v {
			out[k] = n
		}
	}
	if len(m) != 2 {
		out["<count of prefixes>"] = len(m)
	}
	return out
}

// A server without /tokenize: lengths are counted as words, and the workload says they are approximate.
func TestSyntheticWithoutTokenizerIsApproximate(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for _, tok := range []Tokenizer{nil, &ServerTokenizer{BaseURL: srv.URL}} {
		w, err := Synthetic{Count: 3, Input: FixedLengths(10), Output: FixedLengths(4), Tokenizer: tok}.Generate(context.Background())
		require.NoError(t, err)
		assert.False(t, w.Exact)
		assert.Contains(t, w.Note, "input lengths are approximate")
		for i, p := range w.Prompts {
			assert.Len(t, strings.Fields(p.Text), 10, "prompt %d: 10 words", i)
		}
	}
	_, err := (&ServerTokenizer{BaseURL: srv.URL}).Count(context.Background(), Prompt{Text: "a"})
	assert.ErrorIs(t, err, ErrNoTokenizer)
}

// A tokenizer that counts two tokens for some words: refine still reaches every target.
func TestSyntheticRefinesUnevenTokenizer(t *testing.T) {
	w, err := Synthetic{Count: 20, Input: UniformLengths(3, 60), Output: FixedLengths(1), Seed: 1, Tokenizer: unevenTokenizer{}}.Generate(context.Background())
	require.NoError(t, err)
	for i, p := range w.Prompts {
		n, _ := unevenTokenizer{}.Count(context.Background(), p)
		assert.Equal(t, w.InputTokens[i], n)
	}
	assert.True(t, w.Exact, w.Note)
}

// unevenTokenizer counts a word of more than 4 letters as 2 tokens.
type unevenTokenizer struct{}

func (unevenTokenizer) Count(_ context.Context, p Prompt) (int, error) {
	n := 0
	for _, f := range strings.Fields(p.Text) {
		n++
		if len(f) > 4 {
			n++
		}
	}
	return n, nil
}

func TestSyntheticErrors(t *testing.T) {
	for _, c := range []struct {
		s    Synthetic
		want string
	}{
		{Synthetic{Count: 1, Output: FixedLengths(1)}, "Synthetic.Input"},
		{Synthetic{Count: 1, Input: FixedLengths(1)}, "Synthetic.Output"},
		{Synthetic{Input: FixedLengths(1), Output: FixedLengths(1)}, "Count is 0"},
		{Synthetic{Count: 1, Input: FixedLengths(1), Output: FixedLengths(1), Prefixes: 2}, "PrefixTokens 0"},
		{Synthetic{Count: 1, Input: FixedLengths(1), Output: FixedLengths(1), PrefixTokens: 5}, "need Prefixes"},
	} {
		_, err := c.s.Generate(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestPromptIgnoreEOSAndMinTokensInBody(t *testing.T) {
	e, err := newEncoder(Params{MaxTokens: 8, Extra: map[string]any{"ignore_eos": true, "min_tokens": float64(2), "seed": 1}})
	require.NoError(t, err)
	b, err := e.body(&Prompt{Text: "hi"}, false)
	require.NoError(t, err)
	assert.JSONEq(t, `{"prompt":"hi","max_tokens":8,"ignore_eos":true,"min_tokens":2,"seed":1,"stream":true,"stream_options":{"include_usage":true}}`, string(b))
	b, err = e.body(&Prompt{Text: "hi", IgnoreEOS: Bool(false), MinTokens: 5, MaxTokens: 6}, false)
	require.NoError(t, err)
	assert.JSONEq(t, `{"prompt":"hi","max_tokens":6,"ignore_eos":false,"min_tokens":5,"seed":1,"stream":true,"stream_options":{"include_usage":true}}`, string(b))

	_, err = newEncoder(Params{IgnoreEOS: Bool(true), Extra: map[string]any{"ignore_eos": true}})
	assert.ErrorContains(t, err, "both")
	_, err = newEncoder(Params{Extra: map[string]any{"ignore_eos": "yes"}})
	assert.ErrorContains(t, err, "want a bool")
	_, err = newEncoder(Params{Extra: map[string]any{"min_tokens": 1.5}})
	assert.ErrorContains(t, err, "whole number")

	ps, err := ReadPrompts(strings.NewReader(`{"prompt":"a","max_tokens":4,"min_tokens":4,"ignore_eos":true}` + "\n"))
	require.NoError(t, err)
	assert.Equal(t, Prompt{Text: "a", MaxTokens: 4, MinTokens: 4, IgnoreEOS: Bool(true)}, ps[0])
	_, err = ReadPrompts(strings.NewReader(`{"prompt":"a","max_tokens":4,"min_tokens":5}`))
	assert.ErrorContains(t, err, "line 1: min_tokens 5 is above max_tokens 4")
}
