package main

import (
	"context"
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/promsource"
)

func TestPrometheusFlags(t *testing.T) {
	const secret = "prom-header-s3cret"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"collect", "-duration", "1s", "-prometheus-job", "vllm"}, "-prometheus-namespace, -pod, -job, -match, -dcgm-match and -header need -prometheus URL"},
		{[]string{"collect", "-duration", "1s", "-prometheus", "http://h:9090", "-gpu", "nvidia-smi", "-prometheus-dcgm-match", `job="dcgm"`}, "-prometheus-dcgm-match and -gpu both choose"},
		{[]string{"collect", "-duration", "1s", "-prometheus", "http://h:9090", "-prometheus-dcgm-match", `job=~"("`}, `-prometheus-dcgm-match: promsource: Config.Matchers[0] "job=~\"(\"": regular expression`},
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

func TestPrometheusFlagsOptions(t *testing.T) {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	var f collectFlags
	f.register(fs)
	require.NoError(t, fs.Parse([]string{"-metrics-model", "m", "-prometheus", "http://h:9090", "-prometheus-namespace", "llm",
		"-prometheus-match", `pod=~"vllm-.*"`, "-prometheus-dcgm-match", `job="dcgm"`, "-prometheus-header", "X-Scope-OrgID: team-a"}))
	o, err := f.options("collect")
	require.NoError(t, err)
	require.NotNil(t, o.Prometheus)
	require.Equal(t, `{__name__=~"vllm:.*|process_start_time_seconds", namespace="llm", pod=~"vllm-.*"}`, o.Prometheus.Selector())
	require.Equal(t, "m", o.Prometheus.Model)
	require.Equal(t, []string{"team-a"}, o.Prometheus.Auth.Header.Values("X-Scope-Orgid"))
	require.Equal(t, "none", o.GPUSource)
	require.Len(t, o.Samplers, 1)
	d, ok := o.Samplers[0].(*promsource.DCGMSampler)
	require.True(t, ok)
	require.Equal(t, promsource.DCGMSamplerName, d.Name())
	require.Contains(t, f.secrets(), "team-a")
}

// With -prometheus, several -url only say where load goes: the metrics of every replica come from Prometheus.
func TestPrometheusWithSeveralURLs(t *testing.T) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var f collectFlags
	f.register(fs)
	require.NoError(t, fs.Parse([]string{"-url", "http://a:8000", "-url", "http://b:8000", "-prometheus", "http://h:9090", "-prometheus-job", "vllm"}))
	o, err := f.options("load")
	require.NoError(t, err)
	require.NotNil(t, o.Prometheus)
	require.Nil(t, o.Servers, "Options.Servers and Options.Prometheus refuse each other")
	require.Equal(t, []string{"http://a:8000", "http://b:8000"}, f.targets)
}
