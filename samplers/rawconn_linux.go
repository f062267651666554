package samplers

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/vmtest/vmtest/internal/rawio"
)

// rawConn is a TCP connection whose reads and writes are read(2) and write(2) made as raw system calls on its
// non-blocking socket (waiting for readiness, deadlines included, through the runtime's netpoller as net.Conn
// does): a call that cannot block needs no hand-off of its P, and a raw one does not wake the runtime's
// sysmon, which otherwise polls every 20 µs for as long as the scrape's burst of work lasts. One Read and one
// Write may run at once (net/http's connection has one reading and one writing goroutine); the system calls
// are methods bound once at dial time, so a call allocates nothing.
type rawConn struct {
	net.Conn
	rc syscall.RawConn

	rb      []byte // Read's buffer, n and errno: doRead's arguments and results
	rn      int
	rerr    syscall.Errno
	doReadF func(fd uintptr) bool

	wb       []byte // Write's remaining bytes, n and errno: doWrite's
	wn       int
	werr     syscall.Errno
	doWriteF func(fd uintptr) bool
}

// dialRaw dials with d and wraps a TCP connection as a rawConn; any other connection is returned as it is.
func dialRaw(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		rc, err := tc.SyscallConn()
		if err != nil {
			return c, nil
		}
		r := &rawConn{Conn: tc, rc: rc}
		r.doReadF, r.doWriteF = r.doRead, r.doWrite
		return r, nil
	}
}

// doRead is one read(2) of c.rb, retried on EINTR; it reports false (wait for readiness) on EAGAIN.
func (c *rawConn) doRead(fd uintptr) bool {
	for {
		n, e := rawio.Read(fd, c.rb)
		if e != syscall.EINTR {
			c.rn, c.rerr = n, e
			return e != syscall.EAGAIN
		}
	}
}

// doWrite is one write(2) of c.wb, as doRead.
func (c *rawConn) doWrite(fd uintptr) bool {
	for {
		n, e := rawio.Write(fd, c.wb)
		if e != syscall.EINTR {
			c.wn, c.werr = n, e
			return e != syscall.EAGAIN
		}
	}
}

// Read is net.Conn's Read: one read(2) of b once the socket is readable, io.EOF at the peer's end, the
// netpoller's deadline and close errors as net.TCPConn gives them.
func (c *rawConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rb, c.rn, c.rerr = b, 0, 0
	err := c.rc.Read(c.doReadF)
	c.rb = nil
	return c.result(c.rn, c.rerr, err, "read", true)
}

// Write is net.Conn's Write: write(2) until all of b is written or an error (as Read's), waiting for room in
// the socket's buffer through the netpoller; it returns the bytes written.
func (c *rawConn) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		c.wb, c.wn, c.werr = b[written:], 0, 0
		err := c.rc.Write(c.doWriteF)
		c.wb = nil
		if _, err = c.result(c.wn, c.werr, err, "write", false); err != nil {
			return written, err
		}
		written += c.wn
	}
	return written, nil
}

// result turns a raw read's or write's outcome into what net.TCPConn's Read and Write return: the netpoller's
// error (a deadline, a closed connection) first, then the system call's, as a *net.OpError naming both ends;
// a read of 0 bytes is io.EOF, as it is.
func (c *rawConn) result(n int, errno syscall.Errno, err error, op string, read bool) (int, error) {
	var oe *net.OpError
	if errors.As(err, &oe) { // RawConn's own ("raw-read ..."): keep what it wraps
		err = oe.Err
	}
	if err == nil && errno != 0 {
		err = os.NewSyscallError(op, errno)
	}
	if err != nil {
		return 0, &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if read && n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
