//go:build linux

package vllmsim

import (
	"syscall"
	"time"
)

// fineSleep sleeps d in the kernel (nanosleep), which wakes within the
// timer slack (~50 µs) instead of the Go netpoller's whole milliseconds.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rem syscall.Timespec
		err := syscall.Nanosleep(&ts, &rem)
		if err != syscall.EINTR {
			return
		}
		ts = rem
	}
}
