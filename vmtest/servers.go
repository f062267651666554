package vmtest

import (
	"net/url"
	"strings"
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
