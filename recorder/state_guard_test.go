package recorder

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// richRequest is request i of a run that exercises every figure a Summary has: every outcome, open-loop
// intended starts with slot waits, ignore_eos, three models and unnamed requests, session turns, per-token
// and per-chunk ITL, reasoning tokens, rejections with a time to reject. Times are offsets from start
// drawn from a seeded RNG, in µs.
func richRequest(rng *rand.Rand, start time.Time, i int) Request {
	at := func(us int) time.Time { return start.Add(time.Duration(us) * time.Microsecond) }
	send := 10_000*i + rng.IntN(5_000)
	q := Request{ID: fmt.Sprint("q", i), Start: at(send), PromptTokens: 20 + rng.IntN(50), HTTPStatus: 200,
		RequestedOutputTokens: 8, IgnoreEOS: i%4 == 0, Model: []string{"a", "b", "c", ""}[i%4], Turn: i % 3}
	if i%2 == 0 {
		q.SlotWait = time.Duration(rng.IntN(3_000)) * time.Microsecond
		q.IntendedStart = at(send - 500 - int(q.SlotWait/time.Microsecond))
	}
	switch i % 9 {
	case 1:
		q.Err, q.HTTPStatus = fmt.Errorf("connection reset by peer %d", i), 0
		return q
	case 2:
		q.Outcome, q.HTTPStatus, q.Responded = OutcomeRejected, 429, at(send+100+rng.IntN(900))
		return q
	case 3:
		q.Outcome, q.FirstToken = OutcomeIncomplete, at(send+4_000)
		return q
	case 4:
		q.Outcome = OutcomeCanceled
		return q
	}
	t := send + 20_000 + rng.IntN(80_000)
	q.TokenTimes, q.FirstToken = []time.Time{at(t)}, at(t)
	for range 3 + rng.IntN(4) {
		t += 1_000 + rng.IntN(9_000)
		q.TokenTimes = append(q.TokenTimes, at(t))
		q.TokenCounts = append(q.TokenCounts, 1+rng.IntN(2))
	}
	q.TokenCounts = append([]int{1}, q.TokenCounts...)
	q.OutputTokens, q.End, q.FinishReason = 0, at(t), "length"
	for _, k := range q.TokenCounts {
		q.OutputTokens += k
	}
	q.FirstContent = q.FirstToken
	if i%3 == 0 {
		q.ReasoningTokens, q.FirstContent = 2, q.TokenTimes[1]
	}
	if i%5 == 0 {
		q.TokenCounts = nil // per-chunk ITL
	}
	return q
}

// guardRecorders records n rich requests into one recorder and, in contiguous thirds, into three others
// with the same start and goodput SLO, with a warm-up request in each.
func guardRecorders(n int) (whole *Recorder, parts [3]*Recorder) {
	start := time.Now()
	cfg := Config{Goodput: SLO{TTFT: 60 * time.Millisecond, E2E: 120 * time.Millisecond}}
	whole = New(start, cfg)
	for k := range parts {
		parts[k] = New(start, cfg)
		warm := Request{Start: start, FirstToken: start.Add(time.Millisecond), End: start.Add(2 * time.Millisecond), OutputTokens: 2}
		whole.RecordWarmup(warm)
		parts[k].RecordWarmup(warm)
	}
	rng := rand.New(rand.NewPCG(11, 4))
	for i := range n {
		q := richRequest(rng, start, i)
		whole.RecordRequest(q)
		parts[3*i/n].RecordRequest(q)
	}
	return whole, parts
}

// jsonOf returns v's JSON encoding as a string.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	require.NoError(t, err)
	return string(b)
}

// sameJSON reports where got, an indented JSON encoding, first differs from want, with the lines around it.
func sameJSON(t *testing.T, what, want, got string) {
	t.Helper()
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		if i < len(w) && i < len(g) && w[i] == g[i] {
			continue
		}
		from := max(i-8, 0)
		t.Errorf("%s: the merged Summary differs from the recorder's at line %d:\nwant:\n%s\ngot:\n%s", what, i+1,
			strings.Join(w[from:min(i+4, len(w))], "\n"), strings.Join(g[from:min(i+4, len(g))], "\n"))
		return
	}
}

