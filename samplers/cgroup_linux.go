package samplers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/snapshot"
)

// cgroupNoLimitV1 is the least cgroup v1 memory.limit_in_bytes taken as "no limit": the kernel writes
// PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages) when none is set.
const cgroupNoLimitV1 = 1 << 62

// cgroupReader reads the memory and CPU figures of the cgroup this process runs in, cgroup v2 or v1, from the
// files under root ("/" on a real host; a fixture tree in tests): <root>/proc/self/cgroup says which cgroup,
// <root>/proc/self/mountinfo where each hierarchy is mounted (so a container's cgroup namespace or bind
// mount is followed as the kernel shows it). Discovery runs once; each reading then reads a few small files
// (usage and CPU time at the leaf, the limits at the leaf and each ancestor up to the mount), each opened
// once and kept open, into one reused buffer. Limits are the least over those levels, since each ancestor's
// limit also bounds the leaf; a hierarchy's top cgroup, whose limits the kernel refuses to set, is left out,
// and under v1 the memory limit is memory.stat's hierarchical_memory_limit, the kernel's own least over the
// cgroup and every ancestor, where memory.stat has it.
type cgroupReader struct {
	root string

	found     bool
	desc      string   // "v2 /path" or "v1 /path", snapshot.System.Cgroup
	cpuDesc   string   // the CPU figures' cgroup in the same form, snapshot.System.CgroupCPU
	cpuHost   bool     // cpuDesc is the host's root cgroup: no CPU use is read (snapshot.System.CgroupCPUIsHost)
	v2        bool     //
	memUsage  string   // the leaf's memory.current (v2) or memory.usage_in_bytes (v1)
	memStat   string   // the leaf's memory.stat, whose inactiveKey line the working set leaves out
	inactive  string   // "inactive_file" (v2) or "total_inactive_file" (v1: the leaf and its descendants)
	statLimit bool     // v1: the memory limit is memory.stat's hierarchical_memory_limit; memLimits is empty
	memLimits []string // memory.max or memory.limit_in_bytes of the leaf and each ancestor up to the mount (settable)
	cpuQuotas []string // cpu.max (v2) or cpu.cfs_quota_us (v1, its cpu.cfs_period_us beside it) of each settable level
	acct      string   // the file with the CPU time used: cpu.stat (v2, usage_usec) or cpuacct.usage (v1, ns)

	buf      []byte
	files    *procFiles // the files read, kept open
	prevCPU  float64    // s of CPU time at the previous reading
	havePrev bool
}

// newCgroupReader returns a reader of the cgroup the process runs in, as the files under root show it.
func newCgroupReader(root string) *cgroupReader {
	c := &cgroupReader{root: root, files: &procFiles{fds: map[string]int{}}}
	runtime.AddCleanup(c, (*procFiles).close, c.files)
	c.discover()
	if len(c.readable([]string{c.memStat})) == 0 {
		c.memStat = ""
	}
	if !c.v2 && c.memStat != "" {
		if b, err := c.readFile(c.memStat); err == nil && hasKey(b, hierLimitKey) {
			c.statLimit, c.memLimits = true, nil
		}
	}
	c.memLimits, c.cpuQuotas = c.readable(c.memLimits), c.readable(c.cpuQuotas)
	if len(c.readable([]string{c.memUsage})) == 0 {
		c.memUsage = ""
	}
	if len(c.readable([]string{c.acct})) == 0 {
		c.acct = ""
	}
	return c
}

