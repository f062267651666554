package samplers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/vmtest/vmtest/internal/rawio"
)

// procReader reads the host's counters straight from procfs, the files gopsutil reads, into one reused
// buffer: no goroutine, no per-line strings, and the disk map is reused while the set of devices is the same.
// Every value means what gopsutil's does (same files, fields, units); a meminfo without MemAvailable (Linux
// before 3.14) falls back to gopsutil's own estimate.
type procReader struct {
	root  string // "/proc", or $HOST_PROC as gopsutil honours it, or a fixture tree in tests
	buf   []byte
	disks []diskRow
	dmap  map[string]disk.IOCountersStat
	block *blockDisks // the whole disks in sysfs, read instead of diskstats; nil: diskstats only
	files *procFiles  // the files read, kept open
}

// procFiles are the procfs (or cgroupfs) files a procReader or cgroupReader has opened, by path; closed when
// their reader is garbage collected (runtime.AddCleanup in newProcReader and newCgroupReader), so never while
// it reads.
type procFiles struct {
	fds map[string]int
}

func (f *procFiles) close() {
	for path, fd := range f.fds {
		syscall.Close(fd)
		delete(f.fds, path)
	}
}

type diskRow struct {
	name        string
	read, write uint64 // bytes
}

// sectorSize is the unit of /proc/diskstats' sector counts, 512 bytes whatever the device's own sector size.
const sectorSize = 512

func newHostReader() hostReader {
	root, sys := os.Getenv("HOST_PROC"), os.Getenv("HOST_SYS")
	if root == "" {
		root = "/proc"
		if sys == "" {
			sys = "/sys"
		}
	}
	p := newProcReader(root)
	// A HOST_PROC without HOST_SYS: that /proc's diskstats, as gopsutil reads it; no sysfs: diskstats.
	if dir := filepath.Join(sys, "block"); sys != "" && exists(dir) {
		p.block = &blockDisks{dir: dir}
	}
	return p
}

func newProcReader(root string) *procReader {
	p := &procReader{root: root, files: &procFiles{fds: map[string]int{}}}
	runtime.AddCleanup(p, (*procFiles).close, p.files)
	return p
}

// read fills p.buf with the file's content (its first limit bytes when limit > 0) and returns it, through
// p.files (procFiles.read).
func (p *procReader) read(name string, limit int) ([]byte, error) {
	if p.files == nil { // a procReader made by hand (tests)
		p.files = &procFiles{fds: map[string]int{}}
	}
	b, err := p.files.read(filepath.Join(p.root, name), p.buf, limit)
	if err == nil {
		p.buf = b
	}
	return b, err
}

// read reads the file at path into buf (reused, grown as needed; to at least limit bytes when limit > 0)
// and returns it. Each file is opened once and read again from offset 0 with pread, which procfs and cgroupfs
// answer with fresh content; the reads are raw system calls, as such a read never blocks on I/O: the Go
// scheduler then has no P to hand off (and sysmon no syscall to retake), so a tick wakes no other thread for
// them. A failed read closes the file, so the next read opens it again.
func (f *procFiles) read(path string, buf []byte, limit int) ([]byte, error) {
	fd, err := f.open(path)
	if err != nil {
		return nil, err
	}
	if cap(buf) < 4096 {
		buf = make([]byte, 0, 4096)
	}
	b := buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := pread(fd, b[len(b):cap(b)], int64(len(b)))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			f.forget(path)
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		asked := cap(b) - len(b)
		b = b[:len(b)+n]
		if limit > 0 && len(b) >= limit || len(b) == n && n < asked && n <= seqWholeRead {
			break
		}
	}
	return b, nil
}

// seqWholeRead is the most bytes a first read that came back short is taken as the whole file, sparing the
// read that would return 0: procfs and cgroupfs files are seq files, and a seq file's read stops short of
// what was asked only at its end, or where its next record would not fit the kernel's 4 KiB page; no record of
// the files read here (a diskstats or net/dev line, a cgroup value; stat and meminfo are a single record)
// comes near the 512 bytes that would take to happen below this size. Every read of a seq file past offset 0
// generates the file again from its start, so this halves the kernel's work for a small file.
const seqWholeRead = 4096 - 512

// open returns the descriptor of the file at path, opening it the first time.
func (f *procFiles) open(path string) (int, error) { return f.openFlags(path, 0) }

