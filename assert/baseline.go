package assert

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vmtest/vmtest/summary"
)

// UpdateFlag is the name of the command-line flag (registered by this package with the flag package, unless
// another package registered it first) that makes Baseline checks rewrite baseline files
// from the current run instead of comparing: go test -run TestX -vmtest.update. It is read when a baseline
// is checked, after the test binary has parsed its flags. UpdateEnv=1 does the same where the flag cannot be
// given (go test ./... with packages that do not import assert).
const (
	UpdateFlag = "vmtest.update"
	UpdateEnv  = "VMTEST_UPDATE"
)

func init() {
	if flag.Lookup(UpdateFlag) == nil {
		flag.Bool(UpdateFlag, false, "vmtest: rewrite baseline files from this run instead of comparing with them")
	}
}

// updateRequested reports whether -vmtest.update (or VMTEST_UPDATE) is set.
func updateRequested() bool {
	if f := flag.Lookup(UpdateFlag); f != nil {
		if b, err := strconv.ParseBool(f.Value.String()); err == nil && b {
			return true
		}
	}
	b, _ := strconv.ParseBool(os.Getenv(UpdateEnv))
	return b
}

// Direction says which way a metric improves (summary.Direction).
type Direction = summary.Direction

const (
	// AutoDirection takes the metric's direction from the metric registry (see DirectionOf).
	AutoDirection Direction = 0
	// LowerIsBetter: a larger value is a regression (latencies, error rate, memory, power, energy).
	LowerIsBetter = summary.LowerIsBetter
	// HigherIsBetter: a smaller value is a regression (throughputs, goodput).
	HigherIsBetter = summary.HigherIsBetter
	// Neutral: neither way is better (counts the workload sets); a change beyond tolerance either way fails.
	Neutral = summary.Neutral
)

// DirectionOf returns the direction of a summary.Lookup metric as the metric registry gives it
// (summary.DirectionOf; README.md's table of metric names): higher is better for request and token
// throughputs, goodput and the server's token and request rates; neither for counts the workload sets
// (requests.total, requests.ok, token counts, server.generation_tokens); lower is better for everything
// else (latencies, error rate, failures, queue, memory, power, energy, utilization), and for a name outside
// the registry. Set Tolerance.Direction where that is not what a metric means to you.
func DirectionOf(metric string) Direction { return summary.DirectionOf(metric) }

// Tolerance chooses a metric to compare with the baseline and how far it may regress. A regression is
// allowed up to the larger of Rel·|baseline| and Abs; with both zero any regression fails. Improvements
// always pass.
type Tolerance struct {
	// Metric is a summary.Lookup name ("ttft.p99", "throughput", "gpu.power_w.avg").
	Metric string
	// Rel is the allowed regression relative to the baseline value, a fraction: 0.10 allows 10 %.
	Rel float64
	// Abs is the allowed regression in the metric's unit (ms for latencies, req/s for throughput, ...).
	Abs float64
	// Direction is which way the metric improves; AutoDirection infers it with DirectionOf.
	Direction Direction
}

// Rel returns a Tolerance allowing metric to regress by frac of its baseline value (0.10 = 10 %), in the
// direction DirectionOf infers.
func Rel(metric string, frac float64) Tolerance { return Tolerance{Metric: metric, Rel: frac} }

// Abs returns a Tolerance allowing metric to regress by amount in its unit (ms for latencies), in the
// direction DirectionOf infers.
func Abs(metric string, amount float64) Tolerance { return Tolerance{Metric: metric, Abs: amount} }

// BaselineFormat is the version of the baseline file format this package writes and reads.
const BaselineFormat = 1

// BaselineFile is a baseline file: the chosen metrics' values from one run, with what identifies the run. It is
// written as indented JSON, small enough to review in a diff.
type BaselineFile struct {
	// Format is BaselineFormat.
	Format int `json:"vmtest_baseline"`
	// RunID, ConfigID and TestName identify the run the values come from.
	RunID    string `json:"run_id"`
	ConfigID string `json:"config_id,omitempty"`
	TestName string `json:"test_name,omitempty"`
	// Time is the run's start.
	Time time.Time `json:"time"`
	// Metrics maps a canonical summary.Lookup name to its value.
	Metrics map[string]BaselineValue `json:"metrics"`
}

