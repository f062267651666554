package vmtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/internal/testio"
)

// nodeBody is a node_exporter payload with 16 GiB total and 4 GiB available (12 GiB used) and load1 2.5.
const nodeBody = `# TYPE node_load1 gauge
node_load1 2.5
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 1.7179869184e+10
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 4.294967296e+09
`

// Two server nodes, one of them down: the one up has its figures in the snapshots (JSON and CSV) and the
// summary, the one down has nulls, its errors and an outage under its own source; its password never shows.
func TestNodeExportersInTheRun(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer node-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(nodeBody))
	}))
	defer up.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	downURL := strings.Replace(down.URL, "http://", "http://ops:hunter2@", 1) + "/metrics"
	dir := t.TempDir()
	c, err := Start(context.Background(), Options{ConfigID: "nodes", Interval: time.Second, OutputDir: dir, GPUSource: "none", NoPNG: true,
		NoSystem: true, NodeExporterURLs: []string{"gpu-a=" + up.URL + "/metrics", downURL},
		NodeExporterAuth: auth.Config{BearerToken: "node-token"}})
	require.NoError(t, err)
	sum, err := c.Finish()
	require.NoError(t, err)

	a, b := sum.Nodes["gpu-a"], sum.Nodes["127.0.0.1"]
	require.NotNil(t, a.AvgMemoryGB)
	assert.Equal(t, 12.0, *a.AvgMemoryGB)
	assert.Equal(t, 2.5, *a.MaxLoad1)
	assert.Nil(t, b.AvgMemoryGB)
	assert.Positive(t, b.Samples)
	assert.Zero(t, sum.Sources["node:gpu-a"].Failed)
	st := sum.Sources["node:127.0.0.1"]
	assert.Equal(t, st.Readings, st.Failed)
	require.NotEmpty(t, st.Outages)
	assert.Contains(t, st.LastError, "503")

	raw, err := os.ReadFile(sum.Files["snapshots_json"])
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "hunter2")
	var file struct {
		Snapshots []struct {
			Nodes  map[string]map[string]*float64 `json:"node_metrics"`
			Errors map[string]string              `json:"errors"`
		} `json:"snapshots"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	snaps := file.Snapshots
	require.NotEmpty(t, snaps)
	assert.Equal(t, 12.0, *snaps[0].Nodes["gpu-a"]["memory_gb"])
	assert.Nil(t, snaps[0].Nodes["127.0.0.1"]["memory_gb"])
	assert.Contains(t, snaps[0].Errors["node:127.0.0.1"], "HTTP 503")

	col, rows := testio.CSVFile(t, sum.Files["snapshots_csv"])
	require.Contains(t, col, "node_gpu-a_memory_gb")
	require.Contains(t, col, "node_127.0.0.1_cpu_percent")
	assert.Equal(t, "12", rows[1][col["node_gpu-a_memory_gb"]])
	assert.Equal(t, "", rows[1][col["node_127.0.0.1_memory_gb"]])
	for _, name := range []string{"summary_json", "snapshots_csv"} {
		b, err := os.ReadFile(sum.Files[name])
		require.NoError(t, err)
		assert.NotContains(t, string(b), "hunter2", name)
	}
}

func TestNodeExporterURLsInvalid(t *testing.T) {
	for _, tc := range []struct {
		urls []string
		want string
	}{
		{[]string{"node1:9100"}, "Options.NodeExporterURLs[0]"},
		{[]string{"http://n1:9100/metrics", "http://n1:9200/metrics"}, `[0] and [1] both name node "n1"`},
		{[]string{"a b=http://n1:9100/metrics"}, "letters, digits"},
	} {
		_, err := Start(context.Background(), Options{NoSystem: true, GPUSource: "none", NoPNG: true, OutputDir: t.TempDir(), NodeExporterURLs: tc.urls})
		require.Error(t, err, "%v", tc.urls)
		assert.Contains(t, err.Error(), tc.want)
	}
}
