package loadgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Several choices per request are refused by name (their chunks would be mixed into one TTFT, ITL list and
// E2E latency); n = 1, as JSON or Go gives it, is one choice and passes.
func TestSeveralChoicesRefused(t *testing.T) {
	for _, extra := range []map[string]any{{"n": 2}, {"n": float64(3)}, {"best_of": 2}, {"n": "2"}} {
		_, err := newEncoder(Params{Extra: extra})
		require.Error(t, err, "%v", extra)
		assert.Contains(t, err.Error(), "one choice per request")
	}
	for _, extra := range []map[string]any{{"n": 1}, {"n": float64(1)}, {"best_of": 1}, {"n": nil}} {
		_, err := newEncoder(Params{Extra: extra})
		assert.NoError(t, err, "%v", extra)
	}
}
