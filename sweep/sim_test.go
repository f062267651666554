package sweep

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/testhttp"
	"github.com/vmtest/vmtest/internal/testio"
	"github.com/vmtest/vmtest/loadgen"
	"github.com/vmtest/vmtest/vllmsim"
	"github.com/vmtest/vmtest/vmtest"
)

// The simulator's timing model (vllmsim.Config): at most MaxNumSeqs requests generate at once, the rest wait
// in a FIFO queue; an admitted request's token k (0-based) is due at admission + TTFTBase + k·TimePerOutputToken,
// and its TTFT counts the queue wait too. Here MaxNumSeqs = 4, TTFTBase = 100 ms, 10 ms per token and
// max_tokens = 8, so a request runs S = 100 + 7·10 = 170 ms.
//
// In a closed loop of c workers (time moves only when every goroutine waits, so the client costs no time):
//   - c ≤ 4: nothing ever waits; every TTFT is 100 ms (the simulator ends its waits up to 2 ms early inside a
//     synctest bubble: its last 2 ms are a real nanosleep, during which the bubble's clock stands still).
//   - c ≥ 5: the c requests sent at once fill the 4 slots and c − 4 wait for the first to end, S later, and
//     every later round repeats it: a waiting request's TTFT is ≈ 170 + 100 = 270 ms.
//
// So under "p(99) ttft < 200ms" the highest concurrency that meets the SLO is MaxNumSeqs = 4, and 5 fails.
// With 20 requests per step, p99 is decided once 20 − ⌊19·0.99⌋ = 2 requests have TTFT ≥ 200 ms, so each
// failing step stops early. The knee of ttft.p99 over the ladder 1, 2, 4, 5, 8 (≈ 100, 100, 100, 270, 270):
// xn = 0, 1/7, 3/7, 4/7, 1; yn = 0, 0, 0, 1, 1; d = 0, 0.14, 0.43, −0.43, 0: Kneedle's knee is at 4.
const (
	simSeqs   = 4
	simTTFT   = 100 * time.Millisecond
	simTPOT   = 10 * time.Millisecond
	simTokens = 8
)

// newSim starts the simulator outside the bubble (its listener cannot be inside one: a goroutine in Accept
// never durably blocks) and returns a client of its handler; the bubble must Close it, since its handlers'
// WaitGroup belongs to the bubble that used it.
func newSim(t *testing.T, cfg vllmsim.Config) (*vllmsim.Server, loadgen.ClientConfig) {
	cfg.MaxNumSeqs, cfg.TTFTBase, cfg.TimePerOutputToken = simSeqs, simTTFT, simTPOT
	sim := vllmsim.New(t, cfg)
	return sim, loadgen.ClientConfig{BaseURL: "http://sim.invalid", Transport: testhttp.Transport{Handler: sim.Handler()}}
}

func simOptions(dir string, client loadgen.ClientConfig, log *testio.SyncBuffer) Options {
	return Options{
		Mode: Concurrency,
		SLO:  []string{"p(99) ttft < 200ms"},
		Load: loadgen.LoadConfig{
			Client:   client,
			Prompts:  loadgen.ChatPrompts("What is a KV cache?"),
			Params:   loadgen.Params{Model: vllmsim.DefaultModel, MaxTokens: simTokens},
			Requests: 20,
		},
		Collect:   vmtest.Options{Interval: time.Second, GPUSource: "none", NoSystem: true},
		OutputDir: dir,
		Log:       log,
	}
}

