package main

import (
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/vllmsim"
)

// The secrets of TestNoCommandShowsASecret: each must be sent, and none ever shown.
const (
	secAPIKey    = "sk-e2e-apikey-7f3a91"
	secMetricsPW = "metrics-pw-0c55e2"
	secWrongPW   = "wrong-pw-9d1b77"
	secDCGMToken = "dcgm-token-4be8aa"
	secHeader    = "gw-header-61d0f3"
	secEnvToken  = "env-token-2c9e4d"
)

// dcgmWithToken serves a dcgm-exporter capture to requests carrying the bearer token and counts those served.
func dcgmWithToken(t *testing.T, token string) (*httptest.Server, *atomic.Int64) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "dcgm", "upcloud_accelerator-metrics.prom"))
	require.NoError(t, err)
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized: "+r.Header.Get("Authorization"), http.StatusUnauthorized)
			return
		}
		served.Add(1)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &served
}

// Every command of vmtest, run with an API key, URL credentials, a bearer token and secret headers (from flags
// and from the environment) against a simulator that requires them, prints none of them (stdout, stderr, -h,
// usage and flag errors) and writes none of them in any file; the servers received them. The commands run as
// processes of their own, the environment given to each.
func TestNoCommandShowsASecret(t *testing.T) {
	t.Parallel()
	sim := vllmsim.New(t, vllmsim.Config{Model: "sim-model", APIKey: secAPIKey, MetricsUsername: "prom", MetricsPassword: secMetricsPW,
		TTFTBase: time.Millisecond, TimePerOutputToken: time.Millisecond})
	host := strings.TrimPrefix(sim.URL, "http://")
	goodURL := "http://prom:" + secMetricsPW + "@" + host
	wrongURL := "http://prom:" + secWrongPW + "@" + host
	dcgm, dcgmServed := dcgmWithToken(t, secDCGMToken)
	dcgmURL := "http://scraper:" + secMetricsPW + "@" + strings.TrimPrefix(dcgm.URL, "http://") + "/metrics"
	env := []string{"OPENAI_API_KEY=" + secAPIKey, "VMTEST_VLLM_URL=" + goodURL, "VMTEST_DCGM_BEARER_TOKEN=" + secDCGMToken,
		"VMTEST_VLLM_HEADERS=X-Env: " + secEnvToken}
	bin := vmtestBinary(t)
	dir := t.TempDir()
	var printed strings.Builder
	cmd := func(wantCode int, args ...string) {
		t.Helper()
		code, out, errOut := runProcess(t, bin, env, args...)
		printed.WriteString(out + errOut)
		assert.Equal(t, wantCode, code, "%v\nstdout:\n%s\nstderr:\n%s", args, out, errOut)
	}
	load := filepath.Join(dir, "load")
	cmd(0, "load", "-requests", "12", "-concurrency", "2", "-interval", "100ms", "-out", load, "-config", "sec",
		"-header", "X-Gateway: "+secHeader, "-metrics-header", "X-Gateway: "+secHeader,
		"-gpu", "dcgm", "-dcgm-url", dcgmURL)
	cmd(0, "collect", "-duration", "300ms", "-interval", "100ms", "-out", filepath.Join(dir, "collect"), "-gpu", "none")
	assert.Zero(t, sim.Unauthorized(), "every request and scrape so far carried the credentials")
	// Wrong credentials: every /metrics scrape fails with 401, and the error is in every snapshot, the
	// summaries and the log, with the URL it came from. One interval of 1 s: each scrape has 800 ms, so the
	// last error is the 401 on a loaded machine too, not a reading still in flight.
	bad := filepath.Join(dir, "bad")
	cmd(0, "collect", "-url", wrongURL, "-duration", "1s", "-interval", "1s", "-out", bad, "-gpu", "none")
	cmd(0, "load", "-h")
	cmd(0, "collect", "-h")
	cmd(0, "help", "load")
	cmd(exitUsage, "load", "-url", wrongURL, "-rate", "-1")
	cmd(exitUsage, "collect", "-url", "http://u:"+secWrongPW+"@host\x7f/", "-gpu", "none", "-out", bad)
	cmd(exitUsage, "load", "-header", "no colon "+secHeader)
	cmd(exitFail, "load", "-url", wrongURL, "-api-key", secAPIKey+"-but-wrong", "-out", bad)
	cmd(exitFail, "load", "-url", wrongURL, "-model", "sim-model", "-requests", "2", "-interval", "100ms", "-out", bad,
		"-api-key", "sk-e2e-other-key", "-gpu", "none")
	files := runFiles(t, load, "sec")
	cmd(0, "report", files["snapshots_json"])
	cmd(0, "report", load) // every run there finished: nothing to rebuild, its files are complete
	cmd(0, "compare", files["summary_json"], filepath.Join(dir, "collect", "summary_statistics.json"))

	// The servers received the credentials: the load's requests succeeded, /metrics and dcgm were scraped.
	s := readSummaryT(t, files["summary_json"])
	assert.Equal(t, 12, s.Requests.OK)
	assert.Greater(t, s.Sources["vllm"].Readings, s.Sources["vllm"].Failed, "scrapes succeeded")
	assert.NotContains(t, s.Sources["vllm"].LastError, "401")
	assert.Positive(t, dcgmServed.Load())
	assert.NotEmpty(t, s.GPU, "dcgm answered with its GPU")
	// The wrong password was refused, and the error says so without it.
	sb := readSummaryT(t, runFiles(t, bad, "collect")["summary_json"])
	assert.Contains(t, sb.Sources["vllm"].LastError, "401")
	assert.Contains(t, sb.Sources["vllm"].LastError, "prom:xxxxx@")
	assert.Positive(t, sim.Unauthorized())

	secrets := []string{secAPIKey, secMetricsPW, secWrongPW, secDCGMToken, secHeader, secEnvToken,
		base64.StdEncoding.EncodeToString([]byte("prom:" + secMetricsPW)), base64.StdEncoding.EncodeToString([]byte("prom:" + secWrongPW))}
	for _, sec := range secrets {
		assert.NotContains(t, printed.String(), sec, "printed")
	}
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, sec := range secrets {
			assert.NotContains(t, string(b), sec, "%s", path)
		}
		return nil
	}))
	assert.GreaterOrEqual(t, n, 15, "the runs' files were all read")
}
