package samplers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
)

// Every scrape sends the same headers, each once: the GET built once is sent as a copy each time, and
// nothing a scrape adds (the URL's basic auth) stays in it for the next.
func TestVLLMRequestHeadersEachScrape(t *testing.T) {
	body := vllmCapture(t, vllmV0Capture)
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	const accept = "text/plain;version=0.0.4;q=1.0,*/*;q=0.1"
	for _, tc := range []struct {
		name, url string
		auth      auth.Config
		authz     string // the Authorization header each request carries
	}{
		{"bearer", srv.URL, auth.Config{BearerToken: "tok", Header: http.Header{"X-Team": {"a"}}}, "Bearer tok"},
		// base64("u:p") = "dTpw"
		{"url credentials", strings.Replace(srv.URL, "http://", "http://u:p@", 1), auth.Config{}, "Basic dTpw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			v := newTestVLLM(t, VLLMConfig{BaseURL: tc.url, Auth: tc.auth})
			for range 3 {
				require.NoError(t, take(t, v).Err)
			}
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, 3)
			for i, h := range got {
				assert.Equal(t, []string{accept}, h.Values("Accept"), "scrape %d", i)
				assert.Equal(t, []string{tc.authz}, h.Values("Authorization"), "scrape %d", i)
				assert.Equal(t, tc.auth.Header.Values("X-Team"), h.Values("X-Team"), "scrape %d", i)
			}
		})
	}
}
