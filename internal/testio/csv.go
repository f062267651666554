package testio

import (
	"bytes"
	"encoding/csv"
	"os"
	"testing"
)

// CSV parses b as CSV (RFC 4180, encoding/csv's rules: every row as wide as the header) and returns its
// header's column index (name → position) and all its rows, the header first. It fails tb when b does not
// parse or has no header.
func CSV(tb testing.TB, b []byte) (col map[string]int, rows [][]string) {
	tb.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		tb.Fatalf("reading CSV: %v", err)
	}
	if len(rows) == 0 {
		tb.Fatalf("reading CSV: no header")
	}
	col = make(map[string]int, len(rows[0]))
	for i, h := range rows[0] {
		col[h] = i
	}
	return col, rows
}

// CSVFile is CSV of the file at path; it fails tb when the file cannot be read.
func CSVFile(tb testing.TB, path string) (col map[string]int, rows [][]string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading CSV: %v", err)
	}
	return CSV(tb, b)
}
