package samplers

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"unsafe"

	"github.com/shirou/gopsutil/v4/disk"
)

// blockDisks reads the whole disks' counters from sysfs: <sys>/block lists every whole disk (partitions are
// below their disk's directory, never here), and <sys>/block/<disk>/stat holds the same counters as the
// disk's /proc/diskstats line without its major, minor and name (Documentation/block/stat.rst: read sectors
// 3rd, written sectors 7th, in 512-byte units). The kernel generates a stat file for its one disk, so a
// reading reads only the disks that wholeDisks counts, not every loop device, partition and device-mapper
// target as /proc/diskstats makes the kernel do (each line counts the device's requests in flight). The
// directory is listed at every reading, so a disk that comes or goes is followed at once.
type blockDisks struct {
	dir     string   // <sys>/block
	dirents []byte   // the directory's last listing (getdents64 records), to tell a change of disks
	names   []string // the disks of that listing that wholeDisks counts (not virtualDisk)
	stats   []string // <dir>/<name>/stat for each of names
	listing []byte   // the buffer the listing is read into
}

// direntMax is the most bytes one getdents64 record takes (a 19-byte header and a name of up to 255 bytes
// and its NUL, padded to 8): a listing that leaves more room than this in its buffer is the whole directory.
const direntMax = 280

// list returns the disks to read, listing the directory with getdents64 on a descriptor kept open in files
// (from its start each time: lseek to 0); names is rebuilt only when the listing differs from the last one.
func (d *blockDisks) list(files *procFiles) ([]string, error) {
	fd, err := files.openFlags(d.dir, syscall.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	if len(d.listing) == 0 {
		d.listing = make([]byte, 8192)
	}
	b, err := getdents(fd, d.listing)
	d.listing = b[:cap(b)]
	if err != nil {
		files.forget(d.dir)
		return nil, fmt.Errorf("%s: %w", d.dir, err)
	}
	if bytes.Equal(b, d.dirents) && d.names != nil {
		return d.names, nil
	}
	d.dirents = append(d.dirents[:0], b...)
	for _, name := range d.stats {
		files.forget(name) // a disk that went away leaves no descriptor open; the others are opened again
	}
	var all []string
	_, _, all = syscall.ParseDirent(b, -1, nil)
	d.names, d.stats = make([]string, 0, len(all)), make([]string, 0, len(all))
	for _, name := range all {
		if !virtualDisk(name) {
			d.names = append(d.names, name)
			d.stats = append(d.stats, filepath.Join(d.dir, name, "stat"))
		}
	}
	return d.names, nil
}

// getdents lists the directory open as fd from its start into buf, growing it while a listing may have been
// cut short, and returns the records.
func getdents(fd int, buf []byte) ([]byte, error) {
	for {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_LSEEK, uintptr(fd), 0, 0); errno != 0 {
			return buf[:0], errno
		}
		n, _, errno := syscall.RawSyscall(syscall.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return buf[:0], errno
		}
		if int(n) <= len(buf)-direntMax {
			return buf[:n], nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// sysDisks reads diskIO's map from p.block: each counted disk's read and written bytes from its stat file;
// an error when the directory or a stat file cannot be read or parsed.
func (p *procReader) sysDisks() (map[string]disk.IOCountersStat, error) {
	names, err := p.block.list(p.files)
	if err != nil {
		return nil, err
	}
	rows, same := p.disks[:0], len(names) == len(p.disks)
	for i, name := range names {
		b, err := p.files.read(p.block.stats[i], p.buf, 0)
		if err != nil {
			return nil, err
		}
		p.buf = b
		var f [7][]byte
		rest := b
		for j := range f {
			f[j], rest = nextField(rest)
		}
		rd, err1 := parseUint(f[2])
		wr, err2 := parseUint(f[6])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s: %w", p.block.stats[i], err)
		}
		same = same && p.disks[i].name == name
		rows = append(rows, diskRow{name, rd * sectorSize, wr * sectorSize})
	}
	p.setDisks(rows, same)
	return p.dmap, nil
}

// setDisks makes rows the disks of p.dmap, reusing the map when same says they are the devices it holds.
func (p *procReader) setDisks(rows []diskRow, same bool) {
	if !same || len(rows) != len(p.disks) || p.dmap == nil {
		p.dmap = make(map[string]disk.IOCountersStat, len(rows))
	}
	p.disks = rows
	for _, r := range rows {
		p.dmap[r.name] = disk.IOCountersStat{Name: r.name, ReadBytes: r.read, WriteBytes: r.write}
	}
}
