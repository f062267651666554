//go:build unix

package journal

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used, every thread included: a benchmark's
// cpu-ns/op from it does not grow when other jobs on the machine take the cores, as ns/op does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
