package loadgen

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix("base=3, sql-lora=1,chat")
	require.NoError(t, err)
	assert.Equal(t, Mix{{"base", 3}, {"sql-lora", 1}, {"chat", 1}}, m)
	for _, bad := range []string{"", "a=0", "a=-1", "a=x", "a,a", "=2", "a=Inf", "a=NaN"} {
		_, err := ParseMix(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// With weights 3:1 over N requests against a simulator serving a base model and a LoRA adapter, each
// model's request count in the recorder's per-model summary is that of the seeded draw, computed here on
// its own: u uniform in [0, 4) from the same PCG, the first model when u < 3.
func TestMixPerModelCounts(t *testing.T) {
	const n, seed = 40, 7
	rng := rand.New(rand.NewPCG(seed, mixStream))
	want := map[string]int{}
	for range n {
		if rng.Float64()*4 < 3 {
			want["base"]++
		} else {
			want["sql-lora"]++
		}
	}
	require.NotZero(t, want["sql-lora"])
	sim := vllmsim.New(t, vllmsim.Config{Model: "base", LoRAModules: []string{"sql-lora"}})
	mix, err := ParseMix("base=3,sql-lora=1")
	require.NoError(t, err)
	rec := recorder.New(time.Now(), recorder.Config{})
	_, err = Run(context.Background(), LoadConfig{Client: ClientConfig{BaseURL: sim.URL},
		Prompts: mix.Apply(TextPrompts("a b c", "d e"), n, seed), Params: Params{MaxTokens: 2},
		Concurrency: 4, Requests: n, Sink: rec})
	require.NoError(t, err)
	s := rec.Summarize()
	require.Equal(t, n, s.OK)
	got := map[string]int{}
	for m, ms := range s.ByModel {
		got[m] = ms.OK
	}
	assert.Equal(t, want, got)
}

// A prompt naming its own model keeps it; Apply cycles the prompts.
func TestMixApplyKeepsPromptModel(t *testing.T) {
	ps := Mix{{"a", 1}}.Apply([]Prompt{{Text: "x", Model: "own"}, {Text: "y"}}, 3, 1)
	require.Len(t, ps, 3)
	assert.Equal(t, []string{"own", "a", "own"}, []string{ps[0].Model, ps[1].Model, ps[2].Model})
	assert.Equal(t, "x", ps[2].Text)
}

// A JSONL prompt may name its model.
func TestReadPromptsModel(t *testing.T) {
	ps, err := ReadPrompts(strings.NewReader(`{"prompt": "a", "model": "sql-lora"}` + "\n" + `{"prompt": "b"}`))
	require.NoError(t, err)
	assert.Equal(t, "sql-lora", ps[0].Model)
	assert.Equal(t, "", ps[1].Model)
}
