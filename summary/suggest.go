package summary

import (
	"slices"
	"strings"
)

// spelled is Names(), computed once: the candidates of UnknownMetricError.Suggestions.
var spelled = Names()

// Nearest returns up to k candidates close to name, in the candidates' order: those whose dot-separated parts
// each start with name's parts ("gpu.util.avg" → gpu.utilization.avg), or, when there is none, those at the
// smallest Levenshtein distance from name, if that distance is at most max(2, len(name)/3). name itself is
// never returned; an empty name gives none.
func Nearest(name string, candidates []string, k int) []string {
	if name == "" {
		return nil
	}
	var out []string
	parts := strings.Split(name, ".")
	for _, c := range candidates {
		cp := strings.Split(c, ".")
		if len(cp) != len(parts) || c == name {
			continue
		}
		ok := true
		for i := range cp {
			if parts[i] == "" || !strings.HasPrefix(cp[i], parts[i]) {
				ok = false
				break
			}
		}
		if ok && len(out) < k {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		return out
	}
	limit := max(2, len(name)/3)
	type scored struct {
		name string
		d    int
	}
	var close []scored
	for _, c := range candidates {
		if d := editDistance(name, c); d <= limit {
			close = append(close, scored{c, d})
		}
	}
	slices.SortStableFunc(close, func(a, b scored) int { return a.d - b.d })
	for _, c := range close {
		if len(out) == k || c.d > close[0].d { // only the closest: "ttfb.p99" gives ttft.p99, not ttft.p90 too
			break
		}
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, counted in bytes (names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
