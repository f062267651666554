//go:build !race

package loadgen

// raceEnabled is true when the race detector instruments this test binary; see race_test.go.
const raceEnabled = false
