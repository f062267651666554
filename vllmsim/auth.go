package vllmsim

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// guard answers 401 to a request without the credentials Config.APIKey (on /v1) or Config.MetricsUsername
// (on /metrics) require, and passes the others to next.
func (s *Server) guard(next http.Handler) http.Handler {
	if s.cfg.APIKey == "" && s.cfg.MetricsUsername == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case s.cfg.APIKey != "" && strings.HasPrefix(r.URL.Path, "/v1/"):
			if !equal(r.Header.Get("Authorization"), "Bearer "+s.cfg.APIKey) {
				s.unauthorized.Add(1)
				writeError(w, http.StatusUnauthorized, "", "vllmsim: missing or wrong API key (Authorization: Bearer ...)")
				return
			}
		case s.cfg.MetricsUsername != "" && r.URL.Path == "/metrics":
			u, p, ok := r.BasicAuth()
			if !ok || !equal(u, s.cfg.MetricsUsername) || !equal(p, s.cfg.MetricsPassword) {
				s.unauthorized.Add(1)
				w.Header().Set("WWW-Authenticate", `Basic realm="metrics"`)
				http.Error(w, "vllmsim: /metrics needs basic auth", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Unauthorized returns how many requests were refused with 401 for missing or wrong credentials
// (Config.APIKey, Config.MetricsUsername).
func (s *Server) Unauthorized() int64 { return s.unauthorized.Load() }
