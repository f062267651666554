package assert

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// Two engines whose TTFT buckets differ ({2, +Inf} and {1, 2, +Inf}), 10 observations of 0.1 s on engine 0
// and 10 of 1.95 s on engine 1: the true p99 is 1.95 s. `sum by (le)` over the two layouts would prove
// p99 ≤ 1.5 s by the histogram's sum and pass "p99 < 1.6s"; merged onto the common bounds the proven bound is
// 2 s, the interpolated value 1.98 s, and the threshold fails, as it must.
func TestThresholdNeverPassesOnAFalseBound(t *testing.T) {
	hist := func(c0, s0, c1, s1 string) string {
		return strings.NewReplacer("C0", c0, "S0", s0, "C1", c1, "S1", s1).Replace(`# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="2"} C0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} C0
vllm:time_to_first_token_seconds_count{engine="0"} C0
vllm:time_to_first_token_seconds_sum{engine="0"} S0
vllm:time_to_first_token_seconds_bucket{engine="1",le="1"} 0
vllm:time_to_first_token_seconds_bucket{engine="1",le="2"} C1
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf"} C1
vllm:time_to_first_token_seconds_count{engine="1"} C1
vllm:time_to_first_token_seconds_sum{engine="1"} S1
`)
	}
	w := serverstats.NewWindow()
	t0 := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	for i, b := range []string{hist("0", "0", "0", "0"), hist("10", "1", "10", "19.5")} {
		sc, err := serverstats.Parse([]byte(b), t0.Add(time.Duration(i)*time.Second), "")
		require.NoError(t, err)
		w.Add(sc)
	}
	st := w.Summary()
	s := summary.Compute(summary.Input{RunID: "r", Server: &st})

	require.Error(t, Expr("server.ttft.p99 < 1.6s").Eval(s), "the true p99 is 1.95 s")
	require.NoError(t, Expr("server.ttft.p99 <= 2s").Eval(s), "proven: at most 2 s")
}
