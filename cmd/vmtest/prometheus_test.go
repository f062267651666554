package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrometheusFlags(t *testing.T) {
	const secret = "prom-header-s3cret"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"collect", "-duration", "1s", "-prometheus-job", "vllm"}, "-prometheus-namespace, -pod, -job, -match and -header need -prometheus URL"},
		{[]string{"collect", "-duration", "1s", "-prometheus", "localhost:9090", "-prometheus-header", "X-Key: " + secret}, `Config.URL "localhost:9090": want the Prometheus HTTP API's base URL`},
		{[]string{"collect", "-duration", "1s", "-prometheus", "http://u:" + secret + "@h:9090", "-prometheus-match", `pod="a"`, "-prometheus-match", "pod=vllm"},
			`Config.Matchers[1] "pod=vllm": value vllm: want a quoted string`},
	} {
		code, stdout, stderr := runCmd(context.Background(), tc.args...)
		require.Equal(t, exitUsage, code, "%v: %s%s", tc.args, stdout, stderr)
		require.Contains(t, stderr, tc.want)
		require.NotContains(t, stdout+stderr, secret)
	}
}