// readable returns the files of names that exist and can be read now; the others are left out, so that a
// file the process may not read (a sandbox) is not an error at every reading.
func (c *cgroupReader) readable(names []string) []string {
	var out []string
	for _, name := range names {
		if name == "" {
			continue
		}
		if _, err := c.readFile(name); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// cgroupMount is one cgroup hierarchy from mountinfo: its mount point, the cgroup path its root is, and
// for v1 the controllers it carries.
type cgroupMount struct {
	point, root string
	v2          bool
	controllers []string
}

// discover finds the process's cgroup directories; found stays false when there is none to read (no
// procfs, no cgroup mount, a path not visible here).
func (c *cgroupReader) discover() {
	self, err := os.ReadFile(filepath.Join(c.root, "proc/self/cgroup"))
	if err != nil {
		return
	}
	mi, err := os.ReadFile(filepath.Join(c.root, "proc/self/mountinfo"))
	if err != nil {
		return
	}
	mounts := parseCgroupMounts(mi)
	paths := map[string]string{} // v1 controller (or "" for the v2 line) → cgroup path
	for _, line := range strings.Split(string(self), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			paths[""] = parts[2]
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			paths[ctl] = parts[2]
		}
	}
	if p, ok := paths["memory"]; ok { // v1 (a hybrid host's unified hierarchy carries no memory controller)
		mem, ok := c.dirs(mounts, false, "memory", p)
		if !ok {
			return
		}
		c.found, c.desc = true, "v1 "+p
		c.memUsage, c.memLimits = filepath.Join(mem[0], "memory.usage_in_bytes"), filesIn(settable(mem, false), "memory.limit_in_bytes")
		c.memStat, c.inactive = filepath.Join(mem[0], "memory.stat"), "total_inactive_file"
		if p, ok := paths["cpu"]; ok {
			if cpu, ok := c.dirs(mounts, false, "cpu", p); ok {
				c.cpuQuotas, c.cpuDesc = filesIn(settable(cpu, false), "cpu.cfs_quota_us"), "v1 "+p
				c.cpuHost = isRoot(cpu[0], false)
			}
		}
		if p, ok := paths["cpuacct"]; ok {
			if acct, ok := c.dirs(mounts, false, "cpuacct", p); ok {
				c.acct, c.cpuDesc = filepath.Join(acct[0], "cpuacct.usage"), "v1 "+p
				c.cpuHost = isRoot(acct[0], false)
			}
		}
		c.hostCPU()
		return
	}
	if p, ok := paths[""]; ok {
		if dirs, ok := c.dirs(mounts, true, "", p); ok {
			c.found, c.v2, c.desc = true, true, "v2 "+p
			c.memUsage, c.memLimits = filepath.Join(dirs[0], "memory.current"), filesIn(settable(dirs, true), "memory.max")
			c.memStat, c.inactive = filepath.Join(dirs[0], "memory.stat"), "inactive_file"
			c.cpuQuotas, c.acct = filesIn(settable(dirs, true), "cpu.max"), filepath.Join(dirs[0], "cpu.stat")
			c.cpuDesc, c.cpuHost = c.desc, isRoot(dirs[0], true)
			c.hostCPU()
		}
	}
}

// hostCPU drops the CPU time file when the CPU cgroup is the host's root cgroup (v1: its directory holds
// release_agent, which only a hierarchy's top cgroup has; v2: it lacks cgroup.type, which every other cgroup
// has), whose CPU time is the whole host's, not this process's container's.
func (c *cgroupReader) hostCPU() {
	if c.cpuHost {
		c.acct = ""
	}
}

// settable returns dirs (a leaf and its ancestors, as dirs gives them) without the last when that is the
// hierarchy's top cgroup (isRoot), whose memory and CPU limits the kernel never sets (v1 refuses a write with
// EINVAL; v2 has no memory.max or cpu.max there), so a reading need not read them.
func settable(dirs []string, v2 bool) []string {
	if n := len(dirs); n > 0 && isRoot(dirs[n-1], v2) {
		return dirs[:n-1]
	}
	return dirs
}

// isRoot reports whether the cgroup directory dir is its hierarchy's top cgroup: v1, it holds release_agent,
// which only the top has; v2, it lacks cgroup.type, which every other cgroup has.
func isRoot(dir string, v2 bool) bool {
	if v2 {
		return !exists(filepath.Join(dir, "cgroup.type"))
	}
	return exists(filepath.Join(dir, "release_agent"))
}

// exists reports whether the file name exists.
func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// dirs returns the directory of cgroup path p in the hierarchy mounted for controller (v1) or the unified
// one (v2), then each ancestor up to the mount point, all under c.root; false when no such mount exists or
// the directory is missing. A path outside the mount's root (a cgroup namespace seen from outside) is read
// at the mount point, the cgroup the process sees as its root.
func (c *cgroupReader) dirs(mounts []cgroupMount, v2 bool, controller, p string) ([]string, bool) {
	for _, m := range mounts {
		if m.v2 != v2 || (!v2 && !slices.Contains(m.controllers, controller)) {
			continue
		}
		rel, ok := strings.CutPrefix(path.Clean(p), path.Clean(m.root))
		if !ok || (rel != "" && rel[0] != '/' && m.root != "/") {
			rel = ""
		}
		leaf := filepath.Join(c.root, m.point, rel)
		if st, err := os.Stat(leaf); err != nil || !st.IsDir() {
			continue
		}
		out := []string{leaf}
		top := filepath.Join(c.root, m.point)
		for d := leaf; d != top && strings.HasPrefix(d, top); {
			d = filepath.Dir(d)
			out = append(out, d)
		}
		return out, true
	}
	return nil, false
}

// filesIn returns the file name in each of dirs.
func filesIn(dirs []string, name string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = filepath.Join(d, name)
	}
	return out
}

