//go:build !linux

package journal

import "errors"

// waitExited is not available here; the tests that call it skip where /proc is absent (needProc).
func waitExited(int) error { return errors.New("waitid: not Linux") }
