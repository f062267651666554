package samplers

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/snapshot"
)

// cgroupTree copies testdata/cgroup/<name> into a temporary directory, so a test can change its counters.
func cgroupTree(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "cgroup", name))))
	return dst
}

func cgroupSample(t *testing.T, c *cgroupReader, dt float64) snapshot.System {
	t.Helper()
	var out snapshot.System
	require.NoError(t, c.sample(&out, dt))
	return out
}

// Expected values are worked out by hand from the files (testdata/cgroup/README.md).
func TestCgroupTrees(t *testing.T) {
	for _, tc := range []struct {
		tree, desc           string
		usedGB, limitGB, pct *float64
		workingSetGB         *float64 // usage less memory.stat's inactive file pages (nil: no memory.stat)
		quota                *float64
		acct, before, after  string // the CPU time file, relative to the tree, and its content 2 s later
		cores                float64
	}{
		{tree: "v2-container", desc: "v2 /", usedGB: snapshot.F(0.5), limitGB: snapshot.F(2), pct: snapshot.F(25), quota: snapshot.F(1.5),
			workingSetGB: snapshot.F((512.0 - 128) / 1024),
			acct:         "sys/fs/cgroup/cpu.stat", after: "usage_usec 42400000\nuser_usec 1\n", cores: 1.2},
		{tree: "v2-host-session", desc: "v2 /user.slice/user-1000.slice/session-3.scope", usedGB: snapshot.F(1), limitGB: snapshot.F(8), workingSetGB: snapshot.F((1024.0 - 256) / 1024),
			pct: snapshot.F(12.5), quota: snapshot.F(4),
			acct: "sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/cpu.stat", after: "usage_usec 6000000\n", cores: 0.5},
		{tree: "v2-nolimit", desc: "v2 /", usedGB: snapshot.F(100.0 / 1024),
			acct: "sys/fs/cgroup/cpu.stat", after: "usage_usec 3001000\n", cores: 1.5},
		{tree: "v1-docker", desc: "v1 /docker/3f2a9c", usedGB: snapshot.F(0.25), workingSetGB: snapshot.F((256.0 - 64) / 1024), limitGB: snapshot.F(1), pct: snapshot.F(25), quota: snapshot.F(0.5),
			acct: "sys/fs/cgroup/cpu,cpuacct/docker/3f2a9c/cpuacct.usage", after: "12900000000\n", cores: 0.45},
		{tree: "v1-namespaced", desc: "v1 /docker/3f2a9c", usedGB: snapshot.F(0.25), workingSetGB: snapshot.F((256.0 - 64) / 1024), limitGB: snapshot.F(1), pct: snapshot.F(25), quota: snapshot.F(0.5),
			acct: "sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", after: "12900000000\n", cores: 0.45},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			root := cgroupTree(t, tc.tree)
			c := newCgroupReader(root)
			first := cgroupSample(t, c, 0)
			assert.Equal(t, tc.desc, first.Cgroup)
			assert.Equal(t, tc.desc, first.CgroupCPU, "CPU from the same cgroup as memory")
			assert.False(t, first.CgroupCPUIsHost, "not the host's root cgroup")
			assertPtr(t, tc.usedGB, first.CgroupMemoryGB, "memory used, GiB")
			assertPtr(t, tc.workingSetGB, first.CgroupMemoryWorkingSetGB, "working set, GiB")
			assertPtr(t, tc.limitGB, first.CgroupMemoryLimitGB, "memory limit, GiB (nil: no limit)")
			assertPtr(t, tc.pct, first.CgroupMemoryPercent, "percent of the limit")
			assertPtr(t, tc.quota, first.CgroupCPUQuotaCores, "CPU quota, cores (nil: no quota)")
			assert.Nil(t, first.CgroupCPUCores, "no CPU use before a second reading")

			require.NoError(t, os.WriteFile(filepath.Join(root, tc.acct), []byte(tc.after), 0o644))
			second := cgroupSample(t, c, 2)
			assertPtr(t, snapshot.F(tc.cores), second.CgroupCPUCores, "cores used over 2 s")
			if tc.quota != nil {
				assertPtr(t, snapshot.F(tc.cores / *tc.quota * 100), second.CgroupCPUPercent, "percent of the quota")
			} else {
				assert.Nil(t, second.CgroupCPUPercent, "no quota, no percent of it")
			}
		})
	}
}

