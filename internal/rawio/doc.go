// Package rawio makes read(2), write(2) and pread(2) as raw system calls on Linux: calls that do not hand
// their P to another thread and do not wake the Go runtime's sysmon thread, which then polls every 20 µs
// until the process is idle again (DESIGN.md, "One tick"). Only calls that cannot block for long use them: a
// non-blocking socket, a procfs or sysfs file, a journal line appended to a local file's page cache. Under
// the race detector they are the syscall package's calls, whose annotations tell the detector what the
// kernel wrote.
package rawio
