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

// lookupReplica looks up n, a lower-case name starting with ReplicaPrefix (see Lookup).
func (s *Summary) lookupReplica(name, n string) (Value, error) {
	rest := strings.TrimPrefix(n, ReplicaPrefix)
	rep, metric, ok := strings.Cut(rest, ".")
	if !ok || rep == "" || !strings.HasPrefix(metric, "server.") {
		return Value{}, &UnknownMetricError{Name: name, Reason: "a replica's figure is replica.<name>.server.<figure>, e.g. replica.r0.server.ttft.p99",
			Suggestions: Nearest(metric, spelled, 3)}
	}
	r, err := resolve(metric)
	if err != nil {
		if u, ok := err.(*UnknownMetricError); ok {
			u.Name = name
		}
		return Value{}, err
	}
	v := Value{Name: ReplicaPrefix + rep + "." + r.name, Unit: r.metric.Unit}
	if s == nil {
		v.Note = "no summary"
		return v, nil
	}
	st, key, names := s.replica(rep)
	if st == nil {
		v.Note = "no replica " + rep + " in this run"
		if len(names) > 0 {
			v.Note += " (replicas: " + strings.Join(names, ", ") + ")"
		} else {
			v.Note += " (one server: its figures are server.*)"
		}
		return v, nil
	}
	one := *s
	one.Server, one.VLLM = st, s.VLLM.Replicas[key]
	return r.metric.read(&one, r.a, v), nil
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
