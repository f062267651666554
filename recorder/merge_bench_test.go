package recorder

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// benchShards is 16 shards' States of 10^6 requests each (shardRecord: 2 chunk gaps per success), built
// once: every distribution is past ExactCap, so each is a sketch, as in a shard that ran 10^6 requests.
var benchShards = sync.OnceValue(func() []State {
	states := make([]State, 16)
	start := time.Now()
	for s := range states {
		r := New(start, Config{MaxRecords: -1, Goodput: SLO{TTFT: 100 * time.Millisecond}})
		rng := rand.New(rand.NewPCG(uint64(s), 9))
		for i := range 1_000_000 {
			rec, gaps := shardRecord(rng, i)
			r.AddRecord(rec, gaps)
			if i%ExactCap == 0 {
				r.DrainWindowUntil(time.Time{})
			}
		}
		states[s] = r.State()
	}
	return states
})

// BenchmarkMergeStates16x1M is `vmtest merge`'s statistics: 16 shards' States of 10^6 requests each merged
// (MergeStates) and summarized (State.Summary). Issue 11's budget: under 2 s and 256 MiB.
func BenchmarkMergeStates16x1M(b *testing.B) {
	states := benchShards()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, err := MergeStates(states)
		if err != nil {
			b.Fatal(err)
		}
		s, err := m.Summary()
		if err != nil || s.Total != 16_000_000 || !s.TTFTMS.Approximate {
			b.Fatal(err, s.Total)
		}
	}
}
