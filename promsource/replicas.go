package promsource

import (
	"fmt"
	"regexp"
	"strings"
)

// notNameChar is what a replica name may not hold (serverstats.CheckReplicaNames: letters, digits, '_').
var notNameChar = regexp.MustCompile(`[^A-Za-z0-9_]`)

// maxReplicaName is the longest replica name serverstats accepts.
const maxReplicaName = 64

// ReplicaNames returns one replica name per target, in order, each valid for serverstats.CheckReplicaNames:
// the target's `pod` label, else its `instance`, else its Name, with every character other than a letter,
// digit or '_' replaced by '_' and cut to 64 characters (`10.0.0.7:8000` → `10_0_0_7_8000`). A name already
// given (case ignored) gets the first free suffix `_2`, `_3`, … (the base cut so that it fits).
func ReplicaNames(ts []Target) []string {
	out := make([]string, len(ts))
	seen := map[string]bool{}
	for i, t := range ts {
		base := t.Labels["pod"]
		if base == "" {
			base = t.Labels["instance"]
		}
		if base == "" {
			base = t.Name()
		}
		base = cut(notNameChar.ReplaceAllString(base, "_"), maxReplicaName)
		name := base
		for k := 2; seen[strings.ToLower(name)]; k++ {
			suf := fmt.Sprintf("_%d", k)
			name = cut(base, maxReplicaName-len(suf)) + suf
		}
		seen[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}

// cut returns s's first n bytes (s is ASCII here).
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
