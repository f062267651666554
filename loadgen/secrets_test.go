package loadgen

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testhttp"
)

const (
	testKey  = "sk-test-0123456789"
	testPass = "url-pass-98765"
	testHdr  = "hdr-secret-55555"
)

// A server that echoes every credential it got in its error body (as some gateways do) never gets them into
// the request's error, the HTTPError's body, the model check's error or ModelNotServedError.
func TestClientErrorsShowNoSecret(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		echo := testhttp.Transport{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, _ := r.BasicAuth()
			if r.URL.Path == "/v1/models" && r.Header.Get("Authorization") == "Bearer "+testKey {
				_, _ = w.Write([]byte(`{"data":[{"id":"other"}]}`))
				return
			}
			http.Error(w, "denied: "+r.Header.Get("Authorization")+" "+u+":"+p+" "+r.Header.Get("X-Gw")+" at "+r.URL.String(), http.StatusUnauthorized)
		})}
		base := "http://alice:" + testPass + "@fake.invalid"
		c, err := NewClient(ClientConfig{BaseURL: base, APIKey: testKey, Header: http.Header{"X-Gw": {testHdr}}, Transport: echo})
		require.NoError(t, err)
		rec := c.Do(context.Background(), TextPrompts("p")[0], Params{Model: "m"})
		require.Error(t, rec.Err)
		var he *HTTPError
		require.ErrorAs(t, rec.Err, &he)
		assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
		assert.Contains(t, he.Body, "denied: Bearer xxxxx", "the key was sent, and is hidden")
		for _, msg := range []string{rec.Err.Error(), he.Error()} {
			for _, s := range []string{testKey, testPass, testHdr} {
				assert.NotContains(t, msg, s)
			}
		}
		assert.Equal(t, rec.Start, rec.Responded)

		err = CheckModel(context.Background(), c, "m")
		var ns *ModelNotServedError
		require.True(t, errors.As(err, &ns))
		assert.Equal(t, "http://alice:xxxxx@fake.invalid", ns.BaseURL)
		assert.NotContains(t, err.Error(), testPass)

		c2, err := NewClient(ClientConfig{BaseURL: base, Transport: echo})
		require.NoError(t, err)
		_, err = c2.Models(context.Background())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testPass)
		assert.Contains(t, err.Error(), "alice:xxxxx")
	})
}
