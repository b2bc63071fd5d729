#!/usr/bin/env bash
# The one GPU run of a session, inside a hard wall-clock limit:
#   build (CUDA LibTorch) -> test suites (test_model, test_analysis) -> benchmarks against the
#   PyTorch peers (forward with capture, dataset analysis, training and fine-tuning throughput)
#   -> the chosen bundled models trained for whatever time is left -> evaluation -> everything
#   into $OUT (≤ 8 files).
# Run through the dependency bundle (../shared/gpu/README.md), with the CIFAR-10 archive in
# .gpu/data/, in one command or two (one command may run at most 10 minutes; the machine keeps
# build-gpu between the two while it stays warm):
#   bash .gpu/device.sh 'LIMIT=540 PHASE=train MODELS=moco BATCH=2048 LR=1.5e-3 bash tools/gpu/device_run.sh'
#   bash .gpu/device.sh 'LIMIT=200 PHASE=bench BATCH=2048 bash tools/gpu/device_run.sh'
# While other work is uncommitted in the tree, send a snapshot of HEAD instead (what ran on
# 2026-11-26): `git archive HEAD -- . ':!resources/models' ':!docs/images' | tar -x -C .snap`
# (.snap listed in .git/info/exclude), carry .gpu and .snap, and `cd .snap` first with
# DATA=../.gpu/data/cifar10-jpg.tar.gz. Carrying .snap again replaces it there, build included.
# Rehearsal here on the CPU: LIMIT=300 DEVICE=cpu REHEARSAL=1 OUT=/tmp/dev tools/gpu/device_run.sh
#
# Knobs (environment):
#   LIMIT        seconds in all
#   PHASE        all (default); train (build, training); bench (checks and benchmarks with the
#                existing build)
#   MODELS       models to train (default all four); BATCH and LR for them (default: each recipe's)
#   PROBE        "B1:LR1 B2:LR2": pick MoCo's BATCH and LR by measured throughput (below)
#   SPAN_MINUTES, RESUME   train over two calls (below)
#   BENCHMARKS   a subset of "forward analysis train ops finetune finetune_job" (default all; one whose
#                tool is missing is skipped); FINETUNE_EPOCHS for finetune_job (default 10)
#   TESTS        test suites to build and run (default "test_model test_analysis"); with
#                PHASE=train they run only when set, in the background during training
#   PEERS        peer fixtures to remake on the CPU alongside (default none; e.g.
#                "timm,hf-vitmae,hf-dinov2")
#   RESERVE      seconds kept after training for evaluation and packing
#   SKIP_BUILD=1 use an existing $BUILD (rehearsals)
set -uo pipefail
START=$(date +%s)
LIMIT=${LIMIT:-560}
DEVICE=${DEVICE:-cuda}
OUTDIR=${OUT:-out/device}
BUILD=${BUILD:-build-gpu}
DATA=${DATA:-.gpu/data/cifar10-jpg.tar.gz}
RESERVE=${RESERVE:-120}
MODELS=${MODELS:-moco simmim mae hybrid}
BENCHMARKS=${BENCHMARKS:-forward analysis train ops finetune finetune_job}
TESTS=${TESTS:-test_model test_analysis}
FINETUNE_EPOCHS=${FINETUNE_EPOCHS:-10}
PEERS=${PEERS:-}
PHASE=${PHASE:-all}
[ "$PHASE" = bench ] && SKIP_BUILD=1
mkdir -p "$OUTDIR"
LOG=$OUTDIR/device.log
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( LIMIT - $(elapsed) )); }
log() { echo "[$(elapsed)s] $*" | tee -a "$LOG"; }
wants() { [[ " $BENCHMARKS " == *" $1 "* ]]; }

log "device_run: limit ${LIMIT}s, device $DEVICE, $(nproc) cores, models '$MODELS', batch ${BATCH:-recipe}, lr ${LR:-recipe}"
command -v nvidia-smi >/dev/null && nvidia-smi -L >> "$LOG" 2>&1
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda)' >> "$LOG" 2>&1

if [ -n "$PEERS" ] && [ -z "${REHEARSAL:-}" ]; then
  ( CUDA_VISIBLE_DEVICES='' timeout 300 python3 tests/scripts/make_peer_fixtures.py --peers "$PEERS" \
      --out /tmp/peer-fixtures > /tmp/peer-fixtures.log 2>&1
    cp /tmp/peer-fixtures.log /tmp/peer-fixtures/ 2>/dev/null
    tar -C /tmp -czf "$OUTDIR/peers.tar.gz" peer-fixtures ) &
fi

