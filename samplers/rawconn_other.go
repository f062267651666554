//go:build !linux

package samplers

import (
	"context"
	"net"
)

// dialRaw dials with d; only Linux has raw-system-call connections (rawconn_linux.go).
func dialRaw(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.DialContext
}
