// Package nvml links NVML (through github.com/NVIDIA/go-nvml) into vmtest's GPU sampler. Import it for its side
// effect in the test package of a GPU machine:
//
//	import _ "github.com/vmtest/vmtest/samplers/nvml"
//
// It registers itself with samplers.RegisterNVML, so that GPUConfig.Source "auto" (the default) or "nvml"
// reads GPUs in process: no nvidia-smi process per tick, and NVML's total energy counter for energy_j.
//
// It is a separate package because go-nvml needs cgo, and a binary that links it exits 127 at start on a
// machine without the NVIDIA driver when linked with immediate binding (-ldflags=-extldflags=-Wl,-z,now).
// Without cgo, or on a system other than Linux, this package is empty and registers nothing: the sampler then
// falls back to nvidia-smi.
package nvml
