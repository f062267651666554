package vmtest

import (
	"fmt"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/samplers"
)

// Prefixes of the environment variables (auth.FromEnv: <prefix>_BEARER_TOKEN, _USERNAME, _PASSWORD,
// _HEADERS) read when Options.VLLMAuth, Options.DCGMAuth or Options.Prometheus.Auth is zero.
const (
	EnvVLLMAuth = "VMTEST_VLLM"
	EnvDCGMAuth = "VMTEST_DCGM"
	// EnvNodeExporterAuth is read when Options.NodeExporterAuth is zero.
	EnvNodeExporterAuth = "VMTEST_NODE_EXPORTER"
	// EnvPrometheusAuth is read when Options.Prometheus.Auth is zero.
	EnvPrometheusAuth = "VMTEST_PROMETHEUS"
)

// resolveAuth fills a zero auth option from the environment and checks it; errors name the option or the
// variable, never a value.
func resolveAuth(a *auth.Config, field, prefix string) error {
	if a.IsZero() {
		env, err := auth.FromEnv(prefix)
		if err != nil {
			return fmt.Errorf("vmtest: %w (read because Options.%s is empty)", err, field)
		}
		if err := env.Validate(); err != nil {
			return fmt.Errorf("vmtest: %s_*: %w (read because Options.%s is empty)", prefix, err, field)
		}
		*a = env
		return nil
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("vmtest: Options.%s: %w", field, err)
	}
	return nil
}

// secrets lists what the collector must never show: its credentials and those written in its URLs.
func (o *Options) secrets() []string {
	s := append(append(o.VLLMAuth.Secrets(), o.DCGMAuth.Secrets()...), o.NodeExporterAuth.Secrets()...)
	urls := append(append([]string{o.VLLMBaseURL, o.MetricsURL}, o.DCGMURLs...), o.nodeURLs()...)
	if o.Prometheus != nil {
		s = append(s, o.Prometheus.Auth.Secrets()...)
		urls = append(urls, o.Prometheus.URL)
	}
	for _, u := range urls {
		s = append(s, auth.URLSecrets(u)...)
	}
	for _, sv := range o.Servers {
		s = append(append(append(s, sv.Auth.Secrets()...), auth.URLSecrets(sv.BaseURL)...), auth.URLSecrets(sv.MetricsURL)...)
	}
	return s
}

// redact is auth.Redact with the collector's secrets: every error, note, event and log line goes through it.
func (c *Collector) redact(s string) string { return auth.Redact(s, c.secrets...) }

// redactingLog returns logf with each line passed through auth.Redact with secrets; helper marks it as a
// test helper, so that a test's log lines still point at the test.
func redactingLog(logf func(string, ...any), helper func(), secrets []string) func(string, ...any) {
	return func(format string, args ...any) {
		helper()
		logf("%s", auth.Redact(fmt.Sprintf(format, args...), secrets...))
	}
}

// nodeURLs returns the URLs of Options.NodeExporterURLs (each without its "name=").
func (o *Options) nodeURLs() []string {
	out := make([]string, 0, len(o.NodeExporterURLs))
	for _, spec := range o.NodeExporterURLs {
		if _, u, err := samplers.ParseNodeExporter(spec); err == nil {
			out = append(out, u)
		} else {
			out = append(out, spec)
		}
	}
	return out
}
