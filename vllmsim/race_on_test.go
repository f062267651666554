//go:build race

package vllmsim

// raceEnabled loosens wall-clock bounds: the race detector slows the HTTP
// stack several-fold.
const raceEnabled = true
