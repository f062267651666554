// Package auth holds the credentials vmtest sends to the servers it drives and scrapes (a bearer token,
// basic auth, extra headers) and Redact, the one function that keeps them, and any password written in a
// URL, out of everything vmtest shows or writes: flag help, logs, errors, snapshots, summaries, CSV rows.
package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"strings"
)

// Config is what a scrape sends to authenticate. The zero value sends nothing. Credentials written in the
// URL itself (http://user:pass@host) are sent as basic auth by net/http whatever Config holds.
type Config struct {
	// BearerToken, when set, is sent as "Authorization: Bearer <BearerToken>".
	BearerToken string
	// Username and Password, when Username is set, are sent as basic auth (RFC 7617). Exclusive with
	// BearerToken.
	Username, Password string
	// Header is added to every request (e.g. an API gateway's key header). Every value counts as a secret.
	Header http.Header
}

// Environment variable suffixes FromEnv reads after its prefix and "_".
const (
	EnvBearerToken = "BEARER_TOKEN"
	EnvUsername    = "USERNAME"
	EnvPassword    = "PASSWORD"
	// EnvHeaders holds headers, "Name: value", one per line.
	EnvHeaders = "HEADERS"
)

// FromEnv reads a Config from <prefix>_BEARER_TOKEN, <prefix>_USERNAME, <prefix>_PASSWORD and
// <prefix>_HEADERS ("Name: value" lines); unset variables leave their fields empty. A malformed header line
// is an error naming the variable and the line's number, never its text.
func FromEnv(prefix string) (Config, error) {
	c := Config{
		BearerToken: strings.TrimSpace(os.Getenv(prefix + "_" + EnvBearerToken)),
		Username:    os.Getenv(prefix + "_" + EnvUsername),
		Password:    os.Getenv(prefix + "_" + EnvPassword),
	}
	if hs := os.Getenv(prefix + "_" + EnvHeaders); hs != "" {
		for i, line := range strings.Split(hs, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if err := c.AddHeader(line); err != nil {
				return Config{}, fmt.Errorf("%s_%s line %d: %w", prefix, EnvHeaders, i+1, err)
			}
		}
	}
	return c, nil
}

// AddHeader adds one "Name: value" header to c.Header. The error names what is wrong without repeating
// the value, which may be a secret.
func (c *Config) AddHeader(line string) error {
	name, value, ok := strings.Cut(line, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
		return errors.New(`want "Name: value" (the value is not shown)`)
	}
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	return nil
}

// IsZero reports whether c sends nothing.
func (c Config) IsZero() bool {
	return c.BearerToken == "" && c.Username == "" && c.Password == "" && len(c.Header) == 0
}

// Validate returns an error when c is contradictory: a bearer token and basic auth together, or a password
// without a user name. The error names the fields, never their values.
func (c Config) Validate() error {
	switch {
	case c.BearerToken != "" && (c.Username != "" || c.Password != ""):
		return errors.New("BearerToken and Username/Password exclude each other")
	case c.Password != "" && c.Username == "":
		return errors.New("Password without Username")
	}
	return nil
}

// Apply sets c's credentials on the request headers h: Authorization (bearer or basic) and Header.
func (c Config) Apply(h http.Header) {
	switch {
	case c.BearerToken != "":
		h.Set("Authorization", "Bearer "+c.BearerToken)
	case c.Username != "":
		h.Set("Authorization", "Basic "+basic(c.Username, c.Password))
	}
	for k, vs := range c.Header {
		h[k] = append(h[k], vs...)
	}
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// Secrets returns the strings Redact must hide for c: the token, the password, the basic-auth header value
// and every extra header value.
func (c Config) Secrets() []string {
	var s []string
	if c.BearerToken != "" {
		s = append(s, c.BearerToken)
	}
	if c.Password != "" {
		s = append(s, c.Password)
	}
	if c.Username != "" {
		s = append(s, basic(c.Username, c.Password))
	}
	for _, vs := range c.Header {
		s = append(s, vs...)
	}
	return s
}
