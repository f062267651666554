//go:build !unix

package samplers

import (
	"errors"
	"os"
	"os/exec"
)

// setProcessGroup is a no-op where process groups are not available.
func setProcessGroup(cmd *exec.Cmd) {}

// killGroup kills cmd's process (there is no process group to kill here).
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// smiPull is false here: a goroutine copies a loop's stdout as it comes (pipes may not be pollable).
const smiPull = false

// smiReadNow is not used without pull mode.
func smiReadNow(f *os.File, buf []byte) (int, error) { return 0, errors.ErrUnsupported }
