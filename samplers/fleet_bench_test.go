package samplers

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkFleetScrapeV0 is one tick of a Fleet of n replicas, each a local httptest server serving the V0
// capture (alternating two bodies, so every scrape parses): Sample (n concurrent GETs and parses) and Commit
// (n Window.Add and FillInterval, and the aggregate's merged interval quantiles). The bound: 8
// replicas cost no more than 8 × one (BenchmarkRoadScrapeV0 is the plain one-server road in the same run).
func BenchmarkFleetScrapeV0(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run("replicas="+strconv.Itoa(n), func(b *testing.B) { benchFleet(b, n) })
	}
}

func benchFleet(b *testing.B, n int) {
	bodies := v0Bodies(b)
	var srvs []*vllmBodyServer
	var reps []Replica
	for i := range n {
		srv := newVLLMBodyServer(b, bodies[0])
		srvs = append(srvs, srv)
		reps = append(reps, Replica{Name: "r" + strconv.Itoa(i), Scraper: newTestVLLM(b, VLLMConfig{BaseURL: srv.URL})})
	}
	f, err := NewFleet(reps, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	ctx := context.Background()
	r := f.Sample(ctx) // the baseline
	r.Commit(&r)
	b.ReportAllocs()
	b.SetBytes(int64(n * len(bodies[0])))
	i := 0
	for b.Loop() {
		i++
		for _, s := range srvs {
			s.Set(bodies[i%2])
		}
		r := f.Sample(ctx)
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		r.Commit(&r)
		if r.VLLM.GenerationTokensTotal == nil {
			b.Fatal("no aggregate")
		}
	}
}
