package auth

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces what Redact hides.
const Mask = "xxxxx"

// MinSecretLen is the shortest secret Redact looks for in free text: a shorter one would mask ordinary
// letters and tells an observer next to nothing.
const MinSecretLen = 4

// urlUserinfo matches the userinfo of a URL in free text: scheme "://", then the userinfo up to "@".
var urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\s"'<>]+)@`)

// Redact returns s with every secret given (of at least MinSecretLen bytes) replaced by Mask, and the
// credentials of every URL in it hidden: "http://user:pass@host" becomes "http://user:xxxxx@host", and a
// user alone (often a token), "http://xxxxx@host". It is the one redaction vmtest applies wherever a URL or
// an error is shown or stored; text without secrets comes back unchanged (and unallocated).
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= MinSecretLen && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	if !strings.Contains(s, "@") {
		return s
	}
	return urlUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlUserinfo.FindStringSubmatch(m)
		user, _, hasPass := strings.Cut(sub[2], ":")
		if !hasPass {
			return sub[1] + Mask + "@"
		}
		return sub[1] + user + ":" + Mask + "@"
	})
}

// URLSecrets returns the credentials written in raw's userinfo (the password, or a user alone, and both
// percent-decoded as sent), for Redact to find where a URL was taken apart; none when raw has none or does
// not parse.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	var s []string
	if p, ok := u.User.Password(); ok {
		s = append(s, p)
	} else if n := u.User.Username(); n != "" {
		s = append(s, n)
	}
	return s
}

// Error returns err with its message passed through Redact(msg, secrets...): errors.Is and errors.As still
// see err's chain. It returns err itself when nothing was hidden, and nil for nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := Redact(msg, secrets...)
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

// redactedError shows a redacted message and unwraps to the original error.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
