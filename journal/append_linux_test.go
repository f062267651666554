//go:build linux

package journal

import (
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeWrite answers each write(2) with the next of its replies and keeps the bytes each accepted.
type fakeWrite struct {
	replies []reply
	got     []byte
}

// reply is one write's answer: n bytes taken (−1: all offered), or errno.
type reply struct {
	n     int
	errno syscall.Errno
}

func (f *fakeWrite) write(_ uintptr, b []byte) (int, syscall.Errno) {
	r := f.replies[0]
	f.replies = f.replies[1:]
	if r.errno != 0 {
		return -1, r.errno
	}
	if r.n < 0 {
		r.n = len(b)
	}
	f.got = append(f.got, b[:r.n]...)
	return r.n, 0
}

// writeAll goes on from where a short write stopped and after an interrupted one, and stops with an error on a
// write of nothing, an impossible count or an errno, keeping what was written before.
func TestWriteAllShortWritesAndErrors(t *testing.T) {
	line := []byte("0123456789")
	for _, c := range []struct {
		name    string
		replies []reply
		want    string
		err     error
	}{
		{"whole", []reply{{n: -1}}, "0123456789", nil},
		{"short writes", []reply{{n: 3}, {n: 4}, {n: -1}}, "0123456789", nil},
		{"interrupted", []reply{{n: 2}, {errno: syscall.EINTR}, {errno: syscall.EINTR}, {n: -1}}, "0123456789", nil},
		{"nothing written", []reply{{n: 4}, {n: 0}}, "0123", io.ErrShortWrite},
		{"disk full", []reply{{n: 6}, {errno: syscall.ENOSPC}}, "012345", syscall.ENOSPC},
		{"would block", []reply{{errno: syscall.EAGAIN}}, "", syscall.EAGAIN},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeWrite{replies: c.replies}
			err := writeAll(f.write, 7, line)
			assert.Equal(t, c.want, string(f.got))
			if c.err == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, c.err)
			}
			assert.Empty(t, f.replies, "every reply used, none more asked")
		})
	}
}

// A file in the test's temporary directory takes raw writes when its filesystem is one of localFS, and a device
// file never does (/dev/null: devtmpfs reports tmpfs's f_type); both take the lines whole.
func TestRawWritesOnlyOnLocalFilesystems(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "line")
	require.NoError(t, err)
	defer f.Close()
	var st syscall.Statfs_t
	require.NoError(t, syscall.Fstatfs(int(f.Fd()), &st))
	a := newAppendFile(f)
	assert.Equal(t, localFS[uint32(st.Type)], a.raw, "f_type %#x", st.Type)
	require.NoError(t, a.append([]byte("one\n")))
	require.NoError(t, a.append([]byte("two\n")))
	b, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\n", string(b))

	null, err := os.OpenFile("/dev/null", os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	defer null.Close()
	n := newAppendFile(null)
	assert.False(t, n.raw, "a device file is written through os.File")
	assert.NoError(t, n.append([]byte("x\n")))
}