func TestLadderFindsMaxNumSeqs(t *testing.T) {
	t.Setenv("VMTEST_VLLM_URL", "")
	sim, client := newSim(t, vllmsim.Config{})
	var log testio.SyncBuffer
	var res *Result
	dir := t.TempDir() // outside the bubble: the files are read after it
	synctest.Test(t, func(t *testing.T) {
		defer sim.Close()
		opts := simOptions(dir, client, &log)
		opts.Loads = []float64{1, 2, 4, 5, 8}
		var err error
		res, err = Run(context.Background(), opts)
		require.NoError(t, err)
	})
	require.NotNil(t, res.MaxMet, log.String())
	assert.Equal(t, float64(simSeqs), *res.MaxMet)
	require.NotNil(t, res.MinFailed)
	assert.Equal(t, float64(simSeqs+1), *res.MinFailed)
	assert.Empty(t, res.Warnings)
	require.Len(t, res.Steps, 5)
	for _, s := range res.Steps {
		ttft, err := s.Summary.Lookup("ttft.p99")
		require.NoError(t, err)
		require.True(t, ttft.Known, s.ID)
		if s.Load <= simSeqs {
			assert.True(t, s.Met, "%s: %v", s.ID, s.Failures)
			assert.Empty(t, s.StoppedEarly)
			assert.Equal(t, 20, s.Summary.Requests.OK, s.ID)
			assert.InDelta(t, 99, ttft.Value, 1.01, "%s: no queue: TTFT is TTFTBase (up to 2 ms early)", s.ID)
			continue
		}
		assert.False(t, s.Met, s.ID)
		assert.Contains(t, s.StoppedEarly, `stopped early: threshold "p(99) ttft < 200ms" can no longer be met: 2 successful requests have ttft ≥ 200ms, and with at most 20 planned, 2 such decide the p99`, s.ID)
		assert.Less(t, s.Summary.Requests.Total-s.Summary.Requests.Canceled, 20, "%s stopped before its 20 requests", s.ID)
		assert.InDelta(t, 268, ttft.Value, 3, "%s: one wait of S = 170 ms plus TTFTBase", s.ID)
		require.NotEmpty(t, s.Summary.Events)
		assert.Equal(t, "vmtest", s.Summary.Events[len(s.Summary.Events)-1].Source)
		assert.Equal(t, "stopped early: sweep: "+strings.TrimPrefix(s.StoppedEarly, "stopped early: "), s.Summary.Events[len(s.Summary.Events)-1].Message,
			"the step's own summary says why it stopped")
		require.Len(t, s.Failures, 1)
		assert.Contains(t, s.Failures[0], "ttft")
		verdict := ""
		for _, l := range strings.Split(log.String(), "\n") {
			if strings.HasPrefix(l, "sweep: "+s.ID+": SLO not met") {
				verdict = l
			}
		}
		assert.Contains(t, verdict, `; threshold "p(99) ttft < 200ms": ttft.p99 = `, "the check's failure, its label once")
		assert.Equal(t, 1, strings.Count(verdict, "not met"), "said once: %s", verdict)
		assert.NotContains(t, verdict, "vmtest: ")
	}
	require.NotNil(t, res.Knee)
	assert.Equal(t, float64(simSeqs), res.Knee.Load)
	assert.Equal(t, "ttft.p99", res.Knee.Metric)
	for _, k := range []string{"markdown", "html", "json"} {
		_, err := os.Stat(res.Files[k])
		assert.NoError(t, err, k)
	}
	md, err := os.ReadFile(res.Files["markdown"])
	require.NoError(t, err)
	assert.Contains(t, string(md), "answer: highest concurrency that met the SLO: 4 (5 failed it); knee of ttft.p99 at concurrency 4")
	assert.Contains(t, string(md), "| concurrency_8 |")
	page, err := os.ReadFile(res.Files["html"])
	require.NoError(t, err)
	assert.Contains(t, string(page), "throughput vs latency per load step")
	for _, s := range res.Steps {
		_, err := os.Stat(s.Files["summary_json"])
		assert.NoError(t, err, "%s has its own files", s.ID)
	}
	assert.Contains(t, log.String(), "sweep: concurrency_5: SLO not met; stopped early")
}

// Bisection between 1 and 16 runs 1 (met), 16 (not), then midpoints 8, 4, 6, 5, rounded down, and ends with
// 4 met and 5 not: one apart, the default resolution.
func TestSearchFindsMaxNumSeqs(t *testing.T) {
	t.Setenv("VMTEST_VLLM_URL", "")
	sim, client := newSim(t, vllmsim.Config{})
	var log testio.SyncBuffer
	var res *Result
	var onStep []string
	dir := t.TempDir() // outside the bubble: the files are read after it
	synctest.Test(t, func(t *testing.T) {
		defer sim.Close()
		opts := simOptions(dir, client, &log)
		opts.Search = &Search{Lo: 1, Hi: 16}
		// At most 1, 16 and a midpoint per halving of 15 down to 1 (7.5, 3.75, 1.875): 6, as run here.
		assert.Equal(t, 6, opts.MaxSteps())
		opts.OnStep = func(st Step) { onStep = append(onStep, st.ID) }
		var err error
		res, err = Run(context.Background(), opts)
		require.NoError(t, err)
	})
	assert.Equal(t, []string{"concurrency_1", "concurrency_16", "concurrency_8", "concurrency_4", "concurrency_6", "concurrency_5"}, onStep,
		"OnStep once per step, as each ends, in the order run")
	var order []string
	for _, l := range strings.Split(log.String(), "\n") {
		if id, rest, ok := strings.Cut(strings.TrimPrefix(l, "sweep: "), ": closed loop"); ok && rest != "" {
			order = append(order, id)
		}
	}
	assert.Equal(t, []string{"concurrency_1", "concurrency_16", "concurrency_8", "concurrency_4", "concurrency_6", "concurrency_5"}, order)
	require.NotNil(t, res.MaxMet)
	assert.Equal(t, 4.0, *res.MaxMet)
	assert.Equal(t, 5.0, *res.MinFailed)
	require.Len(t, res.Steps, 6)
	assert.Equal(t, 1.0, res.Steps[0].Load, "steps in increasing load")
	md, err := os.ReadFile(res.Files["markdown"])
	require.NoError(t, err)
	assert.Contains(t, string(md), "steps: bisection between concurrency 1 and 16 (resolution 1, the default)",
		"the report states the resolution used, not 0")
}

