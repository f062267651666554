package promsource_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vmtest/vmtest/promsource"
	"github.com/vmtest/vmtest/serverstats"
)

// benchScrapes is the number of scrapes of the V0 capture in the benchmarks' window (a minute at 1 s).
const benchScrapes = 60

// BenchmarkTargetsReplay times promsource's road over a window of 60 scrapes of the ~300-line V0 capture,
// already decoded from the API's JSON: rebuild the families per timestamp (Targets) and replay them through a
// Window (Add, FillInterval per scrape, then Summary). BenchmarkParseReplay is the reference, the direct
// scrape's road over the same bodies (Parse, Add, FillInterval, Summary), measured in the same run.
func BenchmarkTargetsReplay(b *testing.B) {
	body := v0Body(b)
	series := map[string]*model.SampleStream{}
	var m model.Matrix
	t0 := time.Unix(1_700_000_000, 0)
	for i := range benchScrapes {
		flatten(b, body, t0.Add(time.Duration(i)*time.Second), model.LabelSet{"job": "vllm", "instance": "a:1"}, vllmSeries, series, &m)
	}
	b.ReportAllocs()
	for b.Loop() {
		ts := promsource.Targets(m, promsource.DefaultTargetLabels, "")
		w, _, _ := ts[0].Replay(0)
		if w.Summary().Scrapes != benchScrapes {
			b.Fatal("scrapes lost")
		}
	}
}

// BenchmarkParseReplay is BenchmarkTargetsReplay's reference: the same 60 bodies parsed directly.
func BenchmarkParseReplay(b *testing.B) {
	body := v0Body(b)
	t0 := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		var t promsource.Target
		for i := range benchScrapes {
			sc, err := serverstats.Parse(body, t0.Add(time.Duration(i)*time.Second), "")
			if err != nil {
				b.Fatal(err)
			}
			t.Scrapes = append(t.Scrapes, sc)
		}
		w, _, _ := t.Replay(0)
		if w.Summary().Scrapes != benchScrapes {
			b.Fatal("scrapes lost")
		}
	}
}

func v0Body(b *testing.B) []byte {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "vllm", "v0-busy-qwen3-0.6b.prom"))
	if err != nil {
		b.Fatal(err)
	}
	return body
}
