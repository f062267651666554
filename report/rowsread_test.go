package report

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// EachRequestRecord gives back the records RequestsCSV wrote (an empty cell NaN or 0, as RecordsOf's doc
// says), one at a time, up to its limit; a cell that does not parse is an error naming the file, the line
// and the column.
func TestEachRequestRecordIsRecordsOf(t *testing.T) {
	nan := math.NaN()
	recs := []recorder.Record{
		{ID: "a", StartS: 0.5, EndS: 1.25, Outcome: recorder.OutcomeOK, HTTPStatus: 200, TTFTMS: 12.5, TPOTMS: 3, ITLMeanMS: 3.25, E2EMS: 750,
			TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan, SlotWaitMS: 0.125, PromptTokens: 10, OutputTokens: 5, RequestedOutputTokens: 8,
			FinishReason: "stop", TimeToRejectMS: nan, TTFOMS: 12.5, ReasoningTokens: 2},
		{ID: "b, \"quoted\"", StartS: 1, EndS: 1.5, Outcome: recorder.OutcomeRejected, HTTPStatus: 429, TTFTMS: nan, TPOTMS: nan, ITLMeanMS: nan, E2EMS: nan,
			TTFTFromIntendedMS: nan, E2EFromIntendedMS: nan, Error: "busy\nline 2", TimeToRejectMS: 4, TTFOMS: nan, OutputTokensEstimated: true},
	}
	b, err := RequestsCSV(recs)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "requests.csv")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	want := recs
	var got []recorder.Record
	require.NoError(t, EachRequestRecord(path, -1, func(r recorder.Record) { got = append(got, r) }))
	require.Len(t, got, 2)
	for i := range want { // NaN != NaN: compare the encodings
		a, _ := RequestsCSV(want[i : i+1])
		g, _ := RequestsCSV(got[i : i+1])
		assert.Equal(t, string(a), string(g))
		assert.Equal(t, recs[i].ID, got[i].ID)
	}
	got = nil
	require.NoError(t, EachRequestRecord(path, 1, func(r recorder.Record) { got = append(got, r) }))
	assert.Len(t, got, 1)

	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("id,ttft_ms\na,1\nb,fast\n"), 0o644))
	err = EachRequestRecord(bad, -1, func(recorder.Record) {})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.csv:3: column ttft_ms")
}

// An empty cell reads back as unknown (a nil pointer, NaN in the record), never as 0: the rejected request
// of this file has no TTFT, E2E or HTTP status 0.
func TestReadRequestsCSVEmptyCellIsUnknown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "requests.csv")
	require.NoError(t, os.WriteFile(path, []byte("id,start_s,end_s,outcome,http_status,ttft_ms,e2e_ms\nr1,0,1,rejected,,,\nr2,0,1,ok,200,12.5,40\n"), 0o644))
	rows, err := ReadRequestsCSV(path)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Nil(t, rows[0].HTTPStatus)
	assert.Nil(t, rows[0].TTFTMS)
	assert.Nil(t, rows[0].E2EMS)
	require.NotNil(t, rows[1].TTFTMS)
	assert.Equal(t, 12.5, *rows[1].TTFTMS)
	recs := RecordsOf(rows)
	assert.True(t, math.IsNaN(recs[0].TTFTMS), "TTFT %v", recs[0].TTFTMS)
	assert.Equal(t, 0, recs[0].HTTPStatus)
	assert.Equal(t, 200, recs[1].HTTPStatus)
}
