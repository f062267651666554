package recorder

// ClientCost is what a load generator measured of its own process while it sent measured requests: how
// much CPU it used and how long its goroutines waited to run. Large values mean the client, not the server,
// may have set the pace, or taken event times late. loadgen.Run reports it through ClientCostSink.
type ClientCost struct {
	// Runs is the number of load runs these figures cover (a test may call loadgen.Run more than once).
	Runs int `json:"runs"`
	// WallS is the measured phases' total length, s.
	WallS float64 `json:"wall_s"`
	// CPUS is the process's CPU time (user + system, getrusage; the Go runtime's estimate where getrusage is
	// missing) over them, s. It includes everything else in the process, such as an in-process simulator.
	CPUS float64 `json:"cpu_s"`
	// GOMAXPROCS is the largest runtime.GOMAXPROCS of the runs: the cores the Go scheduler could use.
	GOMAXPROCS int `json:"gomaxprocs"`
	// CPUUtilization is CPUS / (WallS × GOMAXPROCS), 0–1: near 1 the process was CPU-bound. Nil when WallS
	// or GOMAXPROCS is 0.
	CPUUtilization *float64 `json:"cpu_utilization"`
	// SchedLatencyP50MS, SchedLatencyP99MS and SchedLatencyMaxMS are the Go scheduler latency (how long a
	// runnable goroutine waited to run; runtime/metrics /sched/latencies:seconds) over the measured phase,
	// ms, each the upper bound of its histogram bucket; over several runs, the largest run's. Nil when none
	// was observed.
	SchedLatencyP50MS *float64 `json:"sched_latency_p50_ms"`
	SchedLatencyP99MS *float64 `json:"sched_latency_p99_ms"`
	SchedLatencyMaxMS *float64 `json:"sched_latency_max_ms"`
}

// Add merges o, another run's figures, into c: times summed, CPUUtilization recomputed over the sums,
// the scheduler latencies the larger of the two.
func (c *ClientCost) Add(o ClientCost) {
	c.Runs += o.Runs
	c.WallS += o.WallS
	c.CPUS += o.CPUS
	c.GOMAXPROCS = max(c.GOMAXPROCS, o.GOMAXPROCS)
	c.CPUUtilization = nil
	if c.WallS > 0 && c.GOMAXPROCS > 0 {
		u := c.CPUS / (c.WallS * float64(c.GOMAXPROCS))
		c.CPUUtilization = &u
	}
	c.SchedLatencyP50MS = larger(c.SchedLatencyP50MS, o.SchedLatencyP50MS)
	c.SchedLatencyP99MS = larger(c.SchedLatencyP99MS, o.SchedLatencyP99MS)
	c.SchedLatencyMaxMS = larger(c.SchedLatencyMaxMS, o.SchedLatencyMaxMS)
}

// larger is the larger of two known values, the known one of them, or nil.
func larger(a, b *float64) *float64 {
	switch {
	case a == nil:
		return b
	case b == nil || *a >= *b:
		return a
	}
	return b
}

// ClientCostSink is a Sink that is also told what the load generator's measured phase cost its process.
// *vmtest.Collector implements it; loadgen.Run calls RecordClientCost once at its end. It must be safe for
// concurrent use.
type ClientCostSink interface {
	Sink
	RecordClientCost(ClientCost)
}
