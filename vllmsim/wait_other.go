//go:build !linux

package vllmsim

import "time"

// fineSleep falls back to the Go timer where nanosleep is not wired up.
func fineSleep(d time.Duration) { time.Sleep(d) }
