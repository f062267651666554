package auth

import (
	"errors"
	"io/fs"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8000/metrics":                        "http://localhost:8000/metrics",
		"http://alice:s3cret@host:8000/metrics":                "http://alice:xxxxx@host:8000/metrics",
		"https://tok123456@host/v1":                            "https://xxxxx@host/v1",
		`GET "http://a:b%40c@h/x": EOF; again http://u:p@h2/`:  `GET "http://a:xxxxx@h/x": EOF; again http://u:xxxxx@h2/`,
		"mail alice@example.com stays":                         "mail alice@example.com stays",
		"http://host/path?user=a@b":                            "http://host/path?user=a@b",
		`Get "http://bob:***@10.0.0.1:9400/metrics": dial tcp`: `Get "http://bob:xxxxx@10.0.0.1:9400/metrics": dial tcp`,
	} {
		assert.Equal(t, want, Redact(in), in)
	}
}

func TestRedactSecrets(t *testing.T) {
	assert.Equal(t, "key xxxxx refused, xxxxx again", Redact("key sk-abcdef refused, sk-abcdef again", "sk-abcdef"))
	assert.Equal(t, "short abc kept", Redact("short abc kept", "abc"), "secrets under MinSecretLen are not searched for")
	assert.Equal(t, "nothing", Redact("nothing", "", "sk-abcdef"))
}

func TestURLSecrets(t *testing.T) {
	assert.Equal(t, []string{"p@ss"}, URLSecrets("http://u:p%40ss@h/"))
	assert.Equal(t, []string{"tok"}, URLSecrets("http://tok@h/"))
	assert.Empty(t, URLSecrets("http://h/"))
	assert.Empty(t, URLSecrets("::bad"))
}

func TestError(t *testing.T) {
	base := &fs.PathError{Op: "open", Path: "/x/sk-abcdef", Err: fs.ErrNotExist}
	err := Error(base, "sk-abcdef")
	assert.Equal(t, "open /x/xxxxx: file does not exist", err.Error())
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var pe *fs.PathError
	assert.True(t, errors.As(err, &pe))
	plain := errors.New("plain")
	assert.Same(t, plain, Error(plain, "sk-abcdef"), "unchanged errors are returned as they are")
	assert.NoError(t, Error(nil))
}

func TestApplyAndSecrets(t *testing.T) {
	h := http.Header{}
	c := Config{Username: "alice", Password: "s3cret"}
	require.NoError(t, c.AddHeader("x-api-key:  k-123456 "))
	c.Apply(h)
	// RFC 7617's example form: base64("alice:s3cret").
	assert.Equal(t, "Basic YWxpY2U6czNjcmV0", h.Get("Authorization"))
	assert.Equal(t, "k-123456", h.Get("X-Api-Key"))
	assert.ElementsMatch(t, []string{"s3cret", "YWxpY2U6czNjcmV0", "k-123456"}, c.Secrets())

	h = http.Header{}
	Config{BearerToken: "tok-987654"}.Apply(h)
	assert.Equal(t, "Bearer tok-987654", h.Get("Authorization"))
	assert.True(t, Config{}.IsZero())
	assert.False(t, c.IsZero())
}

func TestValidateNamesFieldsNotValues(t *testing.T) {
	err := Config{BearerToken: "tok-987654", Username: "u"}.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "tok-987654")
	require.Error(t, Config{Password: "pw-123456"}.Validate())
	require.NoError(t, Config{Username: "u"}.Validate())
}

func TestAddHeaderErrorHidesValue(t *testing.T) {
	var c Config
	err := c.AddHeader("no colon sk-abcdef")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "sk-abcdef")
}

func TestFromEnv(t *testing.T) {
	t.Setenv("VMT_BEARER_TOKEN", " tok-987654 ")
	t.Setenv("VMT_HEADERS", "X-A: 1\n\nX-B: two")
	c, err := FromEnv("VMT")
	require.NoError(t, err)
	assert.Equal(t, "tok-987654", c.BearerToken)
	assert.Equal(t, http.Header{"X-A": {"1"}, "X-B": {"two"}}, c.Header)

	t.Setenv("VMT_HEADERS", "X-A: 1\nbad sk-abcdef")
	_, err = FromEnv("VMT")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "VMT_HEADERS line 2")
	assert.NotContains(t, err.Error(), "sk-abcdef")
}