// BaselineValue is one metric's value in a baseline file.
type BaselineValue struct {
	// Value is in Unit, rounded to 12 significant digits.
	Value float64 `json:"value"`
	// Unit is summary.Value.Unit.
	Unit string `json:"unit"`
	// N is the number of samples behind the value.
	N int `json:"n"`
}

// ReadBaseline reads a baseline file. It returns an error wrapping fs.ErrNotExist when there is none, and an
// error naming the file when it is not a baseline this package can read.
func ReadBaseline(path string) (BaselineFile, error) {
	var b BaselineFile
	data, err := os.ReadFile(path)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("baseline %s: %w", path, err)
	}
	if b.Format != BaselineFormat {
		return b, fmt.Errorf("baseline %s: format %d, want vmtest_baseline %d", path, b.Format, BaselineFormat)
	}
	return b, nil
}

// writeBaseline writes b to path atomically (temp file in the same directory, then rename), creating the
// directory.
func writeBaseline(path string, b BaselineFile) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stem := filepath.Base(path)
	for len(stem) > 200 { // the temporary name stays under 255 bytes whatever the baseline's name
		_, size := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-size]
	}
	f, err := os.CreateTemp(dir, "."+stem+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// round12 rounds x to 12 significant digits, so a file reads 2311 rather than 2311.0000000000005.
func round12(x float64) float64 {
	y, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	if err != nil {
		return x
	}
	return y
}

// checkTolerances returns an ErrInvalidCheck error for a baseline check that cannot be run: no path, no
// metric, an unknown metric name, a negative or non-finite tolerance, an unknown
// Direction. It does not read the file.
func checkTolerances(path string, tols []Tolerance) error {
	if strings.TrimSpace(path) == "" {
		return invalidf("vmtest: baseline: no file path given")
	}
	if len(tols) == 0 {
		return invalidf("vmtest: baseline %s: no metric chosen", path)
	}
	for _, t := range tols {
		_, err := lookupName("vmtest: baseline "+path+": ", t.Metric)
		if err != nil {
			return err
		}
		if math.IsNaN(t.Rel) || math.IsInf(t.Rel, 0) || t.Rel < 0 || math.IsNaN(t.Abs) || math.IsInf(t.Abs, 0) || t.Abs < 0 {
			return invalidf("vmtest: baseline %s: %s: tolerance Rel %v, Abs %v: want finite values ≥ 0", path, t.Metric, t.Rel, t.Abs)
		}
		if t.Direction < AutoDirection || t.Direction > Neutral {
			return invalidf("vmtest: baseline %s: %s: unknown Direction %d (want AutoDirection, LowerIsBetter, HigherIsBetter or Neutral)", path, t.Metric, int(t.Direction))
		}
	}
	return nil
}

// baseline does a Baseline check's work and returns the lines Assert logs.
func baseline(s *summary.Summary, path string, update bool, tols []Tolerance) ([]string, error) {
	if err := checkTolerances(path, tols); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("vmtest: baseline %s: no summary", path)
	}
	type chosen struct {
		tol Tolerance
		cur summary.Value
	}
	var cs []chosen
	var errs []error
	for _, t := range tols {
		v, err := s.Lookup(t.Metric)
		if err != nil {
			return nil, fmt.Errorf("vmtest: baseline %s: %s", path, unknownMetricText(err, ""))
		}
		if t.Direction == AutoDirection {
			t.Direction = DirectionOf(v.Name)
		}
		if !v.Known {
			errs = append(errs, fmt.Errorf("vmtest: baseline: %s: no data in this run (%s; run %s; data: %s)",
				v.Name, noDataNote(v), s.RunID, s.DataFileOf(v.Name)))
			continue
		}
		cs = append(cs, chosen{t, v})
	}

	if update {
		if len(errs) > 0 {
			errs = append(errs, fmt.Errorf("vmtest: baseline %s not updated: a chosen metric has no data", path))
			return nil, errors.Join(errs...)
		}
		b := BaselineFile{Format: BaselineFormat, RunID: s.RunID, ConfigID: s.ConfigID, TestName: s.TestName,
			Time: s.Start, Metrics: map[string]BaselineValue{}}
		var parts []string
		for _, c := range cs {
			b.Metrics[c.cur.Name] = BaselineValue{Value: round12(c.cur.Value), Unit: c.cur.Unit, N: c.cur.N}
			parts = append(parts, c.cur.Name+" "+formatValue(c.cur.Value, c.cur.Unit))
		}
		if err := writeBaseline(path, b); err != nil {
			return nil, fmt.Errorf("vmtest: baseline %s: writing: %w", path, err)
		}
		return []string{fmt.Sprintf("vmtest: baseline %s updated from run %s (-%s): %s", path, s.RunID, UpdateFlag, strings.Join(parts, ", "))}, nil
	}

	b, err := ReadBaseline(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("vmtest: baseline %s does not exist; run the test with -%s (or %s=1) to write it from this run", path, UpdateFlag, UpdateEnv)
	}
	if err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	var notes []string
	for _, c := range cs {
		line, regressed, err := compareOne(s, b, path, c.tol, c.cur)
		switch {
		case err != nil:
			errs = append(errs, err)
		case regressed:
			errs = append(errs, errors.New(line))
		default:
			notes = append(notes, line)
		}
	}
	return notes, errors.Join(errs...)
}

