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
	for _, c := range candidates {
		if c != name && partsStartWith(c, name) && len(out) < k {
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
	rows := make([]int, 2*(maxLen(candidates)+1))
	for _, c := range candidates {
		if max(len(c)-len(name), len(name)-len(c)) > limit {
			continue // the distance is at least the difference in length
		}
		if d := editDistance(name, c, rows); d <= limit {
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

// partsStartWith reports whether c and name have as many dot-separated parts and each part of c starts with
// the non-empty part of name at the same place.
func partsStartWith(c, name string) bool {
	for {
		cp, crest, cmore := strings.Cut(c, ".")
		np, nrest, nmore := strings.Cut(name, ".")
		if np == "" || !strings.HasPrefix(cp, np) || cmore != nmore {
			return false
		}
		if !cmore {
			return true
		}
		c, name = crest, nrest
	}
}

func maxLen(ws []string) int {
	n := 0
	for _, w := range ws {
		n = max(n, len(w))
	}
	return n
}

// editDistance is the Levenshtein distance between a and b, counted in bytes (names are ASCII). rows, when
// at least 2·(len(b)+1) long, is used for its work and no memory is allocated.
func editDistance(a, b string, rows []int) int {
	if len(rows) < 2*(len(b)+1) {
		rows = make([]int, 2*(len(b)+1))
	}
	prev, cur := rows[:len(b)+1], rows[len(b)+1:2*(len(b)+1)]
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
