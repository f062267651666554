package summary

import (
	"fmt"
	"strings"
)

// serverReason returns why a server figure read from field (a serverstats Field* name) is unknown; rate says
// whether it is a per-interval rate, which needs two successive scrapes far enough apart.
func serverReason(field string, rate bool) func(*Summary) string {
	return func(s *Summary) string {
		n := s.VLLM.Scrapes
		switch {
		case n == 0:
			return "no server reading" + s.sourceNote("vllm")
		case s.Server != nil && s.Server.NotExposed[field] != "" && !rate:
			return field + " " + s.Server.NotExposed[field]
		case !rate:
			return fmt.Sprintf("no reading of %s in the %d successful scrapes", field, n)
		case n == 1:
			return "one successful scrape: a rate needs two"
		}
		minS := s.IntervalS / 2
		if s.Server != nil && s.Server.DurationS != nil && *s.Server.DurationS < minS {
			return fmt.Sprintf("no interval long enough for a rate: the %d scrapes span %.3g s, under the %.3g s (half the sampling interval) a rate needs", n, *s.Server.DurationS, minS)
		}
		why := fmt.Sprintf("no interval with a rate of %s in the %d scrapes (an interval shorter than half the sampling interval, with a restart or reset, or without the counter gives none)", field, n)
		if s.Server != nil && s.Server.NotExposed[field] != "" {
			why = field + " " + s.Server.NotExposed[field]
		}
		return why
	}
}

// hostReason returns why a host figure is unknown; what is "rate" (CPU use over an interval), "memory",
// "cgroup_memory" (needs a memory limit) or "cgroup_cpu" (needs a CPU quota).
func hostReason(what string) func(*Summary) string {
	return func(s *Summary) string {
		src, ok := s.Sources["system"]
		if !ok || src.Readings-src.Failed <= 0 {
			return "no host reading" + s.sourceNote("system")
		}
		n := src.Readings - src.Failed
		y := &s.System
		switch {
		case what == "cgroup_memory" && y.Cgroup == "", what == "cgroup_cpu" && y.CgroupCPU == "":
			return fmt.Sprintf("no cgroup read in the %d host readings", n)
		case what == "cgroup_memory" && y.CgroupMemoryLimitGB == nil:
			return "no memory limit set on cgroup " + y.Cgroup + cgroupFile(y.Cgroup, " (memory.limit_in_bytes is unlimited)", " (memory.max is max)") + ": see memory_gb"
		case what == "cgroup_cpu" && y.CgroupCPUIsHost:
			return "the CPU cgroup " + y.CgroupCPU + " is the host's root cgroup: see cpu"
		case what == "cgroup_cpu" && y.CgroupCPUQuotaCores == nil:
			return "no CPU quota set on cgroup " + y.CgroupCPU + cgroupFile(y.CgroupCPU, " (cpu.cfs_quota_us is -1)", " (cpu.max is max)") + ": see cpu"
		case what == "rate" || what == "cgroup_cpu":
			if n == 1 {
				return "one host reading: a rate needs two"
			}
			return fmt.Sprintf("no interval with a rate in the %d host readings", n)
		}
		return fmt.Sprintf("no reading of it in the %d host readings", n)
	}
}

// cgroupFile returns v1 or v2 by the version that cgroup (snapshot.System.Cgroup's form, "v1 <path>" or
// "v2 <path>") names, "" when it names none.
func cgroupFile(cgroup, v1, v2 string) string {
	switch {
	case strings.HasPrefix(cgroup, "v1 "):
		return v1
	case strings.HasPrefix(cgroup, "v2 "):
		return v2
	}
	return ""
}
