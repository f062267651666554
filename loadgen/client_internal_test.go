package loadgen

import (
	"mime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// isJSON agrees with mime.ParseMediaType on every well-formed Content-Type: the media type, case and blanks
// aside, is application/json.
func TestIsJSONAsParseMediaType(t *testing.T) {
	for _, ct := range []string{"application/json", "Application/JSON", " application/json ; charset=utf-8",
		"application/json;charset=UTF-8", "text/event-stream", "text/event-stream; charset=utf-8", "application/jsonl",
		"application/json-seq", "text/plain", ""} {
		mt, _, err := mime.ParseMediaType(ct)
		assert.Equal(t, err == nil && mt == "application/json", isJSON(ct), "%q", ct)
	}
}
