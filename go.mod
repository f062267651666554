module github.com/vmtest/vmtest

go 1.26.8

require (
	github.com/DataDog/sketches-go v1.4.8 // indirect
	github.com/NVIDIA/go-nvml v0.13.4-1 // indirect
	github.com/gocarina/gocsv v0.0.0-20240520201108-78e41c74b4b1 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/prometheus/common v0.73.1 // indirect
	github.com/shirou/gopsutil/v4 v4.26.10 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
