// Package samplers holds vmtest's metric sources, one file per source: the host (gopsutil), the vLLM server's
// /metrics (fetched here; parsed and tracked by serverstats), GPUs (NVML, nvidia-smi, dcgm-exporter) and the server
// nodes (node_exporter). A sampler never fails a test: whatever it meets
// (an unreachable server, a malformed payload, a missing driver) comes back as a Reading with nil fields and
// an error describing why.
package samplers

import (
	"context"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// Sampler is one metric source. The collector calls Sample once per tick with a context whose deadline is
// shorter than the interval, never concurrently with itself; Sample must return promptly when ctx is done.
// Implementations keep whatever state they need between calls (previous counters for rates).
type Sampler interface {
	// Name is the source's short name, used as the key in Snapshot.Errors ("system", "vllm", "gpu").
	Name() string
	// Sample takes one reading. It returns the parts of the snapshot it fills; the collector merges them.
	Sample(ctx context.Context) Reading
}

// Reading is what one sampler produced for one tick. Only the parts the sampler owns are set.
type Reading struct {
	// GPU is set by GPU sources, keyed as in Snapshot.GPUMetrics.
	GPU map[string]snapshot.GPU
	// VLLM is set by the server scrape. Its client-side latency fields are left nil (the collector fills them).
	VLLM *snapshot.VLLM
	// System is set by the host sampler.
	System *snapshot.System
	// Nodes is set by the node_exporter samplers (NodeExporter), keyed as in Snapshot.NodeMetrics.
	Nodes map[string]snapshot.Node
	// Err, when non-nil, is why the reading is missing or partial; it is recorded, never fatal.
	Err error
	// Parts, for a source of several servers (Fleet), maps each replica's name to why its part of the reading
	// failed, or "" when it was read; the collector keeps a status (and outages) for each as source
	// "<Name>.<replica>". Nil otherwise.
	Parts map[string]string
	// Events are notable happenings this tick (a GPU lost, a server restart, a source falling back), kept in
	// the summary with their time.
	Events []Event
	// Commit, when non-nil, finishes the reading once the collector keeps it: it advances the sampler's state
	// (the base of its next rates, the one-time events it has given) and fills the parts of the reading that
	// depend on that state (it may set any field above and append Events). The collector calls it at most once,
	// on the tick that records the reading, before merging it; it never calls it for a reading it discards
	// (one that came back past the tick's deadline), which thus leaves the sampler as it was. A sampler with no
	// state between readings leaves it nil.
	Commit func(r *Reading)
}

// Event is something that happened during collection that a reader of the summary must know about
// (an alias of snapshot.Event, so that the summary need not import the samplers).
type Event = snapshot.Event

// ServerSource is a Sampler whose readings fill Reading.VLLM, the server's metrics (vllm_metrics in the
// snapshots), and which keeps the server-side statistics over the whole collection. A collector takes at most
// one (it refuses a second, naming both) and puts its ServerStats into the summary (server_statistics).
type ServerSource interface {
	Sampler
	// ServerStats returns the statistics over every reading committed so far (Reading.Commit), false before
	// the first.
	ServerStats() (serverstats.Stats, bool)
}
