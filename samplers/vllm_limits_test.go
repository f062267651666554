package samplers

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server whose status line carries a 10 KB reason phrase: the reading's error keeps 64 bytes of it.
func TestVLLMStatusReasonCapped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 500 " + strings.Repeat("R", 10_000) + "\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops"))
			}()
		}
	}()
	v := newTestVLLM(t, VLLMConfig{BaseURL: "http://" + ln.Addr().String()})
	r := take(t, v)
	require.Error(t, r.Err)
	assert.Contains(t, r.Err.Error(), "status 500 "+strings.Repeat("R", 60))
	assert.Contains(t, r.Err.Error(), "…: oops")
	assert.Less(t, len(r.Err.Error()), 200+len(ln.Addr().String()))
}
