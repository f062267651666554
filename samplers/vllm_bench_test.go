package samplers

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vmtest/vmtest/serverstats"
	"github.com/vmtest/vmtest/snapshot"
)

// BenchmarkRoadScrapeV0 is one whole scrape through the server road, as the collector takes it: Sample against
// a local httptest server serving the V0 capture (24.8 KB: HTTP GET over loopback, capped read, parse) and
// Commit (the tracker's Add and the snapshot's fields: totals, gauges, rates, interval quantiles).
func BenchmarkRoadScrapeV0(b *testing.B) { benchRoadScrape(b, true, false) }

// BenchmarkRoadScrapeP99V0 is BenchmarkRoadScrapeV0 plus the window's p99 TTFT (ServerStats builds every
// figure): the new road's counterpart of the old BenchmarkScrapeExtractV0 + BenchmarkWindowAddAndP99 pair.
func BenchmarkRoadScrapeP99V0(b *testing.B) { benchRoadScrape(b, true, true) }

// BenchmarkRoadScrapeV0Idle is BenchmarkRoadScrapeV0 against an idle server: the same vLLM lines at every
// scrape, so serverstats.Parser reuses the last parse.
func BenchmarkRoadScrapeV0Idle(b *testing.B) { benchRoadScrape(b, false, false) }

// benchRoadScrape scrapes the V0 capture through Sample and Commit: busy alternates two bodies whose vLLM
// lines differ (every scrape parses), else one body is served; p99 also builds the window's statistics.
func benchRoadScrape(b *testing.B, busy, p99 bool) {
	bodies := v0Bodies(b)
	srv := newVLLMBodyServer(b, bodies[0])
	v := newTestVLLM(b, VLLMConfig{BaseURL: srv.URL})
	ctx := context.Background()
	take(b, v) // the window's baseline: from the second scrape on it has increases and quantiles
	b.ReportAllocs()
	b.SetBytes(int64(len(bodies[0])))
	i := 0
	for b.Loop() {
		if i++; busy {
			srv.Set(bodies[i%2])
		}
		r := v.Sample(ctx)
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		r.Commit(&r)
		if !p99 {
			continue
		}
		if st, ok := v.ServerStats(); !ok || st.TTFT == nil {
			b.Fatal("no TTFT")
		}
	}
}

// v0Bodies returns the V0 capture and a copy with one more generated token: two bodies whose vLLM lines
// differ, so that alternating them makes every scrape a parse.
func v0Bodies(b *testing.B) [2][]byte {
	body := vllmCapture(b, vllmV0Capture)
	line := []byte(`vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 4874.0`)
	busier := bytes.Replace(body, line, []byte(`vllm:generation_tokens_total{model_name="Qwen/Qwen3-0.6B"} 4875.0`), 1)
	if bytes.Equal(body, busier) {
		b.Fatal("capture changed: generation_tokens_total line not found")
	}
	return [2][]byte{body, busier}
}

// BenchmarkRoadParseV0 is the road without the HTTP round trip: parse the V0 capture's bytes, Add the scrape
// to the tracker and fill the snapshot's fields (rates against the previous iteration).
func BenchmarkRoadParseV0(b *testing.B) { benchRoadParse(b, false) }

// BenchmarkRoadParseP99V0 is BenchmarkRoadParseV0 plus the window's p99 TTFT (Summary builds every figure):
// the road without HTTP, the counterpart of the old BenchmarkParseExtractV0 + BenchmarkWindowAddAndP99 pair.
func BenchmarkRoadParseP99V0(b *testing.B) { benchRoadParse(b, true) }

// benchRoadParse parses the V0 capture (serverstats.Parse, no reuse), Adds it and fills a snapshot; p99 also
// builds the window's statistics.
func benchRoadParse(b *testing.B, p99 bool) {
	body := vllmCapture(b, vllmV0Capture)
	w := serverstats.NewWindow()
	at := time.Now()
	var out snapshot.VLLM
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		at = at.Add(time.Second)
		sc, err := serverstats.Parse(body, at, "")
		if err != nil {
			b.Fatal(err)
		}
		w.Add(sc)
		w.FillInterval(&out)
		if !p99 {
			continue
		}
		if st := w.Summary(); st.Scrapes > 1 && (st.TTFT == nil || st.TTFT.P99MS == nil && st.TTFT.Count > 0) {
			b.Fatal("no TTFT")
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
