//go:build unix

package journal

import (
	"errors"
	"syscall"
)

// alive reports whether a process of id pid exists: kill(pid, 0) says so unless it fails with ESRCH.
func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
