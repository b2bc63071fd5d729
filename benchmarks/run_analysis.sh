#!/usr/bin/env bash
# Dataset-analysis benchmark: `vitscope-cli analyze --metrics attention-distance,nmi,fourier` on a
# random ViT-B/16 made by `vitscope-cli create`, and the direct PyTorch peer
# (benchmarks/analysis_dataset.py) on the same images with the same weights, in the same run.
# Prints the wall times (whole process: start, model load, decode, forward, metrics, output),
# the ratios, and the largest difference between the two sides' curves.
#
# Usage: [REPEAT=N] benchmarks/run_analysis.sh [cpu|cuda] [images] [peer] [python] [peer threads]
#   here:          benchmarks/run_analysis.sh cpu 1000 torchvision /usr/bin/python3
#   GPU machine:   benchmarks/run_analysis.sh cuda 1000 timm python3
# Images: the first images/10 of every class of CIFAR-10's test split
# (../shared/data/cifar10/cifar10-jpg.tar.gz), 32 px JPEGs that both sides upsample to 256 and
# centre-crop to 224; extracted once into $WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=${1:-cpu}; IMAGES=${2:-1000}; PEER=${3:-torchvision}; PY=${4:-/usr/bin/python3}; PEER_THREADS=${5:-0}
CLI=${CLI:-build/app/vitscope-cli}
WORK=${WORK:-build/bench-analysis}
ARCHIVE=${ARCHIVE:-../shared/data/cifar10/cifar10-jpg.tar.gz}
BATCH=${BATCH:-32}
PEER_WORKERS=${PEER_WORKERS:-0}   # DataLoader workers of the peer
PEER_PLAIN=${PEER_PLAIN:-1}       # also time the peer in the default environment (see below)
# vitscope-cli sets glibc's malloc thresholds itself (runtime::tune_process); the peer gets the
# same settings through the environment, and, with PEER_PLAIN=1, runs a second time as a plain
# `python3 script.py` does.
MALLOC=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824
unset OPENBLAS_CORETYPE
mkdir -p "$WORK"

DATA="$WORK/cifar10-test-$IMAGES"
if [ ! -d "$DATA" ]; then
  # Built beside and renamed when complete, so that an interrupted run leaves no partial folder.
  # (awk reads its whole input: `head` would end the pipe early and fail it under pipefail.)
  per_class=$(( (IMAGES + 9) / 10 ))
  rm -rf "$DATA.tmp" "$DATA.part" && mkdir -p "$DATA.tmp" "$DATA.part"
  tar xzf "$ARCHIVE" -C "$DATA.tmp" --wildcards 'test/*/*.jpg'
  for dir in "$DATA.tmp"/test/*/; do
    cls=$(basename "$dir"); mkdir -p "$DATA.part/$cls"
    ls "$dir" | sort | awk -v n="$per_class" 'NR <= n' | while read -r f; do mv "$dir/$f" "$DATA.part/$cls/"; done
  done
  rm -rf "$DATA.tmp" && mv "$DATA.part" "$DATA"
fi
MODEL="$WORK/random-moco-vit-b16.safetensors"
[ -f "$MODEL" ] || "$CLI" create --preset vit-b16 --objective moco --seed 0 --out "$MODEL" >/dev/null

seconds() { local t0; t0=$(date +%s.%N); "$@"; awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
ours() {
  "$CLI" analyze --model "$MODEL" --images "$DATA" --count "$IMAGES" --metrics attention-distance,nmi,fourier \
    --batch-size "$BATCH" --device "$DEVICE" --no-figures --out "$WORK/ours" 2>"$WORK/ours.log" >/dev/null
}
peer() {  # $1: output file, then environment assignments
  local out=$1; shift
  env "$@" "$PY" benchmarks/analysis_dataset.py --images "$DATA" --count "$IMAGES" --batch-size "$BATCH" \
    --device "$DEVICE" --peer "$PEER" --weights "$MODEL" --threads "$PEER_THREADS" --workers "$PEER_WORKERS" > "$out"
}
# REPEAT pairs, ours then the peer, back to back (the VM's speed drifts: only pairs compare).
times_ours=(); times_peer=()
for r in $(seq "${REPEAT:-1}"); do
  echo "pair $r: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  times_ours+=("$(seconds ours)")
  echo "  ours: $(grep -m1 '^timing:' "$WORK/ours.log")"  # where our seconds went (load, models, waits)
  times_peer+=("$(seconds peer "$WORK/peer.json" GLIBC_TUNABLES=$MALLOC)")
done
t_plain=0
[ "$PEER_PLAIN" = 1 ] && t_plain=$(seconds peer "$WORK/peer-plain.json" GLIBC_TUNABLES=)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PY" - "$WORK/ours/metrics.json" "$WORK/peer.json" "${times_ours[*]}" "${times_peer[*]}" "$t_plain" "$DEVICE" <<'PY'
import json, statistics, sys
ours = json.load(open(sys.argv[1]))["models"][0]["metrics"]
peer = json.loads(open(sys.argv[2]).read())
t_ours, t_peer = [list(map(float, a.split())) for a in sys.argv[3:5]]
t_plain = float(sys.argv[5])

def curve(metric):  # per block: mean over heads last; per tap: as stored
    m = ours[metric]["mean"]
    shape, values = m["shape"], m["values"]
    if len(shape) == 2:
        return [sum(values[r * shape[1]:(r + 1) * shape[1]]) / shape[1] for r in range(shape[0])]
    return values

n = peer["images"]
print(f"device {sys.argv[6]}, {n} images, ViT-B/16 (random weights, the same on both sides); wall seconds per run")
for i, (a, b) in enumerate(zip(t_ours, t_peer), 1):
    print(f"  pair {i}: vitscope-cli {a:7.1f} s ({n / a:5.2f} img/s)   peer {b:7.1f} s ({n / b:5.2f} img/s)   "
          f"peer / ours {b / a:5.2f}x")
ratios = [b / a for a, b in zip(t_ours, t_peer)]
print(f"  median peer / ours: {statistics.median(ratios):.2f}x  (peer: {peer['impl']}, {peer['threads']} torch "
      f"thread(s), same malloc settings as vitscope-cli)")
if t_plain > 0:
    print(f"  peer in the default environment (no malloc settings): {t_plain:7.1f} s, "
          f"{t_plain / statistics.median(t_ours):.2f}x the median vitscope-cli time")
diff = {k: max(abs(a - b) for a, b in zip(curve(k), peer[k])) for k in ("attention-distance", "nmi", "delta-log-amplitude")}
print("  largest difference of the curves (ours vs peer): " + ", ".join(f"{k} {v:.2e}" for k, v in diff.items()))
PY
