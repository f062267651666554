package samplers

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gopsutilHost reads what the product read through gopsutil before it read procfs itself: the reference.
func gopsutilHost(t *testing.T, ctx context.Context) (cpu.TimesStat, *mem.VirtualMemoryStat, psnet.IOCountersStat, map[string]disk.IOCountersStat) {
	t.Helper()
	ts, err := cpu.TimesWithContext(ctx, false)
	require.NoError(t, err)
	require.Len(t, ts, 1)
	vm, err := mem.VirtualMemoryWithContext(ctx)
	require.NoError(t, err)
	ns, err := psnet.IOCountersWithContext(ctx, false)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	ds, err := disk.IOCountersWithContext(ctx)
	require.NoError(t, err)
	return ts[0], vm, ns[0], ds
}

func readProc(t *testing.T, p *procReader) (cpu.TimesStat, *mem.VirtualMemoryStat, psnet.IOCountersStat, map[string]disk.IOCountersStat) {
	t.Helper()
	ctx := context.Background()
	c, err := p.cpuTimes(ctx)
	require.NoError(t, err)
	m, err := p.memory(ctx)
	require.NoError(t, err)
	n, err := p.netIO(ctx)
	require.NoError(t, err)
	d, err := p.diskIO(ctx)
	require.NoError(t, err)
	return c, m, n, d
}

// A fixture /proc tree: the values computed by hand from its files, and equal to what gopsutil reads from
// the same tree (HOST_PROC).
func TestProcReaderFixtureEqualsGopsutil(t *testing.T) {
	root, err := filepath.Abs("testdata/proc")
	require.NoError(t, err)
	p := &procReader{root: root}
	c, m, n, d := readProc(t, p)

	// stat: "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0", clock ticks of 1/100 s.
	assert.Equal(t, cpu.TimesStat{CPU: "cpu-total", User: 101321.53, Nice: 2906.96, System: 30847.19, Idle: 468284.83,
		Iowait: 166.83, Softirq: 251.95, Guest: 1756.28}, c)
	assert.Equal(t, uint64(16384000*1024), m.Total)
	assert.Equal(t, uint64(12288000*1024), m.Available)
	assert.Equal(t, uint64(1000+123456789), n.BytesRecv, "lo + eth0")
	assert.Equal(t, uint64(1000+987654321), n.BytesSent)
	rd, wr := wholeDisks(d)
	// Whole disks sda (1000 / 2000 sectors) and nvme0n1 (10 / 20); partitions, loop0 and dm-0 left out.
	assert.Equal(t, float64((1000+10)*512), rd)
	assert.Equal(t, float64((2000+20)*512), wr)

	t.Setenv("HOST_PROC", root)
	gc, gm, gn, gd := gopsutilHost(t, context.Background())
	assert.Equal(t, gc, c)
	assert.Equal(t, gm.Total, m.Total)
	assert.Equal(t, gm.Available, m.Available)
	assert.Equal(t, gn.BytesRecv, n.BytesRecv)
	assert.Equal(t, gn.BytesSent, n.BytesSent)
	grd, gwr := wholeDisks(gd)
	assert.Equal(t, grd, rd)
	assert.Equal(t, gwr, wr)
	for name, st := range gd {
		assert.Equal(t, st.ReadBytes, d[name].ReadBytes, name)
		assert.Equal(t, st.WriteBytes, d[name].WriteBytes, name)
	}

	// The reused map follows a device that goes away.
	dir := t.TempDir()
	for _, f := range []string{"stat", "meminfo", "diskstats"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		if f == "diskstats" {
			b = []byte("   8       0 sda 120 30 1000 50 300 40 2000 90 0 140 140 0 0 0 0 0 0\n")
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	p.root = dir
	d, err = p.diskIO(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]disk.IOCountersStat{"sda": {Name: "sda", ReadBytes: 1000 * 512, WriteBytes: 2000 * 512}}, d)
}

// Without MemAvailable (Linux before 3.14) the reading is gopsutil's own estimate.
func TestProcReaderMemoryWithoutMemAvailable(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "meminfo"),
		[]byte("MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  20 kB\nCached:  300 kB\n"), 0o644))
	t.Setenv("HOST_PROC", dir)
	m, err := (&procReader{root: dir}).memory(context.Background())
	require.NoError(t, err)
	want, err := mem.VirtualMemoryWithContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(1000*1024), m.Total)
	assert.Equal(t, want.Available, m.Available)
}

