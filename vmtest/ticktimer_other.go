//go:build !linux

package vmtest

import "errors"

// newKernelTimer has no kernel timer to give off Linux: the loop uses a Go timer.
func newKernelTimer() (tickTimer, error) {
	return nil, errors.New("no kernel timer on this system")
}
