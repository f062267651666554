package vmtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/vllmsim"
)

// Options.VLLMAuth authenticates the /metrics scrapes; with it from the environment instead, a wrong password
// fails every scrape, and neither the log nor the stored errors show it.
func TestScrapeAuthAndRedaction(t *testing.T) {
	const pw, wrong = "right-pw-31c9a7", "wrong-pw-8e20f4"
	sim := vllmsim.New(t, vllmsim.Config{MetricsUsername: "prom", MetricsPassword: pw})
	run := func(o Options) (string, map[string]string) {
		var log strings.Builder
		o.Interval, o.GPUSource, o.NoSystem, o.OutputDir, o.Log = 5*time.Second, "none", true, t.TempDir(), &log
		o.VLLMBaseURL = sim.URL
		c, err := Start(context.Background(), o)
		require.NoError(t, err)
		sum, err := c.Finish()
		require.NoError(t, err)
		return log.String(), map[string]string{"vllm": sum.Sources["vllm"].LastError}
	}
	log, errs := run(Options{VLLMAuth: auth.Config{Username: "prom", Password: pw}})
	assert.Empty(t, errs["vllm"], "authenticated scrapes succeed")
	assert.NotContains(t, log, pw)

	t.Setenv(EnvVLLMAuth+"_USERNAME", "prom")
	t.Setenv(EnvVLLMAuth+"_PASSWORD", wrong)
	before := sim.Unauthorized()
	log, errs = run(Options{})
	assert.Greater(t, sim.Unauthorized(), before, "the environment's (wrong) password was sent")
	assert.Contains(t, errs["vllm"], "401")
	for _, s := range []string{log, errs["vllm"]} {
		assert.NotContains(t, s, wrong)
	}

	_, err := Start(context.Background(), Options{VLLMBaseURL: "http://u:" + wrong + "@h\x7f/", OutputDir: t.TempDir()})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), wrong)
}

// A caller's own client's error that names a URL with its password is kept redacted.
func TestRecordRequestRedactsErrors(t *testing.T) {
	c, err := Start(context.Background(), Options{OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
		VLLMAuth: auth.Config{BearerToken: "tok-own-4d2a91"}})
	require.NoError(t, err)
	now := time.Now()
	c.RecordRequest(Request{Start: now, End: now, Err: errors.New(`Post "http://bob:pw-own-77a1c3@h/v1": EOF (tok-own-4d2a91)`)})
	sum, err := c.Finish()
	require.NoError(t, err)
	assert.Equal(t, `Post "http://bob:xxxxx@h/v1": EOF (xxxxx)`, sum.Requests.LastError)
}
