package vmtest

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/samplers"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// fakeServer is a samplers.ServerSource whose second reading comes back late (after release is closed). Each
// commit sets TokensPerSecond to the number of commits so far.
type fakeServer struct {
	name    string
	calls   atomic.Int32
	commits atomic.Int32
	release chan struct{}
}

func (f *fakeServer) Name() string { return f.name }

func (f *fakeServer) Sample(ctx context.Context) samplers.Reading {
	if f.calls.Add(1) == 2 {
		<-f.release
	}
	return samplers.Reading{VLLM: &snapshot.VLLM{}, Commit: func(r *samplers.Reading) {
		r.VLLM.TokensPerSecond = snapshot.F(float64(f.commits.Add(1)))
	}}
}

func (f *fakeServer) ServerStats() (serverstats.Stats, bool) {
	n := int(f.commits.Load())
	return serverstats.Stats{Scrapes: n}, n > 0
}

// rogue fills Reading.VLLM without being a ServerSource.
type rogue struct{}

func (rogue) Name() string { return "rogue" }
func (rogue) Sample(context.Context) samplers.Reading {
	return samplers.Reading{VLLM: &snapshot.VLLM{TokensPerSecond: snapshot.F(999)}}
}

// The collector commits exactly the readings it records: the second reading, back after the tick's deadline,
// is discarded and never committed, so the sampler's state (its commit count) matches the snapshots. A
// sampler that is no ServerSource cannot write vllm_metrics. The server stats come from the ServerSource.
func TestDiscardedReadingIsNotCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{name: "T"}
		srv := &fakeServer{name: "srv", release: make(chan struct{})}
		c := Collect(ft, Options{Interval: time.Second, SampleTimeout: 500 * time.Millisecond, OutputDir: t.TempDir(),
			GPUSource: "none", NoPNG: true, NoSystem: true, Samplers: []samplers.Sampler{srv, rogue{}}})
		require.NotNil(t, c)
		time.Sleep(1800 * time.Millisecond) // tick 1 s: the reading is late and discarded
		close(srv.release)
		time.Sleep(time.Second) // tick 2 s: on time
		ft.runCleanups()        // the final tick: on time

		var got []float64
		for _, s := range c.Snapshots() {
			if v := s.VLLMMetrics.TokensPerSecond; v != nil {
				got = append(got, *v)
			}
			assert.Contains(t, s.Errors["rogue"], "reading's VLLM part ignored")
		}
		assert.Equal(t, int32(4), srv.calls.Load())
		assert.Equal(t, int32(3), srv.commits.Load(), "the discarded reading was not committed")
		assert.Equal(t, []float64{1, 2, 3}, got, "each recorded reading was committed once, in order")
		require.NotNil(t, c.Summary().Server)
		assert.Equal(t, 3, c.Summary().Server.Scrapes)
		assert.Empty(t, ft.errs)
	})
}

// A second server source is refused, naming both.
func TestSecondServerSourceIsRefused(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{VLLMBaseURL: "http://127.0.0.1:1", Samplers: []samplers.Sampler{&fakeServer{name: "mine"}}},
			`Options.Samplers[0]: sampler "mine" fills vllm_metrics, as sampler "vllm" already does`},
		{Options{Samplers: []samplers.Sampler{&fakeServer{name: "a"}, &fakeServer{name: "b"}}},
			`Options.Samplers[1]: sampler "b" fills vllm_metrics, as sampler "a" already does`},
	} {
		ft := &fakeTB{name: "T"}
		tc.opts.OutputDir, tc.opts.GPUSource, tc.opts.NoSystem = t.TempDir(), "none", true
		assert.Nil(t, Collect(ft, tc.opts))
		require.Len(t, ft.fatal, 1)
		assert.Contains(t, ft.fatal[0], tc.want)
	}
}

// badCommit's Commit panics.
type badCommit struct{}

func (badCommit) Name() string { return "bad" }
func (badCommit) Sample(context.Context) samplers.Reading {
	return samplers.Reading{Commit: func(*samplers.Reading) { panic("boom") }}
}

// A Commit that panics is a failed reading, not a crashed test binary.
func TestPanickingCommitIsAFailedReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{name: "T"}
		c := Collect(ft, Options{Interval: time.Second, OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
			Samplers: []samplers.Sampler{badCommit{}}})
		require.NotNil(t, c)
		ft.runCleanups()
		st := c.Summary().Sources["bad"]
		assert.Equal(t, 2, st.Readings) // the first tick and the final one
		assert.Equal(t, 2, st.Failed)
		assert.Equal(t, `sampler "bad" panicked committing its reading: boom`, st.LastError)
	})
}

// With no built-in server sampler, the caller's own server source may take the name "vllm" (e.g. a
// samplers.VLLM made with its own VLLMConfig), and the "no server to scrape" note is gone.
func TestCallersOwnVLLMSamplerIsTaken(t *testing.T) {
	ft := &fakeTB{name: "T"}
	open := make(chan struct{})
	close(open)
	c := Collect(ft, Options{OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true, Interval: time.Second,
		Samplers: []samplers.Sampler{&fakeServer{name: "vllm", release: open}}})
	require.NotNil(t, c)
	require.Empty(t, ft.fatal)
	assert.Equal(t, "vllm", c.server.Name())
	sum, _ := c.Finish()
	assert.Empty(t, sum.Sources["vllm"].Note, "no 'no server to scrape' note when the caller's sampler scrapes one")
	ft.runCleanups()

	// A built-in sampler keeps the name: a caller's plain sampler named "vllm" is refused as before.
	ft = &fakeTB{name: "T"}
	assert.Nil(t, Collect(ft, Options{OutputDir: t.TempDir(), GPUSource: "none", NoPNG: true, NoSystem: true,
		VLLMBaseURL: "http://127.0.0.1:1", Samplers: []samplers.Sampler{&fakeServer{name: "vllm"}}}))
	require.Len(t, ft.fatal, 1)
}
