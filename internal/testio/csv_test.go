package testio

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCSVFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	if err := os.WriteFile(path, []byte("ttft_ms,error\n12.5,\"refused, \"\"x\"\"\"\n,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	col, rows := CSVFile(t, path)
	if len(col) != 2 || col["ttft_ms"] != 0 || col["error"] != 1 || len(rows) != 3 ||
		rows[1][col["error"]] != `refused, "x"` || rows[1][col["ttft_ms"]] != "12.5" || rows[2][0] != "" {
		t.Fatalf("col %v, rows %q", col, rows)
	}
}

// A CSV that does not parse, or is empty, fails the test.
func TestCSVBadInputFails(t *testing.T) {
	for _, in := range []string{"", "a,b\n1\n", "a\n\"open\n"} {
		ft := &fatalT{TB: t}
		func() {
			defer func() { recover() }()
			CSV(ft, []byte(in))
		}()
		if !ft.failed {
			t.Errorf("CSV(%q) did not fail the test", in)
		}
	}
}

// fatalT records Fatalf and stops the helper as testing.T does (here by panicking).
type fatalT struct {
	testing.TB
	failed bool
}

func (f *fatalT) Helper() {}

func (f *fatalT) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}
