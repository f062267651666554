//go:build linux && race

package rawio

import "syscall"

// Read is syscall.Read under the race detector, which sees what the kernel writes into b only through the
// syscall package's annotations (a raw system call has none); otherwise as rawio_linux.go's.
func Read(fd uintptr, b []byte) (n int, errno syscall.Errno) {
	n, err := syscall.Read(int(fd), b)
	return n, toErrno(err)
}

// Write is syscall.Write under the race detector, as Read.
func Write(fd uintptr, b []byte) (n int, errno syscall.Errno) {
	n, err := syscall.Write(int(fd), b)
	return n, toErrno(err)
}

// Pread is syscall.Pread under the race detector, as Read.
func Pread(fd int, b []byte, off int64) (int, error) {
	return syscall.Pread(fd, b, off)
}

// toErrno is err as the syscall package returns it (nil or a syscall.Errno), 0 for nil.
func toErrno(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return 0
}
