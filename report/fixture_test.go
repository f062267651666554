package report

import (
	"fmt"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
	"github.com/vmtest/vmtest/summary"
)

// richRun is a two-minute run sampled every 2 s with every source present: 8 GPUs (one reading 104 %, drawn
// at 100), the server's rates, gauges and per-interval TTFT and E2E quantile ranges (E2E p99 in the +Inf
// bucket at 60 s), the client's per-interval latencies, and one successful request ending in each interval
// whose TTFT is 40 + i ms.
func richRun() Run {
	const n = 60
	snaps := make([]snapshot.Snapshot, n)
	var recs []recorder.Record
	for i := range snaps {
		t := float64(i) * 2
		s := &snaps[i]
		s.ElapsedS = t
		s.Timestamp = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(t) * time.Second)
		s.GPUMetrics = map[string]snapshot.GPU{}
		for g := 0; g < 8; g++ {
			u := float64(20 + 10*g + (i % 5))
			if g == 7 && i == 30 {
				u = 104
			}
			s.GPUMetrics[fmt.Sprintf("gpu_%d", g)] = snapshot.GPU{Index: g, Name: "NVIDIA H200", Utilization: snapshot.F(u)}
		}
		s.SystemMetrics.CPUPercent = snapshot.F(30 + float64(i%7))
		s.SystemMetrics.RateIntervalS = snapshot.F(2)
		v := &s.VLLMMetrics
		v.RequestQueueSize, v.ActiveBatchSize, v.KVCacheUsagePercent = snapshot.F(float64(i%4)), snapshot.F(8), snapshot.F(40+float64(i%10))
		if i == 0 {
			continue
		}
		v.ScrapeIntervalS = snapshot.F(2)
		v.TokensPerSecond, v.PromptTokensPerSecond = snapshot.F(300+float64(100*(i%6))), snapshot.F(200)
		v.MeanLatencyMS, v.P50LatencyMS, v.P99LatencyMS = snapshot.F(300+float64(50*(i%6))), snapshot.F(530), snapshot.F(610)
		v.ServerTTFTP50MS, v.ServerTTFTP50BucketLowerMS, v.ServerTTFTP50AtMostMS = snapshot.F(45), snapshot.F(40), snapshot.F(60)
		v.ServerTTFTP99MS, v.ServerTTFTP99BucketLowerMS, v.ServerTTFTP99AtMostMS = snapshot.F(78), snapshot.F(60), snapshot.F(80)
		v.ServerE2EP50MS, v.ServerE2EP50BucketLowerMS, v.ServerE2EP50AtMostMS = snapshot.F(560), snapshot.F(500), snapshot.F(800)
		v.ServerE2EP99MS, v.ServerE2EP99BucketLowerMS, v.ServerE2EP99AtMostMS = snapshot.F(790), snapshot.F(500), snapshot.F(800)
		if i == 30 {
			v.ServerE2EP99MS, v.ServerE2EP99AtMostMS = nil, nil
			v.ServerE2EP99LowerBoundMS, v.ServerE2EP99BucketLowerMS = snapshot.F(800), snapshot.F(800)
		}
		recs = append(recs, recorder.Record{Outcome: recorder.OutcomeOK, StartS: t - 0.6, EndS: t - 0.05,
			TTFTMS: 40 + float64(i), E2EMS: 550})
	}
	return Run{Title: "rich", IntervalS: 2, Snapshots: snaps, Records: recs}
}

// richSummary is a summary to go with richRun, with figures a reader can find in the HTML.
func richSummary() *summary.Summary {
	q := func(v, lo, hi float64) *serverstats.Quantile {
		return &serverstats.Quantile{ValueMS: &v, BucketLowerMS: &lo, BucketUpperMS: &hi, AtMostMS: &hi}
	}
	return &summary.Summary{
		RunID: "run-rich", ConfigID: "rich", TestName: "TestRich", DurationS: 118, IntervalS: 2, Finished: true, Snapshots: 60,
		Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), End: time.Date(2026, 1, 2, 3, 6, 3, 0, time.UTC),
		Requests: recorder.Summary{Counts: recorder.Counts{Total: 61, OK: 59, Failed: 2},
			TTFTMS: recorder.ComputeStats([]float64{41, 42, 43, 99}), E2EMS: recorder.ComputeStats([]float64{550, 551}),
			ErrorRate: snapshot.F(2.0 / 61), RequestThroughput: snapshot.F(0.5)},
		GPU: map[string]summary.GPUStats{"gpu_0": {Name: "NVIDIA H200", AvgUtilization: snapshot.F(22.5), MaxUtilization: snapshot.F(24)}},
		Server: &serverstats.Stats{Figures: serverstats.Figures{
			TTFT: &serverstats.Histogram{Metric: "vllm:time_to_first_token_seconds", Count: 59, P50MS: q(45, 40, 60), P90MS: q(70, 60, 80), P99MS: q(78, 60, 80)}}},
		Warnings: []string{"server TTFT observations differ from the client's requests by 3"},
		Sources:  map[string]summary.SourceStatus{"gpu": {Readings: 60}, "vllm": {Readings: 60, Failed: 1, LastError: "connection refused"}},
		Files:    map[string]string{"requests_csv": "/out/requests_rich.csv"},
	}
}
