package promsource

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

// DCGMSamplerName is a DCGMSampler's Name, the key of its errors in the snapshots.
const DCGMSamplerName = "gpu-prometheus"

// DCGMTargetLabels are the labels that tell dcgm-exporter targets apart when Config.TargetLabels is empty:
// the scrape's own. Not `pod` or `namespace`: in Kubernetes mode dcgm-exporter puts on each GPU's series the
// pod that uses the GPU, which is not the target.
var DCGMTargetLabels = []string{"job", "instance"}

// DCGMSampler reads GPUs from the dcgm-exporter series stored in Prometheus (`DCGM_FI_*` with Config's
// selectors) instead of scraping the exporters: a samplers.Sampler (Name DCGMSamplerName) whose readings fill
// Reading.GPU from each target's latest scrape within DefaultLookback, rebuilt into families and read by the
// dcgm source's own road (samplers.DCGMGPUs). GPUs are keyed as the dcgm source keys them: "gpu_<index>" for
// one target, "<host>_gpu_<index>" for several (the host from the Hostname label, else the instance's host).
// A tick between two scrapes repeats the latest scrape's values. Give it to the collector in
// vmtest.Options.Samplers with GPUSource "none". Sample is not called concurrently with itself.
type DCGMSampler struct {
	c        *Client
	lookback time.Duration
	now      func() time.Time
}

var _ samplers.Sampler = (*DCGMSampler)(nil)

// NewDCGMSampler returns a DCGMSampler over cfg (Config.Validate's errors; TargetLabels empty means
// DCGMTargetLabels).
func NewDCGMSampler(cfg Config) (*DCGMSampler, error) {
	if len(cfg.TargetLabels) == 0 {
		cfg.TargetLabels = DCGMTargetLabels
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return &DCGMSampler{c: c, lookback: DefaultLookback, now: time.Now}, nil
}

// Name is DCGMSamplerName.
func (d *DCGMSampler) Name() string { return DCGMSamplerName }

// Close closes the client's idle connections.
func (d *DCGMSampler) Close() error { d.c.Close(); return nil }

// Sample reads the dcgm-exporter samples of the last DefaultLookback and returns the GPUs of each target's
// latest scrape. Errors (Reading.Err, no GPU): the query fails; no DCGM_FI_* series matches.
func (d *DCGMSampler) Sample(ctx context.Context) samplers.Reading {
	now := d.now()
	sel := d.c.cfg.DCGMSelector()
	m, err := d.c.samples(ctx, sel, now.Add(-d.lookback), now)
	if err != nil {
		return samplers.Reading{Err: err}
	}
	ts := families(m, d.c.cfg.TargetLabels)
	if len(ts) == 0 {
		return samplers.Reading{Err: fmt.Errorf("promsource: no DCGM_FI_* series matches %s on %s in the last %v", sel, d.c.shownURL(), d.lookback)}
	}
	out := map[string]snapshot.GPU{}
	for _, t := range ts {
		for idx, g := range samplers.DCGMGPUs(t.fams[len(t.fams)-1]) {
			host := ""
			if len(ts) > 1 {
				host = g.Host
				if host == "" {
					host = instanceHost(t.labels["instance"])
				}
			}
			out[samplers.GPUKey(host, idx)] = g
		}
	}
	return samplers.Reading{GPU: out}
}

// instanceHost is the host part of an instance label ("10.0.0.7:9400" → "10.0.0.7").
func instanceHost(inst string) string {
	if h, _, err := net.SplitHostPort(inst); err == nil {
		return h
	}
	return strings.TrimSpace(inst)
}
