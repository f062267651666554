package loadgen

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// costSink is a sliceSink that is also told the run's cost (recorder.ClientCostSink).
type costSink struct {
	sliceSink
	mu    sync.Mutex
	costs []recorder.ClientCost
}

func (s *costSink) RecordClientCost(c recorder.ClientCost) {
	s.mu.Lock()
	s.costs = append(s.costs, c)
	s.mu.Unlock()
}

// Run tells a ClientCostSink once what its measured phase cost, the same figures as its Result; each request
// says whether it asked for ignore_eos (the prompt's own value over Params').
func TestRunReportsClientCostAndIgnoreEOS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newFakeHandler(0, 2)
		sink := &costSink{}
		prompts := TextPrompts("a", "b")
		prompts[1].IgnoreEOS = Bool(false)
		res, err := Run(context.Background(), LoadConfig{
			Client: fs.inProcess(), Prompts: prompts, Params: Params{Model: "m", MaxTokens: 2, IgnoreEOS: Bool(true)},
			Concurrency: 2, Requests: 4, Sink: sink,
		})
		require.NoError(t, err)
		require.Len(t, sink.costs, 1)
		c := sink.costs[0]
		assert.Equal(t, 1, c.Runs)
		assert.Equal(t, res.Wall.Seconds(), c.WallS)
		assert.Equal(t, res.ClientCPU.Seconds(), c.CPUS)
		assert.Equal(t, runtime.GOMAXPROCS(0), c.GOMAXPROCS)
		assert.Zero(t, res.Wall, "no time passes in the bubble")
		assert.Nil(t, c.CPUUtilization, "a share of no time is unknown, not 0 or NaN")
		require.NotNil(t, c.SchedLatencyP99MS, "goroutines ran, so the scheduler observed latencies")
		assert.Equal(t, float64(res.SchedLatencyP99)/1e6, *c.SchedLatencyP99MS)
		for _, r := range sink.all() {
			assert.Equal(t, r.ID == "0" || r.ID == "2", r.IgnoreEOS, "request %s: prompt a inherits true, b says false", r.ID)
		}
	})
}
