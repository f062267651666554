package journal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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

// Whatever a journal holds past a valid header, Load rebuilds a summary that says the run did not finish:
// never a crash. (Writing the files is report's, tested there; under the fuzzer's instrumentation the plot
// alone takes seconds an input.)
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"seq":0,"snapshot":{"timestamp":"2026-12-04T10:00:00Z","elapsed_s":0}}`+"\n"+`{"seq":1,"snapshot":{"elapsed_s":-5,"gpu_metrics":{"gpu_0":{"utilization":1e308}}}}`+"\n"),
		[]byte(`{"outcome":"ok","ttft_ms":5,"e2e_ms":1,"itl_gaps":3,"itl_ns":[1]}`+"\n"+`{"outcome":"weird","start_s":1e300}`+"\n"))
	f.Add([]byte(""), []byte(""))
	f.Add([]byte(`{"seq":3}`+"\n"+`{"seq":2}`+"\n"+`{"seq":9,"events_all":true}`), []byte(`{"itl_gaps":-4}`+"\n"))
	f.Fuzz(func(t *testing.T, snaps, reqs []byte) {
		dir := t.TempDir()
		p := pathsOf(filepath.Join(dir, "journal_x_20261204_100000"))
		head := func(kind string) []byte {
			return []byte(`{"format":"vmtest-journal","version":1,"kind":"` + kind + `","run_id":"r","config_id":"x","interval_s":1,"max_snapshots":3,"goodput_slos_ms":{"ttft":5}}` + "\n")
		}
		if err := os.WriteFile(p.Snapshots, append(head(KindSnapshots), snaps...), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.Requests, append(head(KindRequests), reqs...), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := Load(p)
		if err != nil {
			t.Fatalf("a journal with valid headers: %v", err)
		}
		if b.Summary.Finished || b.Summary.Events[len(b.Summary.Events)-1].Source != "journal" {
			t.Fatalf("rebuilt summary does not say the run did not finish: %+v", b.Summary)
		}
		if len(b.Rows) != len(b.Run.Rows) {
			t.Fatalf("%d rows rebuilt from %d", len(b.Rows), len(b.Run.Rows))
		}
	})
}
