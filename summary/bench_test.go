package summary

import "testing"

// lookupBenchNames are names from every kind of registry entry, some with synonyms.
var lookupBenchNames = []string{"ttft.p99", "latency.median", "error_rate", "throughput", "requests.failed",
	"gpu.utilization.avg", "gpu_1.power_w.max", "server.ttft.p99", "server.kv_cache_usage.max", "cpu.max"}

// BenchmarkLookup resolves and reads one name of lookupBenchNames per op, in turn.
func BenchmarkLookup(b *testing.B) {
	s := lookupFixture()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Lookup(lookupBenchNames[i%len(lookupBenchNames)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupUnknown is a name outside the registry: the reason and the suggestions are computed.
func BenchmarkLookupUnknown(b *testing.B) {
	s := lookupFixture()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Lookup("ttfb.p99"); err == nil {
			b.Fatal("no error")
		}
	}
}
