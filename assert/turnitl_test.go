package assert

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// ITL is not kept per turn: a threshold on turn.<k>.itl.* is refused where it is parsed, saying so (it
// answered "no data" at the end of the run).
func TestParseThresholdRefusesTurnITL(t *testing.T) {
	_, err := ParseThreshold("turn.1.itl.p99 < 100ms")
	require.ErrorContains(t, err, "ITL is not kept per turn")
	_, err = ParseThreshold("model.base.itl.p99 < 100ms")
	require.NoError(t, err)
}
