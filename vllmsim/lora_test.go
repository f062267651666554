package vllmsim

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// LoRA adapters are listed with the base model as parent, served under their own name, and counted in the
// metrics under the base model's model_name, as vLLM does.
func TestLoRAModules(t *testing.T) {
	s := New(t, Config{Model: "base", LoRAModules: []string{"sql-lora", "chat-lora"}})
	resp, err := http.Get(s.URL + "/v1/models")
	require.NoError(t, err)
	var list struct {
		Data []struct {
			ID     string  `json:"id"`
			Parent *string `json:"parent"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	resp.Body.Close()
	require.Len(t, list.Data, 3)
	assert.Equal(t, "base", list.Data[0].ID)
	assert.Nil(t, list.Data[0].Parent)
	assert.Equal(t, "sql-lora", list.Data[1].ID)
	require.NotNil(t, list.Data[1].Parent)
	assert.Equal(t, "base", *list.Data[1].Parent)

	for _, m := range []string{"base", "sql-lora", "chat-lora"} {
		r := post(t, context.Background(), s.URL+"/v1/completions", `{"model":"`+m+`","prompt":"a b","max_tokens":2}`)
		var body struct {
			Model string `json:"model"`
		}
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		r.Body.Close()
		assert.Equal(t, m, body.Model, "the response names the model asked for")
	}
	r := post(t, context.Background(), s.URL+"/v1/completions", `{"model":"other","prompt":"a","max_tokens":1}`)
	r.Body.Close()
	assert.Equal(t, http.StatusNotFound, r.StatusCode)
	fams := scrape(t, s)
	assert.Equal(t, 3.0, value(t, fams, "vllm:e2e_request_latency_seconds", map[string]string{"model_name": "base"}))
}

func TestLoRAModulesInvalid(t *testing.T) {
	for _, l := range [][]string{{""}, {"a", "a"}, {"base"}} {
		_, err := NewServer(Config{Model: "base", LoRAModules: l})
		assert.ErrorContains(t, err, "Config.LoRAModules", "%q", l)
	}
}
