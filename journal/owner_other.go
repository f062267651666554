//go:build !unix

package journal

// alive is true where kill(pid, 0) is not available: a writer there may always still be running.
func alive(int) bool { return true }
