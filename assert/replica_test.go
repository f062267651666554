package assert

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// A threshold addresses the aggregate of several replicas (server.*) or one of them (replica.<name>.server.*).
func TestThresholdOnOneReplica(t *testing.T) {
	lp := func(x float64) *float64 { return &x }
	fig := func(p99 float64) serverstats.Stats {
		return serverstats.Stats{Scrapes: 3, Figures: serverstats.Figures{TTFT: &serverstats.Histogram{Count: 10,
			P99MS: &serverstats.Quantile{ValueMS: lp(p99), BucketLowerMS: lp(0), BucketUpperMS: lp(5000), AtMostMS: lp(5000)}}}}
	}
	agg := fig(400)
	agg.Replicas = map[string]serverstats.Stats{"fast": fig(100), "slow": fig(900)}
	s := &summary.Summary{RunID: "r", Server: &agg}
	require.NoError(t, Expr("server.ttft.p99 < 500ms").Eval(s))
	require.NoError(t, Expr("replica.fast.server.ttft.p99 < 500ms").Eval(s))
	err := Expr("replica.slow.server.ttft.p99 < 500ms").Eval(s)
	require.ErrorContains(t, err, "replica.slow.server.ttft.p99 = 900")
	err = Expr("replica.other.server.ttft.p99 < 500ms").Eval(s)
	require.ErrorContains(t, err, "no replica other in this run (replicas: fast, slow)")
	_, err = ParseThreshold("replica.fast.server.ttft.p98 < 1s")
	require.ErrorContains(t, err, `no statistic "p98" for server.ttft`)
}
