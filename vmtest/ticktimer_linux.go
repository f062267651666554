package vmtest

import (
	"context"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelTimer is a tickTimer on a Linux timerfd, waited for through the Go runtime's netpoller like a
// socket: no Go timer is pending while it waits.
type kernelTimer struct {
	f  *os.File        // the timerfd, registered with the netpoller (non-blocking)
	rc syscall.RawConn // f's: arming through it never reaches the fd's number once f is closed (and reused)
}

// newKernelTimer returns a timerfd on CLOCK_MONOTONIC, the clock Go's monotonic readings come from.
func newKernelTimer() (tickTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "vmtest-tick-timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &kernelTimer{f: f, rc: rc}, nil
}

// arm sets the timer to expire once, d from now (at once when d ≤ 0). After stop it returns an error.
func (k *kernelTimer) arm(d time.Duration) error {
	v := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(max(d, 1)))}
	var errno syscall.Errno
	if cerr := k.rc.Control(func(fd uintptr) {
		_, _, errno = unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&v)), 0, 0, 0)
	}); cerr != nil {
		return cerr
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// read reads the timer's expiry count, waiting through the netpoller until it has expired. Both system
// calls here and in arm are raw: neither can block (the timerfd is non-blocking), and a raw one does not
// wake the runtime's sysmon, which would then poll every 20 µs through the tick.
func (k *kernelTimer) read() error {
	var buf [8]byte // the number of expiries
	var errno syscall.Errno
	err := k.rc.Read(func(fd uintptr) bool {
		for errno = syscall.EINTR; errno == syscall.EINTR; {
			_, _, errno = unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		}
		return errno != syscall.EAGAIN
	})
	if err == nil && errno != 0 {
		err = errno
	}
	return err
}

// wait arms the timer for d and reads its expiry. ctx ending re-arms it to expire at once (context.AfterFunc),
// which ends the read; arming before looking at ctx means a cancellation is never missed. When arming or
// reading fails, it waits on a Go timer until the same time, d after the call.
func (k *kernelTimer) wait(ctx context.Context, d time.Duration) bool {
	at := time.Now().Add(d)
	if err := k.arm(d); err != nil {
		return waitUntil(ctx, at)
	}
	stop := context.AfterFunc(ctx, func() { _ = k.arm(0) })
	defer stop()
	if ctx.Err() != nil {
		return false
	}
	if err := k.read(); err != nil {
		if ctx.Err() != nil {
			return false
		}
		return waitUntil(ctx, at)
	}
	return ctx.Err() == nil
}

func (k *kernelTimer) stop() { _ = k.f.Close() }

// waitUntil waits on a Go timer until at (returning at once when it has passed) or until ctx is done, and
// reports whether at came with ctx not done: what a kernel timer that failed falls back to.
func waitUntil(ctx context.Context, at time.Time) bool {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
