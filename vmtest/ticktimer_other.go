//go:build !linux

package vmtest

// newKernelTimer has no kernel timer to give off Linux: the loop uses a Go timer.
func newKernelTimer() (tickTimer, error) {
	return nil, errNoKernelTimer
}
