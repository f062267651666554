package samplers

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/serverstats"
)

// scriptedReplica returns its bodies one per Scrape, one second apart; "" is a failed scrape.
type scriptedReplica struct {
	bodies []string
	n      int
}

var fleetT0 = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

func (s *scriptedReplica) Scrape(context.Context) (serverstats.Scrape, error) {
	i := s.n
	s.n++
	if s.bodies[i] == "" {
		return serverstats.Scrape{}, errors.New("connection refused")
	}
	return serverstats.Parse([]byte(s.bodies[i]), fleetT0.Add(time.Duration(i)*time.Second), "")
}

func genBody(tokens, running float64) string {
	return fmt.Sprintf("# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total %g\n"+
		"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running %g\n", tokens, running)
}

// Replica b is down for the third and fourth ticks and back for the fifth: each tick's reading names it alone,
// a's figures go on, the aggregate is null while b is out and the tick after; the window's aggregate is the
// sum of both replicas' whole increases (b's gap spans its own step).
func TestFleetReplicaDownAndBack(t *testing.T) {
	a := &scriptedReplica{bodies: []string{genBody(0, 1), genBody(10, 1), genBody(20, 2), genBody(30, 2), genBody(40, 1), genBody(50, 1)}}
	b := &scriptedReplica{bodies: []string{genBody(100, 3), genBody(105, 3), "", "", genBody(120, 4), genBody(125, 4)}}
	f, err := NewFleet([]Replica{{Name: "a", Scraper: a}, {Name: "b", Scraper: b}}, 0)
	require.NoError(t, err)
	var tps, batch []any
	for k := range 6 {
		r := f.Sample(context.Background())
		if k == 2 || k == 3 {
			require.Error(t, r.Err)
			assert.Equal(t, "replica b: connection refused", r.Err.Error())
			assert.Equal(t, map[string]string{"a": "", "b": "connection refused"}, r.Parts)
		} else {
			require.NoError(t, r.Err)
			assert.Equal(t, map[string]string{"a": "", "b": ""}, r.Parts)
		}
		r.Commit(&r)
		tps = append(tps, val(r.VLLM.TokensPerSecond))
		batch = append(batch, val(r.VLLM.ActiveBatchSize))
		if k > 0 {
			assert.Equal(t, 10.0, val(r.VLLM.Replicas["a"].TokensPerSecond), "tick %d", k)
		}
	}
	// Rates: 10 + 5 tok/s while both are in, null from b's outage to the tick after it.
	assert.Equal(t, []any{nil, 15.0, nil, nil, nil, 15.0}, tps)
	assert.Equal(t, []any{4.0, 4.0, nil, nil, 5.0, 5.0}, batch)
	st, ok := f.ServerStats()
	require.True(t, ok)
	assert.Equal(t, 50.0, *st.Replicas["a"].GenerationTokens)
	assert.Equal(t, 25.0, *st.Replicas["b"].GenerationTokens)
	assert.Equal(t, 75.0, *st.GenerationTokens)
	assert.Equal(t, 4, st.Scrapes)
	// Each replica's mean over its own scrapes, summed: a (1+1+2+2+1+1)/6, b (3+3+4+4)/4.
	assert.InDelta(t, 8.0/6+14.0/4, *st.ActiveBatchSize.Mean, 1e-12)
	assert.Equal(t, 6.0, *st.ActiveBatchSize.Max) // a's 2 plus b's 4
	assert.InDelta(t, 4.0/6, *st.Coverage, 1e-12)
}

func val(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}

func TestNewFleetRefuses(t *testing.T) {
	_, err := NewFleet([]Replica{{Name: "a", Scraper: &scriptedReplica{}}, {Name: "a", Scraper: &scriptedReplica{}}}, 0)
	assert.ErrorContains(t, err, "given twice")
	_, err = NewFleet([]Replica{{Name: "a"}}, 0)
	assert.ErrorContains(t, err, "nil Scraper")
}
