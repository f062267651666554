// Package textparse holds only benchmarks: vmtest's /metrics road (serverstats.Parser.Parse, then
// Window.Add) beside Prometheus's own text parser (github.com/prometheus/prometheus/model/textparse) over the
// same bytes. It is a module of its own so that vmtest's go.mod does not take in the Prometheus server's
// module; its go.mod points github.com/vmtest/vmtest at the checkout (../..).
package textparse
