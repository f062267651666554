package vmtest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/vmtest/vmtest/summary"
)

// DuplicateServer returns the indexes i < j of the first two of servers that are one server: the same base
// URL or the same /metrics URL once normalized (see ServerKey). ok is false when each is its own. A server
// given twice would be scraped twice and its figures counted twice in the aggregate; Start refuses it.
func DuplicateServer(servers []Server) (i, j int, ok bool) {
	seen := map[string]int{}
	for j, sv := range servers {
		for _, k := range ServerKeys(sv) {
			if i, dup := seen[k]; dup {
				return i, j, true
			}
		}
		for _, k := range ServerKeys(sv) {
			seen[k] = j
		}
	}
	return 0, 0, false
}

// ServerKeys returns the normalized URLs that identify sv: "base " + its base URL (when set) and "metrics " +
// the /metrics URL it is scraped at (MetricsURL, else BaseURL without a trailing "/" or "/v1", plus
// "/metrics", as samplers.NewVLLM derives it). Normalized: scheme and host lower-cased, the scheme's default
// port (:80, :443) dropped, user info, query and fragment dropped, trailing "/" trimmed. A URL that does not
// parse is kept as given.
func ServerKeys(sv Server) []string {
	var keys []string
	metrics := sv.MetricsURL
	if sv.BaseURL != "" {
		base := normalURL(sv.BaseURL)
		keys = append(keys, "base "+base)
		if metrics == "" {
			metrics = strings.TrimSuffix(base, "/v1") + "/metrics"
		}
	}
	if metrics != "" {
		keys = append(keys, "metrics "+normalURL(metrics))
	}
	return keys
}

// normalURL is raw with the scheme and host lower-cased, a default port, user info, query, fragment and
// trailing slashes dropped.
func normalURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return strings.TrimRight(raw, "/")
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// CheckReplicaMetrics returns an error naming the first of metrics (threshold metric names, as
// assert.Check.Metrics gives them) that addresses one replica (summary.ReplicaPrefix: replica.<name>.server.*)
// that a run with options o does not have, with the replicas it has. A run has replicas when o.Servers has two
// or more (named as Start names them: Name, else r<index>); with one server and no Prometheus source it has
// none. With o.Prometheus set the replicas are known only from the series read, so nothing is refused.
// Collector.Assert refuses a check this way when it is registered; the vmtest command checks its -slo
// expressions so before any load.
func CheckReplicaMetrics(o Options, metrics []string) error {
	if o.Prometheus != nil && len(o.Servers) <= 1 {
		return nil
	}
	var names []string
	if len(o.Servers) > 1 {
		for i, sv := range o.Servers {
			if sv.Name == "" {
				sv.Name = "r" + strconv.Itoa(i)
			}
			names = append(names, sv.Name)
		}
	}
	for _, m := range metrics {
		n := strings.ToLower(strings.TrimSpace(m))
		rep, _, ok := strings.Cut(strings.TrimPrefix(n, summary.ReplicaPrefix), ".")
		if !strings.HasPrefix(n, summary.ReplicaPrefix) || !ok || rep == "" || hasName(names, rep) {
			continue
		}
		if len(names) == 0 {
			return fmt.Errorf("%s: no replica %q in this run: it has one server, whose figures are server.*", m, rep)
		}
		return fmt.Errorf("%s: no replica %q in this run (replicas: %s)", m, rep, strings.Join(names, ", "))
	}
	return nil
}

// hasName says whether names holds name, case-insensitively.
func hasName(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