# ---------------------------------------------------------------------------------------------
# Build: CLI, the numeric tests, the forward benchmark.
configure() {
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITSCOPE_BUILD_GUI=OFF "$@" >> "$OUTDIR/build.log" 2>&1
}
# Keep-going builds (-k 0: a test or benchmark that fails to compile costs only itself; the
# benchmarks apart, so that one missing from a configuration leaves the tests alone). Whether the
# CLI builds decides success (the last command is a no-op when it did).
build() {
  local group
  for group in "vitscope-cli $TESTS" "bench_forward_capture vitscope_op_census"; do
    # shellcheck disable=SC2086
    cmake --build "$BUILD" -j "$(nproc)" --target $group -- -k 0 >> "$OUTDIR/build.log" 2>&1 ||
      log "not all of '$group' built: $(grep -m3 -E '^FAILED|unknown target' "$OUTDIR/build.log" | tr '\n' ' ')"
  done
  cmake --build "$BUILD" --target vitscope-cli >> "$OUTDIR/build.log" 2>&1
}
TORCH2=ON
if [ -n "${SKIP_BUILD:-}" ]; then
  log "using the existing build in $BUILD"
elif ! { configure -DVITSCOPE_TORCH2_FEATURES=ON && build; }; then
  log "build failed with LibTorch-2.x code paths: $(grep -m3 -E 'error' "$OUTDIR/build.log"); retrying without them"
  TORCH2=OFF
  configure -DVITSCOPE_TORCH2_FEATURES=OFF && build || log "build failed: $(grep -m3 -E 'error' "$OUTDIR/build.log")"
fi
log "build done (VITSCOPE_TORCH2_FEATURES=$TORCH2): $(grep -m1 -E '^-- LibTorch' "$OUTDIR/build.log")"
CLI=$BUILD/app/vitscope-cli
[ -x "$CLI" ] || { log "no CLI, stopping"; exit 1; }

# Test suites: line-buffered with every test listed, so that a crash's report (the running test
# and the stack, tests/support/test_main.cpp) is not lost in a buffer. Before the benchmarks; with
# PHASE=train in the background while the model trains (they are CPU work, mostly).
# Beside training they run niced with 8 threads, so that the trainer's launch thread never waits
# for a core (a starved launch thread leaves the GPU idle).
run_tests() {
  local polite=()
  [ "$PHASE" = train ] && polite=(env OMP_NUM_THREADS=8 nice -n 19)
  for t in $TESTS; do
    [ -x "$BUILD/tests/$t" ] || { log "$t: not built"; continue; }
    VITSCOPE_FIXTURES=tests/fixtures VITSCOPE_RESOURCES=resources VITSCOPE_CLI=$CLI \
      timeout 150 "${polite[@]}" stdbuf -oL -eL "$BUILD/tests/$t" > "$OUTDIR/$t.log" 2>&1
    log "$t exit $?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) |crashed' "$OUTDIR/$t.log" | tr '\n' ' ')"
  done
}
if [ "$PHASE" != train ]; then
  run_tests
elif [ "$TESTS" != "test_model test_analysis" ]; then
  run_tests &
fi

# ---------------------------------------------------------------------------------------------
# Benchmarks, each against its PyTorch peer in the same run, before training has the GPU.
bench() {  # name, seconds allowed, command...
  local name=$1 seconds=$2; shift 2
  local after=$RESERVE
  [ "$PHASE" = bench ] && after=5
  [ "$(left)" -gt $(( seconds + after )) ] || { log "benchmark $name skipped: not enough time"; return; }
  timeout "$seconds" "$@" > "$OUTDIR/bench_$name.txt" 2>&1
  log "benchmark $name exit $?: $(tail -3 "$OUTDIR/bench_$name.txt" | tr '\n' ' ')"
}
if [ -z "${REHEARSAL:-}" ] && [ "$PHASE" != train ]; then
  wants forward && BENCH="$BUILD/benchmarks/bench_forward_capture" bench forward 45 \
    bash benchmarks/run_forward.sh "$DEVICE" 5 timm python3
  wants analysis && CLI="$CLI" ARCHIVE="$DATA" PEER_PLAIN=0 bench analysis 75 \
    bash benchmarks/run_analysis.sh "$DEVICE" 1000 timm python3
  wants train && bench train 60 python3 benchmarks/train_throughput.py --cli "$CLI" --data "$DATA" \
    --device "$DEVICE" --batch-size "${BATCH:-512}" --steps 10 --warmup 3 --amp
  # ATen ops per training step, C++ against PyTorch (benchmarks/op_census.py): where the gap is.
  wants ops && bench ops 60 python3 benchmarks/op_census.py --cli "$CLI" --data "$DATA" --device "$DEVICE" --amp \
    --census "$BUILD/benchmarks/libvitscope_op_census.so" --batch-size 256
  wants finetune && bench finetune 45 python3 benchmarks/finetune_throughput.py --cli "$CLI" --data "$DATA" \
    --device "$DEVICE" --amp --model resources/models/mae.safetensors
  if wants finetune_job; then
    # A real job as the panel runs it (its own CUDA stream): the bundled MoCo v3 fine-tuned on
    # CIFAR-10 train with 10 % held out; the log's first line should say "on cuda:0 (own CUDA
    # stream)", its last epoch line has val_top1 and images/s.
    bench finetune_job 120 "$CLI" finetune --model resources/models/moco.safetensors --data "$DATA" --mode finetune \
      --epochs "$FINETUNE_EPOCHS" --batch-size 512 --lr 1e-3 --device "$DEVICE" --log-every 50 --out /tmp/finetune-job/moco-ft.safetensors
  fi
