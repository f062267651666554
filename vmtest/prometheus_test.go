package vmtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/promsource"
)

func TestOptionsPrometheus(t *testing.T) {
	_, err := Start(context.Background(), Options{NoSystem: true, GPUSource: "none", NoPNG: true, Prometheus: &promsource.Config{URL: "localhost:9090"}})
	require.ErrorContains(t, err, `vmtest: Options.Prometheus: promsource: Config.URL "localhost:9090"`)

	_, err = Start(context.Background(), Options{NoSystem: true, GPUSource: "none", NoPNG: true, MetricsURL: "http://h/metrics",
		Prometheus: &promsource.Config{URL: "http://h:9090"}})
	require.ErrorContains(t, err, "Options.MetricsURL and Options.Prometheus are both set")

	t.Setenv(EnvPrometheusAuth+"_BEARER_TOKEN", "from-env-token")
	o, err := Options{Model: "m", Prometheus: &promsource.Config{URL: "http://h:9090", Matchers: []string{`pod="p"`}}}.resolve()
	require.NoError(t, err)
	require.Equal(t, "m", o.Prometheus.Model)
	require.Equal(t, "from-env-token", o.Prometheus.Auth.BearerToken)
	require.Equal(t, promsource.DefaultTargetLabels, o.Prometheus.TargetLabels)
	require.Contains(t, o.secrets(), "from-env-token")
}