// Bad files give an error naming the file and what was wrong, never a panic.
func TestProcReaderBadFiles(t *testing.T) {
	dir := t.TempDir()
	p := &procReader{root: dir}
	_, err := p.cpuTimes(context.Background())
	assert.ErrorContains(t, err, filepath.Join(dir, "stat"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte("cpu  1 2 x 4 5 6 7\n"), 0o644))
	_, err = p.cpuTimes(context.Background())
	assert.ErrorContains(t, err, `cpu field 3: "x": not an unsigned decimal counter`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte("cpu  1 2 3\n"), 0o644))
	_, err = p.cpuTimes(context.Background())
	assert.ErrorContains(t, err, "3 counters, want at least 7")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "meminfo"), []byte("MemFree: 1 kB\n"), 0o644))
	_, err = p.memory(context.Background())
	assert.ErrorContains(t, err, "no MemTotal")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "net"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "net/dev"), []byte("h\nh\n eth0: 99999999999999999999999 0 0 0 0 0 0 0 5 0\n"), 0o644))
	_, err = p.netIO(context.Background())
	assert.ErrorContains(t, err, "eth0")
	_, err = parseUint([]byte("18446744073709551616"))
	assert.ErrorIs(t, err, errNotCounter, "2^64 overflows")
	x, err := parseUint([]byte("18446744073709551615"))
	require.NoError(t, err)
	assert.Equal(t, uint64(1<<64-1), x)
}

// On this machine: each counter gopsutil reads lies between two procReader readings taken just before and
// just after it, and the memory total is the same. It reads the live host, whose counters need not only grow
// (iowait may fall, an interface may vanish) and whose free memory moves, so it runs only when
// VMTEST_HOST_CHECK=1 asks; the fixture tree above is the suite's proof.
func TestProcReaderEqualsGopsutilOnThisHost(t *testing.T) {
	if os.Getenv("VMTEST_HOST_CHECK") != "1" {
		t.Skip("reads the live host: set VMTEST_HOST_CHECK=1")
	}
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	p := &procReader{root: "/proc"}
	c0, m0, n0, d0 := readProc(t, p)
	rd0, wr0 := wholeDisks(d0)
	gc, gm, gn, gd := gopsutilHost(t, context.Background())
	grd, gwr := wholeDisks(gd)
	c1, _, n1, d1 := readProc(t, p)
	rd1, wr1 := wholeDisks(d1)

	between := func(what string, lo, x, hi float64) {
		t.Helper()
		assert.True(t, lo <= x && x <= hi, "%s: gopsutil %v not within [%v, %v]", what, x, lo, hi)
	}
	between("user", c0.User, gc.User, c1.User)
	between("system", c0.System, gc.System, c1.System)
	between("idle", c0.Idle, gc.Idle, c1.Idle)
	between("iowait", c0.Iowait, gc.Iowait, c1.Iowait)
	between("steal", c0.Steal, gc.Steal, c1.Steal)
	between("net recv", float64(n0.BytesRecv), float64(gn.BytesRecv), float64(n1.BytesRecv))
	between("net sent", float64(n0.BytesSent), float64(gn.BytesSent), float64(n1.BytesSent))
	between("disk read", rd0, grd, rd1)
	between("disk write", wr0, gwr, wr1)
	assert.Equal(t, gm.Total, m0.Total)
	assert.InDelta(t, float64(gm.Available), float64(m0.Available), 256<<20, "a gauge: within 256 MiB between reads")
}

// The reader keeps each file open and reads it again from its start: a file whose content changed reads as
// the new content, shorter or longer. A file replaced by another of the same name is not followed (procfs
// files never are).
func TestProcReaderRereadsKeptFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stat")
	require.NoError(t, os.WriteFile(path, []byte("cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 1\n"), 0o644))
	p := newProcReader(dir)
	c, err := p.cpuTimes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1.0, c.User)
	require.NoError(t, os.WriteFile(path, []byte("cpu  250 0 50 1000 0 0 0 0 0 0\n"), 0o644))
	c, err = p.cpuTimes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2.5, c.User, "the kept file read again from its start")
	assert.Len(t, p.files.fds, 1, "opened once")

	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, []byte("cpu  300 0 50 1000 0 0 0 0 0 0\n"), 0o644))
	c, err = p.cpuTimes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2.5, c.User, "a replaced file is not followed while the old one stays readable (procfs files are never replaced)")
}

