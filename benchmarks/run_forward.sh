#!/usr/bin/env bash
# Forward-with-capture benchmark: ViTScope (C++) and the PyTorch peer in the same run, ratio
# printed per configuration. Usage: benchmarks/run_forward.sh [cpu|cuda] [iterations] [peer] [python]
#   here:            benchmarks/run_forward.sh cpu 5 torchvision /usr/bin/python3
#   GPU machine:     benchmarks/run_forward.sh cuda 20 timm python3
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=${1:-cpu}; ITERS=${2:-5}; PEER=${3:-torchvision}; PY=${4:-/usr/bin/python3}
BENCH=${BENCH:-build/benchmarks/bench_forward_capture}
unset OPENBLAS_CORETYPE
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824
ours=$("$BENCH" "$DEVICE" "$ITERS")
theirs=$("$PY" benchmarks/forward_capture_peer.py --peer "$PEER" --device "$DEVICE" --iterations "$ITERS")
echo "$ours"; echo "$theirs"
"$PY" - "$ours" "$theirs" <<'PY'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
theirs = {(r["model"], r["batch"]): r for r in map(json.loads, filter(str.strip, sys.argv[2].splitlines()))}
print(f"{'model':8} {'batch':>5} {'ours ms/img':>12} {'peer ms/img':>12} {'peer/ours':>9}  (capture: all attentions + taps)")
for r in ours:
    if not r["capture"]: continue
    p = theirs.get((r["model"], r["batch"]))
    if p: print(f"{r['model']:8} {r['batch']:5d} {r['ms_per_image']:12.2f} {p['ms_per_image']:12.2f} {p['ms_per_image']/r['ms_per_image']:9.2f}")
for r in ours:
    if not r["capture"]: print(f"{r['model']:8} {r['batch']:5d} {r['ms_per_image']:12.2f}   (ViTScope without capture)")
for r in ours:
    if "metrics_ms_per_image" in r:
        print(f"{r['model']:8} {r['batch']:5d}   ViTScope metrics on the capture, ms/img: " +
              ", ".join(f"{k} {v:.2f}" for k, v in r["metrics_ms_per_image"].items()))
PY