// On a hybrid v1 host the cpu and cpuacct cgroups can be the host's root while memory is in a cgroup of its
// own (v1-hybrid-root, this test machine's layout), and a v2 process can run in the root cgroup itself
// (v2-host-root): the root's CPU time is the whole host's, so the CPU use stays nil, and the snapshot says
// which cgroup the CPU figures are from and that it is the host's. Memory is read as before.
func TestCgroupCPUAtTheHostRoot(t *testing.T) {
	for _, tc := range []struct {
		tree, desc, cpuDesc, acct, after string // after: the CPU time file 2 s later, 1.5 cores busy
		usedGB, workingSetGB, pct        *float64
	}{
		{tree: "v1-hybrid-root", desc: "v1 /process_api/64c0", cpuDesc: "v1 /", acct: "sys/fs/cgroup/cpuacct/cpuacct.usage", after: "8000000000\n",
			usedGB: snapshot.F(0.5), workingSetGB: snapshot.F((512.0 - 128) / 1024), pct: snapshot.F(25)},
		{tree: "v2-host-root", desc: "v2 /", cpuDesc: "v2 /", acct: "sys/fs/cgroup/cpu.stat", after: "usage_usec 93000000\n"},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			root := cgroupTree(t, tc.tree)
			c := newCgroupReader(root)
			first := cgroupSample(t, c, 0)
			require.NoError(t, os.WriteFile(filepath.Join(root, tc.acct), []byte(tc.after), 0o644))
			second := cgroupSample(t, c, 2)
			for _, y := range []snapshot.System{first, second} {
				assert.Equal(t, tc.desc, y.Cgroup)
				assert.Equal(t, tc.cpuDesc, y.CgroupCPU)
				assert.True(t, y.CgroupCPUIsHost)
				assert.Nil(t, y.CgroupCPUCores, "the root cgroup's CPU time is the host's")
				assert.Nil(t, y.CgroupCPUPercent)
				assert.Nil(t, y.CgroupCPUQuotaCores, "the root sets no quota (-1)")
				assertPtr(t, tc.usedGB, y.CgroupMemoryGB, "memory used, GiB")
				assertPtr(t, tc.workingSetGB, y.CgroupMemoryWorkingSetGB, "working set, GiB")
			}
			assertPtr(t, tc.pct, second.CgroupMemoryPercent, "percent of the limit")
		})
	}
}

func assertPtr(t *testing.T, want, got *float64, what string) {
	t.Helper()
	if want == nil {
		assert.Nil(t, got, what)
		return
	}
	if assert.NotNil(t, got, what) {
		assert.InDelta(t, *want, *got, 1e-9, what)
	}
}

// Outside any cgroup tree (no /proc here, or no cgroup mount) nothing is reported and nothing fails; a
// cgroup file that turns bad is an error naming it, and its figures are nil.
func TestCgroupMissingAndBad(t *testing.T) {
	var out snapshot.System
	require.NoError(t, newCgroupReader(t.TempDir()).sample(&out, 1))
	assert.Empty(t, out.Cgroup)
	assert.Nil(t, out.CgroupMemoryGB)

	root := cgroupTree(t, "v2-container")
	require.NoError(t, os.WriteFile(filepath.Join(root, "proc/self/mountinfo"), []byte("24 30 0:22 / /sys rw - sysfs sysfs rw\n"), 0o644))
	require.NoError(t, newCgroupReader(root).sample(&out, 1))
	assert.Empty(t, out.Cgroup, "no cgroup mount")

	root = cgroupTree(t, "v2-container")
	c := newCgroupReader(root)
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/memory.current"), []byte("lots\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/cpu.max"), []byte("150000\n"), 0o644))
	out = snapshot.System{}
	err := c.sample(&out, 1)
	assert.ErrorContains(t, err, "memory.current")
	assert.ErrorContains(t, err, `cpu.max: "150000" is not "quota period"`)
	assert.Nil(t, out.CgroupMemoryGB)
	assert.Nil(t, out.CgroupCPUQuotaCores)
	assert.Equal(t, "v2 /", out.Cgroup)
}

