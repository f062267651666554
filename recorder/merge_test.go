package recorder

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shardRecord is request i of a synthetic run: outcomes, latencies (ms) and offsets varied by a seeded RNG.
func shardRecord(rng *rand.Rand, i int) (Record, []float64) {
	nan := math.NaN()
	rec := Record{ID: "r", StartS: float64(i) * 0.01, Outcome: OutcomeOK, TTFTMS: 5 + 200*rng.ExpFloat64(),
		TTFOMS: nan, TPOTMS: 1 + rng.Float64()*20, ITLMeanMS: nan, TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan,
		TimeToRejectMS: nan, OutputTokens: 1 + rng.IntN(100), PromptTokens: 10}
	rec.E2EMS = rec.TTFTMS + rec.TPOTMS*float64(rec.OutputTokens)
	rec.EndS = rec.StartS + rec.E2EMS/1000
	switch i % 17 {
	case 3:
		rec.Outcome, rec.Error, rec.TTFTMS, rec.E2EMS, rec.TPOTMS = OutcomeFailed, "connection reset on port "+string(rune('0'+i%10)), nan, nan, nan
	case 5:
		rec.Outcome, rec.TimeToRejectMS, rec.TTFTMS, rec.E2EMS, rec.TPOTMS = OutcomeRejected, rng.Float64()*3, nan, nan, nan
	}
	var gaps []float64
	if rec.Outcome == OutcomeOK {
		gaps = []float64{rng.Float64() * 30, rng.Float64() * 30}
	}
	return rec, gaps
}

// mergedAgainstWhole records n requests into one recorder and, dealt out at random, into k others, and
// returns the whole recorder's Summary and that of the k merged States (through JSON, as a shard file
// carries them).
func mergedAgainstWhole(t *testing.T, n, k int) (whole, merged Summary) {
	start := time.Now()
	slo := SLO{TTFT: 100 * time.Millisecond}
	all := New(start, Config{Goodput: slo})
	parts := make([]*Recorder, k)
	for i := range parts {
		parts[i] = New(start, Config{Goodput: slo})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		rec, gaps := shardRecord(rng, i)
		all.AddRecord(rec, gaps)
		parts[rng.IntN(k)].AddRecord(rec, gaps)
	}
	states := make([]State, k)
	for i, p := range parts {
		b, err := json.Marshal(p.State())
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &states[i]))
	}
	m, err := MergeStates(states)
	require.NoError(t, err)
	merged, err = m.Summary()
	require.NoError(t, err)
	return all.Summarize(), merged
}

// Below ExactCap the merged Summary is the whole recorder's: the same counts, the same numpy percentiles.
func TestMergedStatesEqualOneRecorderBelowTheCap(t *testing.T) {
	whole, merged := mergedAgainstWhole(t, 5000, 4)
	require.False(t, whole.TTFTMS.Approximate)
	assert.Equal(t, whole.Counts, merged.Counts)
	for _, p := range []struct {
		name string
		w, m Stats
	}{{"ttft", whole.TTFTMS, merged.TTFTMS}, {"tpot", whole.TPOTMS, merged.TPOTMS}, {"e2e", whole.E2EMS, merged.E2EMS},
		{"itl", whole.ITLMS, merged.ITLMS}, {"reject", whole.TimeToRejectMS, merged.TimeToRejectMS}, {"ttfo", whole.TTFOMS, merged.TTFOMS}} {
		assert.Equal(t, p.w, p.m, p.name)
	}
	assert.Equal(t, *whole.GoodputRequests, *merged.GoodputRequests)
	assert.Equal(t, whole.GoodputSLOs, merged.GoodputSLOs)
	assert.InDelta(t, *whole.WindowS, *merged.WindowS, 1e-6)
	assert.InEpsilon(t, *whole.RequestThroughput, *merged.RequestThroughput, 1e-6)
	assert.Equal(t, whole.DominantErrorCount, merged.DominantErrorCount)
	assert.Equal(t, ErrorClass(whole.DominantError), ErrorClass(merged.DominantError))
	assert.Equal(t, *whole.ErrorRate, *merged.ErrorRate)
}

