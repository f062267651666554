//go:build !linux

package journal

import "os"

// appendTo writes b whole to f; on Linux it is a raw write(2) (append_linux.go).
func appendTo(f *os.File, b []byte) error {
	_, err := f.Write(b)
	return err
}
