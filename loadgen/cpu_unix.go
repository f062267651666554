//go:build unix

package loadgen

import (
	"syscall"
	"time"
)

// processCPU returns this process's CPU time so far (user + system), from getrusage(RUSAGE_SELF).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return runtimeCPU()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
