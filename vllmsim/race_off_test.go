//go:build !race

package vllmsim

const raceEnabled = false
