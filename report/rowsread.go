package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/recorder"
)

// EachRequestRecord reads the requests CSV at path one row at a time and calls each with the row's record
// (as RecordsOf makes it), for the first limit rows (every row when limit < 0): memory stays that of one
// row whatever the file's length. Columns are found by their header names (RequestRow's csv tags); an
// unknown column is skipped. Errors name the path and the line: a cell that does not parse as its column's
// type, a row of another length than the header.
func EachRequestRecord(path string, limit int, each func(recorder.Record)) error {
	return eachRequestRow(path, limit, func(row *RequestRow) { each(recordOf(row)) })
}

// ReadRequestsCSV reads a requests CSV as RequestsCSV writes it: an empty cell is a nil pointer (unknown).
// Errors are EachRequestRecord's.
func ReadRequestsCSV(path string) ([]RequestRow, error) {
	var rows []RequestRow
	err := eachRequestRow(path, -1, func(row *RequestRow) { rows = append(rows, *row) })
	return rows, err
}

// eachRequestRow is EachRequestRecord's reading, calling each with the decoded row.
func eachRequestRow(path string, limit int, each func(*RequestRow)) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	r := csv.NewReader(bufio.NewReaderSize(fh, 1<<16))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: not a requests CSV: %w", path, err)
	}
	header = slices.Clone(header) // the reader reuses its record
	fields := rowFields(header)
	for n := 0; limit < 0 || n < limit; n++ {
		cells, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var row RequestRow
		v := reflect.ValueOf(&row).Elem()
		for i, cell := range cells {
			if f := fields[i]; f >= 0 {
				if err := setCell(v.Field(f), cell); err != nil {
					line, _ := r.FieldPos(i)
					return fmt.Errorf("%s:%d: column %s: %w", path, line, header[i], err)
				}
			}
		}
		each(&row)
	}
	return nil
}

// rowFields maps each header column to the index of RequestRow's field with that csv tag, or −1.
func rowFields(header []string) []int {
	t := reflect.TypeOf(RequestRow{})
	byTag := map[string]int{}
	for i := range t.NumField() {
		byTag[t.Field(i).Tag.Get("csv")] = i
	}
	out := make([]int, len(header))
	for i, h := range header {
		f, ok := byTag[strings.TrimPrefix(h, "\ufeff")]
		if !ok {
			f = -1
		}
		out[i] = f
	}
	return out
}

// setCell parses cell into f, a RequestRow field: an empty cell leaves a pointer nil and a number 0.
func setCell(f reflect.Value, cell string) error {
	if cell == "" {
		return nil
	}
	kind := f.Kind()
	if kind == reflect.Pointer {
		f.Set(reflect.New(f.Type().Elem()))
		f = f.Elem()
		kind = f.Kind()
	}
	switch kind {
	case reflect.String:
		f.SetString(strings.Clone(cell)) // not a slice of the line, which would keep it all alive
	case reflect.Float64:
		x, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Int:
		x, err := strconv.Atoi(cell)
		if err != nil {
			return err
		}
		f.SetInt(int64(x))
	case reflect.Bool:
		x, err := strconv.ParseBool(cell)
		if err != nil {
			return err
		}
		f.SetBool(x)
	}
	return nil
}
