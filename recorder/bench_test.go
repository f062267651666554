package recorder

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// benchReq is a typical streamed request: 16 token chunks 10 ms apart.
func benchReq() Request {
	t0 := time.Now()
	q := Request{Start: t0, FirstToken: t0.Add(50 * time.Millisecond), OutputTokens: 16, PromptTokens: 32, HTTPStatus: 200}
	for i := 0; i < 16; i++ {
		q.TokenTimes = append(q.TokenTimes, q.FirstToken.Add(time.Duration(i)*10*time.Millisecond))
	}
	q.End = q.TokenTimes[15]
	return q
}

// BenchmarkRecordRequest is RecordRequest from one goroutine (b.RunParallel with -cpu 1) or several (-cpu 8).
func BenchmarkRecordRequest(b *testing.B) {
	q := benchReq()
	r := New(time.Now(), b.N+1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.RecordRequest(q)
		}
	})
}

// BenchmarkPrometheusHistogramObserve is the reference: one client_golang Histogram.Observe.
func BenchmarkPrometheusHistogramObserve(b *testing.B) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ttft_seconds", Buckets: prometheus.DefBuckets})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(0.05)
		}
	})
}
