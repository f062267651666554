package summary

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// groupFixture has two models (one with dots, slash and capitals in its name) and two turns, each with
// figures whose statistics are worked out by hand below.
func groupFixture() *Summary {
	return &Summary{Requests: recorder.Summary{
		Counts: recorder.Counts{Total: 9, OK: 8, Failed: 1},
		TTFTMS: recorder.ComputeStats([]float64{10, 20, 30, 40, 50, 5, 15, 1000}),
		ByModel: map[string]recorder.Summary{
			"base": {Counts: recorder.Counts{Total: 6, OK: 5, Failed: 1}, ErrorRate: lp(1.0 / 6),
				TTFTMS: recorder.ComputeStats([]float64{10, 20, 30, 40, 50}), WindowS: lp(10), RequestThroughput: lp(0.5)},
			"Org/M-1.5B": {Counts: recorder.Counts{Total: 3, OK: 3},
				E2EMS: recorder.ComputeStats([]float64{300, 100, 200})},
		},
		ByTurn: []recorder.Summary{
			{Counts: recorder.Counts{Total: 6, OK: 6}, TTFTMS: recorder.ComputeStats([]float64{10, 20, 30, 40, 50, 1000})},
			{Counts: recorder.Counts{Total: 2, OK: 2}, TTFTMS: recorder.ComputeStats([]float64{5, 15})},
		},
	}}
}

func TestLookupModelAndTurn(t *testing.T) {
	s := groupFixture()
	for name, want := range map[string]struct {
		canon string
		value float64
		unit  string
	}{
		// numpy-linear, h = (n−1)·q/100: base's 10 20 30 40 50 at p99 is h 3.96, 40 + .96·10.
		"model.base.ttft.p99": {"model.base.ttft.p99", 49.6, UnitMS},
		"Model.BASE.TTFT.avg": {"model.base.ttft.mean", 30, UnitMS}, // 150 / 5; the run's spelling of the model
		// A model whose name holds dots: 100 200 300 at p50 is 200.
		"model.org/m-1.5b.e2e.median":  {"model.Org/M-1.5B.e2e.p50", 200, UnitMS},
		"model.org/m-1.5b.latency.max": {"model.Org/M-1.5B.e2e.max", 300, UnitMS},
		"model.base.requests.failed":   {"model.base.requests.failed", 1, UnitRequests},
		"model.base.error_rate":        {"model.base.error_rate", 1.0 / 6, UnitFraction},
		"model.base.throughput":        {"model.base.request_throughput", 0.5, UnitReqPerS},
		// Turn 2's 5 15 at p99: h .99, 5 + .99·10; turn 1's six at p50: h 2.5, 30 + .5·10.
		"turn.2.ttft.p99":       {"turn.2.ttft.p99", 14.9, UnitMS},
		"turn.01.ttft.p50":      {"turn.1.ttft.p50", 35, UnitMS},
		"turn.1.requests.ok":    {"turn.1.requests.ok", 6, UnitRequests},
		"turn.2.requests.total": {"turn.2.requests.total", 2, UnitRequests},
	} {
		v, err := s.Lookup(name)
		require.NoError(t, err, name)
		assert.True(t, v.Known, "%s: %s", name, v.Note)
		assert.Equal(t, want.canon, v.Name, name)
		assert.Equal(t, want.unit, v.Unit, name)
		assert.InDelta(t, want.value, v.Value, 1e-9, name)
	}
}

