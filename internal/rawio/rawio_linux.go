//go:build linux && !race

package rawio

import (
	"syscall"
	"unsafe"
)

// Read is read(2) of fd into b (len(b) > 0) as a raw system call: the caller's descriptor cannot block
// (a non-blocking socket), so the call needs no hand-off of its P and does not wake the runtime's sysmon.
// n is the bytes read when errno is 0, and meaningless otherwise.
func Read(fd uintptr, b []byte) (n int, errno syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}

// Write is write(2) of b (len(b) > 0) to fd as a raw system call, as Read: for a non-blocking socket, or a
// regular file whose write goes to the page cache, where the caller accepts that a write held up by the
// kernel's writeback throttling holds its P for that time.
func Write(fd uintptr, b []byte) (n int, errno syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}

// Pread is pread(2) of fd at off into b (len(b) > 0) as a raw system call, for procfs, sysfs and cgroupfs
// files (DESIGN.md, "One tick"), where the offset fits one register; else syscall.Pread.
func Pread(fd int, b []byte, off int64) (int, error) {
	if unsafe.Sizeof(uintptr(0)) < 8 {
		return syscall.Pread(fd, b, off)
	}
	r, _, errno := syscall.RawSyscall6(syscall.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(off), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
