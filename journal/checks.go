package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vmtest/vmtest/assert"
	"github.com/vmtest/vmtest/report"
	"github.com/vmtest/vmtest/summary"
)

// KindChecks is the checks file's "kind".
const KindChecks = "checks"

// MaxChecks bounds the checks a checks file keeps: SetChecks writes at most this many, and Read does not
// take a file with more (a warning says so).
const MaxChecks = 1024

// maxChecksBytes bounds the bytes of a checks file Read takes.
const maxChecksBytes = 1 << 20

// Checks is the journal's checks file, journal_<config>_<stamp>.checks.json: the SLO checks registered on
// the run so far. The Writer writes it whole, atomically, when the journal is created (no check) and at each
// registration (Writer.SetChecks), so a run killed before it checked its SLOs is checked when rebuilt.
type Checks struct {
	// Format, Version and RunID are as in Header; Kind is KindChecks.
	Format  string `json:"format"`
	Version int    `json:"version"`
	Kind    string `json:"kind"`
	RunID   string `json:"run_id"`
	// Checks are the registered checks, in the order registered.
	Checks []Check `json:"checks"`
}

// Check is one registered SLO check.
type Check struct {
	// Check says how it was built (assert.Check.String), e.g. `threshold "p(99) ttft < 500ms"`.
	Check string `json:"check"`
	// Threshold is a threshold expression with its verdict (assert.Check.Expression), from which a rebuild
	// builds it again; "" for a Baseline or Func check, which a rebuild cannot run.
	Threshold string `json:"threshold,omitempty"`
	// From is where it was registered, as its failure names it (`from -slo "..."`, `check registered at
	// x_test.go:12`); "" when unknown.
	From string `json:"from,omitempty"`
}

// SetChecks replaces the checks file with checks, atomically; it does nothing when Paths.Checks is "".
// Past MaxChecks it writes the first MaxChecks and returns an error saying how many were left out, so a
// rebuild evaluates only those. Errors name the file.
func (w *Writer) SetChecks(checks []Check) error {
	if w.paths.Checks == "" {
		return nil
	}
	c := Checks{Format: Format, Version: Version, Kind: KindChecks, RunID: w.head.RunID, Checks: checks[:min(len(checks), MaxChecks)]}
	if c.Checks == nil {
		c.Checks = []Check{}
	}
	b, err := json.Marshal(c)
	if err == nil {
		err = report.WriteFileAtomic(w.paths.Checks, append(b, '\n'))
	}
	if err != nil {
		return fmt.Errorf("journal: write %s: %w", w.paths.Checks, err)
	}
	if len(checks) > MaxChecks {
		return fmt.Errorf("journal: %s keeps the first %d of %d checks: a rebuild evaluates only those",
			w.paths.Checks, MaxChecks, len(checks))
	}
	return nil
}

// readChecks reads the checks file at path of run id: nil and no error when there is none (a journal
// written before checks files were); an error for one that is unreadable, too big, of another format or run.
func readChecks(path, runID string) (*Checks, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxChecksBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxChecksBytes {
		return nil, fmt.Errorf("%s: over %d bytes", path, maxChecksBytes)
	}
	var c Checks
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case c.Format != Format || c.Kind != KindChecks:
		return nil, fmt.Errorf("%s: not a journal's checks file (format %q, kind %q)", path, c.Format, c.Kind)
	case c.RunID != runID:
		return nil, fmt.Errorf("%s: of run %q, not %q", path, c.RunID, runID)
	case len(c.Checks) > MaxChecks:
		return nil, fmt.Errorf("%s: %d checks, over %d", path, len(c.Checks), MaxChecks)
	}
	return &c, nil
}

// notRerun is the Verdict.Unknown of a check a rebuild cannot run again.
const notRerun = "not known: a Baseline or Func check depends on a file or on Go code, which a journal cannot keep; thresholds and typed checks (P99Below, ErrorRateBelow, ...) are checked again when a killed run is rebuilt"

// verdicts evaluates checks over s: a threshold is built again (assert.Expr) and evaluated (its figure with no
// data is not met, Verdict.NoData); another check's verdict is unknown. nil when checks is nil (the journal kept none).
func verdicts(checks *Checks, s *summary.Summary) []report.Verdict {
	if checks == nil {
		return nil
	}
	out := make([]report.Verdict, 0, len(checks.Checks))
	for _, c := range checks.Checks {
		v := report.Verdict{Check: c.Check}
		switch {
		case c.Threshold == "":
			v.Unknown = notRerun
		default:
			if err := assert.Expr(c.Threshold).Eval(s); err != nil {
				v.Err, v.Reason = withFrom(err.Error(), c.From), withFrom(assert.Reason(err), c.From)
				v.NoData = assert.NoData(err)
			}
		}
		out = append(out, v)
	}
	return out
}

// withFrom appends from, where the check came from, to the first line of text (a threshold that cannot be
// read has its expression and a caret on the lines below); text as it is when from is "".
func withFrom(text, from string) string {
	if from == "" {
		return text
	}
	first, rest, _ := strings.Cut(text, "\n")
	return strings.TrimSuffix(first+" ("+from+")\n"+rest, "\n")
}
