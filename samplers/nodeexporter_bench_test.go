package samplers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// BenchmarkNodeExporterScrape is one node's tick: an HTTP scrape over loopback of the node_exporter 1.5.0
// capture (testdata/node_exporter_1.txt, 57 kB), parsed, its figures and rates taken, committed.
func BenchmarkNodeExporterScrape(b *testing.B) {
	body, err := os.ReadFile("testdata/node_exporter_1.txt")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	n, err := NewNodeExporter(NodeExporterConfig{Name: "n", URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := n.Sample(context.Background())
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		r.Commit(&r)
	}
}

// BenchmarkNodeExporterParse is the same body's parse without HTTP: the wanted lines picked, parsed.
func BenchmarkNodeExporterParse(b *testing.B) {
	body, err := os.ReadFile("testdata/node_exporter_1.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if fams, err := parseNode(body); err != nil || len(fams) != len(nodeWanted) {
			b.Fatal(err, len(fams))
		}
	}
}

// BenchmarkNodeExporterBareParse is the reference: expfmt's text parser over the same bytes, nothing else.
func BenchmarkNodeExporterBareParse(b *testing.B) {
	body, err := os.ReadFile("testdata/node_exporter_1.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := p.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}
