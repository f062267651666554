package vllmsim

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

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

// loraInfo returns the labels of the one vllm:lora_requests_info series.
func loraInfo(t *testing.T, s *Server) map[string]string {
	t.Helper()
	f, ok := scrape(t, s)["vllm:lora_requests_info"]
	require.True(t, ok)
	require.Len(t, f.GetMetric(), 1)
	got := map[string]string{}
	for _, l := range f.GetMetric()[0].GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	return got
}

// vllm:lora_requests_info names the adapters with running requests while they run, as vLLM V1 exports it;
// a request for the base model is not an adapter's.
func TestLoRARequestsInfo(t *testing.T) {
	s := New(t, Config{Model: "base", LoRAModules: []string{"sql-lora", "chat-lora"}, TimePerOutputToken: time.Hour})
	want := map[string]string{"max_lora": "2", "running_lora_adapters": "", "waiting_lora_adapters": ""}
	assert.Equal(t, want, loraInfo(t, s))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bodies []*bufio.Reader
	for _, m := range []string{"sql-lora", "base"} {
		resp := post(t, ctx, s.URL+"/v1/completions", `{"model":"`+m+`","prompt":"a","max_tokens":3,"stream":true}`)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		_, err := br.ReadString('\n') // the first token's event: the request runs (the next is an hour away)
		require.NoError(t, err)
		bodies = append(bodies, br)
	}
	want["running_lora_adapters"] = "sql-lora"
	assert.Equal(t, want, loraInfo(t, s))
	assert.Len(t, bodies, 2)
}

func TestNoLoRARequestsInfoWithoutAdapters(t *testing.T) {
	_, ok := scrape(t, New(t, Config{}))["vllm:lora_requests_info"]
	assert.False(t, ok)
}