// A model or turn the run does not have is "no data", with the ones it has; a figure its group lacks says why.
func TestLookupModelAndTurnNoData(t *testing.T) {
	s := groupFixture()
	assertUnknown(t, s, map[string]string{
		"model.nope.ttft.p99":       "no model nope in this run (models: Org/M-1.5B, base)",
		"turn.3.ttft.p99":           "no turn 3 in this run (turns: 1, 2)",
		"model.org/m-1.5b.ttft.p99": "n=0 values from 3 successful requests",
		"model.base.goodput":        "no goodput SLO given",
	})
	v, err := (&Summary{}).Lookup("turn.1.ttft.p99")
	require.NoError(t, err)
	assert.Equal(t, "no turn 1 in this run (no request was a turn of a multi-turn session)", v.Note)
	v, err = (&Summary{}).Lookup("model.a.ttft.p99")
	require.NoError(t, err)
	assert.Equal(t, "no model a in this run (no request named a model)", v.Note)
	v, err = (*Summary)(nil).Lookup("model.a.e2e.p50")
	require.NoError(t, err)
	assert.Equal(t, Value{Name: "model.a.e2e.p50", Unit: UnitMS, Note: "no summary"}, v)
}

// A bad figure after a good group, or a bad group, is an error with suggestions spelled with the group.
func TestLookupModelAndTurnErrors(t *testing.T) {
	for name, want := range map[string]struct{ reason, suggestion string }{
		"model.base.ttft.p98":            {`no statistic "p98" for ttft`, "model.base.ttft.p90"},
		"model.base.tfft.p99":            {"request figures", "model.base.ttft.p99"},
		"model.base.gpu.utilization.avg": {"a group's figures are the client's request figures", ""},
		"model.base.server.ttft.p99":     {"a group's figures are the client's request figures", ""},
		"model.base":                     {"model.<name>.<figure>", ""},
		"turn.0.ttft.p99":                {"k from 1", "turn.1.ttft.p99"},
		"turn.x.ttft.p99":                {"k from 1", "turn.1.ttft.p99"},
		"turn.2.ttft":                    {"ttft takes one statistic", ""},
		"turn.2.client.cpu_utilization":  {"a group's figures are the client's request figures", ""},
		"turn.1.itl.p99":                 {"ITL is not kept per turn", ""},
		"turn.2.ITL.mean":                {"ITL is not kept per turn", ""},
	} {
		_, err := groupFixture().Lookup(name)
		var u *UnknownMetricError
		require.True(t, errors.As(err, &u), "%s: %v", name, err)
		assert.Equal(t, name, u.Name)
		assert.Contains(t, u.Reason, want.reason, name)
		if want.suggestion != "" {
			assert.Contains(t, u.Suggestions, want.suggestion, name)
		}
		_, derr := Describe(name)
		assert.Error(t, derr, name)
	}
}

// A group's figure has its figure's unit, direction and bench unit, and a label naming the group.
func TestDescribeModelAndTurn(t *testing.T) {
	d, err := Describe("model.base.ttft.p99")
	require.NoError(t, err)
	assert.Equal(t, "model.base.ttft.p99", d.Name)
	assert.Equal(t, "model base TTFT p99", d.Label)
	assert.Equal(t, UnitMS, d.Metric.Unit)
	assert.Equal(t, LowerIsBetter, d.Metric.Direction)
	d, err = Describe("turn.3.request_throughput")
	require.NoError(t, err)
	assert.Equal(t, "turn 3 request throughput", d.Label)
	assert.Equal(t, HigherIsBetter, DirectionOf("turn.3.request_throughput"))
	assert.Equal(t, HigherIsBetter, DirectionOf("model.a.b.goodput"))
}

// ModelOf names the model of a model.<name>.<figure> name, dots in the name kept, and nothing for any other.
func TestModelOf(t *testing.T) {
	for name, want := range map[string]string{
		"model.org/m-1.5b.e2e.p50": "org/m-1.5b", "MODEL.Base.ttft.p99": "Base", "model.a.error_rate": "a",
		"ttft.p99": "", "turn.1.ttft.p99": "", "model.a.server.ttft.p99": "", "model.a.nosuch": "",
	} {
		got, ok := ModelOf(name)
		assert.Equal(t, want, got, name)
		assert.Equal(t, want != "", ok, name)
	}
}
