#!/usr/bin/env bash
# gpu-check.sh — on a machine with an NVIDIA GPU, put load on it and sample it for 10 s through NVML and
# through nvidia-smi side by side, printing both (samplers/nvml TestGPUCheck).
#
#   scripts/gpu-check.sh                   # build the check here and run it
#   scripts/gpu-check.sh ./gpu-check.test  # run a binary built elsewhere with:
#                                          #   go test -c -o gpu-check.test ./samplers/nvml
# Env: VMTEST_GPU_CHECK_SECONDS (default 10), GPU_CHECK_LOAD=none to sample an idle GPU.
# Exits 0 without doing anything where there is no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
	echo "gpu-check: no usable nvidia-smi / NVIDIA driver here; nothing to check"
	exit 0
fi
nvidia-smi -L

bin=${1:-}
if [[ -z $bin ]]; then
	bin=$(mktemp -d)/gpu-check.test
	go test -c -o "$bin" ./samplers/nvml
fi

seconds=${VMTEST_GPU_CHECK_SECONDS:-10}
load_pid=
stop_load() { [[ -n $load_pid ]] && kill -- "-$load_pid" 2>/dev/null || true; }
trap stop_load EXIT

start_load() {
	local secs=$((seconds + 5))
	if [[ ${GPU_CHECK_LOAD:-} == none ]]; then
		echo "gpu-check: load disabled"; return
	fi
	if command -v gpu_burn >/dev/null 2>&1; then
		echo "gpu-check: load = gpu_burn $secs"
		setsid gpu_burn "$secs" >/dev/null 2>&1 & load_pid=$!
	elif command -v dcgmproftester12 >/dev/null 2>&1; then
		echo "gpu-check: load = dcgmproftester12 (tensor FP16)"
		setsid dcgmproftester12 --no-dcgm-validation -t 1004 -d "$secs" >/dev/null 2>&1 & load_pid=$!
	elif python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
		echo "gpu-check: load = torch matmul on every GPU"
		setsid python3 - "$secs" >/dev/null 2>&1 <<'PY' & load_pid=$!
import sys, time, torch
end = time.time() + float(sys.argv[1])
xs = [torch.randn(8192, 8192, device=f"cuda:{i}", dtype=torch.float16) for i in range(torch.cuda.device_count())]
while time.time() < end:
    for x in xs:
        x @ x
PY
	else
		echo "gpu-check: no load generator found (gpu_burn, dcgmproftester12, python3+torch); sampling as is"
		return
	fi
	sleep 3 # let clocks and power ramp
}

start_load
VMTEST_GPU_CHECK=1 VMTEST_GPU_CHECK_SECONDS=$seconds "$bin" -test.run '^TestGPUCheck$' -test.v -test.count=1
