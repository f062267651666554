package samplers

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// BenchmarkScrapeExtractV0 is one whole Sample against a local httptest server serving the V0 capture
// (24.8 KB): HTTP GET over loopback, capped read, parse, extract, rates.
func BenchmarkScrapeExtractV0(b *testing.B) {
	srv := newVLLMBodyServer(b, vllmCapture(b, vllmV0Capture))
	v := newTestVLLM(b, VLLMConfig{BaseURL: srv.URL})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(vllmCapture(b, vllmV0Capture))))
	for b.Loop() {
		if r := v.Sample(ctx); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkParseExtractV0 is Sample's work without the HTTP round trip: parse the V0 capture's bytes and
// extract the reading (rates included, against the previous iteration).
func BenchmarkParseExtractV0(b *testing.B) {
	body := vllmCapture(b, vllmV0Capture)
	v := newTestVLLM(b, VLLMConfig{BaseURL: "http://127.0.0.1:1"})
	at := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		at = at.Add(time.Second)
		if _, err := v.parseExtract(body, at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpfmtParseV0 is the bare expfmt parse of the same bytes, the floor for the two above.
func BenchmarkExpfmtParseV0(b *testing.B) {
	body := vllmCapture(b, vllmV0Capture)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		p := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := p.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}
