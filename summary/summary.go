// Package summary computes a test's summary statistics from its snapshots and request records: the original
// Python collector's per-GPU, vLLM and system averages and maxima, plus request-level latency distributions, outcomes,
// throughput, the state of each metric source and the events met on the way. It is what
// summary_statistics.json holds and what the assert package checks.
package summary

import (
	"fmt"
	"sort"
	"time"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// Summary is a test's summary statistics. Unknown values are nil (JSON null), never 0.
type Summary struct {
	// RunID identifies the run; ConfigID the configuration.
	RunID    string `json:"run_id"`
	ConfigID string `json:"config_id"`
	// TestName is the Go test's name (t.Name()), or, for a collector started outside a test (vmtest.Start, the
	// vmtest command's -config), the configuration name as given, before ConfigID sanitized and cut it.
	TestName string `json:"test_name,omitempty"`
	// Start and End are the collection's wall-clock bounds; DurationS its monotonic length in seconds.
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	DurationS float64   `json:"duration_s"`
	// IntervalS is the sampling interval, s.
	IntervalS float64 `json:"interval_s"`
	// Finished is true for the summary of a run that stopped and wrote its files; false for one taken while
	// the run goes and for one rebuilt from the journal of a run that did not finish (journal.Rebuild).
	Finished bool `json:"finished"`
	// Snapshots is the number of snapshots taken; SnapshotsDropped those evicted by the bound on kept snapshots.
	Snapshots        int `json:"snapshots"`
	SnapshotsDropped int `json:"snapshots_dropped"`
	// GPU maps each GPU key ("gpu_0") to its statistics; empty when no GPU source was available (see Sources).
	GPU map[string]GPUStats `json:"gpu_statistics"`
	// VLLM holds the server-side statistics over the snapshots.
	VLLM VLLMStats `json:"vllm_statistics"`
	// System holds the host statistics over the snapshots.
	System SystemStats `json:"system_statistics"`
	// Nodes maps each server node's name (snapshot.Snapshot.NodeMetrics) to its host statistics; absent when
	// no node was sampled.
	Nodes map[string]NodeStats `json:"node_statistics,omitempty"`
	// Requests holds the client-side request statistics (all requests recorded).
	Requests recorder.Summary `json:"request_statistics"`
	// Server holds the server-side statistics over the test window, from the deltas of the server's
	// counters and histograms between the first and last successful /metrics scrape: TTFT, E2E latency, queue
	// time and ITL percentiles as Prometheus histogram_quantile computes them (a percentile in the +Inf bucket
	// is a lower bound, marked so), each with the bounds of the bucket it fell in and the smallest upper bound
	// known (serverstats.Quantile: bucket_lower_ms, bucket_upper_ms, at_most_ms), token and request counts,
	// queue, batch and KV-cache gauges. Nil when the server was never scraped successfully.
	Server *serverstats.Stats `json:"server_statistics"`
	// Client is what the load runs cost the client's own process: CPU time and utilization of GOMAXPROCS,
	// Go scheduler latency (recorder.ClientCost, reported by loadgen.Run); nil when no load generator
	// reported it (a test's own client).
	Client *recorder.ClientCost `json:"client_statistics"`
	// Warnings say what makes the run's figures less trustworthy, each naming its figures and what to do;
	// they inform, they never fail a test. Empty, never null. In order: the caller's own
	// (vmtest.Options.Warnings); the cross-checks between the client's and the server's figures that did not
	// agree (serverstats.CrossCheck: counts, and TTFT and E2E latency means), done only when the server was
	// scraped (Server non-nil) and the client recorded at least one request (Requests.Total > 0, of any
	// outcome: when it recorded none, the server's figures are of requests vmtest did not send); a window too
	// short for throughput; and the client's own (TrustWarnings: output lengths not honoured, an open loop
	// behind its schedule, the client as the bottleneck).
	Warnings []string `json:"warnings"`
	// EnergyPerOutputTokenJ is the energy of all GPUs over the run divided by the server's generation-token
	// counter delta over the run, J/token; nil when either is unknown.
	EnergyPerOutputTokenJ *float64 `json:"energy_per_output_token_j"`
	// EnergyPerOutputTokenNote is the caveat beside EnergyPerOutputTokenJ when the server restarted in the
	// window (its counter then misses the tokens made between its last scrape and each restart): how many
	// times, when, and the figure over the client's output tokens (measured and warm-up); "" otherwise.
	EnergyPerOutputTokenNote string `json:"energy_per_output_token_note,omitempty"`
	// Sources says, per sampler, how many readings succeeded and failed and why.
	Sources map[string]SourceStatus `json:"sources"`
	// Events lists what happened during collection (GPU lost, server restart, ...), in time order.
	Events []snapshot.Event `json:"events"`
	// Files maps a file kind ("snapshots_json", "snapshots_csv", "summary_json", "run_summary_json",
	// "requests_csv", "plot_png", "report_html") to its path.
	// Set once the files are written.
	Files map[string]string `json:"files,omitempty"`
	// PendingDir is, for a summary taken while its collector runs (vmtest.Collector.Summary), the directory the
	// collector writes the run's files to when the run ends; "" otherwise. Not encoded.
	PendingDir string `json:"-"`
}

// SourceStatus is one metric source's record over the run, kept by Record.
type SourceStatus struct {
	// Readings is the number of ticks the source was asked for a reading.
	Readings int `json:"readings"`
	// Failed is the number of those that came back with an error (including timeouts).
	Failed int `json:"failed"`
	// LastError is the last error's message. DominantError is the message most readings failed with (by
	// class, recorder.ErrorClass: the first message of the class; the first class when tied), which a
	// different last error would otherwise hide.
	LastError     string `json:"last_error,omitempty"`
	DominantError string `json:"dominant_error,omitempty"`
	// Note says why a source gave nothing at all, e.g. why gpu_metrics is {}.
	Note string `json:"note,omitempty"`
	// CoveredFraction is the share of the readings that succeeded, (Readings − Failed) / Readings, 0–1: the
	// share of the run's sampling ticks the source's figures cover. Nil before the first reading.
	CoveredFraction *float64 `json:"covered_fraction"`
	// FirstFailure and LastFailure are the times of the first and last failed reading; nil when none failed.
	FirstFailure *time.Time `json:"first_failure,omitempty"`
	LastFailure  *time.Time `json:"last_failure,omitempty"`
	// Errors counts the failed readings per class of message, in order of first appearance (at most
	// MaxSourceErrors; later classes are counted under OtherErrors).
	Errors []ErrorCount `json:"errors,omitempty"`
	// Outages lists each run of consecutive failed readings, in time order (at most MaxOutages: the first
	// ones and the latest; OutagesOmitted counts those left out between).
	Outages        []Outage `json:"outages,omitempty"`
	OutagesOmitted int      `json:"outages_omitted,omitempty"`
	// EventsOmitted counts the events of this source left out of the run's events once it had sent
	// vmtest.MaxSourceEvents of them (the server source's are bounded by its window instead).
	EventsOmitted int `json:"events_omitted,omitempty"`
}

// MinMax is an average and a maximum over the snapshots where the value was known.
type MinMax struct {
	// Avg is the arithmetic mean over the snapshots that had the value; nil when none had it.
	Avg *float64
	// Max is the largest value seen; nil when none.
	Max *float64
	// N is the number of snapshots that had the value.
	N int
}

func agg(vals []*float64) MinMax {
	var m MinMax
	var sum float64
	for _, v := range vals {
		if v == nil {
			continue
		}
		m.N++
		sum += *v
		if m.Max == nil || *v > *m.Max {
			x := *v
			m.Max = &x
		}
	}
	if m.N > 0 {
		m.Avg = snapshot.F(sum / float64(m.N))
	}
	return m
}

// aggRate aggregates a per-interval rate: the value of snapshot i covers the interval of length covers[i]
// seconds ending at that snapshot (snapshot.VLLMRateIntervalsS, snapshot.SystemRateIntervalsS: the interval
// since the source's previous successful reading, as the sampler recorded it; for the vLLM rates, after a
// failed scrape, more than one tick). Avg and Max are computed over the same intervals, so that Avg ≤ Max
// always holds:
//
//   - the intervals used are those with a value and a length of at least intervalS/2 ("full" intervals: the
//     last snapshot, taken when collection stops, often covers a few ms, and a rate over a few ms is mostly
//     noise); when there is none (a run shorter than half an interval, or intervalS ≤ 0), every interval with
//     a value and a known length (> 0) is used instead, for both;
//   - Avg is the mean of their values weighted by their lengths (for a counter's rate: the counter's increase
//     over the covered time divided by that time); Max is the largest of their values;
//   - N is the number of intervals used.
//
// A value whose interval is unknown (covers[i] ≤ 0: the first reading, or a snapshot with no recorded
// interval and no earlier reading to measure from) is never used.
func aggRate(vals []*float64, covers []float64, intervalS float64) MinMax {
	full := aggRateOver(vals, covers, intervalS/2)
	if full.N > 0 {
		return full
	}
	return aggRateOver(vals, covers, 0)
}

// aggRateOver is aggRate over the intervals with a value and a length > 0 and ≥ minLen.
func aggRateOver(vals []*float64, covers []float64, minLen float64) MinMax {
	var m MinMax
	var sum, wsum float64
	for i, v := range vals {
		if v == nil {
			continue
		}
		dt := covers[i]
		if !(dt > 0) || dt < minLen {
			continue
		}
		m.N++
		sum += *v * dt
		wsum += dt
		if m.Max == nil || *v > *m.Max {
			x := *v
			m.Max = &x
		}
	}
	if wsum > 0 {
		m.Avg = snapshot.F(sum / wsum)
	}
	return m
}

// GPUStats is one GPU's statistics over the run (seed: average/max utilization and memory usage per GPU).
type GPUStats struct {
	// Name and UUID identify the GPU, from its last reading.
	Name string `json:"name,omitempty"`
	UUID string `json:"uuid,omitempty"`
	// AvgUtilization and MaxUtilization are in percent.
	AvgUtilization *float64 `json:"avg_utilization"`
	MaxUtilization *float64 `json:"max_utilization"`
	// AvgMemoryUsedMB and MaxMemoryUsedMB are in MiB.
	AvgMemoryUsedMB *float64 `json:"avg_memory_used_mb"`
	MaxMemoryUsedMB *float64 `json:"max_memory_used_mb"`
	// AvgPowerW and MaxPowerW are in W.
	AvgPowerW *float64 `json:"avg_power_w"`
	MaxPowerW *float64 `json:"max_power_w"`
	// MaxTempC is in °C.
	MaxTempC *float64 `json:"max_temp_c"`
	// EnergyJ is the energy used over the run, J (the last reading's energy since start).
	EnergyJ *float64 `json:"energy_j"`
	// Samples is the number of snapshots that had this GPU.
	Samples int `json:"samples"`
	// CoveredFraction is the share of the run's snapshots in which this GPU had a reading (any of
	// utilization, memory used, power, temperature), 0–1: below 1 the figures above cover only part of the
	// run (a GPU lost, a dcgm-exporter down). FirstReading and LastReading are the times of the first and
	// last such snapshot; nil when none had one.
	CoveredFraction *float64   `json:"covered_fraction"`
	FirstReading    *time.Time `json:"first_reading,omitempty"`
	LastReading     *time.Time `json:"last_reading,omitempty"`
	// MIG maps each MIG device of this GPU (snapshot.GPU.MIGDevices) to its memory statistics, keyed
	// "gi<G>_ci<C>" by GPU and compute instance ID (NVML), "gi<G>" when only the GPU instance is known
	// (dcgm-exporter), else "mig<index>". Nil when no snapshot listed a MIG device for this GPU.
	MIG map[string]MIGStats `json:"mig_devices,omitempty"`
}

// MIGStats is one MIG device's memory over the run. Memory belongs to the GPU instance, so MIG devices that
// share one (same "gi<G>", different "_ci<C>") show the same figures.
type MIGStats struct {
	// Profile is the MIG profile (e.g. "1g.18gb"), from its last reading.
	Profile string `json:"profile,omitempty"`
	// UUID is the MIG device's UUID ("MIG-...", NVML only), from its last reading.
	UUID string `json:"uuid,omitempty"`
	// AvgMemoryUsedMB and MaxMemoryUsedMB are the MIG device's memory in use, MiB, over the snapshots that had
	// it (snapshot.MIGDevice.MemoryUsedMB).
	AvgMemoryUsedMB *float64 `json:"avg_memory_used_mb"`
	MaxMemoryUsedMB *float64 `json:"max_memory_used_mb"`
	// MemoryTotalMB is the MIG device's memory, MiB, from its last reading that had it.
	MemoryTotalMB *float64 `json:"memory_total_mb"`
	// Samples is the number of snapshots that listed this MIG device.
	Samples int `json:"samples"`
}

// migKey is the key of a MIG device in GPUStats.MIG from its own reading ("" when the reading identifies it
// by nothing); migStats keeps a device under one key across snapshots by its UUID where it has one.
func migKey(m snapshot.MIGDevice) string {
	switch {
	case m.GPUInstanceID != nil && m.ComputeInstanceID != nil:
		return fmt.Sprintf("gi%d_ci%d", *m.GPUInstanceID, *m.ComputeInstanceID)
	case m.GPUInstanceID != nil:
		return fmt.Sprintf("gi%d", *m.GPUInstanceID)
	case m.Index != nil:
		return fmt.Sprintf("mig%d", *m.Index)
	}
	return ""
}

// migStats aggregates the MIG devices of the GPU keyed k over snaps; nil when none listed any.
func migStats(k string, snaps []snapshot.Snapshot) map[string]MIGStats {
	// A device's key from the readings that give both instance IDs, by UUID: a tick where NVML could not
	// read one of them still counts under the same key.
	byUUID := map[string]string{}
	for i := range snaps {
		for _, m := range snaps[i].GPUMetrics[k].MIGDevices {
			if m.UUID != "" && m.GPUInstanceID != nil && m.ComputeInstanceID != nil {
				if _, ok := byUUID[m.UUID]; !ok {
					byUUID[m.UUID] = migKey(m)
				}
			}
		}
	}
	var out map[string]MIGStats
	used := map[string][]*float64{}
	for i := range snaps {
		seen := map[string]bool{} // one reading per key and snapshot
		for _, m := range snaps[i].GPUMetrics[k].MIGDevices {
			mk, ok := byUUID[m.UUID]
			if !ok || m.UUID == "" {
				mk = migKey(m)
			}
			if mk == "" || seen[mk] {
				continue
			}
			seen[mk] = true
			if out == nil {
				out = map[string]MIGStats{}
			}
			st := out[mk]
			st.Samples++
			st.Profile, st.UUID = m.Profile, m.UUID
			if m.MemoryTotalMB != nil {
				st.MemoryTotalMB = m.MemoryTotalMB
			}
			out[mk] = st
			used[mk] = append(used[mk], m.MemoryUsedMB)
		}
	}
	for mk, st := range out {
		a := agg(used[mk])
		st.AvgMemoryUsedMB, st.MaxMemoryUsedMB = a.Avg, a.Max
		out[mk] = st
	}
	return out
}

// VLLMStats is the server-side statistics over the snapshots (seed: average/max throughput, latency
// percentiles), plus queue, batch and KV-cache figures.
type VLLMStats struct {
	// AvgTokensPerSecond and MaxTokensPerSecond are over the per-interval rates of
	// vllm:generation_tokens_total (snapshot.VLLM.TokensPerSecond), tokens/s. Each rate covers the interval
	// from the previous successful scrape to its own, of length snapshot.VLLM.ScrapeIntervalS (for a snapshot
	// without it, the time since the previous snapshot without Errors["vllm"]; snapshot.VLLMRateIntervalsS):
	// after a failed scrape that is more than one sampling interval. Both are over the same intervals: those at
	// least half the sampling interval (IntervalS) long, or, when no interval is that long (a run shorter than
	// half an interval), every interval of known length. Avg is the mean weighted by the covered length (the
	// counter's increase over the covered time divided by that time), Max the largest value, so Avg ≤ Max. The
	// short last interval of a run (collection stopping a few ms after a tick) is thus left out of both, unless
	// the scrape before it failed and it covers more.
	//
	// For the aggregate of several replicas (Replicas set), AvgTokensPerSecond is instead the sum over
	// replicas of the counter's increase over the window divided by the window's length
	// (serverstats.Stats.GenerationTokens / DurationS), so that the intervals in which some replica was not
	// scraped (whose aggregate rate is unknown) do not bias it; MaxTokensPerSecond is over the intervals
	// whose aggregate is known (Coverage).
	AvgTokensPerSecond *float64 `json:"avg_tokens_per_second"`
	MaxTokensPerSecond *float64 `json:"max_tokens_per_second"`
	// AvgRequestsPerSecond is the mean rate of vllm:request_success_total (snapshot.VLLM.RequestsPerSecond),
	// req/s, weighted by covered length over the same kind of intervals as AvgTokensPerSecond; for the
	// aggregate of several replicas the window's increase over its length, as AvgTokensPerSecond.
	AvgRequestsPerSecond *float64 `json:"avg_requests_per_second"`
	// Coverage is, for the aggregate of several replicas, the share of the rounds (0–1) in which every replica
	// was scraped (serverstats.Stats.Coverage): the per-interval aggregate figures, MaxTokensPerSecond and
	// the queue and batch Max, cover only those; the averages cover the whole run. Nil for one server and for
	// a replica's own figures.
	Coverage *float64 `json:"aggregate_coverage,omitempty"`
	// AvgRequestQueueSize and MaxRequestQueueSize are over vllm:num_requests_waiting, summed over engines in
	// each scrape: server_statistics.request_queue_size's mean and max (serverstats.Gauge; for several
	// replicas the sum of the replicas' means, serverstats.Fleet).
	AvgRequestQueueSize *float64 `json:"avg_request_queue_size"`
	MaxRequestQueueSize *float64 `json:"max_request_queue_size"`
	// AvgActiveBatchSize and MaxActiveBatchSize are over vllm:num_requests_running, summed over engines in
	// each scrape: server_statistics.active_batch_size's mean and max.
	AvgActiveBatchSize *float64 `json:"avg_active_batch_size"`
	MaxActiveBatchSize *float64 `json:"max_active_batch_size"`
	// AvgKVCacheUsagePercent is the mean over scrapes of the KV-cache usage averaged over engines, and
	// MaxKVCacheUsagePercent the busiest engine's maximum (with data parallelism, the largest value of any
	// one engine in any scrape), percent 0–100: server_statistics.kv_cache_usage_percent's mean and max.
	AvgKVCacheUsagePercent *float64 `json:"avg_kv_cache_usage_percent"`
	MaxKVCacheUsagePercent *float64 `json:"max_kv_cache_usage_percent"`
	// GenerationTokens is the generation-token counter's increase over the window (first to last successful
	// scrape), server_statistics.generation_tokens: Prometheus increase() semantics, so a restart or reset
	// inside the window is survived and a counter created mid-run counts from 0. Nil before two scrapes.
	GenerationTokens *float64 `json:"generation_tokens"`
	// Scrapes is the number of successful /metrics scrapes (server_statistics.scrapes).
	Scrapes int `json:"scrapes"`
	// Replicas maps each replica's name to its own figures (the client-side ones nil), when the server is
	// several replicas; the figures above are then their aggregate. Nil for one server.
	Replicas map[string]VLLMStats `json:"replicas,omitempty"`
	// P50LatencyMS, P90LatencyMS, P99LatencyMS, MeanLatencyMS and FirstTokenLatencyMS repeat the client-side
	// E2E percentiles, mean E2E and mean TTFT over all successful requests (seed names), ms.
	P50LatencyMS        *float64 `json:"p50_latency_ms"`
	P90LatencyMS        *float64 `json:"p90_latency_ms"`
	P99LatencyMS        *float64 `json:"p99_latency_ms"`
	MeanLatencyMS       *float64 `json:"mean_latency_ms"`
	FirstTokenLatencyMS *float64 `json:"first_token_latency_ms"`
}

// SystemStats is the host statistics over the snapshots (seed: average/max CPU and memory usage).
type SystemStats struct {
	// AvgCPUPercent and MaxCPUPercent are the host's CPU busy time in percent of all cores
	// (snapshot.System.CPUPercent), each over the interval since the host sampler's previous reading, of length
	// snapshot.System.RateIntervalS (for a snapshot without it, the time since the previous snapshot;
	// snapshot.SystemRateIntervalsS), chosen as for VLLMStats.AvgTokensPerSecond: those at least half the
	// sampling interval long, or every interval of known length when none is. Avg is the mean weighted by the
	// covered length, Max the largest value; Avg ≤ Max.
	AvgCPUPercent *float64 `json:"avg_cpu_percent"`
	MaxCPUPercent *float64 `json:"max_cpu_percent"`
	// AvgMemoryGB and MaxMemoryGB are memory in use, GiB.
	AvgMemoryGB *float64 `json:"avg_memory_gb"`
	MaxMemoryGB *float64 `json:"max_memory_gb"`
	// NetworkSentBytes, NetworkRecvBytes, DiskReadBytes and DiskWriteBytes are the counters' increase over
	// the run (first to last snapshot); nil when unknown or reset.
	NetworkSentBytes *float64 `json:"network_sent_bytes"`
	NetworkRecvBytes *float64 `json:"network_recv_bytes"`
	DiskReadBytes    *float64 `json:"disk_read_bytes"`
	DiskWriteBytes   *float64 `json:"disk_write_bytes"`
	// Cgroup is the process's cgroup (snapshot.System.Cgroup of the last snapshot that named one); empty when
	// none was read, and the Cgroup* figures are then nil.
	Cgroup string `json:"cgroup,omitempty"`
	// CgroupCPU and CgroupCPUIsHost are the cgroup the CPU figures come from and whether it is the host's root
	// cgroup (snapshot.System's fields of the same name, in the last snapshot that named one); when it is,
	// AvgCgroupCPUCores and the other CPU use figures are nil: the host's CPU use is AvgCPUPercent.
	CgroupCPU       string `json:"cgroup_cpu,omitempty"`
	CgroupCPUIsHost bool   `json:"cgroup_cpu_is_host,omitempty"`
	// AvgCgroupMemoryGB and MaxCgroupMemoryGB are the cgroup's memory in use, GiB (snapshot.System.CgroupMemoryGB).
	AvgCgroupMemoryGB *float64 `json:"avg_cgroup_memory_gb"`
	MaxCgroupMemoryGB *float64 `json:"max_cgroup_memory_gb"`
	// AvgCgroupMemoryWorkingSetGB and MaxCgroupMemoryWorkingSetGB are the cgroup's working set, GiB
	// (snapshot.System.CgroupMemoryWorkingSetGB).
	AvgCgroupMemoryWorkingSetGB *float64 `json:"avg_cgroup_memory_working_set_gb"`
	MaxCgroupMemoryWorkingSetGB *float64 `json:"max_cgroup_memory_working_set_gb"`
	// CgroupMemoryLimitGB is the cgroup's memory limit, GiB, in the last snapshot that had one; nil when none set one.
	CgroupMemoryLimitGB *float64 `json:"cgroup_memory_limit_gb"`
	// AvgCgroupMemoryPercent and MaxCgroupMemoryPercent are the cgroup's memory in use in percent of its limit
	// (snapshot.System.CgroupMemoryPercent); nil without a limit.
	AvgCgroupMemoryPercent *float64 `json:"avg_cgroup_memory_percent"`
	MaxCgroupMemoryPercent *float64 `json:"max_cgroup_memory_percent"`
	// CgroupCPUQuotaCores is the cgroup's CPU quota, cores, in the last snapshot that had one; nil when none set one.
	CgroupCPUQuotaCores *float64 `json:"cgroup_cpu_quota_cores"`
	// AvgCgroupCPUCores and MaxCgroupCPUCores are the cores the cgroup used (snapshot.System.CgroupCPUCores),
	// and AvgCgroupCPUPercent and MaxCgroupCPUPercent that use in percent of the quota (CgroupCPUPercent, nil
	// without a quota), per interval, weighted and chosen as AvgCPUPercent.
	AvgCgroupCPUCores   *float64 `json:"avg_cgroup_cpu_cores"`
	MaxCgroupCPUCores   *float64 `json:"max_cgroup_cpu_cores"`
	AvgCgroupCPUPercent *float64 `json:"avg_cgroup_cpu_percent"`
	MaxCgroupCPUPercent *float64 `json:"max_cgroup_cpu_percent"`
}

// Input is everything Compute needs; each field becomes the Summary field of the same name (Requests and
// Server as they are, Snapshots aggregated). Snapshots must be in time order with ElapsedS set, so that each
// rate can be weighted by the length of the interval it covers (the samplers' ScrapeIntervalS and
// RateIntervalS, or ElapsedS differences for a snapshot without them); IntervalS is the sampling interval, s.
type Input struct {
	RunID, ConfigID, TestName string
	Start, End                time.Time
	DurationS, IntervalS      float64
	Snapshots                 []snapshot.Snapshot
	SnapshotsDropped          int
	Requests                  recorder.Summary
	Server                    *serverstats.Stats
	Sources                   map[string]SourceStatus
	Events                    []snapshot.Event
	// Warnings are the caller's own warnings (vmtest.Options.Warnings), put first in Summary.Warnings.
	Warnings []string
	// Client is what the load runs cost the client's process (recorder.ClientCostSink); nil when no load
	// generator reported it.
	Client *recorder.ClientCost
	// ServerCut, when set, is what the server's figures are cross-checked with instead of Requests: the
	// client's requests that ended by the server's last scrape, for a run whose server window ends before its
	// requests' (a rebuilt one). Nil: Requests.
	ServerCut *ServerCut
}

// ServerCut is the client's side of the cross-check for a run whose server figures stop before its last
// requests (journal.Load sets it when a row ends after the server's last scrape).
type ServerCut struct {
	// Requests is the summary of the requests that ended by the server's last scrape (warm-up tallies
	// included, as in the run's).
	Requests recorder.Summary
	// AtS is the server's last scrape and EndS the last request's end, s since the run's start.
	AtS, EndS float64
	// NoRow counts the requests the run counted that have no row (dropped past the row bound, cut or
	// unreadable in a journal), and NoRowCause says why: some may have ended by AtS, so Requests is then a
	// lower bound and the cross-check is marked partial. 0 and "" when every request has its row.
	NoRow      int
	NoRowCause string
}

// delta returns last − first over the non-nil values of vals, or nil with fewer than two or when the counter
// went down anywhere in between (a reset: the increase is not knowable from these readings alone).
func delta(vals []*float64) *float64 {
	var first, prev *float64
	for _, v := range vals {
		if v == nil {
			continue
		}
		if first == nil {
			first = v
		} else if *v < *prev {
			return nil
		}
		prev = v
	}
	if first == nil || prev == first {
		return nil
	}
	return snapshot.F(*prev - *first)
}

// gaugeAvgMax is a window gauge's mean and maximum; nil, nil for a gauge never exposed.
func gaugeAvgMax(g *serverstats.Gauge) (avg, max *float64) {
	if g == nil {
		return nil, nil
	}
	return g.Mean, g.Max
}

// Compute builds the Summary. It never fails: what is unknown is nil.
func Compute(in Input) *Summary {
	s := &Summary{
		RunID: in.RunID, ConfigID: in.ConfigID, TestName: in.TestName, Start: in.Start, End: in.End,
		DurationS: in.DurationS, IntervalS: in.IntervalS, Snapshots: len(in.Snapshots),
		SnapshotsDropped: in.SnapshotsDropped, Requests: in.Requests, Sources: in.Sources,
		Events: append([]snapshot.Event{}, in.Events...), GPU: map[string]GPUStats{},
		Server: in.Server, Warnings: append([]string{}, in.Warnings...), Client: in.Client,
	}
	cross := CrossCheck(in.Server, in.Requests, in.Start)
	if in.ServerCut != nil {
		cross = crossCheckCut(in.Server, in.Requests, *in.ServerCut, in.Start)
	}
	s.Warnings = append(s.Warnings, cross...)
	if in.Requests.WindowTooShort() {
		s.Warnings = append(s.Warnings, "throughput and goodput unknown: "+in.Requests.TooShortText()+
			" (the window runs from the first successful request's start to the last one's end)")
	}
	s.Warnings = append(s.Warnings, TrustWarnings(&in.Requests, in.Client)...)
	if s.Sources == nil {
		s.Sources = map[string]SourceStatus{}
	}
	sort.SliceStable(s.Events, func(i, j int) bool { return s.Events[i].Time.Before(s.Events[j].Time) })

	col := func(get func(*snapshot.Snapshot) *float64) []*float64 {
		out := make([]*float64, len(in.Snapshots))
		for i := range in.Snapshots {
			out[i] = get(&in.Snapshots[i])
		}
		return out
	}

	// GPUs, keyed as in the snapshots.
	keys := map[string]bool{}
	for i := range in.Snapshots {
		for k := range in.Snapshots[i].GPUMetrics {
			keys[k] = true
		}
	}
	var totalEnergy *float64
	for k := range keys {
		g := func(f func(*snapshot.GPU) *float64) []*float64 {
			return col(func(sn *snapshot.Snapshot) *float64 {
				if v, ok := sn.GPUMetrics[k]; ok {
					return f(&v)
				}
				return nil
			})
		}
		util, memU := agg(g(func(v *snapshot.GPU) *float64 { return v.Utilization })), agg(g(func(v *snapshot.GPU) *float64 { return v.MemoryUsedMB }))
		pow, temp := agg(g(func(v *snapshot.GPU) *float64 { return v.PowerW })), agg(g(func(v *snapshot.GPU) *float64 { return v.TempC }))
		st := GPUStats{AvgUtilization: util.Avg, MaxUtilization: util.Max, AvgMemoryUsedMB: memU.Avg, MaxMemoryUsedMB: memU.Max,
			AvgPowerW: pow.Avg, MaxPowerW: pow.Max, MaxTempC: temp.Max}
		read := 0
		for i := range in.Snapshots {
			if v, ok := in.Snapshots[i].GPUMetrics[k]; ok {
				st.Samples++
				st.Name, st.UUID = v.Name, v.UUID
				if v.EnergyJ != nil {
					st.EnergyJ = v.EnergyJ
				}
				if v.Utilization != nil || v.MemoryUsedMB != nil || v.PowerW != nil || v.TempC != nil {
					read++
					at := in.Snapshots[i].Timestamp
					if st.FirstReading == nil {
						st.FirstReading = &at
					}
					st.LastReading = &at
				}
			}
		}
		st.CoveredFraction = snapshot.F(float64(read) / float64(len(in.Snapshots)))
		if st.EnergyJ != nil {
			if totalEnergy == nil {
				totalEnergy = new(float64)
			}
			*totalEnergy += *st.EnergyJ
		}
		st.MIG = migStats(k, in.Snapshots)
		s.GPU[k] = st
	}

	vs := make([]*snapshot.VLLM, len(in.Snapshots))
	for i := range in.Snapshots {
		vs[i] = &in.Snapshots[i].VLLMMetrics
	}
	s.VLLM = vllmStats(vs, snapshot.VLLMRateIntervalsS(in.Snapshots), in.IntervalS, in.Server)
	s.VLLM.P50LatencyMS, s.VLLM.P90LatencyMS, s.VLLM.P99LatencyMS = in.Requests.E2EMS.P50, in.Requests.E2EMS.P90, in.Requests.E2EMS.P99
	s.VLLM.MeanLatencyMS, s.VLLM.FirstTokenLatencyMS = in.Requests.E2EMS.Mean, in.Requests.TTFTMS.Mean
	if in.Server != nil {
		s.VLLM.Replicas = replicaStats(in.Snapshots, in.IntervalS, in.Server.Replicas)
	}
	if totalEnergy != nil && s.VLLM.GenerationTokens != nil && *s.VLLM.GenerationTokens > 0 {
		s.EnergyPerOutputTokenJ = snapshot.F(*totalEnergy / *s.VLLM.GenerationTokens)
		s.EnergyPerOutputTokenNote = energyNote(s.EnergyPerOutputTokenJ, in.Server.RestartText(in.Start), *totalEnergy, *s.VLLM.GenerationTokens, in.Requests)
	}

	y := func(f func(*snapshot.System) *float64) []*float64 {
		return col(func(sn *snapshot.Snapshot) *float64 { return f(&sn.SystemMetrics) })
	}
	cpuA := aggRate(y(func(x *snapshot.System) *float64 { return x.CPUPercent }), snapshot.SystemRateIntervalsS(in.Snapshots), in.IntervalS)
	memA := agg(y(func(x *snapshot.System) *float64 { return x.MemoryGB }))
	s.System = SystemStats{
		AvgCPUPercent: cpuA.Avg, MaxCPUPercent: cpuA.Max, AvgMemoryGB: memA.Avg, MaxMemoryGB: memA.Max,
		NetworkSentBytes: delta(y(func(x *snapshot.System) *float64 { return x.NetworkSentBytes })),
		NetworkRecvBytes: delta(y(func(x *snapshot.System) *float64 { return x.NetworkRecvBytes })),
		DiskReadBytes:    delta(y(func(x *snapshot.System) *float64 { return x.DiskReadBytes })),
		DiskWriteBytes:   delta(y(func(x *snapshot.System) *float64 { return x.DiskWriteBytes })),
	}
	s.System.cgroup(in.Snapshots, in.IntervalS, y)
	s.Nodes = nodeStats(in.Snapshots, in.IntervalS)
	return s
}

// vllmStats computes the server figures of VLLMStats (not the client's) from vs, one server's (or one
// replica's) figures of each snapshot, covers, the interval each one's rates cover (s), and sv, its
// statistics over the window (nil when none).
func vllmStats(vs []*snapshot.VLLM, covers []float64, intervalS float64, sv *serverstats.Stats) VLLMStats {
	v := func(f func(*snapshot.VLLM) *float64) []*float64 {
		out := make([]*float64, len(vs))
		for i, x := range vs {
			out[i] = f(x)
		}
		return out
	}
	tps := aggRate(v(func(x *snapshot.VLLM) *float64 { return x.TokensPerSecond }), covers, intervalS)
	rps := aggRate(v(func(x *snapshot.VLLM) *float64 { return x.RequestsPerSecond }), covers, intervalS)
	st := VLLMStats{AvgTokensPerSecond: tps.Avg, MaxTokensPerSecond: tps.Max, AvgRequestsPerSecond: rps.Avg}
	if sv != nil && len(sv.Replicas) > 0 { // an aggregate: its per-interval rates are unknown where a replica was
		st.AvgTokensPerSecond = wholeWindowRate(sv.GenerationTokens, sv.DurationS)
		st.AvgRequestsPerSecond = wholeWindowRate(sv.RequestSuccess, sv.DurationS)
		st.Coverage = sv.Coverage
	}
	if sv != nil {
		st.AvgRequestQueueSize, st.MaxRequestQueueSize = gaugeAvgMax(sv.RequestQueueSize)
		st.AvgActiveBatchSize, st.MaxActiveBatchSize = gaugeAvgMax(sv.ActiveBatchSize)
		st.AvgKVCacheUsagePercent, st.MaxKVCacheUsagePercent = gaugeAvgMax(sv.KVCacheUsagePercent)
		st.GenerationTokens, st.Scrapes = sv.GenerationTokens, sv.Scrapes
	}
	return st
}

// wholeWindowRate is a counter's increase over the window divided by its length, s; nil when either is
// unknown or the length is not positive.
func wholeWindowRate(increase, windowS *float64) *float64 {
	if increase == nil || windowS == nil || *windowS <= 0 {
		return nil
	}
	return snapshot.F(*increase / *windowS)
}

// replicaStats computes each replica's VLLMStats from its figures in the snapshots
// (vllm_metrics.replicas.<name>, whose ScrapeIntervalS is what its rates cover) and its window statistics;
// nil for one server.
func replicaStats(snaps []snapshot.Snapshot, intervalS float64, reps map[string]serverstats.Stats) map[string]VLLMStats {
	if len(reps) == 0 {
		return nil
	}
	out := make(map[string]VLLMStats, len(reps))
	for name, st := range reps {
		vs := make([]*snapshot.VLLM, len(snaps))
		covers := make([]float64, len(snaps))
		for i := range snaps {
			r := snaps[i].VLLMMetrics.Replicas[name]
			vs[i] = &r
			if r.ScrapeIntervalS != nil {
				covers[i] = *r.ScrapeIntervalS
			}
		}
		out[name] = vllmStats(vs, covers, intervalS, &st)
	}
	return out
}

// cgroup fills the Cgroup* statistics from the snapshots' cgroup fields (y reads one field of each snapshot).
func (st *SystemStats) cgroup(snaps []snapshot.Snapshot, intervalS float64, y func(func(*snapshot.System) *float64) []*float64) {
	for i := len(snaps) - 1; i >= 0; i-- {
		if c := snaps[i].SystemMetrics.Cgroup; c != "" {
			st.Cgroup = c
			break
		}
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		if y := &snaps[i].SystemMetrics; y.CgroupCPU != "" {
			st.CgroupCPU, st.CgroupCPUIsHost = y.CgroupCPU, y.CgroupCPUIsHost
			break
		}
	}
	last := func(vals []*float64) *float64 {
		for i := len(vals) - 1; i >= 0; i-- {
			if vals[i] != nil {
				return vals[i]
			}
		}
		return nil
	}
	covers := snapshot.SystemRateIntervalsS(snaps)
	mem := agg(y(func(x *snapshot.System) *float64 { return x.CgroupMemoryGB }))
	pct := agg(y(func(x *snapshot.System) *float64 { return x.CgroupMemoryPercent }))
	cores := aggRate(y(func(x *snapshot.System) *float64 { return x.CgroupCPUCores }), covers, intervalS)
	cpu := aggRate(y(func(x *snapshot.System) *float64 { return x.CgroupCPUPercent }), covers, intervalS)
	st.AvgCgroupMemoryGB, st.MaxCgroupMemoryGB = mem.Avg, mem.Max
	ws := agg(y(func(x *snapshot.System) *float64 { return x.CgroupMemoryWorkingSetGB }))
	st.AvgCgroupMemoryWorkingSetGB, st.MaxCgroupMemoryWorkingSetGB = ws.Avg, ws.Max
	st.AvgCgroupMemoryPercent, st.MaxCgroupMemoryPercent = pct.Avg, pct.Max
	st.CgroupMemoryLimitGB = last(y(func(x *snapshot.System) *float64 { return x.CgroupMemoryLimitGB }))
	st.CgroupCPUQuotaCores = last(y(func(x *snapshot.System) *float64 { return x.CgroupCPUQuotaCores }))
	st.AvgCgroupCPUCores, st.MaxCgroupCPUCores = cores.Avg, cores.Max
	st.AvgCgroupCPUPercent, st.MaxCgroupCPUPercent = cpu.Avg, cpu.Max
}

// Latency returns the client-side distribution (ms) named by metric, one of LatencyMetricsText: "ttft",
// "tpot", "itl", "e2e" (or "latency"), "ttft_from_intended", "e2e_from_intended". Names are case-insensitive.
// It returns an error listing the valid names for any other.
func (s *Summary) Latency(metric string) (recorder.Stats, error) {
	if e := latencyEntry(metric); e != nil {
		return e.dist(&s.Requests), nil
	}
	return recorder.Stats{}, fmt.Errorf("unknown latency metric %q (want %s)", metric, LatencyMetricsText())
}

// DataFileOf returns the path of the file that holds the data behind the figure name (a name Lookup takes):
// the requests CSV for a client figure (latencies, throughput, error rate, goodput, requests.*), the snapshots
// CSV or JSON for a host, cgroup, GPU or server figure, the summary JSON for one only it holds; DataFile's
// answer when name is not a metric's or that file was not written.
func (s *Summary) DataFileOf(name string) string {
	r, err := resolve(name)
	if err != nil {
		return s.DataFile()
	}
	keys := []string{"snapshots_csv", "snapshots_json"}
	switch r.metric.data {
	case dataRequests:
		keys = []string{"requests_csv"}
	case dataSummary:
		keys = nil
	}
	for _, k := range append(keys, "summary_json") {
		if p := s.Files[k]; p != "" {
			return p
		}
	}
	return s.DataFile()
}

// DataFile returns the path of the file a reader should open to see the data behind a figure: the requests
// CSV, else the snapshots JSON, else, for a summary taken while its collector runs, "(files not written yet:
// written to <PendingDir> when the run ends)", else "(files not written)".
func (s *Summary) DataFile() string {
	for _, k := range []string{"requests_csv", "snapshots_json", "summary_json"} {
		if p := s.Files[k]; p != "" {
			return p
		}
	}
	if s.PendingDir != "" {
		return "(files not written yet: written to " + s.PendingDir + " when the run ends)"
	}
	return "(files not written)"
}
