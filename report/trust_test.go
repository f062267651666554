package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// The run's HTML shows the open loop's send lag beside the client's latencies and the client process's own
// CPU and scheduler latency beside the host's; the warnings are shown as they are.
func TestRunHTMLShowsSendLagAndClientCost(t *testing.T) {
	sum := richSummary()
	sum.Requests.SendLagMS = recorder.ComputeStats([]float64{0, 5, 30, 80}) // mean 28.75, p50 17.5, p90 65, p99 78.5
	sum.Client = &recorder.ClientCost{Runs: 1, WallS: 10, CPUS: 32, GOMAXPROCS: 4, CPUUtilization: f(0.8), SchedLatencyP99MS: f(0.5)}
	sum.Warnings = append(sum.Warnings, "the client may have been the bottleneck: ...")
	page, err := RunHTML(richRun(), sum, nil)
	require.NoError(t, err)
	html := string(page)
	assert.Contains(t, html, "<tr><td>send lag (open loop)</td><td>28.8</td><td>17.5</td><td>65.0</td><td>78.5</td><td>4</td></tr>")
	assert.Contains(t, html, "<tr><th>client process CPU (s)</th><td>32.00</td></tr>")
	assert.Contains(t, html, "<tr><th>client process CPU (% of GOMAXPROCS=4)</th><td>80</td></tr>")
	assert.Contains(t, html, "<tr><th>client Go scheduler latency p99 (ms)</th><td>0.500</td></tr>")
	assert.Contains(t, html, `<div class="warn">the client may have been the bottleneck: ...</div>`)

	plain, err := RunHTML(richRun(), richSummary(), nil)
	require.NoError(t, err)
	assert.NotContains(t, string(plain), "send lag")
	assert.NotContains(t, string(plain), "client process")
}
