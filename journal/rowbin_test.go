package journal

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/recorder"
)

// edgeRows are rows with every kind of value a field can hold: unknown durations (NaN, ±Inf), −0, the
// smallest and largest floats, integers of every size and sign, strings with quotes, control characters,
// multi-byte and invalid UTF-8, and gap lists shorter, longer and equal to itl_gaps, negative and past 2^31 ns.
func edgeRows() ([]recorder.Record, [][]float64) {
	nan, inf := math.NaN(), math.Inf(1)
	floats := []float64{0, math.Copysign(0, -1), 5e-324, 2.2250738585072014e-308, 1e-9, 0.1, 1.0 / 3, 12.345678901,
		123456.789012345, 1e21, 1.7976931348623157e308, -1.5, -1e-300, nan, inf, -inf}
	strs := []string{"", "req-1", `a"b\c`, "tab\tnl\nnul\x00", "é中🙂", "bad\xffutf8\xc3", "\xe2\x82", "<html>&"}
	ints := []int{0, 1, -1, 200, 1 << 20, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	gapSets := [][]float64{nil, {10}, {0, 0.000001, 1.5, 2147.483648, 9007199.254740991}, {-3, 4}, {1, 2, 3}}
	var rows []recorder.Record
	var gaps [][]float64
	rng := rand.New(rand.NewPCG(9, 9))
	pick := func(xs []float64) float64 { return xs[rng.IntN(len(xs))] }
	for i := 0; i < 400; i++ {
		g := gapSets[i%len(gapSets)]
		r := recorder.Record{
			ID: strs[i%len(strs)], StartS: pick(floats), EndS: pick(floats), TTFTMS: pick(floats), E2EMS: pick(floats),
			TPOTMS: pick(floats), ITLMeanMS: pick(floats), TTFTFromIntendedMS: pick(floats), E2EFromIntendedMS: pick(floats),
			SlotWaitMS: pick(floats), TTFOMS: pick(floats), TimeToRejectMS: pick(floats), SendLagMS: pick(floats),
			IgnoreEOS:    i%3 == 0,
			PromptTokens: ints[rng.IntN(len(ints))], OutputTokens: ints[rng.IntN(len(ints))],
			RequestedOutputTokens: ints[rng.IntN(len(ints))], ReasoningTokens: ints[rng.IntN(len(ints))],
			OutputTokensEstimated: i%2 == 1,
			FinishReason:          strs[(i+1)%len(strs)], HTTPStatus: ints[rng.IntN(len(ints))],
			Outcome: recorder.Outcome(strs[(i+2)%len(strs)]), Error: strs[(i+3)%len(strs)],
			ITLGaps: len(g) + (i/len(gapSets))%3 - 1, // one fewer, as many, one more than the gaps given
		}
		if i%7 == 0 { // a realistic row: durations from whole ns
			r.StartS, r.TTFTMS, r.E2EMS = float64(rng.Int64N(1e12))/1e9, float64(rng.Int64N(1e9))/1e6, float64(rng.Int64N(1e10))/1e6
		}
		rows, gaps = append(rows, r), append(gaps, g)
	}
	return rows, gaps
}

// sameFloat is true for two NaNs, else for the same bits (so 0 and −0 differ).
func sameFloat(a, b float64) bool {
	return math.IsNaN(a) && math.IsNaN(b) || math.Float64bits(a) == math.Float64bits(b)
}

// A row written as a binary row reads back exactly as the same row written as a version-1 JSON line (the
// Writer's encoding before): every float bit for bit (an unknown as NaN, never a number; StartS, EndS and
// SlotWaitMS as 0, as JSON's null left them), every integer, string and gap; but for the send lag and
// ignore_eos, which a version-1 line does not hold (NaN and false) and a version-3 row keeps.
func TestBinaryRowsReadAsVersion1Lines(t *testing.T) {
	rows, gaps := edgeRows()

	v2 := testPaths(t)
	w, err := Create(v2, header(10))
	require.NoError(t, err)
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: rows[:150], Gaps: gaps[:150]}))
	require.NoError(t, w.Append(Entry{Snapshot: snap(1), Rows: rows[150:], Gaps: gaps[150:]}))
	require.NoError(t, w.Close())

	v1 := testPaths(t)
	var lines []string
	for i := range rows {
		l := appendRequest(nil, &rows[i], gaps[i])
		lines = append(lines, string(l[:len(l)-1]))
	}
	rawJournal(t, v1.Requests, map[string]any{"kind": KindRequests, "run_id": "run1"}, lines...)

	got, err := Read(v2)
	require.NoError(t, err)
	want, err := Read(v1)
	require.NoError(t, err)
	require.Equal(t, 0, want.Skipped, "every version-1 line read")
	require.Equal(t, 0, got.Skipped)
	require.Len(t, got.Rows, len(rows))
	require.Len(t, want.Rows, len(rows))
	for i := range rows {
		g, v := got.Rows[i], want.Rows[i]
		for k, pair := range [][2]float64{{g.StartS, v.StartS}, {g.EndS, v.EndS}, {g.TTFTMS, v.TTFTMS}, {g.E2EMS, v.E2EMS},
			{g.TPOTMS, v.TPOTMS}, {g.ITLMeanMS, v.ITLMeanMS}, {g.TTFTFromIntendedMS, v.TTFTFromIntendedMS},
			{g.E2EFromIntendedMS, v.E2EFromIntendedMS}, {g.SlotWaitMS, v.SlotWaitMS}, {g.TTFOMS, v.TTFOMS},
			{g.TimeToRejectMS, v.TimeToRejectMS}} {
			require.True(t, sameFloat(pair[0], pair[1]), "row %d, float %d: %v, version 1 read %v", i, k, pair[0], pair[1])
		}
		nanOf := func(r recorder.Record) []float64 {
			return []float64{r.TTFTMS, r.E2EMS, r.TPOTMS, r.ITLMeanMS, r.TTFTFromIntendedMS, r.E2EFromIntendedMS, r.TTFOMS, r.TimeToRejectMS}
		}
		for k, x := range nanOf(rows[i]) {
			if math.IsInf(x, 0) {
				assert.True(t, math.IsNaN(nanOf(g)[k]), "row %d: ±Inf is unknown (NaN), as null was", i)
			}
		}
		assert.False(t, math.IsNaN(g.StartS) || math.IsNaN(g.EndS) || math.IsNaN(g.SlotWaitMS), "row %d", i)
		assert.True(t, sameFloat(orNaN(rows[i].SendLagMS), g.SendLagMS), "row %d: send lag %v read %v", i, rows[i].SendLagMS, g.SendLagMS)
		assert.Equal(t, rows[i].IgnoreEOS, g.IgnoreEOS, "row %d", i)
		assert.True(t, math.IsNaN(v.SendLagMS) && !v.IgnoreEOS, "row %d: a version-1 line has neither", i)
		for _, r := range []*recorder.Record{&g, &v} {
			r.StartS, r.EndS, r.TTFTMS, r.E2EMS, r.TPOTMS, r.ITLMeanMS, r.TTFTFromIntendedMS, r.E2EFromIntendedMS = 0, 0, 0, 0, 0, 0, 0, 0
			r.SlotWaitMS, r.TTFOMS, r.TimeToRejectMS, r.SendLagMS, r.IgnoreEOS = 0, 0, 0, 0, false
		}
		require.Equal(t, v, g, "row %d", i)
		require.Equal(t, want.Gaps[i], got.Gaps[i], "row %d's gaps", i)
	}
	assert.Equal(t, "bad\ufffdutf8\ufffd", got.Rows[5].ID, "each invalid byte is U+FFFD, as version 1 wrote it")
	assert.Equal(t, []float64{0, 0.000001, 1.5, 2147.483648}, got.Gaps[2], "at most itl_gaps gaps, each the ms of whole ns")
}

