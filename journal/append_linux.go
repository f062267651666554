//go:build linux

package journal

import (
	"io"
	"os"
	"runtime"
	"syscall"

	"github.com/vmtest/vmtest/internal/rawio"
)

// appendTo writes b whole to f (opened O_APPEND) with raw write(2) calls (rawio.Write): a tick's journal
// line is then no system call that wakes the runtime's sysmon (DESIGN.md, "One tick").
func appendTo(f *os.File, b []byte) error {
	fd := f.Fd()
	for len(b) > 0 {
		n, errno := rawio.Write(fd, b)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return errno
		case n <= 0:
			return io.ErrShortWrite
		}
		b = b[n:]
	}
	runtime.KeepAlive(f)
	return nil
}
