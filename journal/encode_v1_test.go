package journal

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/vmtest/vmtest/recorder"
)

// appendRequest appends r as one version-1 requests-file line (the JSON of requestLine, newline-terminated),
// as the Writer did before version 2: the reference the binary rows are checked against, and what the
// tests write version-1 journals with.
func appendRequest(b []byte, r *recorder.Record, gaps []float64) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, r.ID)
	b = appendNum(append(b, `,"start_s":`...), r.StartS)
	b = appendNum(append(b, `,"end_s":`...), r.EndS)
	b = appendNum(append(b, `,"ttft_ms":`...), r.TTFTMS)
	b = appendNum(append(b, `,"ttfo_ms":`...), r.TTFOMS)
	b = appendNum(append(b, `,"e2e_ms":`...), r.E2EMS)
	b = appendNum(append(b, `,"tpot_ms":`...), r.TPOTMS)
	b = appendNum(append(b, `,"itl_mean_ms":`...), r.ITLMeanMS)
	b = appendNum(append(b, `,"ttft_from_intended_ms":`...), r.TTFTFromIntendedMS)
	b = appendNum(append(b, `,"e2e_from_intended_ms":`...), r.E2EFromIntendedMS)
	b = appendNum(append(b, `,"slot_wait_ms":`...), r.SlotWaitMS)
	b = appendNum(append(b, `,"time_to_reject_ms":`...), r.TimeToRejectMS)
	b = strconv.AppendInt(append(b, `,"prompt_tokens":`...), int64(r.PromptTokens), 10)
	b = strconv.AppendInt(append(b, `,"output_tokens":`...), int64(r.OutputTokens), 10)
	b = strconv.AppendInt(append(b, `,"requested_output_tokens":`...), int64(r.RequestedOutputTokens), 10)
	b = strconv.AppendBool(append(b, `,"output_tokens_estimated":`...), r.OutputTokensEstimated)
	b = strconv.AppendInt(append(b, `,"reasoning_tokens":`...), int64(r.ReasoningTokens), 10)
	b = appendString(append(b, `,"finish_reason":`...), r.FinishReason)
	b = strconv.AppendInt(append(b, `,"http_status":`...), int64(r.HTTPStatus), 10)
	b = appendString(append(b, `,"outcome":`...), string(r.Outcome))
	b = appendString(append(b, `,"error":`...), r.Error)
	b = strconv.AppendInt(append(b, `,"itl_gaps":`...), int64(r.ITLGaps), 10)
	if len(gaps) > 0 {
		b = append(b, `,"itl_ns":[`...)
		for i, g := range gaps {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, gapNS(g), 10)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendNum appends v in the shortest form that reads back as v, or null for NaN or ±Inf (unknown).
func appendNum(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendString appends s as a JSON string: ", \ and control characters escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
