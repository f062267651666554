//go:build race

package vmtest

// raceEnabled reports whether the test binary was built with -race.
const raceEnabled = true
