package samplers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dialRawPair returns a rawConn dialed to a loopback listener and the listener's end of it.
func dialRawPair(t *testing.T) (*rawConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := dialRaw(&net.Dialer{})(context.Background(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	rc, ok := c.(*rawConn)
	require.True(t, ok, "dialRaw gave %T, want *rawConn", c)
	peer, ok := <-accepted
	require.True(t, ok, "accept failed")
	t.Cleanup(func() { peer.Close() })
	return rc, peer
}

// 8 MiB each way, more than a loopback socket's buffers hold: writes come back short and wait for room, reads
// wait for data; every byte arrives in order; a read after the peer closes is io.EOF.
func TestRawConnCopiesEveryByte(t *testing.T) {
	c, peer := dialRawPair(t)
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i*7 + i>>13)
	}
	echoed := make(chan error, 1)
	go func() { // the peer sends back what it reads, then closes
		_, err := io.Copy(peer, io.LimitReader(peer, int64(len(want))))
		peer.Close()
		echoed <- err
	}()
	wrote := make(chan error, 1)
	go func() {
		n, err := c.Write(want)
		if err == nil && n != len(want) {
			err = errors.New("short write without an error")
		}
		wrote <- err
	}()
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	require.NoError(t, <-wrote)
	require.NoError(t, <-echoed)
	assert.True(t, bytes.Equal(want, got), "read %d bytes, wrote %d; equal: false", len(got), len(want))
	n, err := c.Read(make([]byte, 10))
	assert.Equal(t, 0, n)
	assert.Same(t, io.EOF, err)
}

// A passed deadline and a closed connection give net.TCPConn's errors: a timeout naming the operation and
// both addresses, net.ErrClosed.
func TestRawConnDeadlineAndClose(t *testing.T) {
	c, _ := dialRawPair(t)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(-time.Second)))
	_, err := c.Read(make([]byte, 10))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.True(t, strings.HasPrefix(err.Error(), "read tcp "+c.LocalAddr().String()+"->"+c.RemoteAddr().String()+": "), err.Error())

	require.NoError(t, c.SetWriteDeadline(time.Now().Add(-time.Second)))
	_, err = c.Write([]byte("x"))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	require.NoError(t, c.Close())
	_, err = c.Read(make([]byte, 10))
	assert.ErrorIs(t, err, net.ErrClosed)
	_, err = c.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed)
}

// A peer that resets the connection is the system call's error, as net.TCPConn gives it.
func TestRawConnReset(t *testing.T) {
	c, peer := dialRawPair(t)
	require.NoError(t, peer.(*net.TCPConn).SetLinger(0))
	_, err := peer.Write([]byte("unread"))
	require.NoError(t, err)
	_, err = c.Write([]byte("x")) // unread by the peer: its close with linger 0 sends a reset
	require.NoError(t, err)
	require.NoError(t, peer.Close())
	buf := make([]byte, 64)
	var n int
	for err == nil { // "unread" may come first
		n, err = c.Read(buf)
		if err == nil {
			assert.Equal(t, "unread", string(buf[:n]))
		}
	}
	var se *os.SyscallError
	require.ErrorAs(t, err, &se, "got %v", err)
	assert.Equal(t, "read", se.Syscall)
}
