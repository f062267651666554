#!/usr/bin/env bash
# large-scrape.sh: does `vmtest collect` sample a large /metrics body every second without a missed
# deadline? Serves a synthetic vLLM body of SERIES sample lines (internal/promgen/promserve, a busy server:
# every vLLM value moves each second) on loopback, collects it at a 1 s interval for DURATION, and prints
# what the command reports ("vllm N/N ok": every tick's reading came within its deadline) and its CPU time.
# Usage: scripts/large-scrape.sh [SERIES (75000)] [DURATION (60s)] [VMTEST binary (built from this checkout)]
set -euo pipefail
series=${1:-75000}
duration=${2:-60s}
dir=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$(dirname "$0")/.."
go build -o "$dir/promserve" ./internal/promgen/promserve
vmtest=${3:-}
if [ -z "$vmtest" ]; then
  go build -o "$dir/vmtest" ./cmd/vmtest
  vmtest=$dir/vmtest
fi
port=$((20000 + RANDOM % 20000))
"$dir/promserve" -series "$series" -addr "127.0.0.1:$port" 2>"$dir/serve.log" &
server=$!
for _ in $(seq 50); do
  grep -q serving "$dir/serve.log" 2>/dev/null && break
  sleep 0.1
done
cat "$dir/serve.log"
/usr/bin/time -f 'CPU: %U s user, %S s system, %e s wall' "$vmtest" collect -url "http://127.0.0.1:$port" \
  -interval 1s -duration "$duration" -gpu none -out "$dir/out" >"$dir/collect.log" 2>&1 || { cat "$dir/collect.log"; exit 1; }
grep -E 'sources:|^CPU:' "$dir/collect.log"
