package assert

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

// A threshold addresses one model's or one turn's request figures (model.<name>.*, turn.<k>.*), a model
// name with dashes and slashes included.
func TestThresholdOnOneModelAndTurn(t *testing.T) {
	s := &summary.Summary{RunID: "r", Requests: recorder.Summary{
		ByModel: map[string]recorder.Summary{
			// numpy-linear p99 of 10 20 30 40 50: h 3.96, 40 + .96·10 = 49.6.
			"base":               {Counts: recorder.Counts{Total: 5, OK: 5}, TTFTMS: recorder.ComputeStats([]float64{10, 20, 30, 40, 50})},
			"org/sql-lora-7b:v1": {Counts: recorder.Counts{Total: 2, OK: 2}, TTFTMS: recorder.ComputeStats([]float64{100, 300})},
		},
		ByTurn: []recorder.Summary{{Counts: recorder.Counts{Total: 2, OK: 2}, TTFTMS: recorder.ComputeStats([]float64{5, 15})}},
	}}
	require.NoError(t, Expr("model.base.ttft.p99 < 50ms").Eval(s))
	require.NoError(t, Expr("p(99) model.base.ttft < 50ms").Eval(s))
	require.ErrorContains(t, Expr("model.base.ttft.p99 < 49ms").Eval(s), "model.base.ttft.p99 = 49.6")
	// 100 300 at p50 is 200.
	require.ErrorContains(t, Expr("median model.org/sql-lora-7b:v1.ttft < 150ms").Eval(s), "model.org/sql-lora-7b:v1.ttft.p50 = 200")
	// turn 1's 5 15 at p99: 5 + .99·10 = 14.9.
	require.ErrorContains(t, Expr("turn.1.ttft.p99 < 10ms").Eval(s), "turn.1.ttft.p99 = 14.9")
	require.ErrorContains(t, Expr("turn.2.ttft.p99 < 10ms").Eval(s), "no turn 2 in this run (turns: 1)")
	require.ErrorContains(t, Expr("model.other.ttft.p99 < 10ms").Eval(s), "no model other in this run (models: base, org/sql-lora-7b:v1)")
	_, err := ParseThreshold("model.base.ttft.p98 < 1s")
	require.ErrorContains(t, err, `no statistic "p98" for ttft`)
	_, err = ParseThreshold("model.base.gpu.utilization.avg < 90")
	require.ErrorContains(t, err, "a group's figures are the client's request figures")
}