// A kept file reads whole whatever its size: below seqWholeRead in one read, past it and past the first 4 KiB
// buffer in more; read again after it shrank or grew, it is the new content.
func TestProcFilesReadWhole(t *testing.T) {
	dir := t.TempDir()
	f := &procFiles{fds: map[string]int{}}
	defer f.close()
	path := filepath.Join(dir, "f")
	var buf []byte
	for _, n := range []int{1, 100, seqWholeRead - 1, seqWholeRead, seqWholeRead + 1, 4095, 4096, 4097, 10000, 70000, 5} {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte('a' + (i*7+n)%26)
		}
		require.NoError(t, os.WriteFile(path, want, 0o644))
		got, err := f.read(path, buf, 0)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%d bytes", n)
		buf = got
	}
	assert.Len(t, f.fds, 1, "one file, opened once")
}

// The whole disks read from sysfs (testdata/sys/block, the disks of testdata/proc/diskstats, each stat file
// its diskstats line without major, minor and name) give the counters diskstats gives for the disks
// wholeDisks counts, and the same totals; only those disks' stat files are read (no loop0, dm-0, partition
// or diskstats). A disk that appears is read at the next reading; a stat file that cannot be parsed sends
// the reading to diskstats.
func TestProcReaderSysBlock(t *testing.T) {
	proc, err := filepath.Abs("testdata/proc")
	require.NoError(t, err)
	sys := t.TempDir()
	require.NoError(t, os.CopyFS(sys, os.DirFS("testdata/sys")))
	ctx := context.Background()
	want, err := (&procReader{root: proc}).diskIO(ctx)
	require.NoError(t, err)
	wantRd, wantWr := wholeDisks(want)

	p := newProcReader(proc)
	p.block = &blockDisks{dir: filepath.Join(sys, "block")}
	for range 2 { // the second reading reuses the listing
		d, err := p.diskIO(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]disk.IOCountersStat{
			"sda":     {Name: "sda", ReadBytes: 1000 * 512, WriteBytes: 2000 * 512},
			"nvme0n1": {Name: "nvme0n1", ReadBytes: 10 * 512, WriteBytes: 20 * 512},
		}, d)
		for name, st := range d {
			assert.Equal(t, want[name], st, name)
		}
		rd, wr := wholeDisks(d)
		assert.Equal(t, wantRd, rd)
		assert.Equal(t, wantWr, wr)
	}
	var opened []string
	for name := range p.files.fds {
		opened = append(opened, name)
	}
	assert.ElementsMatch(t, []string{filepath.Join(sys, "block"), filepath.Join(sys, "block/sda/stat"), filepath.Join(sys, "block/nvme0n1/stat")}, opened)

	require.NoError(t, os.Mkdir(filepath.Join(sys, "block/sdb"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sys, "block/sdb/stat"), []byte("1 0 7 0 1 0 9 0 0 0 0\n"), 0o644))
	d, err := p.diskIO(ctx)
	require.NoError(t, err)
	assert.Equal(t, disk.IOCountersStat{Name: "sdb", ReadBytes: 7 * 512, WriteBytes: 9 * 512}, d["sdb"], "a new disk")
	assert.Len(t, d, 3)

	require.NoError(t, os.RemoveAll(filepath.Join(sys, "block/nvme0n1")))
	d, err = p.diskIO(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"sda", "sdb"}, slices.Sorted(maps.Keys(d)), "a disk that went away")
	assert.NotContains(t, p.files.fds, filepath.Join(sys, "block/nvme0n1/stat"), "its descriptor closed")

	require.NoError(t, os.WriteFile(filepath.Join(sys, "block/sdb/stat"), []byte("1 0\n"), 0o644))
	d, err = p.diskIO(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, d, "diskstats, when a stat file cannot be parsed")

	p = newProcReader(proc)
	p.block = &blockDisks{dir: filepath.Join(t.TempDir(), "block")}
	d, err = p.diskIO(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, d, "diskstats, without sysfs")
}
