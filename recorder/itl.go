package recorder

import "time"

// The ITL definitions a Summary reports (Summary.ITLDefinition).
const (
	// ITLPerChunk: each gap is between consecutive token-bearing chunks (vLLM bench serve's ITL).
	ITLPerChunk = "per_chunk"
	// ITLPerToken: each output token after the first contributes one gap; a chunk carrying k tokens that
	// arrived Δ after the previous one contributes k gaps of Δ/k (Request.TokenCounts; DESIGN.md
	// "Definitions").
	ITLPerToken = "per_token"
	// ITLMixed: some requests' gaps are per token, others' per chunk.
	ITLMixed = "mixed"
)

// perToken reports whether q's ITL is per token: TokenCounts is parallel to TokenTimes and every count is
// at least 1.
func (q *Request) perToken() bool {
	if len(q.TokenCounts) == 0 || len(q.TokenCounts) != len(q.TokenTimes) {
		return false
	}
	for _, k := range q.TokenCounts {
		if k < 1 {
			return false
		}
	}
	return true
}

// addITL adds q's ITL gaps to d, as itlGaps gives them: gaps when not nil (q's per-chunk gaps, ms, computed
// before the lock: the hot path), else per chunk from TokenTimes or per token (perToken is q.perToken()).
func (q *Request) addITL(d *dist, perToken bool, gaps []float64) {
	if gaps != nil {
		d.addFinite(gaps)
		return
	}
	if !perToken {
		d.addGaps(q.TokenTimes)
		return
	}
	q.itlGaps(d.add)
}

// itlGaps calls add with each of q's ITL gaps, ms, in order, and returns how many there were: per token
// when q.perToken() (the first chunk's extra tokens as gaps of 0, then k gaps of Δ/k per later chunk),
// else one per pair of consecutive token-bearing chunks.
func (q *Request) itlGaps(add func(ms float64)) int {
	t := q.TokenTimes
	if len(t) == 0 {
		return 0
	}
	if !q.perToken() {
		for i := 1; i < len(t); i++ {
			add(ms(t[i].Sub(t[i-1])))
		}
		return len(t) - 1
	}
	n := 0
	for i, k := range q.TokenCounts {
		var g float64
		if i > 0 {
			g = ms(t[i].Sub(t[i-1])) / float64(k)
		} else {
			k-- // the first token is TTFT's, not a gap
		}
		for range k {
			add(g)
		}
		n += k
	}
	return n
}

// itlSpan is the time the ITL gaps of q cover and their number (the mean gap is span/n); perToken is
// q.perToken().
func (q *Request) itlSpan(perToken bool) (time.Duration, int) {
	t := q.TokenTimes
	if len(t) < 2 && !perToken {
		return 0, 0
	}
	n := len(t) - 1
	if perToken {
		n = -1
		for _, k := range q.TokenCounts {
			n += k
		}
	}
	return t[len(t)-1].Sub(t[0]), n
}

// itlDefinition says which gaps the ITL distribution of requests tallied in c holds; nil when none.
func (c *Counts) itlDefinition() *string {
	var d string
	switch {
	case c.ITLPerToken > 0 && c.ITLPerChunk > 0:
		d = ITLMixed
	case c.ITLPerToken > 0:
		d = ITLPerToken
	case c.ITLPerChunk > 0:
		d = ITLPerChunk
	default:
		return nil
	}
	return &d
}
