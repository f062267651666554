//go:build linux

package journal

import (
	"io"
	"os"
	"runtime"
	"syscall"

	"github.com/vmtest/vmtest/internal/rawio"
)

// appendFile is a journal file opened for appending. On a local filesystem its lines go by raw write(2) calls
// (rawio.Write), so a tick's line is no system call that wakes the runtime's sysmon (DESIGN.md, "One tick");
// elsewhere (NFS, FUSE, ...: a write that can wait on the network) by os.File.Write.
type appendFile struct {
	*os.File
	fd  uintptr
	raw bool
}

// localFS are the statfs(2) f_type values (linux/magic.h) of the local filesystems whose writes go to the
// page cache: ext2–4, XFS, Btrfs, tmpfs, overlayfs, F2FS, ZFS.
var localFS = map[uint32]bool{0xEF53: true, 0x58465342: true, 0x9123683E: true, 0x01021994: true,
	0x794C7630: true, 0xF2F52010: true, 0x2FC12FC1: true}

// newAppendFile returns f, raw when it is a regular file on one of localFS.
func newAppendFile(f *os.File) appendFile {
	fd := f.Fd()
	var st syscall.Statfs_t
	fi, err := f.Stat()
	raw := err == nil && fi.Mode().IsRegular() && syscall.Fstatfs(int(fd), &st) == nil && localFS[uint32(st.Type)]
	return appendFile{File: f, fd: fd, raw: raw}
}

// append writes b whole to the file.
func (a appendFile) append(b []byte) error {
	if !a.raw {
		_, err := a.File.Write(b)
		return err
	}
	defer runtime.KeepAlive(a.File)
	return writeAll(rawio.Write, a.fd, b)
}

// writeAll writes b whole to fd with write: again after EINTR, on from where a short write stopped; a write of
// nothing is io.ErrShortWrite, any other errno the error.
func writeAll(write func(fd uintptr, b []byte) (int, syscall.Errno), fd uintptr, b []byte) error {
	for len(b) > 0 {
		n, errno := write(fd, b)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return errno
		case n <= 0 || n > len(b):
			return io.ErrShortWrite
		}
		b = b[n:]
	}
	return nil
}
