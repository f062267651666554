package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -node-exporter is repeatable and none is dropped: each node is in the summary under its name (given, or
// the URL's host); its header goes with the scrapes and is never printed; a bad one stops the command naming
// the flag. One interval of 1 s: each scrape has 800 ms, which a loaded machine needs for none to fail.
func TestCollectNodeExporters(t *testing.T) {
	t.Parallel()
	const token = "node-secret-7f3a"
	body := "node_load1 1.5\nnode_memory_MemTotal_bytes 8589934592\nnode_memory_MemAvailable_bytes 2147483648\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Node-Token") != token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	dir := t.TempDir()
	code, out, errOut := runCmd(context.Background(), "collect", "-duration", "1s", "-interval", "1s", "-gpu", "none", "-no-png",
		"-out", dir, "-config", "nodes", "-node-exporter", "a="+srv.URL+"/metrics", "-node-exporter", srv.URL+"/metrics",
		"-node-exporter-header", "X-Node-Token: "+token)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.NotContains(t, out+errOut, token)
	s := readSummaryT(t, filepath.Join(dir, "summary_statistics.json"))
	require.Len(t, s.Nodes, 2)
	for _, name := range []string{"a", "127.0.0.1"} {
		n := s.Nodes[name]
		require.NotNil(t, n.MaxMemoryGB, name)
		assert.Equal(t, 6.0, *n.MaxMemoryGB, name)
		assert.Zero(t, s.Sources["node:"+name].Failed, name)
	}

	code, _, errOut = runCmd(context.Background(), "collect", "-duration", "300ms", "-gpu", "none", "-no-png", "-out", t.TempDir(),
		"-node-exporter", "node1:9100")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "Options.NodeExporterURLs[0]")
	assert.Contains(t, errOut, "-node-exporter NodeExporterURLs")
}
