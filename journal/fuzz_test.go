package journal

import (
	"bytes"
	"errors"
	"testing"
)

// The reader never crashes, and either refuses a file with an error naming what it is not, or reads its
// header and counts every line it did not take.
func FuzzParse(f *testing.F) {
	head := `{"format":"vmtest-journal","version":1,"kind":"snapshots","run_id":"r","max_snapshots":2}` + "\n"
	f.Add([]byte(head + `{"seq":0,"snapshot":{"timestamp":"2026-12-04T10:00:00Z"}}` + "\n" + `{"seq":1,"snap`))
	f.Add([]byte(head + `{"seq":0,"events":[{"message":"x"}],"events_all":true,"server":{"scrapes":2}}` + "\n"))
	f.Add([]byte(head + "\n\n{}\n[1,2]\nnull\n"))
	f.Add([]byte(`{"format":"vmtest-journal","version":1,"kind":"requests"}` + "\n" + `{"ttft_ms":null,"itl_ns":[1,2],"itl_gaps":5}` + "\n"))
	f.Add([]byte(`{"format":"vmtest-journal","version":99}`))
	f.Add([]byte("timestamp,config_id\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range []string{KindSnapshots, KindRequests} {
			run := &Run{}
			add := run.addTick
			if kind == KindRequests {
				add = run.addRequest
			}
			h, err := parse(bytes.NewReader(data), kind, add)
			if err != nil {
				if !errors.Is(err, ErrNotJournal) && !errors.Is(err, ErrVersion) {
					t.Fatalf("error wraps neither ErrNotJournal nor ErrVersion: %v", err)
				}
				continue
			}
			lines := bytes.Count(data, []byte("\n")) + 1 // the last may be cut or empty
			if got := len(run.Ticks) + len(run.Rows) + h.skipped; got > lines {
				t.Fatalf("%d lines taken or skipped from %d", got, lines)
			}
			if h.Format != Format || h.Version != Version || h.Kind != kind {
				t.Fatalf("accepted header %+v", h.Header)
			}
			run.bound()
		}
	})
}
