package report

import (
	"bytes"
	"encoding/csv"
	"math"
	"testing"

	"github.com/gocarina/gocsv"

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

// The requests CSV has each row's send lag (empty in closed loop) and ignore_eos in its last two columns,
// after every earlier column, and a known send lag reads back. (An empty cell reads back as 0 through gocsv,
// for every nullable column alike: not this column's to fix.)
func TestRequestsCSVSendLagAndIgnoreEOS(t *testing.T) {
	nan := math.NaN()
	recs := []recorder.Record{
		{ID: "0", TTFTMS: 10, TTFOMS: nan, E2EMS: nan, TPOTMS: nan, ITLMeanMS: nan, TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan,
			TimeToRejectMS: nan, SendLagMS: 12.5, IgnoreEOS: true},
		{ID: "1", TTFTMS: 10, TTFOMS: nan, E2EMS: nan, TPOTMS: nan, ITLMeanMS: nan, TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan,
			TimeToRejectMS: nan, SendLagMS: nan},
	}
	b, err := RequestsCSV(recs)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	head := rows[0]
	require.GreaterOrEqual(t, len(head), 2)
	assert.Equal(t, []string{"send_lag_ms", "ignore_eos"}, head[len(head)-2:])
	assert.Equal(t, []string{"12.5", "true"}, rows[1][len(head)-2:])
	assert.Equal(t, []string{"", "false"}, rows[2][len(head)-2:])

	var back []RequestRow
	require.NoError(t, gocsv.UnmarshalBytes(b, &back))
	got := RecordsOf(back)
	assert.Equal(t, 12.5, got[0].SendLagMS)
	assert.True(t, got[0].IgnoreEOS)
	assert.False(t, got[1].IgnoreEOS)
}
