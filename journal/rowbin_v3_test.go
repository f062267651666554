package journal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// A version-3 row carries the request's model and session turn; a version-2 row, which ends after its gaps,
// still decodes (with neither), and a version-3 row read as version 2 is refused, not misread.
func TestRowModelAndTurn(t *testing.T) {
	rec := recorder.Record{ID: "s/0/2", Outcome: recorder.OutcomeOK, ITLGaps: 1, Model: "sql-lora", Turn: 2}
	row := appendRow(nil, &rec, []float64{1.5})[rowFrame:]
	got, ns, err := decodeRow(row, nil, 3)
	require.NoError(t, err)
	assert.Equal(t, "sql-lora", got.Model)
	assert.Equal(t, 2, got.Turn)
	assert.Equal(t, []int64{1500000}, ns)

	// The same row as version 2 wrote it: without the send lag's 8 bytes after the eleven durations, the
	// model's length-prefixed bytes and the turn's varint.
	lagAt := len(appendStr(nil, rec.ID)) + 11*8
	v2 := append(append([]byte{}, row[:lagAt]...), row[lagAt+8:len(row)-(1+len("sql-lora"))-1]...)
	got, _, err = decodeRow(v2, nil, 2)
	require.NoError(t, err)
	assert.Equal(t, "", got.Model)
	assert.Equal(t, 0, got.Turn)
	assert.Equal(t, "s/0/2", got.ID)

	_, _, err = decodeRow(row, nil, 2)
	assert.Error(t, err)
}
