package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/summary"
)

// The reader never crashes, and either refuses a file with an error naming what it is not, or reads its
// header and counts every line it did not take.
func FuzzParse(f *testing.F) {
	head := `{"format":"vmtest-journal","version":1,"kind":"snapshots","run_id":"r","interval_s":2,"max_snapshots":2}` + "\n"
	f.Add([]byte(head + `{"seq":0,"snapshot":{"timestamp":"2026-12-04T10:00:00Z"}}` + "\n" + `{"seq":1,"snap`))
	f.Add([]byte(head + `{"seq":0,"events":[{"message":"x"}],"events_all":true,"server":{"scrapes":2}}` + "\n"))
	f.Add([]byte(head + "\n\n{}\n[1,2]\nnull\n"))
	f.Add([]byte(`{"format":"vmtest-journal","version":1,"kind":"requests","interval_s":1,"max_snapshots":1,"max_requests":2}` + "\n" +
		`{"ttft_ms":null,"itl_ns":[1,2],"itl_gaps":5}` + "\n" + `{"itl_ns":[1,2,3,4],"itl_gaps":2}` + "\n" + `{"itl_gaps":-1,"itl_ns":[7]}` + "\n"))
	f.Add([]byte(`{"format":"vmtest-journal","version":1,"kind":"requests","interval_s":1,"max_snapshots":1,"max_requests":-1}` + "\n" + `{}` + "\n"))
	f.Add([]byte(`{"format":"vmtest-journal","version":1,"kind":"snapshots","interval_s":1,"max_snapshots":0}` + "\n"))
	f.Add([]byte(`{"format":"vmtest-journal","version":1,"kind":"snapshots","interval_s":1,"max_snapshots":1e12}` + "\n"))
	f.Add([]byte(head + `{"seq":0}` + "\n" + `{"seq":1}` + "\n" + `{"seq":2}` + "\n" + `{"seq":7}` + "\n" + `{"seq":5}` + "\n"))
	f.Add([]byte(`{"format":"vmtest-journal","version":99}`))
	binHead := `{"format":"vmtest-journal","version":3,"kind":"requests","interval_s":1,"max_snapshots":1,"max_requests":3}` + "\n"
	row := appendRow(nil, &recorder.Record{ID: "a", Outcome: recorder.OutcomeOK, ITLGaps: 2}, []float64{1, 2.5})
	f.Add(append([]byte(binHead), row...))
	f.Add(append(append([]byte(binHead), row...), row[:len(row)-3]...))
	bad := append([]byte(nil), row...)
	bad[len(bad)-1] ^= 1
	f.Add(append(append(append([]byte(binHead), bad...), row...), row...))
	f.Add([]byte("timestamp,config_id\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range []string{KindSnapshots, KindRequests} {
			run := &Run{}
			h, err := parse(bytes.NewReader(data), kind, run)
			if err != nil {
				if !errors.Is(err, ErrNotJournal) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrHeader) {
					t.Fatalf("error wraps none of ErrNotJournal, ErrVersion, ErrHeader: %v", err)
				}
				continue
			}
			if h.MaxSnapshots < 1 || h.MaxSnapshots > MaxBound || h.MaxRequests > MaxBound || !(h.IntervalS > 0) {
				t.Fatalf("accepted header out of range %+v", h.Header)
			}
			if len(run.Ticks) > h.MaxSnapshots || len(run.Rows) > h.Rows() {
				t.Fatalf("%d ticks, %d rows held past the bounds %d, %d", len(run.Ticks), len(run.Rows), h.MaxSnapshots, h.Rows())
			}
			all := 0
			for i, g := range run.Gaps {
				if len(g) > run.Rows[i].ITLGaps {
					t.Fatalf("row %d: %d gaps held, itl_gaps %d", i, len(g), run.Rows[i].ITLGaps)
				}
				all += len(g)
			}
			if all > recorder.ExactCap {
				t.Fatalf("%d gaps held in all", all)
			}
			lines := bytes.Count(data, []byte("\n")) + 1 // the last may be cut or empty
			if kind == KindRequests && h.Version >= 2 {
				lines = len(data)/rowFrame + 1 // binary rows: each at least its frame
			}
			if got := len(run.Ticks) + len(run.Rows) + h.skipped; got > lines {
				t.Fatalf("%d lines or rows taken or skipped from %d", got, lines)
			}
			if h.Format != Format || h.Version < 1 || h.Version > Version || h.Kind != kind {
				t.Fatalf("accepted header %+v", h.Header)
			}
			run.bound()
			for i := 1; i < len(run.Ticks); i++ {
				if run.Ticks[i].Seq <= run.Ticks[i-1].Seq {
					t.Fatalf("ticks out of order: %d then %d", run.Ticks[i-1].Seq, run.Ticks[i].Seq)
				}
			}
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
	f.Add([]byte(`{"seq":0,"itl_sketch":{"n":3,"mean":2,"m2":1,"min":1,"max":3,"sketch":"AgAAAAA="}}`+"\n"+`{"seq":1,"itl_sketch":{"n":-1,"sketch":"////"}}`+"\n"),
		[]byte(`{"outcome":"ok","itl_gaps":2}`+"\n"))
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
		checkRebuiltSummary(t, b.Summary)
	})
}

// checkRebuiltSummary fails t unless s encodes as JSON (no NaN or infinity anywhere in it) and its request
// counts and rates are not negative, its error rate a fraction.
func checkRebuiltSummary(t *testing.T, s *summary.Summary) {
	t.Helper()
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("the rebuilt summary does not encode: %v", err)
	}
	r := s.Requests
	c := r.Counts
	for name, n := range map[string]int64{"total": int64(c.Total), "ok": int64(c.OK), "failed": int64(c.Failed),
		"incomplete": int64(c.Incomplete), "rejected": int64(c.Rejected), "canceled": int64(c.Canceled),
		"dropped": int64(c.Dropped)} {
		if n < 0 {
			t.Fatalf("count %s = %d", name, n)
		}
	}
	if r.GoodputRequests != nil && *r.GoodputRequests < 0 {
		t.Fatalf("count goodput_requests = %d", *r.GoodputRequests)
	}
	if sum := c.OK + c.Failed + c.Incomplete + c.Rejected + c.Canceled; sum != c.Total {
		t.Fatalf("outcomes add to %d, total %d", sum, c.Total)
	}
	for name, v := range map[string]*float64{"request_throughput": r.RequestThroughput, "output_token_throughput": r.OutputTokenThroughput,
		"total_token_throughput": r.TotalTokenThroughput, "goodput": r.Goodput} {
		if v != nil && *v < 0 {
			t.Fatalf("%s = %v", name, *v)
		}
	}
	if e := r.ErrorRate; e != nil && (*e < 0 || *e > 1) {
		t.Fatalf("error_rate = %v", *e)
	}
}
