package summary

import (
	"maps"
	"slices"
	"strings"

	"github.com/vmtest/vmtest/serverstats"
)

// ReplicaPrefix starts the name of one replica's server figure: "replica.<name>.server.ttft.p99" is
// server.ttft.p99 over replica <name>'s series only (serverstats.Stats.Replicas), where "server.ttft.p99"
// is the aggregate over every replica. Names compare case-insensitively.
const ReplicaPrefix = "replica."

// resolveReplica resolves n, a lower-case name starting with ReplicaPrefix (name as given), to its server.*
// entry (see resolve).
func resolveReplica(name, n string) (resolved, error) {
	rest := strings.TrimPrefix(n, ReplicaPrefix)
	rep, metric, ok := strings.Cut(rest, ".")
	if !ok || rep == "" || !strings.HasPrefix(metric, "server.") {
		return resolved{}, &UnknownMetricError{Name: name, Reason: "a replica's figure is replica.<name>.server.<figure>, e.g. replica.r0.server.ttft.p99",
			Suggestions: replicaNames(rep, Nearest(metric, spelled, 3))}
	}
	r, err := resolveRegistry(metric)
	if err != nil {
		if u, ok := err.(*UnknownMetricError); ok {
			u.Name = name
			u.Suggestions = replicaNames(rep, u.Suggestions)
		}
		return resolved{}, err
	}
	r.name, r.replica = ReplicaPrefix+rep+"."+r.name, rep
	return r, nil
}

// replicaNames returns the server.* names of ns as replica rep's names; a name of another kind stays as it is.
func replicaNames(rep string, ns []string) []string {
	if rep == "" {
		return ns
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n
		if strings.HasPrefix(n, "server.") {
			out[i] = ReplicaPrefix + rep + "." + n
		}
	}
	return out
}

// readReplica reads r, a replica's resolved name, from s into v (see Lookup).
func (s *Summary) readReplica(r resolved, v Value) Value {
	st, key, names := s.replica(r.replica)
	if st == nil {
		v.Note = "no replica " + r.replica + " in this run"
		if len(names) > 0 {
			v.Note += " (replicas: " + strings.Join(names, ", ") + ")"
		} else {
			v.Note += " (one server: its figures are server.*)"
		}
		return v
	}
	one := *s
	one.Server, one.VLLM = st, s.VLLM.Replicas[key]
	return r.metric.read(&one, r.a, v)
}

// replica returns the statistics of the replica named rep (case-insensitively) and its name as the run
// spells it, or nil and the names there are.
func (s *Summary) replica(rep string) (*serverstats.Stats, string, []string) {
	if s.Server == nil {
		return nil, "", nil
	}
	names := slices.Sorted(maps.Keys(s.Server.Replicas))
	for _, k := range names {
		if strings.EqualFold(k, rep) {
			st := s.Server.Replicas[k]
			return &st, k, names
		}
	}
	return nil, "", names
}
