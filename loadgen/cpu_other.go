//go:build !unix

package loadgen

import "time"

// processCPU returns the Go runtime's estimate of this process's CPU time (getrusage is unix-only).
func processCPU() time.Duration { return runtimeCPU() }
