package vllmsim

import "strconv"

// Random streams: every random choice is hash3(seed, kind, n) for a distinct kind.
const (
	kindID uint64 = iota + 1
	kind429
	kind500
	kindStreamErr
	kindTruncate
	kindJitter
	kindText
	kindStall
)

// mix64 is the SplitMix64 finaliser: a bijective 64-bit mixer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func hash3(a, b, c uint64) uint64 { return mix64(mix64(mix64(a)^b) ^ c) }

// unitFloat maps h to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// jitterFactor returns a factor in [1-j, 1+j) for token k of request n.
func jitterFactor(seed, n uint64, k int, j float64) float64 {
	if j == 0 {
		return 1
	}
	u := unitFloat(hash3(seed, kindJitter^(n<<8), uint64(k)))
	return 1 + j*(2*u-1)
}

// vocab is the output vocabulary: plain ASCII words that need no JSON
// escaping, each with a leading space, so concatenated tokens read as text.
var vocab = [64]string{
	" the", " model", " serves", " tokens", " quickly", " and", " the", " cache",
	" holds", " keys", " values", " for", " each", " layer", " while", " batches",
	" grow", " under", " load", " so", " latency", " rises", " until", " the",
	" scheduler", " waits", " for", " free", " blocks", " then", " decoding", " resumes",
	" with", " steady", " throughput", " across", " many", " requests", " in", " flight",
	" a", " small", " prompt", " yields", " fast", " prefill", " but", " long",
	" outputs", " dominate", " time", " per", " request", " as", " every", " step",
	" emits", " one", " token", " at", " most", " per", " sequence", ".",
}

// quotedVocab holds each vocab entry as a JSON string literal.
var quotedVocab = func() (q [len(vocab)][]byte) {
	for i, w := range vocab {
		q[i] = strconv.AppendQuote(nil, w)
	}
	return q
}()

// tokenIndex is the vocab index of output token k for a prompt with hash ph.
func tokenIndex(seed, ph uint64, k int) int {
	return int(hash3(seed^kindText, ph, uint64(k)) % uint64(len(vocab)))
}

// countTokens is the simulator's tokenizer: the number of whitespace-separated
// words in s (ASCII space, tab, newline, carriage return, vertical tab, form feed).
func countTokens(s string) int {
	n := 0
	in := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			in = false
		default:
			if !in {
				n++
				in = true
			}
		}
	}
	return n
}

// fnv64 hashes prompt text (FNV-1a), the text's only input beside Seed.
func fnv64(h uint64, s string) uint64 {
	if h == 0 {
		h = 14695981039346656037
	}
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// appendID appends a 32-hex-digit id, as vLLM's random_uuid() yields, derived from seed and n.
func appendID(b []byte, seed, n uint64) []byte {
	const hexd = "0123456789abcdef"
	for _, v := range [2]uint64{hash3(seed, kindID, n), hash3(seed, kindID, ^n)} {
		for s := 60; s >= 0; s -= 4 {
			b = append(b, hexd[(v>>uint(s))&15])
		}
	}
	return b
}
