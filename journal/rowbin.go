package journal

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"unicode/utf8"

	"github.com/vmtest/vmtest/recorder"
)

// rowFrame is the bytes before each binary row: the payload's length and its CRC-32C, little-endian uint32s.
const rowFrame = 8

// maxRow bounds one binary row's payload, bytes (as MaxLine bounds a line); a longer one is corrupt.
const maxRow = MaxLine

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRow appends r and its ITL chunk gaps (ms) as one binary row of a version-3 requests file: the frame
// (payload length, CRC-32C), then the payload: the ID; the eleven durations as float64 bits (a non-finite
// one as NaN, or 0 for StartS, EndS and SlotWaitMS, as a version-1 line read back gives them), then
// SendLagMS (from version 3; NaN when unknown); the integers as varints; one byte of flags (flagEstimated,
// flagITLPerToken, flagIgnoreEOS from version 3); FinishReason, Outcome and Error; the gap count and each gap
// in whole ns as a varint; from version 3, Model and Turn. Strings are a uvarint length and UTF-8 bytes, each invalid byte
// replaced by U+FFFD (as a version-1 line reads back).
func appendRow(b []byte, r *recorder.Record, gaps []float64) []byte {
	at := len(b)
	b = append(b, make([]byte, rowFrame)...)
	b = appendStr(b, r.ID)
	b = appendF64(b, orZero(r.StartS))
	b = appendF64(b, orZero(r.EndS))
	for _, v := range [...]float64{r.TTFTMS, r.TTFOMS, r.E2EMS, r.TPOTMS, r.ITLMeanMS, r.TTFTFromIntendedMS,
		r.E2EFromIntendedMS, r.TimeToRejectMS} {
		b = appendF64(b, orNaN(v))
	}
	b = appendF64(b, orZero(r.SlotWaitMS))
	b = appendF64(b, orNaN(r.SendLagMS))
	for _, v := range [...]int{r.PromptTokens, r.OutputTokens, r.RequestedOutputTokens, r.ReasoningTokens, r.HTTPStatus, r.ITLGaps} {
		b = binary.AppendVarint(b, int64(v))
	}
	var flags byte
	if r.OutputTokensEstimated {
		flags |= flagEstimated
	}
	if r.ITLPerToken {
		flags |= flagITLPerToken
	}
	if r.IgnoreEOS {
		flags |= flagIgnoreEOS
	}
	b = append(b, flags)
	b = appendStr(b, r.FinishReason)
	b = appendStr(b, string(r.Outcome))
	b = appendStr(b, r.Error)
	b = binary.AppendUvarint(b, uint64(len(gaps)))
	for _, g := range gaps {
		b = binary.AppendVarint(b, gapNS(g))
	}
	b = appendStr(b, r.Model)
	b = binary.AppendVarint(b, int64(r.Turn))
	payload := b[at+rowFrame:]
	binary.LittleEndian.PutUint32(b[at:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[at+4:], crc32.Checksum(payload, castagnoli))
	return b
}

func orNaN(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

func orZero(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func appendF64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

func appendStr(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = validUTF8(s)
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// validUTF8 returns s with each byte that is not part of a valid UTF-8 sequence replaced by U+FFFD.
func validUTF8(s string) string {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return string(out)
}

// gapNS is a chunk gap in whole ns: the recorder's gaps are ms computed from ns durations (float64(ns)/1e6),
// so rounding back gives those ns, and gapMS(gapNS(g)) == g for any gap under 2^52 ns.
func gapNS(ms float64) int64 { return int64(math.Round(ms * 1e6)) }

// gapMS is the inverse of gapNS.
func gapMS(ns int64) float64 { return float64(ns) / 1e6 }

// errRow is decodeRow's error for a payload that does not hold a whole row.
var errRow = errors.New("malformed binary row")

// rowReader reads a binary row's payload field by field; the first field that does not fit sets bad.
type rowReader struct {
	b   []byte
	bad bool
}

func (d *rowReader) f64() float64 {
	if len(d.b) < 8 {
		d.bad, d.b = true, nil
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *rowReader) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *rowReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *rowReader) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *rowReader) int() int {
	v := d.varint()
	if v < math.MinInt || v > math.MaxInt {
		d.bad = true
		return 0
	}
	return int(v)
}

// A binary row's flags byte.
const (
	flagEstimated   byte = 1 << iota // OutputTokensEstimated
	flagITLPerToken                  // ITLPerToken
	flagIgnoreEOS                    // IgnoreEOS, from version 3
)

// decodeRow decodes a binary row's payload (appendRow's) of a requests file of the given version (2 or 3);
// the gaps, whole ns, are appended to ns, at most the row's ITLGaps of them (as a version-1 line's "itl_ns"
// is read). A version-2 row has no send lag (NaN), no ignore_eos flag, model or turn.
func decodeRow(p []byte, ns []int64, version int) (recorder.Record, []int64, error) {
	d := &rowReader{b: p}
	r := recorder.Record{SendLagMS: math.NaN()}
	known := flagEstimated | flagITLPerToken
	r.ID = d.str()
	r.StartS, r.EndS = d.f64(), d.f64()
	r.TTFTMS, r.TTFOMS, r.E2EMS, r.TPOTMS, r.ITLMeanMS = d.f64(), d.f64(), d.f64(), d.f64(), d.f64()
	r.TTFTFromIntendedMS, r.E2EFromIntendedMS, r.TimeToRejectMS = d.f64(), d.f64(), d.f64()
	r.SlotWaitMS = d.f64()
	if version >= 3 {
		r.SendLagMS = d.f64()
		known |= flagIgnoreEOS
	}
	r.PromptTokens, r.OutputTokens, r.RequestedOutputTokens, r.ReasoningTokens = d.int(), d.int(), d.int(), d.int()
	r.HTTPStatus, r.ITLGaps = d.int(), d.int()
	if len(d.b) < 1 || d.b[0]&^known != 0 {
		return r, ns, errRow
	}
	r.OutputTokensEstimated, r.ITLPerToken, r.IgnoreEOS = d.b[0]&flagEstimated != 0, d.b[0]&flagITLPerToken != 0, d.b[0]&flagIgnoreEOS != 0
	d.b = d.b[1:]
	r.FinishReason = d.str()
	r.Outcome = recorder.Outcome(d.str())
	r.Error = d.str()
	n := d.uvarint()
	for i := uint64(0); i < n && !d.bad; i++ {
		v := d.varint()
		if int(i) < r.ITLGaps && !d.bad {
			ns = append(ns, v)
		}
	}
	if version >= 3 {
		r.Model, r.Turn = d.str(), d.int()
	}
	if d.bad || len(d.b) != 0 {
		return r, ns, errRow
	}
	return r, ns, nil
}