// The machine the tests run on: whatever its cgroup, a reading either has none or a consistent one. The
// second reading has the CPU use of a cgroup with a CPU time file that is not the host's root, and none
// for the host's root (the first reading never has one).
func TestCgroupThisHost(t *testing.T) {
	c := newCgroupReader("/")
	var first, out snapshot.System
	require.NoError(t, c.sample(&first, 0))
	require.NoError(t, c.sample(&out, 1))
	t.Logf("cgroup %q: memory %v GiB of %v, quota %v cores; CPU cgroup %q (host's root: %v), %v cores", out.Cgroup, deref(out.CgroupMemoryGB),
		deref(out.CgroupMemoryLimitGB), deref(out.CgroupCPUQuotaCores), out.CgroupCPU, out.CgroupCPUIsHost, deref(out.CgroupCPUCores))
	switch {
	case out.CgroupCPUIsHost:
		assert.Nil(t, out.CgroupCPUCores, "the host's root cgroup's CPU use is not a cgroup figure")
	case c.acct != "":
		if assert.NotNil(t, out.CgroupCPUCores, "a second reading of a cgroup's CPU time has its use") {
			assert.GreaterOrEqual(t, *out.CgroupCPUCores, 0.0)
		}
	}
	if out.Cgroup != "" && out.CgroupMemoryLimitGB != nil && out.CgroupMemoryGB != nil {
		assert.InDelta(t, *out.CgroupMemoryGB / *out.CgroupMemoryLimitGB * 100, *out.CgroupMemoryPercent, 1e-9)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The host sampler reports the cgroup beside the host's figures, over the same RateIntervalS; a bad cgroup
// file is one part of Reading.Err, the host's figures are kept.
func TestSystemSamplerReportsTheCgroup(t *testing.T) {
	root := cgroupTree(t, "v2-container")
	f := &fakeHost{cpu: []cpu.TimesStat{{User: 10, Idle: 100}, {User: 30, Idle: 180}},
		mem: mem.VirtualMemoryStat{Total: 64 << 30, Available: 48 << 30},
		net: []psnet.IOCountersStat{{}, {}}, disk: []map[string]disk.IOCountersStat{{}, {}}}
	clock := time.Unix(1000, 0)
	s := &System{host: f, cg: newCgroupReader(root), now: func() time.Time { return clock }}
	r := s.Sample(context.Background())
	require.NoError(t, r.Err)
	assert.Equal(t, "v2 /", r.System.Cgroup)
	assertPtr(t, snapshot.F(25), r.System.CgroupMemoryPercent, "0.5 of 2 GiB")
	assertPtr(t, snapshot.F(16), r.System.MemoryGB, "the host's figure beside it")

	// 40 s → 44 s of CPU time over 4 s: 1 core, 1/1.5 of the quota.
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/cpu.stat"), []byte("usage_usec 44000000\n"), 0o644))
	f.i, clock = 1, clock.Add(4*time.Second)
	r = s.Sample(context.Background())
	require.NoError(t, r.Err)
	assertPtr(t, snapshot.F(1), r.System.CgroupCPUCores, "cores")
	assertPtr(t, snapshot.F(100/1.5), r.System.CgroupCPUPercent, "percent of the 1.5-core quota")
	assertPtr(t, snapshot.F(20), r.System.CPUPercent, "host: 20 busy of 100")

	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/memory.max"), []byte("-5\n"), 0o644))
	clock = clock.Add(time.Second)
	r = s.Sample(context.Background())
	require.ErrorContains(t, r.Err, "cgroup: ")
	assert.ErrorContains(t, r.Err, "memory.max")
	assert.Nil(t, r.System.CgroupMemoryLimitGB)
	assert.NotNil(t, r.System.MemoryGB, "the host's figures are kept")
	files := append(append([]string{s.cg.memUsage, s.cg.memStat, s.cg.acct}, s.cg.memLimits...), s.cg.cpuQuotas...)
	assert.Len(t, s.cg.files.fds, len(files), "each file opened once over three readings, kept open: %v", files)
}

// BenchmarkCgroupSample is one cgroup reading of a session on a systemd host (testdata/cgroup/v2-host-session:
// the leaf and three levels of limits, 8 small files).
func BenchmarkCgroupSample(b *testing.B) {
	root, err := filepath.Abs("testdata/cgroup/v2-host-session")
	if err != nil {
		b.Fatal(err)
	}
	c := newCgroupReader(root)
	var out snapshot.System
	for b.Loop() {
		out = snapshot.System{}
		if err := c.sample(&out, 2); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSystemCPUPerTickNoCgroup is BenchmarkSystemCPUPerTick without the cgroup reading: the reference
// for what the cgroup costs a tick on this host.
func BenchmarkSystemCPUPerTickNoCgroup(b *testing.B) {
	hostCPUPerTick(b, &System{host: newHostReader(), now: time.Now}, 0)
}

// mountinfo lines (proc(5)): optional fields before " - ", octal escapes in paths, non-cgroup mounts skipped.
func TestParseCgroupMounts(t *testing.T) {
	mi := "24 30 0:22 / /sys rw - sysfs sysfs rw\n" +
		"35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 master:2 - cgroup2 cgroup2 rw,nsdelegate\n" +
		"36 24 0:31 /docker/a\\040b /mnt/my\\040cgroups/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
	assert.Equal(t, []cgroupMount{
		{point: "/sys/fs/cgroup", root: "/", v2: true},
		{point: "/mnt/my cgroups/cpu,cpuacct", root: "/docker/a b", controllers: []string{"rw", "cpu", "cpuacct"}},
	}, parseCgroupMounts([]byte(mi)))
}

// A cgroup file the process cannot read when the reader starts (a sandbox) is left out, not an error at
// every reading; the others are read.
func TestCgroupUnreadableAtStart(t *testing.T) {
	root := cgroupTree(t, "v2-container")
	limit := filepath.Join(root, "sys/fs/cgroup/memory.max") // a directory: read fails with EISDIR, even for root
	require.NoError(t, os.Remove(limit))
	require.NoError(t, os.Mkdir(limit, 0o755))
	var out snapshot.System
	require.NoError(t, newCgroupReader(root).sample(&out, 0))
	assert.Nil(t, out.CgroupMemoryLimitGB)
	assertPtr(t, snapshot.F(0.5), out.CgroupMemoryGB, "usage is still read")
	assertPtr(t, snapshot.F(1.5), out.CgroupCPUQuotaCores, "the quota too")
}

// The working set is 0, not negative, when the inactive file pages exceed the usage (the two files are read
// at different instants); a memory.stat without the line is an error naming the file and the line.
func TestCgroupWorkingSetEdges(t *testing.T) {
	root := cgroupTree(t, "v2-container")
	stat := filepath.Join(root, "sys/fs/cgroup/memory.stat")
	require.NoError(t, os.WriteFile(stat, []byte("anon 1\ninactive_file 600000000\nactive_file 0\n"), 0o644))
	c := newCgroupReader(root)
	got := cgroupSample(t, c, 0)
	assertPtr(t, snapshot.F(0), got.CgroupMemoryWorkingSetGB, "inactive file pages over the usage")

	require.NoError(t, os.WriteFile(stat, []byte("anon 1\nactive_file 0\n"), 0o644))
	var out snapshot.System
	err := c.sample(&out, 0)
	require.EqualError(t, err, stat+": no inactive_file")
	assert.Nil(t, out.CgroupMemoryWorkingSetGB)
	assertPtr(t, snapshot.F(0.5), out.CgroupMemoryGB, "the usage is still read")
	assertPtr(t, snapshot.F(2), out.CgroupMemoryLimitGB, "and the limit")
}

// openedFiles returns the files c has open, relative to root, sorted.
func openedFiles(t *testing.T, c *cgroupReader, root string) []string {
	t.Helper()
	var out []string
	for name := range c.files.fds {
		rel, err := filepath.Rel(root, name)
		require.NoError(t, err)
		out = append(out, rel)
	}
	slices.Sort(out)
	return out
}

// A hierarchy's top cgroup sets no limit (the kernel refuses to: v1 memory.limit_in_bytes and
// cpu.cfs_quota_us there fail with EINVAL), so its files are not read: values no real root could hold, put
// in v1-hybrid-root's top memory and cpu directories (those with release_agent), change nothing. A top that
// is not the hierarchy's root (a namespaced mount, v1-namespaced) is read as before.
func TestCgroupTopLimitsNotRead(t *testing.T) {
	root := cgroupTree(t, "v1-hybrid-root")
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes"), []byte("1073741824\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/cpu/cpu.cfs_quota_us"), []byte("50000\n"), 0o644))
	c := newCgroupReader(root)
	got := cgroupSample(t, c, 0)
	assertPtr(t, snapshot.F(2), got.CgroupMemoryLimitGB, "the leaf's 2 GiB, not the root's")
	assert.Nil(t, got.CgroupCPUQuotaCores, "the root's quota is not read")
	leaf := "sys/fs/cgroup/memory/process_api/64c0/"
	assert.Equal(t, []string{leaf + "memory.limit_in_bytes", leaf + "memory.stat", leaf + "memory.usage_in_bytes"}, openedFiles(t, c, root))

	root = cgroupTree(t, "v1-namespaced")
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"), []byte("25000\n"), 0o644))
	got = cgroupSample(t, newCgroupReader(root), 0)
	assertPtr(t, snapshot.F(0.25), got.CgroupCPUQuotaCores, "the namespace's top is the container's cgroup: its quota is read")
}

// Under v1 the memory limit is memory.stat's hierarchical_memory_limit, which the kernel takes over the cgroup
// and every ancestor, those above a namespaced mount too, so no memory.limit_in_bytes is read; the kernel's
// no-limit value there is no limit, and a memory.stat that loses the line is an error naming it, the usage
// and working set still read.
func TestCgroupV1LimitFromMemoryStat(t *testing.T) {
	root := cgroupTree(t, "v1-namespaced")
	stat := filepath.Join(root, "sys/fs/cgroup/memory/memory.stat")
	b, err := os.ReadFile(stat)
	require.NoError(t, err)
	// An ancestor outside the namespace limits it to 512 MiB; the visible memory.limit_in_bytes says 1 GiB.
	require.NoError(t, os.WriteFile(stat, bytes.Replace(b, []byte("hierarchical_memory_limit 1073741824"), []byte("hierarchical_memory_limit 536870912"), 1), 0o644))
	c := newCgroupReader(root)
	got := cgroupSample(t, c, 0)
	assertPtr(t, snapshot.F(0.5), got.CgroupMemoryLimitGB, "512 MiB")
	assertPtr(t, snapshot.F(50), got.CgroupMemoryPercent, "256 MiB of 512 MiB")
	assertPtr(t, snapshot.F((256.0-64)/1024), got.CgroupMemoryWorkingSetGB, "working set")
	for _, f := range openedFiles(t, c, root) {
		assert.NotContains(t, f, "memory.limit_in_bytes")
	}

	require.NoError(t, os.WriteFile(stat, bytes.Replace(b, []byte("hierarchical_memory_limit 1073741824"), []byte("hierarchical_memory_limit 9223372036854771712"), 1), 0o644))
	got = cgroupSample(t, c, 0)
	assert.Nil(t, got.CgroupMemoryLimitGB, "the kernel's no-limit value")
	assert.Nil(t, got.CgroupMemoryPercent)

	require.NoError(t, os.WriteFile(stat, bytes.Replace(b, []byte("hierarchical_memory_limit 1073741824\n"), nil, 1), 0o644))
	var out snapshot.System
	require.EqualError(t, c.sample(&out, 0), stat+": no hierarchical_memory_limit")
	assert.Nil(t, out.CgroupMemoryLimitGB)
	assertPtr(t, snapshot.F(0.25), out.CgroupMemoryGB, "usage")
	assertPtr(t, snapshot.F((256.0-64)/1024), out.CgroupMemoryWorkingSetGB, "working set")
}
