package loadgen

import (
	"context"
	"fmt"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/vllmsim"
)

// chatChunkUsage is a chat chunk as vLLM sends it with stream_options.continuous_usage_stats: usage counts
// the completion tokens sent so far.
func chatChunkUsage(delta string, completion int) string {
	return fmt.Sprintf(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":7,"total_tokens":%d,"completion_tokens":%d}}`+"\n\n", delta, 7+completion, completion)
}

// A scripted stream in a synctest bubble (arrival times exact): chunks of 1, 3 and 2 tokens, the second 30 ms
// and the third 50 ms after the one before. By hand, per token: 30/3 = 10 ms three times, 50/2 = 25 ms
// twice; mean 80/5 = 16 ms = TPOT (80 ms over 6 − 1 tokens). Per chunk they would be {30, 50}.
func TestContinuousUsageGivesPerTokenITL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m", ContinuousUsage: true})
		w := <-pt.streams
		body, err := io.ReadAll((<-pt.reqs).Body)
		require.NoError(t, err)
		assert.Contains(t, string(body), `"stream_options":{"continuous_usage_stats":true,"include_usage":true}`)
		write(t, w, chatChunkUsage(`{"role":"assistant","content":""}`, 0))
		write(t, w, chatChunkUsage(`{"content":"A"}`, 1))
		time.Sleep(30 * time.Millisecond)
		write(t, w, chatChunkUsage(`{"content":"BCD"}`, 4))
		time.Sleep(50 * time.Millisecond)
		write(t, w, chatChunkUsage(`{"content":"EF"}`, 6))
		write(t, w, chatFinish("length")+usageChunk(7, 6)+done)
		w.Close()
		r := wait(t, ch)
		require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
		assert.Equal(t, []int{1, 3, 2}, r.TokenCounts)
		assert.Equal(t, 6, r.OutputTokens)

		rec := recorder.New(r.Start, recorder.Config{})
		rec.RecordRequest(r)
		s, rows := rec.Cut()
		require.NotNil(t, s.ITLDefinition)
		assert.Equal(t, recorder.ITLPerToken, *s.ITLDefinition)
		assert.Equal(t, 5, s.ITLMS.N)
		assert.InDelta(t, 16, *s.ITLMS.Mean, 1e-9)
		assert.InDelta(t, 10, *s.ITLMS.Min, 1e-9)
		assert.InDelta(t, 25, *s.ITLMS.Max, 1e-9)
		assert.InDelta(t, 10, *s.ITLMS.P50, 1e-9)
		assert.InDelta(t, rows[0].TPOTMS, rows[0].ITLMeanMS, 1e-9)
	})
}

// Without usage on some token-bearing chunk (a server that ignores continuous_usage_stats, or one chunk
// without it), the request's ITL stays per chunk.
func TestITLPerChunkWhenAChunkLacksUsage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, pt := pipeClient(t, ClientConfig{})
		ch := doAsync(c, context.Background(), chat1, Params{Model: "m", ContinuousUsage: true})
		w := <-pt.streams
		write(t, w, chatChunkUsage(`{"content":"A"}`, 1))
		time.Sleep(30 * time.Millisecond)
		write(t, w, chatChunk(`{"content":"BCD"}`))
		time.Sleep(50 * time.Millisecond)
		write(t, w, chatChunkUsage(`{"content":"EF"}`, 6))
		write(t, w, chatFinish("length")+usageChunk(7, 6)+done)
		w.Close()
		r := wait(t, ch)
		require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
		assert.Nil(t, r.TokenCounts)
		require.Len(t, r.TokenTimes, 3)
		rec := recorder.RecordOf(&r, r.Start)
		assert.False(t, rec.ITLPerToken)
		assert.InDelta(t, 40, rec.ITLMeanMS, 1e-9)
	})
}

// Against the simulator sending up to 4 tokens per chunk with usage on every chunk, each request's ITL is
// per token: 13 tokens in chunks of 1, 4, 4, 4 give 12 gaps, whose mean is (E2E − TTFT)/(13 − 1), TPOT,
// exactly (the gaps of a chunk add up to its time since the one before). Per chunk there would be 3 gaps.
func TestSimulatorCoalescedChunksGivePerTokenITL(t *testing.T) {
	sim := vllmsim.New(t, vllmsim.Config{TokensPerChunk: 4, TimePerOutputToken: time.Millisecond})
	for _, prompts := range [][]Prompt{TextPrompts("count me"), ChatPrompts("count me")} {
		sink := &sliceSink{}
		_, err := Run(context.Background(), LoadConfig{
			Client: ClientConfig{BaseURL: sim.URL}, Prompts: prompts,
			Params: Params{MaxTokens: 13, ContinuousUsage: true}, Concurrency: 2, Requests: 4, Sink: sink,
		})
		require.NoError(t, err)
		rec := recorder.New(time.Now(), recorder.Config{})
		for _, r := range sink.all() {
			require.Equal(t, recorder.OutcomeOK, r.Outcome, "err: %v", r.Err)
			assert.Equal(t, []int{1, 4, 4, 4}, r.TokenCounts)
			assert.Equal(t, 13, r.OutputTokens)
			row := recorder.RecordOf(&r, r.Start)
			assert.True(t, row.ITLPerToken)
			tpot := (row.E2EMS - row.TTFTMS) / 12
			assert.InDelta(t, tpot, row.ITLMeanMS, 1e-9)
			assert.InDelta(t, row.TPOTMS, row.ITLMeanMS, 1e-9)
			rec.RecordRequest(r)
		}
		s := rec.Summarize()
		assert.Equal(t, 4*12, s.ITLMS.N)
		assert.InDelta(t, *s.TPOTMS.Mean, *s.ITLMS.Mean, 1e-9, "every request has 12 gaps: the mean of all gaps is the mean TPOT")
		assert.Equal(t, recorder.ITLPerToken, *s.ITLDefinition)
	}
}