// A binary row whose bytes changed (CRC-32C mismatch) is skipped and counted, the rows after it are read; a
// frame whose length is past maxRow ends the reading, counted once; a file cut at any byte keeps every whole
// row before the cut.
func TestBinaryRowsCorruptOrCut(t *testing.T) {
	r1, g1 := okRow("a", 0.5, 50, []float64{10, 20})
	r2, g2 := okRow("b", 1.5, 60, []float64{30})
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: []recorder.Record{r1, r2, r1}, Gaps: [][]float64{g1, g2, g1}}))
	require.NoError(t, w.Close())
	whole, err := os.ReadFile(p.Requests)
	require.NoError(t, err)
	rowLen := len(appendRow(nil, &r1, g1))
	start := len(whole) - 2*rowLen - len(appendRow(nil, &r2, g2)) // the first row's frame

	bad := append([]byte(nil), whole...)
	bad[start+rowLen+rowFrame+3] ^= 0x40 // inside the second row's payload
	require.NoError(t, os.WriteFile(p.Requests, bad, 0o644))
	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Rows, 2)
	assert.Equal(t, []string{"a", "a"}, []string{run.Rows[0].ID, run.Rows[1].ID})
	assert.Equal(t, 1, run.Skipped)
	assert.Equal(t, []Damage{{File: filepath.Base(p.Requests), Row: 2, Reason: "its CRC-32C does not match"}}, run.Damage,
		"a damaged row in the middle: its number, not the last, not cut")
	assert.Equal(t, []int{0, 1, 1}, []int{run.Cut, run.Unreadable, run.RowsUnreadable})

	bad = append([]byte(nil), whole...)
	binary.LittleEndian.PutUint32(bad[start+rowLen:], maxRow+1)
	require.NoError(t, os.WriteFile(p.Requests, bad, 0o644))
	run, err = Read(p)
	require.NoError(t, err)
	require.Len(t, run.Rows, 1)
	assert.Equal(t, 1, run.Skipped)

	ends := []int{start + rowLen, start + rowLen + len(appendRow(nil, &r2, g2)), len(whole)} // each row's end
	for cut := start; cut < len(whole); cut++ {
		require.NoError(t, os.WriteFile(p.Requests, whole[:cut], 0o644))
		run, err := Read(p)
		require.NoError(t, err)
		n, skipped := 0, 1
		for _, e := range ends {
			if e <= cut {
				n++
			}
			if e == cut || cut == start {
				skipped = 0
			}
		}
		require.Len(t, run.Rows, n, "cut at %d", cut)
		require.Equal(t, skipped, run.Skipped, "cut at %d", cut)
	}
}

