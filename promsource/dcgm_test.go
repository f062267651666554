package promsource_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/snapshot"
)

func dcgmSeries(name string) bool { return strings.HasPrefix(name, "DCGM_FI_") }

// TestDCGMSamplerReadsTheLatestScrape stores three dcgm-exporter captures as Prometheus would (target A
// scraped twice, with another node's body the first time; target B once) and checks that the sampler's GPUs
// are those of each target's latest scrape, read by the dcgm source's own road (samplers.DCGMGPUs of the
// capture, keyed by its Hostname).
func TestDCGMSamplerReadsTheLatestScrape(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "dcgm", name))
		require.NoError(t, err)
		return b
	}
	t0 := time.Unix(1_700_000_000, 0)
	series := map[string]*model.SampleStream{}
	var m model.Matrix
	a := model.LabelSet{"job": "dcgm", "instance": "10.0.0.1:9400", "pod": "user-pod-a"}
	b := model.LabelSet{"job": "dcgm", "instance": "10.0.0.2:9400"}
	flatten(t, read("ericsson-ccd_accelerator_metrics.prom"), t0, a, dcgmSeries, series, &m)
	flatten(t, read("upcloud_accelerator-metrics.prom"), t0.Add(15*time.Second), a, dcgmSeries, series, &m)
	flatten(t, read("a800-mig-excerpt.prom"), t0.Add(10*time.Second), b, dcgmSeries, series, &m)
	f := &fakeAPI{token: "tok", series: m}
	srv := httptest.NewServer(f)
	defer srv.Close()

	d, err := promsource.NewDCGMSampler(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: "tok"}, Job: "dcgm"})
	require.NoError(t, err)
	defer d.Close()
	d.SetNow(func() time.Time { return t0.Add(20 * time.Second) })
	r := d.Sample(context.Background())
	require.NoError(t, r.Err)

	want := map[string]snapshot.GPU{}
	for _, name := range []string{"upcloud_accelerator-metrics.prom", "a800-mig-excerpt.prom"} {
		p := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(read(name)))
		require.NoError(t, err)
		for idx, g := range samplers.DCGMGPUs(fams) {
			require.NotEmpty(t, g.Host, name)
			want[samplers.GPUKey(g.Host, idx)] = g
		}
	}
	require.Len(t, want, 9, "1 L40S and 8 A800s")
	require.Equal(t, want, r.GPU)

	d.SetNow(func() time.Time { return t0.Add(20 * time.Minute) })
	r = d.Sample(context.Background())
	require.ErrorContains(t, r.Err, `no DCGM_FI_* series matches {__name__=~"DCGM_FI_.*", job="dcgm"}`)
	require.Nil(t, r.GPU)
}
