package report

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/summary"
)

// limitedServer returns the Stats of a window fed two scrapes of a server exposing serverstats.MaxEngines +
// over engines, whose engine "0" counter reads 10, then -5 (a negative counter: an invalid value).
func limitedServer(t *testing.T, over int) serverstats.Stats {
	t.Helper()
	body := func(gen string) string {
		var b strings.Builder
		b.WriteString("# TYPE vllm:generation_tokens_total counter\n")
		for e := range serverstats.MaxEngines + over {
			v := "10"
			if e == 0 {
				v = gen
			}
			fmt.Fprintf(&b, "vllm:generation_tokens_total{engine=\"%d\"} %s\n", e, v)
		}
		return b.String()
	}
	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	w := serverstats.NewWindow()
	for i, gen := range []string{"10", "-5"} {
		s, err := serverstats.Parse([]byte(body(gen)), t0.Add(time.Duration(i)*time.Second), "")
		require.NoError(t, err)
		w.Add(s)
	}
	return w.Summary()
}

// What the server window capped or refused (server_statistics.limits) is in the text summary, one line each
// under the server-side figures, and in the HTML report.
func TestServerLimitsInTextAndHTML(t *testing.T) {
	const over = 7
	st := limitedServer(t, over)
	want := []string{
		fmt.Sprintf("engines: up to %d engine label values per scrape past MaxEngines (%d) counted in the totals only, not in per_engine", over, serverstats.MaxEngines),
		`invalid: 1 values left out; the first: vllm:generation_tokens_total{engine="0"}: negative counter value (-5)`,
	}
	require.Equal(t, want, st.Limits)
	sum := summary.Compute(summary.Input{IntervalS: 1, Server: &st})

	lines := TextSummary(sum)
	var got []string
	for _, l := range lines {
		if strings.HasPrefix(l, "  limit reached: ") {
			got = append(got, strings.TrimPrefix(l, "  limit reached: "))
		}
	}
	assert.Equal(t, want, got)

	page, err := RunHTML(Run{}, sum, nil)
	require.NoError(t, err)
	list := `<ul id="server-limits"><li>` + html.EscapeString(want[0]) + `</li><li>` + html.EscapeString(want[1]) + `</li></ul>`
	assert.True(t, strings.Contains(string(page), list), "the page lacks %s", list)

	sum = summary.Compute(summary.Input{IntervalS: 1, Server: &serverstats.Stats{Scrapes: 2}})
	assert.NotContains(t, strings.Join(TextSummary(sum), "\n"), "limit reached")
	page, err = RunHTML(Run{}, sum, nil)
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(page), "server-limits"), "a page without limits has no list")
}