// ITLPerToken and OutputTokensEstimated share the row's flag byte: each of the four pairs reads back as written.
func TestBinaryRowsKeepTheITLDefinition(t *testing.T) {
	var rows []recorder.Record
	var gaps [][]float64
	for i := range 4 {
		rows = append(rows, recorder.Record{ID: strconv.Itoa(i), Outcome: recorder.OutcomeOK, ITLGaps: 1,
			OutputTokensEstimated: i&1 != 0, ITLPerToken: i&2 != 0})
		gaps = append(gaps, []float64{5})
	}
	p := testPaths(t)
	w, err := Create(p, header(10))
	require.NoError(t, err)
	require.NoError(t, w.Append(Entry{Snapshot: snap(0), Rows: rows, Gaps: gaps}))
	require.NoError(t, w.Close())
	got, err := Read(p)
	require.NoError(t, err)
	require.Len(t, got.Rows, 4)
	for i, r := range got.Rows {
		assert.Equal(t, i&1 != 0, r.OutputTokensEstimated, "row %d", i)
		assert.Equal(t, i&2 != 0, r.ITLPerToken, "row %d", i)
	}
}

// A version-2 row (the layout before the send lag, the ignore_eos flag, the model and the turn: no 8 bytes
// of send lag after SlotWaitMS, no ignore_eos bit in the flags byte, nothing after the gaps) reads with the send lag unknown (NaN) and ignore_eos false, through a
// version-2 file's header; read as a version-3 row, or with the ignore_eos bit set, it is malformed.
func TestVersion2RowsHaveNoSendLag(t *testing.T) {
	r := recorder.Record{ID: "a/1", StartS: 1, EndS: 2, TTFTMS: 10, TTFOMS: 10, E2EMS: 30, TPOTMS: 10, ITLMeanMS: 10,
		TTFTFromIntendedMS: 15, E2EFromIntendedMS: 35, TimeToRejectMS: math.NaN(), SlotWaitMS: 3, SendLagMS: 5, IgnoreEOS: true,
		PromptTokens: 7, OutputTokens: 3, RequestedOutputTokens: 3, OutputTokensEstimated: true, FinishReason: "length",
		HTTPStatus: 200, Outcome: recorder.OutcomeOK, ITLGaps: 2}
	gaps := []float64{10, 10}
	v3 := appendRow(nil, &r, gaps)[rowFrame:]
	got, _, err := decodeRow(v3, nil, 3)
	require.NoError(t, err)
	assert.Equal(t, 5.0, got.SendLagMS)
	assert.True(t, got.IgnoreEOS && got.OutputTokensEstimated)

	lagAt := len(appendStr(nil, r.ID)) + 11*8 // after the ID and the eleven durations
	flagsAt := lagAt
	for _, v := range []int{r.PromptTokens, r.OutputTokens, r.RequestedOutputTokens, r.ReasoningTokens, r.HTTPStatus, r.ITLGaps} {
		flagsAt += len(binary.AppendVarint(nil, int64(v)))
	}
	v2 := append(append([]byte{}, v3[:lagAt]...), v3[lagAt+8:len(v3)-2]...) // no send lag; no model ("") and turn (0) at the end
	require.Equal(t, flagEstimated|flagIgnoreEOS, v2[flagsAt])
	_, _, err = decodeRow(v2, nil, 2)
	assert.ErrorIs(t, err, errRow, "bit 1 means nothing in version 2")
	v2[flagsAt] = flagEstimated
	_, _, err = decodeRow(v2, nil, 3)
	assert.ErrorIs(t, err, errRow, "8 bytes short as a version-3 row")

	p := testPaths(t)
	head, err := json.Marshal(map[string]any{"format": Format, "version": 2, "kind": KindRequests, "run_id": "run1", "interval_s": 2.0, "max_snapshots": 3})
	require.NoError(t, err)
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(v2)))
	frame = binary.LittleEndian.AppendUint32(frame, crc32.Checksum(v2, castagnoli))
	require.NoError(t, os.WriteFile(p.Requests, append(append(append(head, '\n'), frame...), v2...), 0o644))
	run, err := Read(p)
	require.NoError(t, err)
	require.Len(t, run.Rows, 1)
	assert.Equal(t, 0, run.Skipped)
	row := run.Rows[0]
	assert.True(t, math.IsNaN(row.SendLagMS), "unknown, not 0")
	assert.False(t, row.IgnoreEOS)
	want := r
	want.SendLagMS, want.IgnoreEOS = row.SendLagMS, false
	assert.True(t, math.IsNaN(row.TimeToRejectMS))
	want.TimeToRejectMS = row.TimeToRejectMS
	assert.Equal(t, fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", row))
	assert.Equal(t, gaps, run.Gaps[0])
}
