#!/usr/bin/env bash
# A short second look on the GPU machine, for a session with a few device-minutes left over:
# builds the suites device_run.sh does not (test_train, test_runtime, test_cli) against the
# machine's LibTorch 2.x and runs them there, then, when Nsight Systems is installed, profiles 10
# MoCo v3 training steps of the C++ trainer and of the PyTorch loop of
# benchmarks/train_throughput.py (batch 2048, bf16) and keeps the kernel summaries: what the
# C++ trainer's 0.76x against PyTorch is made of (docs/PERFORMANCE.md). Test output is line-buffered
# and every test is listed, so that a crash (tests/support/test_main.cpp prints the test and the
# stack) shows where it happened.
#   bash .gpu/device.sh 'LIMIT=200 OUT=$OUT bash tools/gpu/cuda_checks.sh'
set -uo pipefail
START=$(date +%s)
LIMIT=${LIMIT:-200}
OUTDIR=${OUT:-out/device}
BUILD=${BUILD:-build-gpu}
DATA=${DATA:-.gpu/data/cifar10-jpg.tar.gz}
mkdir -p "$OUTDIR/logs"
LOG=$OUTDIR/logs/cuda_checks.log
left() { echo $(( LIMIT - ($(date +%s) - START) )); }
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$LOG"; }

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITSCOPE_BUILD_GUI=OFF -DVITSCOPE_TORCH2_FEATURES=ON \
  > "$OUTDIR/logs/build.log" 2>&1 &&
  timeout $(( $(left) - 60 )) cmake --build "$BUILD" -j "$(nproc)" --target vitscope-cli test_train test_runtime test_cli \
    >> "$OUTDIR/logs/build.log" 2>&1
log "build exit $?"

for t in test_train test_runtime test_cli; do
  [ -x "$BUILD/tests/$t" ] || { log "$t: not built"; continue; }
  [ "$(left)" -gt 50 ] || { log "$t: skipped, not enough time"; continue; }
  VITSCOPE_FIXTURES=tests/fixtures VITSCOPE_RESOURCES=resources VITSCOPE_CLI=$BUILD/app/vitscope-cli \
    timeout $(( $(left) - 45 )) stdbuf -oL -eL "$BUILD/tests/$t" > "$OUTDIR/logs/$t.log" 2>&1
  log "$t exit $?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) |crashed' "$OUTDIR/logs/$t.log" | tr '\n' ' ')"
done

if command -v nsys > /dev/null && [ "$(left)" -gt 40 ]; then
  log "nsys $(nsys --version 2>&1 | head -1)"
  timeout 20 nsys profile -o /tmp/cpp-train --force-overwrite true --stats=false "$BUILD/app/vitscope-cli" pretrain \
    --objective moco --data "$DATA" --device cuda --batch-size 2048 --amp --benchmark-steps 10 --benchmark-warmup 3 \
    --out /tmp/probe/moco.safetensors > "$OUTDIR/logs/nsys-cpp.log" 2>&1
  nsys stats -r cuda_gpu_kern_sum,cuda_api_sum /tmp/cpp-train.nsys-rep > "$OUTDIR/logs/nsys-cpp-stats.txt" 2>&1
  timeout 20 nsys profile -o /tmp/py-train --force-overwrite true --stats=false python3 benchmarks/train_throughput.py \
    --data "$DATA" --device cuda --batch-size 2048 --steps 10 --warmup 3 --amp --objective moco \
    > "$OUTDIR/logs/nsys-py.log" 2>&1
  nsys stats -r cuda_gpu_kern_sum,cuda_api_sum /tmp/py-train.nsys-rep > "$OUTDIR/logs/nsys-py-stats.txt" 2>&1
  log "profiles: $(wc -l < "$OUTDIR/logs/nsys-cpp-stats.txt") and $(wc -l < "$OUTDIR/logs/nsys-py-stats.txt") lines"
else
  log "no nsys on this machine (or no time): no profile"
fi
tar -C "$OUTDIR" -czf "$OUTDIR/cuda_checks.tar.gz" logs && rm -rf "$OUTDIR/logs"
