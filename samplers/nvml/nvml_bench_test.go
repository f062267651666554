//go:build linux && cgo

package nvml

import (
	"context"
	"testing"

	"github.com/vmtest/vmtest/samplers"
)

// BenchmarkNVMLTick8 is one NVML tick over go-nvml's 8-GPU H200 mock, through the GPUSampler (every field,
// processes, energy rebasing). The mock's own bookkeeping (it records every call) is included, so this is an
// upper bound on vmtest's side; the driver's time inside real NVML calls comes on top.
func BenchmarkNVMLTick8(b *testing.B) {
	m := newH200(b)
	samplers.RegisterNVML(func(cfg samplers.GPUConfig) (samplers.GPUSource, error) { return Open(m.srv, cfg) })
	s, err := samplers.NewGPU(samplers.GPUConfig{Source: samplers.GPUSourceNVML})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := s.Sample(ctx); r.Err != nil || len(r.GPU) != 8 {
			b.Fatal(r.Err)
		}
	}
}
