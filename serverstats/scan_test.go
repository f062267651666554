package serverstats

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/internal/promgen"
)

// expfmtParse is the reference: expfmt's TextParser over body.
func expfmtParse(body []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(modelValidation)
	return p.TextToMetricFamilies(bytes.NewReader(body))
}

// requireSameFamilies checks that two family maps hold the same names and, family by family, the same text.
func requireSameFamilies(t testing.TB, want, got map[string]*dto.MetricFamily, body []byte) {
	t.Helper()
	wn, gn := slices.Sorted(mapsKeys(want)), slices.Sorted(mapsKeys(got))
	require.Equal(t, wn, gn, "families of %q", body)
	for name, f := range want {
		require.Equal(t, f.String(), got[name].String(), "family %s of %q", name, body)
	}
}

func mapsKeys(m map[string]*dto.MetricFamily) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// parseText is what Parse does before NewScrape: the scanner, else expfmt over the whole body.
func parseText(sc *scanner, body []byte) (map[string]*dto.MetricFamily, bool, error) {
	if fams, ok := sc.parse(body); ok {
		return fams, true, nil
	}
	all, err := expfmtParse(body)
	return readFamilies(all), false, err
}

// checkAgainstExpfmt is the differential rule: where expfmt accepts the body, the read families are its own;
// where expfmt rejects the body and the body's read lines (its comments and read families' samples), the
// result is an error; where the scanner accepts a body, expfmt accepts its read lines and gives the same
// read families.
func checkAgainstExpfmt(t testing.TB, sc *scanner, body []byte) {
	t.Helper()
	got, fast, err := parseText(sc, body)
	full, errFull := expfmtParse(body)
	read, errRead := expfmtParse(appendReadLines(nil, body))
	if errFull == nil {
		require.NoError(t, err, "%q", body)
		requireSameFamilies(t, readFamilies(full), got, body)
	}
	if errFull != nil && errRead != nil {
		require.Error(t, err, "expfmt: %v; body %q", errRead, body)
	}
	if fast {
		require.NoError(t, errRead, "the scanner took %q", body)
		requireSameFamilies(t, readFamilies(read), got, body)
	}
}

func testBodies(t testing.TB) map[string][]byte {
	bodies := map[string][]byte{"gen10k": promgen.Body(10_000, 3, 0), "gen500": promgen.Body(500, 0, 0)}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "vllm", "*.prom"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		bodies[filepath.Base(f)] = b
	}
	return bodies
}

// The captures and generated bodies go through the scanner (no fallback) and give expfmt's read families.
func TestScannerMatchesExpfmtOnCaptures(t *testing.T) {
	sc := newScanner()
	for name, b := range testBodies(t) {
		_, ok := sc.parse(b)
		require.True(t, ok, name)
		checkAgainstExpfmt(t, sc, b)
		checkAgainstExpfmt(t, newScanner(), b)
	}
}

