package serverstats

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withProcess appends the process metrics a real server exposes beside vLLM's: its start time (read) and its
// CPU time (not read).
func withProcess(body string, start, cpu string) string {
	return body + "# HELP process_start_time_seconds Start time.\n# TYPE process_start_time_seconds gauge\n" +
		"process_start_time_seconds " + start + "\n" +
		"# HELP process_start_time_seconds_extra Not the start time.\n# TYPE process_start_time_seconds_extra gauge\n" +
		"process_start_time_seconds_extra 7\n" +
		"# HELP process_cpu_seconds_total CPU time.\n# TYPE process_cpu_seconds_total counter\n" +
		"process_cpu_seconds_total " + cpu + "\n"
}

// An idle server's scrapes differ only in metrics a Window does not read: the Parser returns the last Scrape
// again, dated anew, and it equals what a parse gives in everything a Window reads.
func TestParserReusesTheLastParseWhileReadLinesAreUnchanged(t *testing.T) {
	base := capture(t, "v0-busy-qwen3-0.6b.prom")
	p := NewParser("")
	s1, err := p.Parse([]byte(withProcess(base, "100", "1.5")), t0)
	require.NoError(t, err)

	idle := []byte(withProcess(base, "100", "2.5")) // only process_cpu_seconds_total moved
	s2, err := p.Parse(idle, t0.Add(2e9))
	require.NoError(t, err)
	assert.Equal(t, t0.Add(2e9), s2.At)
	assert.Same(t, s1.Families["vllm:generation_tokens_total"], s2.Families["vllm:generation_tokens_total"], "not parsed again")
	fresh, err := Parse(idle, t0.Add(2e9), "")
	require.NoError(t, err)
	assert.Equal(t, fresh.NamesUsed, s2.NamesUsed)
	assert.Equal(t, fresh.Models, s2.Models)
	assert.NotContains(t, s2.Families, "process_cpu_seconds_total", "a family a Window does not read is not kept")
	assert.NotContains(t, fresh.Families, "process_start_time_seconds_extra")
	assert.Len(t, s2.Families, len(fresh.Families))
	for name, fam := range fresh.Families {
		assert.Equal(t, fam.String(), s2.Families[name].String(), name)
	}

	// A vLLM value that moved, and a restart (process_start_time_seconds), are parsed anew.
	busy := withProcess(bump(t, base, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"}`, 10), "100", "3")
	s3, err := p.Parse([]byte(busy), t0.Add(4e9))
	require.NoError(t, err)
	assert.Equal(t, 4884.0, s3.Families["vllm:generation_tokens_total"].GetMetric()[0].GetCounter().GetValue())
	s4, err := p.Parse([]byte(withProcess(bump(t, base, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"}`, 10), "200", "3")), t0.Add(6e9))
	require.NoError(t, err)
	assert.Equal(t, 200.0, s4.Families[processStart].GetMetric()[0].GetGauge().GetValue())

	// A body cut short (no final newline) is parsed, and fails; the failure leaves the Parser as it was.
	cut := []byte(busy[:len(busy)-1] + "x")
	_, err = p.Parse(cut, t0.Add(8e9))
	require.Error(t, err)
	s5, err := p.Parse([]byte(withProcess(bump(t, base, `vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"}`, 10), "200", "9")), t0.Add(10e9))
	require.NoError(t, err)
	assert.Same(t, s4.Families[processStart], s5.Families[processStart], "the last good parse is still reused")
}

func TestAppendReadLines(t *testing.T) {
	body := "# HELP vllm:a A.\n# TYPE vllm:a counter\nvllm:a_total 1\n# HELP go_x X.\ngo_x 2\n  vllm:b 3\n#TYPE go_y gauge\n" +
		"process_start_time_seconds 3\nprocess_start_time_seconds_extra 4\nprocess_start_time_seconds{pid=\"1\"} 5\n# EOF"
	assert.Equal(t, "# HELP vllm:a A.\n# TYPE vllm:a counter\nvllm:a_total 1\n# HELP go_x X.\n  vllm:b 3\n#TYPE go_y gauge\n"+
		"process_start_time_seconds 3\nprocess_start_time_seconds{pid=\"1\"} 5\n# EOF", string(appendReadLines(nil, []byte(body))))
}

// The read lines a scan gathers are appendReadLines' text of the body, and sameReadLines compares a body with
// them line by line.
func TestScannerGathersTheReadLines(t *testing.T) {
	for _, body := range []string{
		withProcess(capture(t, "v0-busy-qwen3-0.6b.prom"), "100", "1.5"),
		"# HELP vllm:a A.\n# TYPE vllm:a counter\nvllm:a_total 1\n# HELP go_x X.\ngo_x 2\n  vllm:b 3\n#TYPE go_y gauge\n\n   \n" +
			"process_start_time_seconds 3\nprocess_start_time_seconds_extra 4\nprocess_start_time_seconds{pid=\"1\"} 5\n# EOF\n",
	} {
		sc := newScanner()
		_, ok := sc.parse([]byte(body))
		require.True(t, ok)
		want := appendReadLines(nil, []byte(body))
		assert.Equal(t, string(want), string(sc.readLines))
		assert.True(t, sameReadLines([]byte(body), want))
		assert.False(t, sameReadLines([]byte(body), want[:len(want)-1]))
		assert.False(t, sameReadLines([]byte(body), append(want, "vllm:c 1\n"...)))
		assert.False(t, sameReadLines([]byte(body+"vllm:c 1\n"), want))
		assert.True(t, sameReadLines([]byte(body+"go_z 1\n"), want), "a line nothing reads")
	}
}
