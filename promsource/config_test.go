package promsource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
)

func TestValidateErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "localhost:9090"}, `Config.URL "localhost:9090": want the Prometheus HTTP API's base URL`},
		{Config{URL: "ftp://h"}, `Config.URL "ftp://h"`},
		{Config{URL: "tcp://u:hunter22@h:9090"}, `Config.URL "tcp://u:xxxxx@h:9090"`},
		{Config{URL: "http://h", Matchers: []string{`pod`}}, `Config.Matchers[0] "pod": want name op "value"`},
		{Config{URL: "http://h", Matchers: []string{`pod=vllm`}}, `Config.Matchers[0] "pod=vllm": value vllm: want a quoted string`},
		{Config{URL: "http://h", Matchers: []string{`a="x"`, `pod=~"vllm-("`}}, `Config.Matchers[1] "pod=~\"vllm-(\"": regular expression: error parsing regexp`},
		{Config{URL: "http://h", Matchers: []string{`__name__="up"`}}, `Config.Matchers[0] "__name__=\"up\"": __name__ is set by vmtest`},
		{Config{URL: "http://h", Matchers: []string{`pod="a`}}, `want a quoted string`},
		{Config{URL: "http://h", TargetLabels: []string{"pod", "k8s-pod"}}, `Config.TargetLabels[1] "k8s-pod": not a label name`},
		{Config{URL: "http://h", Auth: auth.Config{BearerToken: "t0ken", Username: "u"}}, `Config.Auth:`},
		{Config{URL: "http://h", MaxBodyBytes: -1}, `Config.MaxBodyBytes -1 is negative`},
		{Config{URL: "http://h", Chunk: -time.Second}, `Config.Chunk -1s is negative`},
	} {
		_, err := tc.cfg.Validate()
		require.ErrorContains(t, err, tc.want)
		require.NotContains(t, err.Error(), "hunter22")
	}
}

func TestValidateDefaultsAndSelector(t *testing.T) {
	c, err := Config{URL: "https://mimir.example/prometheus", Namespace: "llm", Pod: "vllm-0", Job: "vllm",
		Matchers: []string{` cluster = "eu-1" `, "pod!~`vllm-canary-.*`", `zone='a"b'`}}.Validate()
	require.NoError(t, err)
	require.Equal(t, DefaultTargetLabels, c.TargetLabels)
	require.Equal(t, int64(DefaultMaxBodyBytes), c.MaxBodyBytes)
	require.Equal(t, DefaultChunk, c.Chunk)
	require.Equal(t, DefaultTimeout, c.Timeout)
	require.Equal(t, `{__name__=~"vllm:.*|process_start_time_seconds", namespace="llm", pod="vllm-0", job="vllm", cluster="eu-1", pod!~"vllm-canary-.*", zone="a\"b"}`, c.Selector())
}

func TestParseMatcherQuoting(t *testing.T) {
	for in, want := range map[string]string{
		`pod="vllm-0"`:           `pod="vllm-0"`,
		`pod = 'vllm-0'`:         `pod="vllm-0"`,
		`zone='it\'s'`:           `zone="it's"`,
		`zone='say "hi"\n'`:      `zone="say \"hi\"\n"`,
		"path=~`a\\.b`":          `path=~"a\\.b"`,
		`name!="tab\there"`:      `name!="tab\there"`,
		`instance!~"10\\..*:80"`: `instance!~"10\\..*:80"`,
	} {
		got, err := parseMatcher(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{`pod='a"`, `pod="a\q"`, `pod="a" extra`, `1pod="a"`, `pod=="a"`} {
		_, err := parseMatcher(in)
		require.Error(t, err, in)
	}
}
