//go:build gpu

package main

// Built with -tags gpu, the command reads GPUs through NVML in process (cgo and, at run time, the NVIDIA
// driver); see package github.com/vmtest/vmtest/samplers/nvml.
import _ "github.com/vmtest/vmtest/samplers/nvml"