// parseCgroupMounts returns the cgroup and cgroup2 mounts of a mountinfo file ("36 25 0:31 / /sys/fs/cgroup/memory
// rw,nosuid - cgroup cgroup rw,memory": root is field 4, mount point field 5, the file system type and super
// options follow " - ").
func parseCgroupMounts(b []byte) []cgroupMount {
	var out []cgroupMount
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, p := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(p) < 3 || (p[0] != "cgroup" && p[0] != "cgroup2") {
			continue
		}
		m := cgroupMount{root: unescapeMount(f[3]), point: unescapeMount(f[4]), v2: p[0] == "cgroup2"}
		if !m.v2 {
			m.controllers = strings.Split(p[2], ",")
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline and backslash ("\040").
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// readFile fills c.buf with the file's first 4 KiB (every cgroup file read here is a line or a few; only
// cpu.stat's first line is used), the file kept open and read again with pread (procFiles.read), and returns
// it trimmed; an error matching os.ErrNotExist when the file is missing.
func (c *cgroupReader) readFile(name string) ([]byte, error) {
	if cap(c.buf) < 4096 {
		c.buf = make([]byte, 0, 4096)
	}
	b, err := c.files.read(name, c.buf[:0:4096], 4096)
	if err != nil {
		return nil, err
	}
	c.buf = b
	return bytes.TrimSpace(b), nil
}

// readUint reads a file holding one unsigned number; ok is false when the file is missing or holds "max" (no limit).
func (c *cgroupReader) readUint(name string) (v uint64, ok bool, err error) {
	b, err := c.readFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if string(b) == "max" {
		return 0, false, nil
	}
	v, err = parseUint(b)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", name, err)
	}
	return v, true, nil
}

// sample fills out's cgroup fields; dt is the length, s, of the interval since the previous reading (0 on the
// first). A file that cannot be read or parsed leaves its figures nil and is the error.
func (c *cgroupReader) sample(out *snapshot.System, dt float64) error {
	if !c.found {
		return nil
	}
	out.Cgroup, out.CgroupCPU, out.CgroupCPUIsHost = c.desc, c.cpuDesc, c.cpuHost
	var errs []error
	if err := c.memory(out); err != nil {
		errs = append(errs, err)
	}
	if err := c.cpu(out, dt); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// memory reads usage at the leaf (v2 memory.current, v1 memory.usage_in_bytes), the working set beside it
// and the least limit up the tree.
func (c *cgroupReader) memory(out *snapshot.System) error {
	used, ok, err := c.readUint(c.memUsage) // "" (unreadable at start): missing, so unknown
	if err != nil {
		return err
	}
	if ok {
		out.CgroupMemoryGB = snapshot.F(float64(used) / gib)
	}
	var st memStatFields
	var statErr error
	if ok || c.statLimit {
		st, statErr = c.readMemStat()
	}
	switch {
	case statErr != nil:
	case ok && st.haveInactive:
		out.CgroupMemoryWorkingSetGB = snapshot.F(float64(used-min(st.inactive, used)) / gib)
	case ok && c.memStat != "":
		statErr = fmt.Errorf("%s: no %s", c.memStat, c.inactive)
	}
	limit, err := c.leastLimit(st, statErr == nil)
	if err != nil {
		return errors.Join(statErr, err)
	}
	if limit > 0 {
		out.CgroupMemoryLimitGB = snapshot.F(float64(limit) / gib)
		if out.CgroupMemoryGB != nil {
			out.CgroupMemoryPercent = snapshot.F(float64(used) / float64(limit) * 100)
		}
	}
	return statErr // the limit is read all the same
}

// hierLimitKey is v1 memory.stat's line with the least memory limit of the cgroup and its ancestors, bytes
// (the kernel's PAGE_COUNTER_MAX pages when none sets one).
const hierLimitKey = "hierarchical_memory_limit"

// memStatFields is what a reading takes from memory.stat: the inactive file pages (c.inactive) and, with
// c.statLimit, hierarchical_memory_limit, bytes; have* is false where the line is missing.
type memStatFields struct {
	inactive, limit         uint64
	haveInactive, haveLimit bool
}

// readMemStat reads the lines of memory.stat a reading needs, up to the last of them; all missing when
// memory.stat is not read (unreadable at start).
func (c *cgroupReader) readMemStat() (memStatFields, error) {
	var f memStatFields
	if c.memStat == "" {
		return f, nil
	}
	b, err := c.readFile(c.memStat)
	if err != nil {
		return f, err
	}
	for len(b) > 0 && !(f.haveInactive && (f.haveLimit || !c.statLimit)) {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		key, rest := nextField(line)
		dst, have := &f.inactive, &f.haveInactive
		switch {
		case string(key) == c.inactive:
		case c.statLimit && string(key) == hierLimitKey:
			dst, have = &f.limit, &f.haveLimit
		default:
			continue
		}
		val, _ := nextField(rest)
		if *dst, err = parseUint(val); err != nil {
			return memStatFields{}, fmt.Errorf("%s: %s: %w", c.memStat, key, err)
		}
		*have = true
	}
	return f, nil
}

// hasKey reports whether the lines of b (a memory.stat) include one that starts with key and a space.
func hasKey(b []byte, key string) bool {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		if k, _ := nextField(line); string(k) == key {
			return true
		}
	}
	return false
}

// leastLimit returns the least memory limit of the cgroup and its ancestors, bytes; 0 when none sets one
// (v2 "max", v1's no-limit value) or, with c.statLimit, when memory.stat could not be read (statOK false).
func (c *cgroupReader) leastLimit(st memStatFields, statOK bool) (uint64, error) {
	if c.statLimit {
		if statOK && !st.haveLimit {
			return 0, fmt.Errorf("%s: no %s", c.memStat, hierLimitKey)
		}
		if !st.haveLimit || st.limit >= cgroupNoLimitV1 {
			return 0, nil
		}
		return st.limit, nil
	}
	limit := uint64(0)
	for _, name := range c.memLimits {
		l, ok, err := c.readUint(name)
		if err != nil {
			return 0, err
		}
		if ok && (!c.v2 && l >= cgroupNoLimitV1) {
			ok = false
		}
		if ok && (limit == 0 || l < limit) {
			limit = l
		}
	}
	return limit, nil
}

// cpu reads the least CPU quota up the tree, in cores (v2 cpu.max "quota period", v1 cpu.cfs_quota_us /
// cpu.cfs_period_us, "max" or -1 for none), and the CPU time used (v2 cpu.stat usage_usec, v1
// cpuacct.usage ns), whose change over dt gives the cores in use and their percent of the quota.
func (c *cgroupReader) cpu(out *snapshot.System, dt float64) error {
	quota := 0.0
	for _, name := range c.cpuQuotas {
		q, err := c.quota(name)
		if err != nil {
			return err
		}
		if q > 0 && (quota == 0 || q < quota) {
			quota = q
		}
	}
	if quota > 0 {
		out.CgroupCPUQuotaCores = snapshot.F(quota)
	}
	if c.acct == "" {
		return nil
	}
	used, err := c.cpuSeconds()
	if err != nil {
		c.havePrev = false
		return err
	}
	if c.havePrev && dt > 0 && used >= c.prevCPU {
		cores := (used - c.prevCPU) / dt
		out.CgroupCPUCores = snapshot.F(cores)
		if quota > 0 {
			out.CgroupCPUPercent = snapshot.F(cores / quota * 100)
		}
	}
	c.prevCPU, c.havePrev = used, true
	return nil
}

// quota returns the CPU quota that the file name (cpu.max, or cpu.cfs_quota_us with cpu.cfs_period_us
// beside it) sets, cores; 0 when it sets none.
func (c *cgroupReader) quota(name string) (float64, error) {
	if c.v2 {
		b, err := c.readFile(name)
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		q, rest := nextField(b)
		per, _ := nextField(rest)
		if string(q) == "max" {
			return 0, nil
		}
		qv, err1 := parseUint(q)
		pv, err2 := parseUint(per)
		if err := errors.Join(err1, err2); err != nil || pv == 0 {
			return 0, fmt.Errorf("%s: %q is not \"quota period\"", name, clip(b))
		}
		return float64(qv) / float64(pv), nil
	}
	b, err := c.readFile(name)
	if errors.Is(err, os.ErrNotExist) || string(b) == "-1" {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	qv, err := parseUint(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	per, ok, err := c.readUint(filepath.Join(filepath.Dir(name), "cpu.cfs_period_us"))
	if err != nil || !ok || per == 0 {
		return 0, errors.Join(err, fmt.Errorf("%s: no cpu.cfs_period_us beside the quota", filepath.Dir(name)))
	}
	return float64(qv) / float64(per), nil
}

// cpuSeconds returns the CPU time the cgroup used, s.
func (c *cgroupReader) cpuSeconds() (float64, error) {
	if !c.v2 {
		ns, ok, err := c.readUint(c.acct)
		if err == nil && !ok {
			err = fmt.Errorf("%s: missing", c.acct)
		}
		return float64(ns) / 1e9, err
	}
	b, err := c.readFile(c.acct)
	if err != nil {
		return 0, err
	}
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		key, rest := nextField(line)
		if string(key) == "usage_usec" {
			val, _ := nextField(rest)
			us, err := parseUint(val)
			if err != nil {
				return 0, fmt.Errorf("%s: usage_usec: %w", c.acct, err)
			}
			return float64(us) / 1e6, nil
		}
	}
	return 0, fmt.Errorf("%s: no usage_usec", c.acct)
}