// openFlags is open with flags added to O_RDONLY|O_CLOEXEC the first time (O_DIRECTORY for a directory).
func (f *procFiles) openFlags(path string, flags int) (int, error) {
	if fd, ok := f.fds[path]; ok {
		return fd, nil
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|flags, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f.fds[path] = fd
	return fd, nil
}

// forget closes path's descriptor after a failed read: the next read opens the file again.
func (f *procFiles) forget(path string) {
	if fd, ok := f.fds[path]; ok {
		syscall.Close(fd)
		delete(f.fds, path)
	}
}

// pread is rawio.Pread (a raw pread(2), see read) of b at off; 0 for an empty b.
func pread(fd int, b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	return rawio.Pread(fd, b, off)
}

// cpuTimes reads the first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal guest
// guest_nice", in clock ticks) as gopsutil's cpu.Times(false) does, in seconds.
func (p *procReader) cpuTimes(ctx context.Context) (cpu.TimesStat, error) {
	b, err := p.read("stat", 1024)
	if err != nil {
		return cpu.TimesStat{}, err
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	name, rest := nextField(line)
	if string(name) != "cpu" {
		return cpu.TimesStat{}, fmt.Errorf("%s: first line is not the cpu total: %q", filepath.Join(p.root, "stat"), clip(line))
	}
	var v [10]float64
	n := 0
	for ; n < len(v); n++ {
		var f []byte
		if f, rest = nextField(rest); f == nil {
			break
		}
		x, err := parseUint(f)
		if err != nil {
			return cpu.TimesStat{}, fmt.Errorf("%s: cpu field %d: %w", filepath.Join(p.root, "stat"), n+1, err)
		}
		v[n] = float64(x) / cpu.ClocksPerSec
	}
	if n < 7 {
		return cpu.TimesStat{}, fmt.Errorf("%s: cpu line has %d counters, want at least 7", filepath.Join(p.root, "stat"), n)
	}
	return cpu.TimesStat{CPU: "cpu-total", User: v[0], Nice: v[1], System: v[2], Idle: v[3], Iowait: v[4],
		Irq: v[5], Softirq: v[6], Steal: v[7], Guest: v[8], GuestNice: v[9]}, nil
}

// memory reads MemTotal and MemAvailable from /proc/meminfo (kB, so × 1024), as gopsutil's
// mem.VirtualMemory gives Total and Available.
func (p *procReader) memory(ctx context.Context) (*mem.VirtualMemoryStat, error) {
	b, err := p.read("meminfo", 0)
	if err != nil {
		return nil, err
	}
	var total, avail uint64
	var haveTotal, haveAvail bool
	for len(b) > 0 && !(haveTotal && haveAvail) {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		key, val, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		var dst *uint64
		switch string(key) {
		case "MemTotal":
			dst, haveTotal = &total, true
		case "MemAvailable":
			dst, haveAvail = &avail, true
		default:
			continue
		}
		f, rest := nextField(val)
		x, err := parseUint(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", filepath.Join(p.root, "meminfo"), key, err)
		}
		if unit, _ := nextField(rest); string(unit) == "kB" {
			x *= 1024
		}
		*dst = x
	}
	if !haveTotal {
		return nil, fmt.Errorf("%s: no MemTotal", filepath.Join(p.root, "meminfo"))
	}
	if !haveAvail {
		return mem.VirtualMemoryWithContext(ctx)
	}
	return &mem.VirtualMemoryStat{Total: total, Available: avail}, nil
}

// netIO sums received (1st) and sent (9th) bytes over every interface of /proc/net/dev, loopback
// included, as gopsutil's net.IOCounters(false) does.
func (p *procReader) netIO(ctx context.Context) (psnet.IOCountersStat, error) {
	b, err := p.read("net/dev", 0)
	if err != nil {
		return psnet.IOCountersStat{}, err
	}
	out := psnet.IOCountersStat{Name: "all"}
	for i := 0; len(b) > 0; i++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		sep := bytes.LastIndexByte(line, ':')
		if i < 2 || sep < 0 || len(bytes.TrimSpace(line[:sep])) == 0 {
			continue // the two header lines
		}
		rest := line[sep+1:]
		var fields [9][]byte
		n := 0
		for ; n < len(fields); n++ {
			if fields[n], rest = nextField(rest); fields[n] == nil {
				break
			}
		}
		if n < len(fields) {
			continue
		}
		recv, err1 := parseUint(fields[0])
		sent, err2 := parseUint(fields[8])
		if err := errors.Join(err1, err2); err != nil {
			return psnet.IOCountersStat{}, fmt.Errorf("%s: %s: %w", filepath.Join(p.root, "net/dev"), bytes.TrimSpace(line[:sep]), err)
		}
		out.BytesRecv += recv
		out.BytesSent += sent
	}
	return out, nil
}

// diskIO reads each device's read and written sectors (fields 6 and 10 of /proc/diskstats) as bytes, as
// gopsutil's disk.IOCounters does, without its per-device serial-number and label look-ups. With p.block it
// reads the same counters of the whole disks that wholeDisks counts from sysfs instead (sysDisks), and
// /proc/diskstats only when sysfs cannot be read. The map it returns is reused by the next call.
func (p *procReader) diskIO(ctx context.Context) (map[string]disk.IOCountersStat, error) {
	if p.block != nil {
		if m, err := p.sysDisks(); err == nil {
			return m, nil
		}
	}
	b, err := p.read("diskstats", 0)
	if err != nil {
		return nil, err
	}
	rows, same := p.disks[:0], true
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		var fields [10][]byte
		n, rest := 0, line
		for ; n < len(fields); n++ {
			if fields[n], rest = nextField(rest); fields[n] == nil {
				break
			}
		}
		if n < len(fields) {
			continue
		}
		rd, err1 := parseUint(fields[5])
		wr, err2 := parseUint(fields[9])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", filepath.Join(p.root, "diskstats"), fields[2], err)
		}
		i := len(rows)
		if i < len(p.disks) && p.disks[i].name == string(fields[2]) {
			rows = append(rows, diskRow{p.disks[i].name, rd * sectorSize, wr * sectorSize})
		} else {
			same = false
			rows = append(rows, diskRow{string(fields[2]), rd * sectorSize, wr * sectorSize})
		}
	}
	p.setDisks(rows, same)
	return p.dmap, nil
}

// nextField returns the first space-separated field of b and what follows it; field is nil when b has none.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

var errNotCounter = errors.New("not an unsigned decimal counter")

// parseUint parses a non-empty unsigned decimal that fits in 64 bits.
func parseUint(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, fmt.Errorf("%q: %w", clip(b), errNotCounter)
	}
	var x uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q: %w", clip(b), errNotCounter)
		}
		d := uint64(c - '0')
		if x > (1<<64-1-d)/10 {
			return 0, fmt.Errorf("%q: %w", clip(b), errNotCounter)
		}
		x = x*10 + d
	}
	return x, nil
}

// clip bounds what an error quotes from a file.
func clip(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
