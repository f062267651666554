package vllmsim

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// event is one SSE data event with its arrival time since the request start.
type event struct {
	at   time.Duration
	data string
}

// streamResult is a whole streamed response.
type streamResult struct {
	status  int
	header  http.Header
	events  []event
	readErr error // non-nil when the body ended abnormally
}

func post(t *testing.T, ctx context.Context, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := testClient.Do(req)
	require.NoError(t, err)
	return resp
}

// testClient keeps enough idle connections for the concurrent tests.
var testClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// stream posts body and reads every SSE data event, timing each from the
// moment the request was sent.
func stream(t *testing.T, url, body string) streamResult {
	t.Helper()
	start := time.Now()
	resp := post(t, context.Background(), url, body)
	return readStream(resp, start)
}

// readStream reads a streamed response to its end (closing it), its events timed from start.
func readStream(resp *http.Response, start time.Time) streamResult {
	defer resp.Body.Close()
	res := streamResult{status: resp.StatusCode, header: resp.Header}
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if strings.HasPrefix(line, "data: ") && strings.HasSuffix(line, "\n") {
			res.events = append(res.events, event{at: time.Since(start), data: strings.TrimSuffix(line[len("data: "):], "\n")})
		}
		if err != nil {
			if err != io.EOF {
				res.readErr = err
			}
			return res
		}
	}
}

// chunk is the union of completion and chat chunk fields the tests read.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int     `json:"index"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
		Delta        *struct {
			Role             *string `json:"role"`
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
			Reasoning        *string `json:"reasoning"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

func decodeChunks(t *testing.T, evs []event) []chunk {
	t.Helper()
	var out []chunk
	for _, e := range evs {
		if e.data == "[DONE]" {
			continue
		}
		var c chunk
		require.NoError(t, json.Unmarshal([]byte(e.data), &c), "chunk %q", e.data)
		out = append(out, c)
	}
	return out
}

// scrape reads /metrics with the text parser the samplers use.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// value returns the value of the series of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	require.True(t, ok, "family %s missing", name)
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no series of %s with labels %v", name, want)
	return 0
}
