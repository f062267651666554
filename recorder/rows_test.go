package recorder

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ids(recs []Record) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}

// Rows are kept in chunks of 64, 128, ... rows, the last cut to the row bound; TakeJournal, Records and Cut
// see them in order whatever chunk boundaries a take falls on (64 and 192 are boundaries, 65 and 1000 not).
func TestRowsAcrossChunks(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{MaxRecords: 4200})
	var want, journaled []string
	n := 0
	for _, upTo := range []int{10, 64, 65, 192, 1000, 4200, 5000} {
		for ; n < upTo; n++ {
			q := req(t0, float64(n), 10, []float64{5}, 2)
			q.ID = strconv.Itoa(n)
			r.RecordRequest(q)
			if n < 4200 {
				want = append(want, q.ID)
			}
		}
		rows, gaps, _ := r.TakeJournal()
		require.Len(t, gaps, len(rows))
		journaled = append(journaled, ids(rows)...)
	}
	assert.Equal(t, want, journaled)
	var caps []int
	for _, c := range r.rows.chunks {
		caps = append(caps, cap(c))
	}
	assert.Equal(t, []int{64, 128, 256, 512, 1024, 2048, 168}, caps) // 4032 + 168 = 4200
	all, next := r.Records(0)
	assert.Equal(t, want, ids(all))
	assert.Equal(t, 4200, next)
	mid, _ := r.Records(100)
	assert.Equal(t, want[100:], ids(mid))
	none, _ := r.Records(4200)
	assert.NotNil(t, none)
	assert.Empty(t, none)
	s, cut := r.Cut()
	assert.Equal(t, want, ids(cut))
	assert.Equal(t, 800, s.Dropped)
}

// A view TakeJournal returned stays as it was while later requests are recorded.
func TestTakeJournalViewStable(t *testing.T) {
	t0 := time.Now()
	r := New(t0, Config{})
	q := req(t0, 0, 10, nil, 1)
	q.ID = "first"
	r.RecordRequest(q)
	rows, _, _ := r.TakeJournal()
	require.Len(t, rows, 1)
	for i := 0; i < 300; i++ {
		q.ID = "later"
		r.RecordRequest(q)
	}
	assert.Equal(t, "first", rows[0].ID)
	rows = append(rows, Record{ID: "appended"})
	all, _ := r.Records(0)
	assert.Equal(t, "later", all[1].ID)
}

// reserved returns the room the chunks hold, in rows.
func (w *rows) reserved() int {
	n := 0
	for _, c := range w.chunks {
		n += cap(c)
	}
	return n
}