// Hand-made bodies at the edges of the text format: each is accepted or refused as expfmt does, with the
// same families.
func TestScannerEdgeCases(t *testing.T) {
	bodies := []string{
		"vllm:a 1\n",
		"vllm:a 1",       // cut short
		"vllm:a 1 \n",    // a blank after the value: expfmt wants a timestamp
		"vllm:a 1 123\n", // timestamp
		"vllm:a 1 123 \n",
		"vllm:a 1 12.5\n",
		"vllm:a NaN\nvllm:b +Inf\nvllm:c -Inf\nvllm:d 1e3\nvllm:e 0x1p3\nvllm:f 1_0\n",
		"vllm:a{x=\"a\\\"b\\\\c\\nd\"} 1\n",
		"vllm:a{x=\"a\\tb\"} 1\n",
		"vllm:a{x=\"1\",x=\"2\"} 1\n",
		"vllm:a{__name__=\"x\"} 1\n",
		"vllm:a{x=\"1\",} 1\n",
		"vllm:a { x = \"1\" , y=\"2\" } 1\n",
		"vllm:a{} 1\n",
		"vllm:a{x=\"\xff\"} 1\n",
		"vllm:a{x:y=\"1\"} 1\n",
		"vllm:a{\"x\"=\"1\"} 1\n",
		"{\"vllm:a\"} 1\n",
		"\"vllm:a\" 1\n",
		"vllm:a\n",
		"vllm:a{x=\"1\"}\n",
		"vllm:a{x=\"1\"}1\n",
		"  \t vllm:a 1\n\n\n   \n",
		"# HELP vllm:a The \\\\ help \\n.\nvllm:a 1\n",
		"# HELP vllm:a A.\n# HELP vllm:a B.\nvllm:a 1\n",
		"# TYPE vllm:a counter\n# TYPE vllm:a gauge\nvllm:a 1\n",
		"vllm:a 1\n# TYPE vllm:a counter\n",
		"# TYPE vllm:a Counter\nvllm:a 1\n",
		"# TYPE vllm:a counter \nvllm:a 1\n",
		"# TYPE vllm:a bogus\nvllm:a 1\n",
		"# TYPE vllm:a summary\nvllm:a{quantile=\"0.5\"} 1\nvllm:a_sum 1\nvllm:a_count 2\n",
		"# TYPE vllm:a gaugehistogram\nvllm:a_bucket{le=\"1\"} 1\n",
		"#\n# \n#  HELP\n# random words\n#TYPE vllm:a gauge\nvllm:a 3\n",
		"# HELP \n# TYPE vllm:a\n# TYPE vllm:a \nvllm:a 1\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"1\"} 1\nvllm:h_bucket{le=\"+Inf\"} 2\nvllm:h_sum 3\nvllm:h_count 2\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{a=\"1\",b=\"2\",le=\"1\"} 1\nvllm:h_bucket{b=\"2\",le=\"2\",a=\"1\"} 2\nvllm:h_count{a=\"1\",b=\"2\"} 2\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{e=\"1\",le=\"1\"} 1\nvllm:h_bucket{e=\"2\",le=\"1\"} 5\nvllm:h_bucket{e=\"1\",le=\"2\"} 2\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"2\"} 2\nvllm:h_bucket{le=\"1\"} 1\n", // le out of order: kept as written
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"1\"} 1.5\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"1\"} -1\n",
		"# TYPE vllm:h histogram\nvllm:h_count 2.5\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"x\"} 1\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"NaN\"} 1\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"1\",le=\"2\"} 1\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket 1\nvllm:h{le=\"3\"} 4\nvllm:h_sum 1 100\nvllm:h_count 1 200\n",
		"# TYPE vllm:h histogram\n# TYPE vllm:h_count counter\nvllm:h_count 1\n",
		"# TYPE vllm:h_count counter\n# TYPE vllm:h histogram\nvllm:h_count 1\nvllm:h_bucket{le=\"1\"} 1\n",
		"vllm:a 1\nvllm:a 2\n", // the same series twice: expfmt keeps both
		"vllm:a{x=\"1\"} 1\nother 2\nvllm:a{x=\"1\"} 3\n",
		"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 5\nprocess_start_time_seconds_extra 6\n",
		"# TYPE process_start_time_seconds histogram\nprocess_start_time_seconds_bucket{le=\"1\"} 1\n",
		"go_x{ 1\nvllm:a 1\n", // an unread line that does not parse
		"go_x 1\n# TYPE go_x counter\nvllm:a 1\n",
		"vllm:a\t1\t5\n",
		"vllm:a 1\r\n",
		"vllm:a{x=\"1\n\"} 1\n",
		"vllm:a{x=\"1\"\n",
		"vllm:a{x=\"1\"} 9223372036854775808\n",
		"vllm:a 1 9223372036854775808\n",
		"# TYPE vllm:h histogram\nvllm:h_bucket{le=\"1\"} 18446744073709551616\n",
	}
	for _, b := range bodies {
		checkAgainstExpfmt(t, newScanner(), []byte(b))
	}
}

// A long bad line in a read family gives expfmt's message, capped at MaxErrorText.
func TestParseErrorIsExpfmtsCapped(t *testing.T) {
	body := "vllm:a{x=\"" + strings.Repeat("y", 10_000) + "\\q\"} 1\n"
	_, err := Parse([]byte(body), t0, "")
	require.ErrorContains(t, err, "text format parsing error in line 1: invalid escape sequence")
	require.LessOrEqual(t, len(err.Error()), MaxErrorText+64)
}