// compareOne compares one metric with the baseline and returns the line to log or report and whether it
// regressed beyond tolerance.
func compareOne(s *summary.Summary, b BaselineFile, path string, t Tolerance, cur summary.Value) (string, bool, error) {
	base, ok := b.Metrics[cur.Name]
	if !ok {
		return "", false, fmt.Errorf("vmtest: baseline %s does not hold %s (it holds %s); run with -%s to rewrite it",
			path, cur.Name, strings.Join(sortedNames(b.Metrics), ", "), UpdateFlag)
	}
	if base.Unit != cur.Unit {
		return "", false, fmt.Errorf("vmtest: baseline %s holds %s in %q, this run has it in %q; run with -%s to rewrite it",
			path, cur.Name, base.Unit, cur.Unit, UpdateFlag)
	}
	worse := cur.Value - base.Value
	switch t.Direction {
	case HigherIsBetter:
		worse = -worse
	case Neutral:
		worse = math.Abs(worse) // a change either way beyond tolerance is a regression
	}
	allowed := math.Max(t.Rel*math.Abs(base.Value), t.Abs)
	// A hair of slack (1 ppb) so that a value exactly at the tolerance, or equal to the rounded value in the
	// file, is not a regression or an improvement by rounding.
	eps := 1e-9 * math.Max(math.Abs(base.Value), math.Abs(cur.Value))

	change := "from 0"
	if base.Value != 0 {
		change = fmt.Sprintf("%+.1f%%", 100*(cur.Value-base.Value)/math.Abs(base.Value))
	} else if cur.Value == 0 {
		change = "+0.0%"
	}
	tol := toleranceText(t, allowed, cur.Unit)
	vals := fmt.Sprintf("%s now vs %s in baseline", formatValue(cur.Value, cur.Unit), formatValue(base.Value, base.Unit))
	switch {
	case worse > allowed+eps:
		return fmt.Sprintf("vmtest: baseline: %s regressed: %s (%s, tolerance %s; %s) (n=%d vs %d, window %s, run %s vs baseline run %s of %s; data: %s; baseline: %s)",
			cur.Name, vals, change, tol, t.Direction, cur.N, base.N, windowText(cur.WindowS), s.RunID, b.RunID,
			b.Time.Format(time.RFC3339), s.DataFile(), path), true, nil
	case worse < -eps:
		return fmt.Sprintf("vmtest: baseline: %s improved: %s (%s; %s); run with -%s to keep the new figure",
			cur.Name, vals, change, t.Direction, UpdateFlag), false, nil
	}
	return fmt.Sprintf("vmtest: baseline: %s within tolerance: %s (%s, tolerance %s; %s)",
		cur.Name, vals, change, tol, t.Direction), false, nil
}

// toleranceText describes a tolerance: "10% = 200.000 ms", "50.000 ms", "max(10%, 50.000 ms) = 200.000 ms", "0".
func toleranceText(t Tolerance, allowed float64, unit string) string {
	rel := strconv.FormatFloat(100*t.Rel, 'g', 4, 64) + "%"
	switch {
	case t.Rel > 0 && t.Abs > 0:
		return fmt.Sprintf("max(%s, %s) = %s", rel, formatValue(t.Abs, unit), formatValue(allowed, unit))
	case t.Rel > 0:
		return fmt.Sprintf("%s = %s", rel, formatValue(allowed, unit))
	case t.Abs > 0:
		return formatValue(t.Abs, unit)
	}
	return "0"
}

func sortedNames(m map[string]BaselineValue) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) == 0 {
		return []string{"nothing"}
	}
	return ks
}
