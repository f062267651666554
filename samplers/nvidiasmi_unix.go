//go:build unix

package samplers

import (
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// setProcessGroup starts cmd as the leader of a new process group, so that killGroup reaches its children.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends SIGKILL to cmd's whole process group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = cmd.Process.Kill()
	}
}

// smiPull says whether a loop's stdout is read at the ticks (pull mode) rather than by a goroutine as it comes.
const smiPull = true

// smiReadNow reads what the pipe f holds now without waiting (f is non-blocking, polled by the runtime): 0
// bytes and errSMIEmpty when it holds nothing, io.EOF when the write end is closed and it is drained.
func smiReadNow(f *os.File, buf []byte) (int, error) {
	if err := f.SetReadDeadline(time.Time{}); err != nil { // a passed deadline would fail the read unattempted
		return 0, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), buf)
			if rerr != syscall.EINTR {
				return true // one attempt: never wait for the pipe to become readable
			}
		}
	}); err != nil {
		return 0, err
	}
	switch {
	case rerr == syscall.EAGAIN:
		return 0, errSMIEmpty
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
