package loadgen

import (
	"context"
	"encoding/json"
	"strings"
)

// MaxReply caps the reply text kept from one turn to send back in the next (bytes); a longer reply is cut.
const MaxReply = 1 << 20

// replyKey is the context key of the builder a request's reply text goes to.
type replyKey struct{}

// withReply returns ctx asking the client to collect the reply's visible content into b.
func withReply(ctx context.Context, b *strings.Builder) context.Context {
	return context.WithValue(ctx, replyKey{}, b)
}

// replyOf returns the builder ctx asks a reply to be collected into, or nil.
func replyOf(ctx context.Context) *strings.Builder {
	b, _ := ctx.Value(replyKey{}).(*strings.Builder)
	return b
}

// appendReply adds the visible content of one chunk (or whole response) data to b, up to MaxReply bytes:
// the first choice's completions text, chat delta content or chat message content.
func appendReply(b *strings.Builder, data []byte) {
	var w struct {
		Choices []struct {
			Text    string                    `json:"text"`
			Delta   *struct{ Content string } `json:"delta"`
			Message *struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if json.Unmarshal(data, &w) != nil || len(w.Choices) == 0 {
		return
	}
	c := w.Choices[0]
	s := c.Text
	if c.Delta != nil {
		s += c.Delta.Content
	}
	if c.Message != nil {
		s += c.Message.Content
	}
	if room := MaxReply - b.Len(); room > 0 {
		b.WriteString(capBytes(s, room))
	}
}

// capBytes cuts s to at most n bytes at a character boundary.
func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
