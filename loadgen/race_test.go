//go:build race

package loadgen

// raceEnabled is true when the race detector instruments this test binary (and the in-process simulator):
// it slows every goroutine several times, so timing-accuracy assertions are not meaningful.
const raceEnabled = true
