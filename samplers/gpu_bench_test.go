package samplers

import (
	"context"
	"strings"
	"testing"
	"time"
)

// BenchmarkSMIParse8Rows is one parse of eight nvidia-smi rows (the H200 capture's load row, as the sampler's
// query prints it, with indices 0–7): the work per block of the loop, nvidia-smi's excluded.
func BenchmarkSMIParse8Rows(b *testing.B) {
	out := []byte(smi8GPUs(b, "627.40"))
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		gpus, err := parseSMIGPUs(out)
		if err != nil || len(gpus) != 8 {
			b.Fatal(err, len(gpus))
		}
	}
}

// smiBenchFake is a loop-mode fake nvidia-smi printing 8 H200 rows every interval, with the capture's compute
// processes.
func smiBenchFake(b *testing.B) string {
	_, apps := smiCaptureOutput(b, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	return smiFake(b, `case "$1" in
--query-gpu=*) smi_loop cat "$DIR/gpus.csv" ;;
*) cat "$DIR/apps.csv" ;;
esac`, map[string]string{"gpus.csv": smi8GPUs(b, "627.40"), "apps.csv": apps})
}

// BenchmarkSMISampleLoop is one Sample (8 GPUs) against a running loop: the newest block copied and filtered,
// the compute processes attached; no process is started (the compute-apps refresh is left out here, see
// BenchmarkSMIComputeAppsCall).
func BenchmarkSMISampleLoop(b *testing.B) {
	s, _ := smiLoopSampler(b, smiBenchFake(b), 2*time.Second, func(n *nvidiaSMI) { n.appsEvery = 1 << 30 })
	if r := s.Sample(context.Background()); r.Err != nil || len(r.GPU) != 8 {
		b.Fatal(r.Err, len(r.GPU))
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := s.Sample(context.Background()); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkSMIComputeAppsCall is one `--query-compute-apps` call against the fake (a process start, its output
// parsed): what the sampler pays every appsEvery ticks (every 15th at 2 s).
func BenchmarkSMIComputeAppsCall(b *testing.B) {
	n := newNvidiaSMI(smiBenchFake(b)+"/nvidia-smi", 2*time.Second)
	defer n.Close()
	b.ReportAllocs()
	for b.Loop() {
		out, err := n.run(context.Background(), "--query-compute-apps="+strings.Join(smiAppFields, ","), "--format=csv,noheader,nounits")
		if err != nil {
			b.Fatal(err)
		}
		if apps, err := parseSMIApps(out); err != nil || len(apps) != 3 {
			b.Fatal(err, len(apps))
		}
	}
}

// BenchmarkDCGMParse is one parse of a capture into GPU readings (Prometheus text parsing included).
func BenchmarkDCGMParse(b *testing.B) {
	for _, name := range []string{"upcloud_accelerator-metrics.prom", "a800-mig-excerpt.prom"} {
		b.Run(name, func(b *testing.B) {
			body := dcgmCapture(b, name)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseDCGM(strings.NewReader(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDCGMScrape is one whole tick: an HTTP scrape of the L40S capture from httptest over loopback,
// parsed, rebased and filtered by the sampler.
func BenchmarkDCGMScrape(b *testing.B) {
	srv := dcgmServe(b, dcgmCapture(b, "upcloud_accelerator-metrics.prom"))
	s, err := NewGPU(GPUConfig{Source: GPUSourceDCGM, DCGMURLs: []string{srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if r := s.Sample(context.Background()); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}
