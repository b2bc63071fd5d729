#!/usr/bin/env bash
# The one GPU run of a session, inside a hard wall-clock limit:
#   build (CUDA LibTorch) -> CUDA checks (test_model, test_analysis) -> peer fixtures (timm, HF;
#   on the CPU, alongside) -> the bundled models trained concurrently for whatever time is left
#   -> evaluation -> short benchmarks if time remains -> everything into $OUT (≤ 8 files).
# Run through the dependency bundle (../shared/gpu/README.md), with the CIFAR-10 archive in
# .gpu/data/:
#   bash .gpu/device.sh 'LIMIT=560 bash tools/gpu/device_run.sh'
# Rehearsal here on the CPU: LIMIT=240 DEVICE=cpu REHEARSAL=1 OUT=/tmp/dev tools/gpu/device_run.sh
set -uo pipefail
START=$(date +%s)
LIMIT=${LIMIT:-560}          # seconds this script may take in all
DEVICE=${DEVICE:-cuda}
OUTDIR=${OUT:-out/device}
BUILD=${BUILD:-build-gpu}
DATA=${DATA:-.gpu/data/cifar10-jpg.tar.gz}
RESERVE=${RESERVE:-130}      # seconds kept after training: data load, evaluation, packing, benchmarks
mkdir -p "$OUTDIR"
LOG=$OUTDIR/device.log
elapsed() { echo $(( $(date +%s) - START )); }
log() { echo "[$(elapsed)s] $*" | tee -a "$LOG"; }

log "device_run: limit ${LIMIT}s, device $DEVICE, $(nproc) cores"
command -v nvidia-smi >/dev/null && nvidia-smi -L >> "$LOG" 2>&1
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda)' >> "$LOG" 2>&1

# Peer fixtures on the CPU, in the background (timm, HF ViTMAE, HF Dinov2 are only here).
if [ -z "${REHEARSAL:-}" ]; then
  ( CUDA_VISIBLE_DEVICES= timeout 300 python3 tests/scripts/make_peer_fixtures.py --peers timm,hf-vitmae,hf-dinov2 \
      --out /tmp/peer-fixtures > /tmp/peer-fixtures.log 2>&1
    cp /tmp/peer-fixtures.log /tmp/peer-fixtures/ 2>/dev/null
    tar -C /tmp -czf "$OUTDIR/peers.tar.gz" peer-fixtures ) &
fi

# Build: CLI, the numeric tests, the forward benchmark.
configure() {
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITSCOPE_BUILD_GUI=OFF "$@" >> "$OUTDIR/build.log" 2>&1
}
build() {
  cmake --build "$BUILD" -j "$(nproc)" --target vitscope-cli test_model test_analysis bench_forward_capture \
    >> "$OUTDIR/build.log" 2>&1
}
TORCH2=ON
if ! { configure -DVITSCOPE_TORCH2_FEATURES=ON && build; }; then
  log "build failed with LibTorch-2.x code paths; retrying without them"
  TORCH2=OFF
  configure -DVITSCOPE_TORCH2_FEATURES=OFF && build || log "build failed: $(grep -m3 -E 'error' "$OUTDIR/build.log")"
fi
log "build done (VITSCOPE_TORCH2_FEATURES=$TORCH2): $(grep -m1 -E '^-- LibTorch' "$OUTDIR/build.log")"
[ -x "$BUILD/app/vitscope-cli" ] || { log "no CLI, stopping"; exit 1; }

for t in test_model test_analysis; do
  [ -x "$BUILD/tests/$t" ] || continue
  VITSCOPE_FIXTURES=tests/fixtures timeout 120 "$BUILD/tests/$t" --gtest_brief=1 > "$OUTDIR/$t.log" 2>&1
  log "$t exit $?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$OUTDIR/$t.log" | tr '\n' ' ')"
done

# Training gets what is left minus the reserve.
left=$(( LIMIT - $(elapsed) - RESERVE ))
budget=$(python3 -c "print(max(0.5, $left / 60.0))")
log "training for $budget min per model"
EXTRA=()
[ -n "${REHEARSAL:-}" ] && EXTRA=(--max-steps 3 --batch-size 16 --max-per-class 20 --eval-max-per-class 10 --linear-probe-epochs 2 --jobs 2)
OUT="$OUTDIR/bundled" bash tools/gpu/train_bundled.sh --skip-build --build-dir "$BUILD" --device "$DEVICE" \
  --data "$DATA" --budget-minutes "$budget" --out "$OUTDIR/bundled" "${EXTRA[@]}" >> "$LOG" 2>&1
log "training script exit $?"

# Benchmarks with what remains (ViT-S/16 and ViT-B/16 forward with capture vs timm hooks).
if [ $(( LIMIT - $(elapsed) )) -gt 45 ] && [ -z "${REHEARSAL:-}" ]; then
  BENCH="$BUILD/benchmarks/bench_forward_capture" timeout $(( LIMIT - $(elapsed) - 15 )) \
    bash benchmarks/run_forward.sh "$DEVICE" 10 timm python3 > "$OUTDIR/bench_forward.txt" 2>&1
  log "forward benchmark exit $?"
fi
wait
# At most 8 files come back: fold the small ones into one archive.
log "done; $OUTDIR: $(ls "$OUTDIR" "$OUTDIR/bundled" | tr '\n' ' ')"
( cd "$OUTDIR" && files=$(ls device.log build.log test_*.log bench_forward.txt 2>/dev/null || true)
  [ -n "$files" ] && tar -czf logs.tar.gz $files && rm -f $files )
