package recorder

import (
	"testing"
	"time"
)

// Requests naming a model or a session turn are summarized per model and per turn too; the per-group
// figures are those of the group's requests alone.
func TestGroupsByModelAndTurn(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	req := func(model string, turn int, ttft time.Duration) Request {
		return Request{Start: t0, FirstToken: t0.Add(ttft), End: t0.Add(ttft + 10*time.Millisecond),
			OutputTokens: 2, Model: model, Turn: turn}
	}
	r.RecordRequest(req("a", 1, 10*time.Millisecond))
	r.RecordRequest(req("a", 2, 30*time.Millisecond))
	r.RecordRequest(req("b", 1, 20*time.Millisecond))
	r.RecordRequest(req("", 0, 40*time.Millisecond))
	s := r.Summarize()
	if s.Total != 4 || len(s.ByModel) != 2 || len(s.ByTurn) != 2 {
		t.Fatalf("total %d, by model %d, by turn %d; want 4, 2, 2", s.Total, len(s.ByModel), len(s.ByTurn))
	}
	a := s.ByModel["a"]
	if a.Total != 2 || a.TTFTMS.Mean == nil || *a.TTFTMS.Mean != 20 {
		t.Errorf("model a: total %d, TTFT mean %v; want 2, 20 ms", a.Total, a.TTFTMS.Mean)
	}
	if b := s.ByModel["b"]; b.Total != 1 || *b.TTFTMS.Mean != 20 {
		t.Errorf("model b: total %d, TTFT mean %v; want 1, 20 ms", b.Total, *b.TTFTMS.Mean)
	}
	if t1 := s.ByTurn[0]; t1.Total != 2 || *t1.TTFTMS.Mean != 15 || *t1.E2EMS.Mean != 25 {
		t.Errorf("turn 1: total %d, TTFT mean %v, E2E mean %v; want 2, 15 ms, 25 ms", t1.Total, *t1.TTFTMS.Mean, *t1.E2EMS.Mean)
	}
	if t2 := s.ByTurn[1]; t2.Total != 1 || *t2.TTFTMS.Mean != 30 {
		t.Errorf("turn 2: total %d, TTFT mean %v; want 1, 30 ms", t2.Total, *t2.TTFTMS.Mean)
	}
	if len(s.ByModel["a"].ByModel) != 0 {
		t.Errorf("a group's summary has groups of its own")
	}
}

// Past MaxGroups, a model's requests are only in the totals.
func TestGroupsBounded(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	for i := range MaxGroups + 3 {
		r.RecordRequest(Request{Start: t0, End: t0.Add(time.Millisecond), Model: string(rune('A' + i)), Turn: i + 1})
	}
	s := r.Summarize()
	if s.Total != MaxGroups+3 || len(s.ByModel) != MaxGroups || len(s.ByTurn) != MaxGroups {
		t.Errorf("total %d, models %d, turns %d; want %d, %d, %d", s.Total, len(s.ByModel), len(s.ByTurn), MaxGroups+3, MaxGroups, MaxGroups)
	}
}

// A group keeps GroupExactCap values exactly, then a sketch; it keeps no window and no row.
func TestGroupsBoundedMemory(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	for i := range GroupExactCap + 1 {
		r.RecordRequest(Request{Start: t0, FirstToken: t0.Add(time.Duration(i+1) * time.Microsecond), End: t0.Add(time.Second), Model: "m"})
	}
	g := r.groups.byModel["m"]
	if g.ttft.sk == nil || g.ttft.exact != nil || len(g.win) != 0 || g.rows.n != 0 {
		t.Errorf("group: sketch %v, exact %d, window %d, rows %d; want a sketch and nothing else kept",
			g.ttft.sk != nil, len(g.ttft.exact), len(g.win), g.rows.n)
	}
	if len(r.win) != GroupExactCap+1 || r.ttft.sk != nil {
		t.Errorf("parent: window %d, sketch %v; want %d and exact values", len(r.win), r.ttft.sk != nil, GroupExactCap+1)
	}
}

// A group keeps no rows, so none of its requests is dropped; the parent alone counts the rows past its bound.
func TestGroupsDropNothing(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{MaxRecords: 1})
	for range 3 {
		r.RecordRequest(Request{Start: t0, End: t0.Add(time.Millisecond), OutputTokens: 1, Model: "a", Turn: 1})
	}
	s := r.Summarize()
	if s.Dropped != 2 {
		t.Errorf("parent dropped %d; want 2 (3 requests, 1 row kept)", s.Dropped)
	}
	if a, t1 := s.ByModel["a"], s.ByTurn[0]; a.Total != 3 || a.Dropped != 0 || t1.Total != 3 || t1.Dropped != 0 {
		t.Errorf("model a: total %d dropped %d; turn 1: total %d dropped %d; want 3, 0, 3, 0", a.Total, a.Dropped, t1.Total, t1.Dropped)
	}
}

// A merged run's groups drop nothing either: their counts are the sums of the shards' groups'.
func TestGroupsDropNothingMerged(t *testing.T) {
	t0 := time.Now()
	var states []State
	for range 2 {
		r := New(t0, Config{MaxRecords: 1})
		for range 3 {
			r.RecordRequest(Request{Start: t0, End: t0.Add(time.Millisecond), OutputTokens: 1, Model: "a", Turn: 2})
		}
		states = append(states, r.State())
	}
	m, err := MergeStates(states)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if a, t2 := s.ByModel["a"], s.ByTurn[1]; s.Dropped != 4 || a.Total != 6 || a.Dropped != 0 || t2.Total != 6 || t2.Dropped != 0 {
		t.Errorf("merged: dropped %d; model a: total %d dropped %d; turn 2: total %d dropped %d; want 4, 6, 0, 6, 0",
			s.Dropped, a.Total, a.Dropped, t2.Total, t2.Dropped)
	}
}
