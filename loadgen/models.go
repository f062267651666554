package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Caps on a server's model list as Models keeps it.
const (
	// MaxModels is the most model ids Models returns.
	MaxModels = 256
	// MaxModelName caps one model id (bytes; a cut id ends in "…").
	MaxModelName = 512
)

// Models returns the ids of the models the server serves, in the order of its GET /v1/models answer (the
// OpenAI API's model list, which vLLM serves; the first is what vLLM serves by default). It sends the
// client's APIKey and Header. A non-2xx answer, an answer that is not the list's JSON, or a list without a
// model is an error naming the URL. ctx bounds the request (the client itself has no overall timeout). At most
// MaxModels ids are kept, each cut at MaxModelName bytes with "…". Its errors show no secret of the client
// (auth.Redact).
func (c *Client) Models(ctx context.Context) ([]string, error) {
	ids, err := c.models(ctx)
	return ids, c.redactErr(err)
}

func (c *Client) models(ctx context.Context) ([]string, error) {
	url := strings.TrimSuffix(c.completURL, string(Completions)) + "/v1/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("loadgen: list models at %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	for k, vs := range c.cfg.Header {
		req.Header[k] = append(req.Header[k], vs...)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadgen: list models at %s: %w", url, err)
	}
	defer resp.Body.Close()
	defer drain(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorText))
		return nil, fmt.Errorf("loadgen: list models at %s: %w", url, c.httpError(resp, head, time.Now()))
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("loadgen: list models at %s: not a model list: %w", url, err)
	}
	ids := make([]string, 0, min(len(list.Data), MaxModels))
	for _, m := range list.Data {
		if m.ID != "" && len(ids) < MaxModels {
			ids = append(ids, capText(m.ID, MaxModelName))
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("loadgen: list models at %s: the server lists no model", url)
	}
	return ids, nil
}

// Validate returns the error Run would return for cfg before sending anything — an invalid load setting,
// prompt, client setting or request parameter, naming the field — or nil when Run would start. It sends
// nothing and leaves nothing open, so that a caller can reject a configuration before starting the work
// around a run (a collector, a server).
func (cfg LoadConfig) Validate() error {
	if err := cfg.validate(); err != nil {
		return err
	}
	c, err := NewClient(cfg.Client)
	if err != nil {
		return err
	}
	c.Close()
	_, err = newEncoder(cfg.Params)
	return err
}