// A search whose upper bound meets the SLO says to search higher, in words that fit the library and the
// command alike; the rate's default resolution is (Hi − Lo)/16.
func TestSearchAnswerAtItsUpperBound(t *testing.T) {
	r := &runner{opts: Options{Mode: Concurrency, Search: &Search{Lo: 1, Hi: 4}},
		steps: []Step{{ID: "concurrency_4", Load: 4, Met: true}, {ID: "concurrency_1", Load: 1, Met: true}}}
	res := r.result()
	require.NotNil(t, res.MaxMet)
	assert.Equal(t, 4.0, *res.MaxMet)
	assert.Equal(t, []string{"the upper bound 4 met the SLO: the highest load that meets it is at least 4; search higher"}, res.Warnings)
	assert.Equal(t, 1.0, Search{Lo: 1, Hi: 4}.resolution(Concurrency))
	assert.Equal(t, 0.25, Search{Lo: 2, Hi: 6}.resolution(Rate), "(6 − 2)/16")
	assert.Equal(t, 0.5, Search{Lo: 2, Hi: 6, Resolution: 0.5}.resolution(Rate))
	assert.Contains(t, settingsOf(&Options{Mode: Rate, Search: &Search{Lo: 2, Hi: 6}}, res),
		"steps: bisection between rate 2 and 6 (resolution 0.25, the default)")
}

// Every third request the simulator answers 500 (Error500.Every = 3): under "error_rate < 10%" with 30
// requests, the budget is spent at the 3rd error (3/30 = 10% is not below 10%), whatever the other 27 do.
func TestErrorBudgetStopsAStep(t *testing.T) {
	t.Setenv("VMTEST_VLLM_URL", "")
	sim, client := newSim(t, vllmsim.Config{Error500: vllmsim.Fault{Every: 3}})
	var log testio.SyncBuffer
	var res *Result
	dir := t.TempDir() // outside the bubble: the files are read after it
	synctest.Test(t, func(t *testing.T) {
		defer sim.Close()
		opts := simOptions(dir, client, &log)
		opts.SLO = []string{"error_rate < 10%"}
		opts.Load.Requests, opts.Load.Warmup = 30, -1
		opts.Loads = []float64{1}
		var err error
		res, err = Run(context.Background(), opts)
		require.NoError(t, err)
	})
	require.Len(t, res.Steps, 1)
	s := res.Steps[0]
	assert.False(t, s.Met)
	assert.Nil(t, res.MaxMet)
	assert.Equal(t, `stopped early: threshold "error_rate < 10%" can no longer be met: 3 of 30 planned requests did not succeed: error_rate is at least 0.1, want < 10%`, s.StoppedEarly)
	// One worker: requests 3, 6, 9 fail; the 9th is the 3rd error, and nothing else was in flight.
	assert.Equal(t, 9, s.Summary.Requests.Total)
	assert.Equal(t, 3, s.Summary.Requests.Failed)
	assert.Empty(t, s.Error)
}

// Open loop, arrivals made regular (gamma gaps of shape 10^6: 0.1 % spread) so the answer can be worked out:
// at r req/s a request arrives every 1/r s and runs S = 170 ms, so at most ⌈S·r⌉ are in flight. At 20 req/s
// (50 ms apart) that is 4 = MaxNumSeqs: nothing waits, TTFT ≈ 100 ms. At 40 req/s (25 ms apart) the server
// serves at most 4/S = 23.5 req/s, the queue grows, and request k waits about k·(42.5 − 25) ms: from about the 6th
// on past 100 ms, so TTFT ≥ 200 ms. The highest rate of the ladder 10, 20, 40 that meets "p(99) ttft < 200ms"
// is 20.
func TestRateLadder(t *testing.T) {
	t.Setenv("VMTEST_VLLM_URL", "")
	sim, client := newSim(t, vllmsim.Config{})
	var log testio.SyncBuffer
	var res *Result
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		defer sim.Close()
		opts := simOptions(dir, client, &log)
		opts.Mode, opts.Loads, opts.Load.Burstiness = Rate, []float64{10, 20, 40}, 1e6
		var err error
		res, err = Run(context.Background(), opts)
		require.NoError(t, err)
	})
	require.NotNil(t, res.MaxMet, log.String())
	assert.Equal(t, 20.0, *res.MaxMet)
	assert.Equal(t, 40.0, *res.MinFailed)
	require.Len(t, res.Steps, 3)
	assert.Equal(t, "rate_40", res.Steps[2].ID)
	assert.Contains(t, res.Steps[2].StoppedEarly, `threshold "p(99) ttft < 200ms" can no longer be met`)
	for _, s := range res.Steps[:2] {
		ttft, _ := s.Summary.Lookup("ttft.p99")
		assert.InDelta(t, 99, ttft.Value, 1.01, "%s: nothing waits", s.ID)
	}
	assert.Contains(t, log.String(), "sweep: rate_20: open loop, 20 req/s, 20 requests, 20 warm-up")
}
