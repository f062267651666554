package journal

import "golang.org/x/sys/unix"

// waitExited blocks until child pid has exited, leaving it unreaped (a zombie): waitid(P_PID, WEXITED|WNOWAIT).
func waitExited(pid int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err
		}
	}
}
