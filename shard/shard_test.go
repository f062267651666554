package shard

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Flags win over the environment; the environment fills what the flags leave; errors name their source.
func TestFromFlags(t *testing.T) {
	s, err := FromFlags(-1, -1, env(nil))
	require.NoError(t, err)
	assert.False(t, s.Sharded())

	s, err = FromFlags(-1, -1, env(map[string]string{EnvIndex: "3"}))
	require.NoError(t, err)
	assert.False(t, s.Sharded(), "an Indexed Job without a shard count is not sharded")

	s, err = FromFlags(-1, -1, env(map[string]string{EnvIndex: "3", EnvCount: "8"}))
	require.NoError(t, err)
	assert.Equal(t, Spec{Index: 3, Count: 8}, s)

	s, err = FromFlags(1, -1, env(map[string]string{EnvIndex: "3", EnvCount: "8"}))
	require.NoError(t, err)
	assert.Equal(t, Spec{Index: 1, Count: 8}, s)

	for _, c := range []struct {
		index, count int
		env          map[string]string
		want         string
	}{
		{-1, 4, nil, "-shard-count 4 without a shard index"},
		{1, -1, map[string]string{EnvIndex: "2"}, "-shard-index 1 without a shard count"},
		{-1, -1, map[string]string{EnvIndex: "x", EnvCount: "2"}, `$JOB_COMPLETION_INDEX "x": not a whole number`},
		{0, 0, nil, "-shard-count 0: must be at least 1"},
		{-1, 2, map[string]string{EnvIndex: "2"}, "$JOB_COMPLETION_INDEX 2: must be below the shard count 2"},
	} {
		_, err := FromFlags(c.index, c.count, env(c.env))
		require.Error(t, err, c.want)
		assert.Contains(t, err.Error(), c.want)
	}
}

// The shares of any total over any count sum to the total and differ by at most one, larger first.
func TestShareSumsToTheTotal(t *testing.T) {
	for count := 1; count <= 9; count++ {
		for total := 0; total <= 30; total++ {
			shares, sum := make([]int, count), 0
			for i := range shares {
				shares[i] = Spec{Index: i, Count: count}.Share(total)
				sum += shares[i]
			}
			assert.Equal(t, total, sum, "total %d over %d", total, count)
			assert.True(t, slices.IsSortedFunc(shares, func(a, b int) int { return b - a }), "larger first: %v", shares)
			assert.LessOrEqual(t, shares[0]-shares[count-1], 1, "%v", shares)
		}
	}
	assert.Equal(t, 7, Spec{}.Share(7))
}

// Each shard's seed differs from the others', shard 0 keeps the run's own.
func TestSeedsDiffer(t *testing.T) {
	seen := map[uint64]int{}
	for i := range 64 {
		seen[Spec{Index: i, Count: 64}.Seed(42)] = i
	}
	assert.Len(t, seen, 64)
	assert.Equal(t, uint64(42), Spec{Index: 0, Count: 64}.Seed(42))
	assert.Equal(t, 0.25, Spec{Index: 0, Count: 4}.Rate(1))
	assert.Equal(t, []int{0, 2, 5}, []int{Spec{0, 3}.PromptOffset(8), Spec{1, 3}.PromptOffset(8), Spec{2, 3}.PromptOffset(8)})
}
