package main

import (
	"flag"
	"fmt"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/vmtest"
)

// promFlags are the flags that read the server's metrics from Prometheus (vmtest.Options.Prometheus).
type promFlags struct {
	url                 string
	namespace, pod, job string
	match               stringList
	dcgmMatch           stringList
	headers             headerList
}

func (p *promFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.url, "prometheus", "", "read the server's metrics from this Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics; "+
		"e.g. http://prometheus:9090) instead of scraping /metrics; each target the selectors match is a replica, named by its pod or instance label; "+
		"-url and -servers then only say where load goes")
	fs.StringVar(&p.namespace, "prometheus-namespace", "", `with -prometheus: only series whose "namespace" label is this`)
	fs.StringVar(&p.pod, "prometheus-pod", "", `with -prometheus: only series whose "pod" label is this`)
	fs.StringVar(&p.job, "prometheus-job", "", `with -prometheus: only series whose "job" label is this`)
	fs.Var(&p.match, "prometheus-match", `with -prometheus: a PromQL label matcher, e.g. 'instance="10.0.0.7:8000"' or 'pod=~"vllm-.*"' (repeatable)`)
	fs.Var(&p.dcgmMatch, "prometheus-dcgm-match", `with -prometheus: read GPUs from the dcgm-exporter series (DCGM_FI_*) this PromQL label matcher selects, `+
		`e.g. 'job="dcgm-exporter"' (repeatable), instead of -gpu`)
	fs.Var(&p.headers, "prometheus-header", `with -prometheus: a header sent with every query, "Name: value" (repeatable; never printed; `+
		`also $`+vmtest.EnvPrometheusAuth+`_BEARER_TOKEN, _USERNAME, _PASSWORD, _HEADERS)`)
}

// apply sets o.Prometheus from the flags and, with -prometheus-dcgm-match, adds the GPU sampler and turns
// the other GPU sources off. An error names the flag when a selector flag comes without -prometheus or a
// value is invalid.
func (p *promFlags) apply(o *vmtest.Options, gpuFlagSet bool) error {
	cfg, err := p.config(o.Model)
	if err != nil || cfg == nil || len(p.dcgmMatch) == 0 {
		o.Prometheus = cfg
		return err
	}
	if gpuFlagSet {
		return fmt.Errorf("-prometheus-dcgm-match and -gpu both choose where GPUs are read: give one")
	}
	d, err := promsource.NewDCGMSampler(promsource.Config{URL: cfg.URL, Auth: cfg.Auth, Matchers: p.dcgmMatch})
	if err != nil {
		return fmt.Errorf("-prometheus-dcgm-match: %v (Config.Matchers[i] is the i-th, counted from 0)", err)
	}
	o.Prometheus = cfg
	o.GPUSource = samplers.GPUSourceNone
	o.Samplers = append(o.Samplers, d)
	return nil
}

// config returns Options.Prometheus from the flags: nil without -prometheus.
func (p *promFlags) config(model string) (*promsource.Config, error) {
	if p.url == "" {
		if p.namespace != "" || p.pod != "" || p.job != "" || len(p.match) > 0 || len(p.dcgmMatch) > 0 || len(p.headers) > 0 {
			return nil, fmt.Errorf("-prometheus-namespace, -pod, -job, -match, -dcgm-match and -header need -prometheus URL")
		}
		return nil, nil
	}
	a, err := p.headers.config("prometheus-header", vmtest.EnvPrometheusAuth)
	if err != nil {
		return nil, err
	}
	cfg := promsource.Config{URL: p.url, Auth: a, Namespace: p.namespace, Pod: p.pod, Job: p.job, Matchers: p.match, Model: model}
	if _, err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%v (Config.URL is -prometheus, Config.Matchers[i] the i-th -prometheus-match, counted from 0)", err)
	}
	return &cfg, nil
}

// secrets lists what must never be printed: the header values and the credentials in the URL.
func (p *promFlags) secrets() []string {
	s := append(p.headers.values(), auth.URLSecrets(p.url)...)
	if env, err := auth.FromEnv(vmtest.EnvPrometheusAuth); err == nil {
		s = append(s, env.Secrets()...)
	}
	return s
}