fi

# ---------------------------------------------------------------------------------------------
# Batch probe (PROBE="B1:LR1 B2:LR2", smaller batch first): MoCo's C++ training throughput at
# each batch size; the larger batch (with its learning rate) is used when it brings >= 1.2x the
# images per second, i.e. when the step is bound by the host rather than by the GPU. At a fixed
# number of epochs a larger contrastive batch is at least as good for short schedules (more
# negatives per step), so more epochs in the same minutes decide it.
if [ -n "${PROBE:-}" ] && [ "$PHASE" != bench ]; then
  read -r -a probes <<< "$PROBE"
  best_ips=0
  for p in "${probes[@]}"; do
    b=${p%%:*} l=${p##*:}
    ips=$(timeout 60 "$CLI" pretrain --objective moco --data "$DATA" --device "$DEVICE" --batch-size "$b" --amp \
            --benchmark-steps 10 --benchmark-warmup 3 --out /tmp/probe/moco.safetensors 2>&1 |
          tee -a "$OUTDIR/bench_probe.txt" | sed -nE 's/^benchmark: .*: ([0-9.]+) img\/s$/\1/p')
    log "probe: moco batch $b: ${ips:-failed} img/s"
    [ -n "$ips" ] || continue
    if [ "$best_ips" = 0 ] || python3 -c "import sys; sys.exit(0 if $ips >= 1.2 * $best_ips else 1)"; then
      best_ips=$ips BATCH=$b LR=$l
    fi
  done
  log "probe chose batch ${BATCH:-recipe}, lr ${LR:-recipe}"
fi

# ---------------------------------------------------------------------------------------------
# Training gets what is left minus the reserve (evaluation, packing).
if [ "$PHASE" != bench ]; then
  budget=$(python3 -c "print(max(0.5, ($(left) - $RESERVE) / 60.0))")
  EXTRA=()
  [ -n "${BATCH:-}" ] && EXTRA+=(--batch-size "$BATCH")
  [ -n "${LR:-}" ] && EXTRA+=(--lr "$LR")
  [ -n "${REHEARSAL:-}" ] && EXTRA=(--max-steps 3 --batch-size 16 --max-per-class 20 --eval-max-per-class 10 --linear-probe-epochs 2 --jobs 2)
  if [ -n "${SPAN_MINUTES:-}" ]; then
    # Training over two calls: this call trains until LIMIT - RESERVE and leaves the checkpoints
    # on the machine; the next one (RESUME=1, SKIP_BUILD=1, same SPAN_MINUTES) finishes,
    # evaluates and packs. The budget is the training time of both calls together.
    budget=$SPAN_MINUTES
    EXTRA+=(--checkpoint-root /tmp/vitscope-span --deadline-seconds "$(( $(left) - RESERVE ))")
    [ -n "${RESUME:-}" ] && EXTRA+=(--resume)
  fi
  log "training '$MODELS' for $budget min"
  OUT="$OUTDIR/bundled" bash tools/gpu/train_bundled.sh --skip-build --build-dir "$BUILD" --device "$DEVICE" \
    --data "$DATA" --budget-minutes "$budget" --models "$MODELS" --out "$OUTDIR/bundled" "${EXTRA[@]}" >> "$LOG" 2>&1
  log "training script exit $?"
fi
wait
# At most 8 files come back: fold the small ones into one archive.
log "done; $OUTDIR: $(ls -R "$OUTDIR" | tr '\n' ' ')"
( cd "$OUTDIR" && files=$(ls device.log build.log test_*.log bench_*.txt 2>/dev/null || true)
  [ -n "$files" ] && tar -czf logs.tar.gz $files && rm -f $files )