// Above ExactCap the merged percentiles come from one sketch of every value: each within
// SketchRelativeAccuracy of numpy's percentile over the union; N, mean, std, min and max exact.
func TestMergedStatesAboveTheCapKeepTheSketchAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("records 650,000 requests")
	}
	const n = ExactCap + ExactCap/4
	start := time.Now()
	rng := rand.New(rand.NewPCG(3, 4))
	parts := [3]*Recorder{New(start, Config{}), New(start, Config{}), New(start, Config{})}
	var union []float64
	for i := range n {
		rec, gaps := shardRecord(rng, i)
		if rec.Outcome == OutcomeOK {
			union = append(union, rec.TTFTMS)
		}
		parts[i%3].AddRecord(rec, gaps)
	}
	states := []State{parts[0].State(), parts[1].State(), parts[2].State()}
	m, err := MergeStates(states)
	require.NoError(t, err)
	s, err := m.Summary()
	require.NoError(t, err)
	st := s.TTFTMS
	require.True(t, st.Approximate, "%d values is past ExactCap", len(union))
	slices.Sort(union)
	want := ComputeStats(union)
	assert.Equal(t, want.N, st.N)
	assert.Equal(t, *want.Min, *st.Min)
	assert.Equal(t, *want.Max, *st.Max)
	assert.InEpsilon(t, *want.Mean, *st.Mean, 1e-9)
	assert.InEpsilon(t, *want.Std, *st.Std, 1e-9)
	for _, q := range []int{50, 90, 95, 99} {
		w, _ := want.Quantile(q)
		g, _ := st.Quantile(q)
		assert.InEpsilon(t, w, g, SketchRelativeAccuracy, "p%d", q)
	}
}

// A state of another version, another goodput SLO, or a distribution no recorder makes is refused, naming it.
func TestMergeStatesRefusesWhatDoesNotMerge(t *testing.T) {
	r := New(time.Now(), Config{})
	rec, gaps := shardRecord(rand.New(rand.NewPCG(5, 6)), 0)
	r.AddRecord(rec, gaps)
	good := r.State()
	for name, mutate := range map[string]func(*State){
		"version 1":           func(s *State) { s.Version = 1 },
		"goodput SLO":         func(s *State) { s.Goodput.TTFT = time.Second },
		"8 bytes of values":   func(s *State) { s.TTFTMS.N = 2 },
		"not a distribution":  func(s *State) { s.E2EMS.Min, s.E2EMS.Max = 2, 1 },
		"not finite":          func(s *State) { s.TPOTMS.Mean = math.NaN() },
		"both values and a s": func(s *State) { s.TTFTMS.Sketch = []byte{1} },
	} {
		bad := good
		bad.Errors = slices.Clone(good.Errors)
		mutate(&bad)
		_, err := MergeStates([]State{good, bad})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "state #1", name)
	}
	_, err := MergeStates(nil)
	assert.Error(t, err)
}

// addCounts sums every tally of Counts: a field added to Counts and forgotten there fails this test.
func TestAddCountsSumsEveryField(t *testing.T) {
	var c Counts
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := range v.NumField() {
			switch f := v.Field(i); f.Kind() {
			case reflect.Int, reflect.Int64:
				f.SetInt(int64(i + 1))
			case reflect.Struct:
				fill(f)
			}
		}
	}
	fill(reflect.ValueOf(&c).Elem())
	sum := addCounts(c, c)
	var check func(a, s reflect.Value, path string)
	check = func(a, s reflect.Value, path string) {
		for i := range a.NumField() {
			name := path + a.Type().Field(i).Name
			switch f := a.Field(i); f.Kind() {
			case reflect.Int, reflect.Int64:
				if s.Field(i).Int() != 2*f.Int() {
					t.Errorf("addCounts: %s = %d, want %d", name, s.Field(i).Int(), 2*f.Int())
				}
			case reflect.Struct:
				check(f, s.Field(i), name+".")
			}
		}
	}
	check(reflect.ValueOf(c), reflect.ValueOf(sum), "")
}
