//go:build !linux

package journal

import "os"

// appendFile is a journal file opened for appending; on Linux a local file's lines go by raw write(2)
// (append_linux.go).
type appendFile struct{ *os.File }

// newAppendFile returns f.
func newAppendFile(f *os.File) appendFile { return appendFile{f} }

// append writes b whole to the file.
func (a appendFile) append(b []byte) error {
	_, err := a.File.Write(b)
	return err
}