// viaJSON returns s as a shard file carries it: encoded and decoded.
func viaJSON(t *testing.T, s State) State {
	t.Helper()
	var out State
	require.NoError(t, json.Unmarshal([]byte(jsonOf(t, s)), &out))
	return out
}

// mergedSummary merges states and returns the merged State's Summary.
func mergedSummary(t *testing.T, states ...State) Summary {
	t.Helper()
	m, err := MergeStates(states)
	require.NoError(t, err)
	s, err := m.Summary()
	require.NoError(t, err)
	return s
}

// A recorder's State, alone or split over three recorders and merged, gives that recorder's Summary field
// for field: a figure added to Summary and forgotten in State or MergeStates fails here.
func TestStateCarriesEverySummaryFigure(t *testing.T) {
	whole, parts := guardRecorders(900)
	want := whole.Summarize()
	require.NotNil(t, want.MeanInterArrivalMS)
	require.Equal(t, "mixed", *want.ITLDefinition)
	require.Len(t, want.ByModel, 3)
	require.Len(t, want.ByTurn, 2)
	for _, st := range []Stats{want.SendLagMS, want.SlotWaitMS, want.TimeToRejectMS, want.TTFOMS, want.E2EFromIntendedMS} {
		require.Positive(t, st.N)
	}
	require.Positive(t, want.Rejected*want.Failed*want.Incomplete*want.Canceled*want.Warmup.Total)
	require.Positive(t, want.OutputLength.IgnoreEOS.Requests*int(want.ReasoningTokens)*(*want.GoodputRequests))
	wantJSON := jsonOf(t, want)

	sameJSON(t, "one state", wantJSON, jsonOf(t, mergedSummary(t, whole.State())))
	sameJSON(t, "one state through JSON", wantJSON, jsonOf(t, mergedSummary(t, viaJSON(t, whole.State()))))
	sameJSON(t, "three states", wantJSON, jsonOf(t, mergedSummary(t, parts[0].State(), parts[1].State(), parts[2].State())))
	sameJSON(t, "three states through JSON", wantJSON, jsonOf(t, mergedSummary(t, viaJSON(t, parts[0].State()),
		viaJSON(t, parts[1].State()), viaJSON(t, parts[2].State()))))
}

// Shards whose recorders started at different instants merge over the earliest start: the window and the
// open-loop schedule's mean inter-arrival time are the one recorder's (to float rounding), as are the counts.
func TestStatesOfDifferentStartsMergeOverTheEarliest(t *testing.T) {
	whole, parts := guardRecorders(300)
	want := whole.Summarize()
	states := [3]State{parts[0].State(), parts[1].State(), parts[2].State()}
	states[2].Start = states[2].Start.Add(-time.Second) // its offsets now count from 1 s earlier
	*states[2].IntendedFirstS += 1
	*states[2].IntendedLastS += 1
	got := mergedSummary(t, states[:]...)
	assert.Equal(t, want.Counts, got.Counts)
	assert.InDelta(t, *want.WindowS, *got.WindowS, 1e-9)
	assert.InDelta(t, *want.MeanInterArrivalMS, *got.MeanInterArrivalMS, 1e-9)
	assert.Equal(t, want.SendLagMS, got.SendLagMS)
	assert.Equal(t, want.ByModel["b"].Counts, got.ByModel["b"].Counts)
}

// A state of another version is refused, naming both versions.
func TestMergeStatesNamesBothVersions(t *testing.T) {
	r := New(time.Now(), Config{})
	old := r.State()
	old.Version = 1
	_, err := MergeStates([]State{r.State(), old})
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("state #1 has version 1, want %d", StateVersion))
}