// The scanner's interned label pairs carry over between bodies without changing what a parse gives.
func TestScannerInternsAcrossParses(t *testing.T) {
	sc := newScanner()
	a, b := promgen.Body(2_000, 1, 0), promgen.Body(3_000, 2, 0)
	fa, ok := sc.parse(a)
	require.True(t, ok)
	fb, ok := sc.parse(b)
	require.True(t, ok)
	ra, err := expfmtParse(a)
	require.NoError(t, err)
	rb, err := expfmtParse(b)
	require.NoError(t, err)
	requireSameFamilies(t, readFamilies(ra), fa, nil)
	requireSameFamilies(t, readFamilies(rb), fb, nil)
	ga, gb := fa["vllm:num_requests_running"].Metric[0].Label[0], fb["vllm:num_requests_running"].Metric[0].Label[0]
	require.Same(t, ga, gb, "the engine=\"0\" pair is shared")
}

// A body with more label values than the tables hold parses the same; the tables stop at maxInterned and
// start afresh at the next parse.
func TestScannerTablesAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("# TYPE vllm:a counter\n")
	for i := range maxInterned + 5000 {
		fmt.Fprintf(&b, "vllm:a{x=\"%d\"} %d\n", i, i)
	}
	sc := newScanner()
	fams, ok := sc.parse([]byte(b.String()))
	require.True(t, ok)
	ms := fams["vllm:a"].GetMetric()
	require.Len(t, ms, maxInterned+5000)
	for _, i := range []int{0, maxInterned - 1, maxInterned, maxInterned + 4999} {
		require.Equal(t, strconv.Itoa(i), ms[i].GetLabel()[0].GetValue())
		require.Equal(t, float64(i), ms[i].GetCounter().GetValue())
	}
	require.Equal(t, maxInterned, len(sc.blocks))
	require.Equal(t, maxInterned, len(sc.pairs))
	checkAgainstExpfmt(t, sc, []byte("vllm:a{x=\"1\"} 2\n"))
	require.Len(t, sc.blocks, 1)
}

// FuzzScannerMatchesExpfmt: for any body, the rule of checkAgainstExpfmt holds, with a fresh scanner and with
// one that parsed another body first. Seeds: the lines a Window reads of each capture and the edge cases.
func FuzzScannerMatchesExpfmt(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "vllm", "*.prom"))
	for _, c := range files {
		b, err := os.ReadFile(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seedLines(b))
	}
	f.Add([]byte("# TYPE vllm:h histogram\nvllm:h_bucket{a=\"1\",le=\"1\"} 1\nvllm:h_sum{a=\"1\"} 3\nvllm:h_count{a=\"1\"} 2\ngo_x 1\n"))
	f.Add([]byte("# HELP vllm:a A.\n# TYPE vllm:a counter\nvllm:a{x=\"a\\\"b\",y=\"2\"} 1 100\nprocess_start_time_seconds 5\n"))
	warm := promgen.Body(40, 0, 0)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgainstExpfmt(t, newScanner(), body)
		sc := newScanner()
		sc.parse(warm)
		checkAgainstExpfmt(t, sc, body)
	})
}

var _ = time.Second

// parseDecimal gives strconv.ParseFloat's value for every decimal it takes, and leaves the rest to it.
func TestParseDecimalIsStrconvs(t *testing.T) {
	for _, v := range []string{"0", "42", "38.0", "0.25", "1.", ".5", "123456789012345", "0.1", "0.3", "2.675",
		"99999.99999", "1234567.12345678", "1e3", "-1", "+1", ".", "", "1.2.3", "0x10", "1234567890123456"} {
		got, ok := parseDecimal([]byte(v))
		want, err := strconv.ParseFloat(v, 64)
		if ok {
			require.NoError(t, err, v)
			require.Equal(t, want, got, v)
		}
		pv, pok := parseValue([]byte(v))
		require.Equal(t, err == nil && !strings.ContainsAny(v, "pP_"), pok, v)
		if pok {
			require.Equal(t, want, pv, v)
		}
	}
}
