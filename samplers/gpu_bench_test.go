package samplers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkSMIParse8Rows is one parse of eight nvidia-smi rows (the H200 capture's load row, as the sampler's
// query prints it, with indices 0–7): the sampler's own work per tick, nvidia-smi's excluded.
func BenchmarkSMIParse8Rows(b *testing.B) {
	row := smiH200Row(b)
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		row[smiIndex] = strconv.Itoa(i)
		row[smiUUID] = fmt.Sprintf("GPU-00000000-0000-0000-0000-00000000000%d", i)
		sb.WriteString(strings.Join(row, ", ") + "\n")
	}
	out := []byte(sb.String())
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		gpus, err := parseSMIGPUs(out)
		if err != nil || len(gpus) != 8 {
			b.Fatal(err, len(gpus))
		}
	}
}

// BenchmarkSMITickFakeProcess is one whole tick against a fake nvidia-smi (a shell script that cats the
// captured rows): two process starts, their output parsed. It measures the cost of running a process per
// call, not the real nvidia-smi's NVML work, which comes on top.
func BenchmarkSMITickFakeProcess(b *testing.B) {
	gpus, apps := smiCaptureOutput(b, "linux-x86_64__nvidia-h200__590.48.01.txt", "load")
	dir := smiFake(b, `case "$1" in
--query-gpu=*) cat "$DIR/gpus.csv" ;;
*) cat "$DIR/apps.csv" ;;
esac`, map[string]string{"gpus.csv": gpus, "apps.csv": apps})
	s, err := NewGPU(GPUConfig{Source: GPUSourceNvidiaSMI, NvidiaSMIPath: dir + "/nvidia-smi"})
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
