#!/usr/bin/env bash
# Builds vitscope-cli, trains the four bundled models (MoCo v3, SimMIM, MAE, hybrid λ=0.2)
# concurrently on one device for a wall-clock budget, evaluates them on CIFAR-10 test and packs
# models, logs and what fits of the checkpoints into the output folder. Hyper-parameters and
# their reasons: docs/MODELS.md.
#
# On the GPU machine (see ../shared/gpu/README.md; the archive copied to .gpu/data first):
#   bash .gpu/device.sh 'bash tools/gpu/train_bundled.sh --budget-minutes 5'
# Here, on the CPU, as an end-to-end rehearsal (tiny data, a few steps):
#   tools/gpu/train_bundled.sh --device cpu --data ../shared/data/cifar10/cifar10-jpg.tar.gz \
#     --build-dir build-train --jobs 2 --budget-minutes 1 --max-steps 2 --batch-size 16 \
#     --max-per-class 20 --eval-max-per-class 10 --linear-probe-epochs 2 --out /tmp/bundled
#
# Options:
#   --budget-minutes M     training time per model, all four running at once (default 5)
#   --device cuda|cpu      (default cuda)
#   --data PATH            CIFAR-10 archive or folder (default .gpu/data/cifar10-jpg.tar.gz)
#   --out DIR              where the packed results go (default $OUT, else out/bundled)
#   --build-dir DIR        (default build-gpu)    --jobs N   (default: all cores)
#   --cmake-prefix PATH    prepended to CMAKE_PREFIX_PATH (default: none when CMAKE_PREFIX_PATH is
#                          set, as by .gpu/device.sh; else python3's torch.utils.cmake_prefix_path)
#   --skip-build           use the existing build
#   --models "moco ..."    which of moco simmim mae hybrid to train (default: all four)
#   --lr L                 peak learning rate for every model trained (default: each recipe's own)
#   --batch-size N         (default 512)
#   --benchmark            afterwards: C++ vs Python training throughput (benchmarks/train_throughput.py)
#   Training longer than one device call (at most 10 minutes, the build included) spans two:
#   --checkpoint-root DIR  checkpoints in DIR/<model> (default: a temporary folder); a folder that
#                          outlives the call (e.g. /tmp/vitscope-span) lets the next call resume
#   --deadline-seconds S   stop training S seconds after this script started; the per-epoch
#                          checkpoints (written atomically) keep the place, and evaluation and
#                          packing wait for the call that finishes
#   --resume               continue each model from its checkpoint under --checkpoint-root; the
#                          time budget counts the training time of every call, so give the same
#                          --budget-minutes (the total) to both
#   rehearsal knobs: --max-steps N --max-per-class N --eval-max-per-class N
#                    --linear-probe-epochs N
set -uo pipefail

BUDGET=5 DEVICE=cuda DATA=.gpu/data/cifar10-jpg.tar.gz OUTDIR=${OUT:-out/bundled} BUILD=build-gpu
JOBS=$(nproc) PREFIX="" SKIP_BUILD=0 BENCHMARK=0 MODELS="moco simmim mae hybrid" LR=
MAX_STEPS=0 BATCH="" MAX_PER_CLASS=0 EVAL_MAX_PER_CLASS=0 PROBE_EPOCHS=100
CHECKPOINT_ROOT="" DEADLINE=0 RESUME=0
while [ $# -gt 0 ]; do
  case "$1" in
    --budget-minutes) BUDGET=$2; shift ;;
    --device) DEVICE=$2; shift ;;
    --data) DATA=$2; shift ;;
    --out) OUTDIR=$2; shift ;;
    --build-dir) BUILD=$2; shift ;;
    --jobs) JOBS=$2; shift ;;
    --cmake-prefix) PREFIX=$2; shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    --models) MODELS=$2; shift ;;
    --lr) LR=$2; shift ;;
    --benchmark) BENCHMARK=1 ;;
    --max-steps) MAX_STEPS=$2; shift ;;
    --batch-size) BATCH=$2; shift ;;
    --max-per-class) MAX_PER_CLASS=$2; shift ;;
    --eval-max-per-class) EVAL_MAX_PER_CLASS=$2; shift ;;
    --linear-probe-epochs) PROBE_EPOCHS=$2; shift ;;
    --checkpoint-root) CHECKPOINT_ROOT=$2; shift ;;
    --deadline-seconds) DEADLINE=$2; shift ;;
    --resume) RESUME=1 ;;
    *) echo "train_bundled.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

START=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vitscope-bundled.XXXXXX")
STAGE=$WORK/bundled                      # becomes the packed archive
CHECKPOINT_ROOT=${CHECKPOINT_ROOT:-$WORK/checkpoints}
mkdir -p "$STAGE/models" "$STAGE/logs" "$CHECKPOINT_ROOT" "$OUTDIR"
log() { echo "[$(( $(date +%s) - START ))s] $*"; }
CLI=$BUILD/app/vitscope-cli

# ---------------------------------------------------------------------------------------------
# 1. Build: vitscope-cli (+ test_model). If the LibTorch-2.x-only code paths do not compile,
#    rebuild without them (fp32 + TF32 training instead of bf16 autocast).
if [ -z "$PREFIX" ] && [ -z "${CMAKE_PREFIX_PATH:-}" ]; then
  PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)
fi
[ -n "$PREFIX" ] && export CMAKE_PREFIX_PATH="$PREFIX${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
configure() {  # $@: extra cmake flags; GoogleTest is optional (test_model is only a check)
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITSCOPE_BUILD_GUI=OFF \
        -DVITSCOPE_BUILD_BENCHMARKS=OFF "$@" >> "$STAGE/logs/build.log" 2>&1 ||
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITSCOPE_BUILD_GUI=OFF \
        -DVITSCOPE_BUILD_BENCHMARKS=OFF -DVITSCOPE_BUILD_TESTS=OFF "$@" >> "$STAGE/logs/build.log" 2>&1
}
build() {  # keep going past a test that fails to compile: only the CLI decides
  local targets=vitscope-cli
  ninja -C "$BUILD" -t targets all 2>/dev/null | grep -q '^test_model:' && targets="vitscope-cli test_model"
  cmake --build "$BUILD" -j "$JOBS" --target $targets -- -k 0 >> "$STAGE/logs/build.log" 2>&1
  cmake --build "$BUILD" --target vitscope-cli >> "$STAGE/logs/build.log" 2>&1
}
TORCH2=ON
if [ $SKIP_BUILD = 0 ]; then
  log "building vitscope-cli in $BUILD ($JOBS jobs)"
  if ! { configure -DVITSCOPE_TORCH2_FEATURES=ON && build; }; then
    log "build failed with the LibTorch 2.x code paths; retrying with -DVITSCOPE_TORCH2_FEATURES=OFF"
    TORCH2=OFF
    configure -DVITSCOPE_TORCH2_FEATURES=OFF && build || { log "build failed (logs/build.log)"; tail -40 "$STAGE/logs/build.log"; }
  fi
fi
[ -x "$CLI" ] || { log "no $CLI: giving up"; cp -r "$STAGE/logs" "$OUTDIR/"; exit 1; }
grep -E "^-- (LibTorch|Found ZLIB|Could NOT find ZLIB)" "$STAGE/logs/build.log" 2>/dev/null | sort -u > "$STAGE/logs/build-summary.txt"
echo "VITSCOPE_TORCH2_FEATURES=$TORCH2" >> "$STAGE/logs/build-summary.txt"
log "build done: $(tr '\n' ' ' < "$STAGE/logs/build-summary.txt")"

if [ -x "$BUILD/tests/test_model" ]; then
  log "test_model (model numerics, CPU/CUDA)"
  VITSCOPE_SHARED=../shared timeout 120 "$BUILD/tests/test_model" --gtest_brief=1 > "$STAGE/logs/test_model.log" 2>&1
  log "test_model exit $? ($(grep -cE '^\[  (PASSED|FAILED) ' "$STAGE/logs/test_model.log") summary lines)"
fi

# ---------------------------------------------------------------------------------------------
# 2. Data: the archive, or its extraction when this build cannot read .tar.gz (no zlib headers).
if [ -f "$DATA" ] && grep -q "ZLIB_INCLUDE_DIR:PATH=.*NOTFOUND" "$BUILD/CMakeCache.txt" 2>/dev/null; then
  log "built without zlib: extracting $DATA"
  mkdir -p "$WORK/data" && tar -xzf "$DATA" -C "$WORK/data" && DATA=$WORK/data
fi

# ---------------------------------------------------------------------------------------------
# 3. The four models. Shared: bundled architecture (32 px, patch 4, 128-d, 12 blocks, 4 heads),
#    batch 512, 2 warm-up epochs, cosine to 1e-6 over the epochs the budget allows.
COMMON=(--data "$DATA" --device "$DEVICE" --normalize cifar10 --epochs 400 --warmup-epochs 2 --batch-size "${BATCH:-512}"
        --seed 0 --half --log-every 25 --time-budget-minutes "$BUDGET" --threads 4)
[ "$MAX_PER_CLASS" != 0 ] && COMMON+=(--max-per-class "$MAX_PER_CLASS")
STEPS=()
[ "$MAX_STEPS" != 0 ] && STEPS=(--max-steps "$MAX_STEPS")
declare -A RECIPE=(
  [moco]="--objective moco --lr 1e-3 --weight-decay 0.1"
  [simmim]="--objective simmim --lr 1e-3 --weight-decay 0.05"
  [mae]="--objective mae --lr 1.5e-3 --weight-decay 0.05 --beta2 0.95"
  [hybrid]="--objective hybrid --lambda 0.2 --lr 1e-3 --weight-decay 0.05"
)
# --lr replaces each recipe's own learning rate.
[ -n "$LR" ] && for m in "${!RECIPE[@]}"; do RECIPE[$m]=$(sed -E "s/--lr [^ ]+/--lr $LR/" <<< "${RECIPE[$m]}"); done

# Pre-flight: a few steps of each with bf16 autocast; if any fails, train all without it. (A
# resumed run keeps the recipe of its checkpoint, autocast included.)
AMP=(--amp)
[ $RESUME = 1 ] || log "pre-flight: 3 steps of each objective with --amp"
[ $RESUME = 1 ] || for m in $MODELS; do
  # shellcheck disable=SC2086
  "$CLI" pretrain ${RECIPE[$m]} --data "$DATA" --device "$DEVICE" --batch-size 32 --max-per-class 40 --epochs 1 \
    --max-steps 3 --amp --out "$WORK/preflight/$m.safetensors" --checkpoint-dir "$WORK/preflight/$m-ckpt" \
    > "$STAGE/logs/preflight-$m.log" 2>&1 &
done
PREFLIGHT_OK=1
for job in $(jobs -p); do wait "$job" || PREFLIGHT_OK=0; done
if [ $PREFLIGHT_OK = 0 ]; then
  log "pre-flight failed with --amp; training in fp32 (+TF32). Logs:"; tail -5 "$STAGE"/logs/preflight-*.log
  AMP=()
fi

log "training $MODELS concurrently for $BUDGET min each on $DEVICE"
RUN=()
[ $RESUME = 1 ] && RUN+=(--resume)
# timeout's SIGTERM ends a process at the deadline; its last per-epoch checkpoint is complete.
STOP=()
if [ "$DEADLINE" != 0 ]; then
  until_deadline=$(( DEADLINE - ($(date +%s) - START) ))
  STOP=(timeout $(( until_deadline > 1 ? until_deadline : 1 )))
fi
declare -A PID
for m in $MODELS; do
  # shellcheck disable=SC2086
  "${STOP[@]}" "$CLI" pretrain ${RECIPE[$m]} "${COMMON[@]}" "${STEPS[@]}" "${AMP[@]}" "${RUN[@]}" --out "$STAGE/models/$m.safetensors" \
    --checkpoint-dir "$CHECKPOINT_ROOT/$m" >> "$STAGE/logs/pretrain-$m.log" 2>&1 &
  PID[$m]=$!
done
declare -A STATUS
UNFINISHED=""
for m in $MODELS; do
  wait "${PID[$m]}"; STATUS[$m]=$?
  [ "${STATUS[$m]}" = 124 ] && UNFINISHED+=" $m"
  log "$m: exit ${STATUS[$m]}: $(grep -E '^(training stopped|epoch [0-9]+/[0-9]+ done)' "$STAGE/logs/pretrain-$m.log" | tail -1)"
done
if [ -n "$UNFINISHED" ]; then
  log "deadline reached for$UNFINISHED: checkpoints in $CHECKPOINT_ROOT; the next call continues with --resume"
  # Should the next call find a fresh machine (checkpoints gone), the model as it stands still
  # comes back: resumed with --max-steps 1, the trainer stops before any step and writes the online
  # model and its card (history so far; mid-schedule, learning rate not yet annealed). It writes no
  # checkpoint: the saved one ends an epoch.
  for m in $UNFINISHED; do
    # shellcheck disable=SC2086
    "$CLI" pretrain ${RECIPE[$m]} "${COMMON[@]}" "${AMP[@]}" --resume --max-steps 1 \
      --out "$STAGE/models/$m-at-deadline.safetensors" --checkpoint-dir "$CHECKPOINT_ROOT/$m" \
      > "$STAGE/logs/at-deadline-$m.log" 2>&1
    log "$m as it stands: exit $?: $(grep -E '^(training stopped|model:)' "$STAGE/logs/at-deadline-$m.log" | tr '\n' ' ')"
  done
  tar -C "$STAGE" -czf "$OUTDIR/until-deadline.tar.gz" logs models  # one file: a call returns at most 8
  rm -rf "$WORK"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 4. Evaluation on CIFAR-10 test: kNN (k=20) and linear probe on train -> test, reconstruction loss.
log "evaluating"
EVAL=(--data "$DATA" --device "$DEVICE" --linear-probe-epochs "$PROBE_EPOCHS" --update-card --threads 4)
[ "$EVAL_MAX_PER_CLASS" != 0 ] && EVAL+=(--max-per-class "$EVAL_MAX_PER_CLASS")
for m in $MODELS; do
  [ -f "$STAGE/models/$m.safetensors" ] || continue
  "$CLI" eval "$STAGE/models/$m.safetensors" "${EVAL[@]}" --out "$STAGE/models/$m-eval.json" \
    > "$STAGE/logs/eval-$m.log" 2>&1 &
done
wait

if [ $BENCHMARK = 1 ]; then
  log "throughput benchmark (C++ vs Python, batch 512, bf16 on CUDA)"
  python3 benchmarks/train_throughput.py --cli "$CLI" --data "$DATA" --device "$DEVICE" --batch-size 512 \
    --steps 20 --warmup 5 ${AMP[@]:+--amp} > "$STAGE/logs/benchmark.log" 2>&1
  cat "$STAGE/logs/benchmark.log"
fi

# ---------------------------------------------------------------------------------------------
# 5. Summary and packing. The device returns at most 8 files of 16 MiB, 64 MiB in all: models,
#    cards, metrics and logs always; training checkpoints (resumable, fp32 with optimiser state)
#    smallest first while the archive stays under 60 MiB; then split into 15 MiB parts.
python3 - "$STAGE" $MODELS > "$STAGE/summary.txt" <<'EOF'
import json, os, sys
stage, models = sys.argv[1], sys.argv[2:]
print(f"{'model':8s} {'epochs':>7s} {'steps':>7s} {'minutes':>7s} {'kNN':>7s} {'probe':>7s} {'recon':>8s}  stop")
total = 0
for m in models:
    card_path = os.path.join(stage, "models", m + ".json")
    if not os.path.exists(card_path):
        print(f"{m:8s} (no model)"); continue
    card = json.load(open(card_path)); t = card.get("training", {}); k = card.get("metrics", {})
    val = lambda key: f"{k[key]['value']:.4f}" if key in k else "-"
    total += os.path.getsize(os.path.join(stage, "models", m + ".safetensors"))
    print(f"{m:8s} {t.get('epochs_completed', 0):7.1f} {t.get('steps', 0):7d} {t.get('wall_seconds', 0) / 60:7.2f} "
          f"{val('knn_top1'):>7s} {val('linear_probe_top1'):>7s} {val('reconstruction_loss'):>8s}  {t.get('stop_reason', '?')}")
print(f"exported weights: {total / 2**20:.1f} MiB in all (limit 24 MB)")
EOF
cat "$STAGE/summary.txt"

budget_bytes=$((60 * 1024 * 1024))
KEPT=${KEPT_CHECKPOINTS:-/tmp/vitscope-checkpoints}
tar -C "$WORK" -czf "$WORK/pack.tar.gz" bundled
for ckpt in $(ls -S -r "$CHECKPOINT_ROOT"/*/checkpoint.safetensors 2>/dev/null); do
  name=$(basename "$(dirname "$ckpt")")
  mkdir -p "$STAGE/checkpoints/$name" && cp "$ckpt" "$STAGE/checkpoints/$name/"
  tar -C "$WORK" -czf "$WORK/try.tar.gz" bundled
  if [ "$(stat -c %s "$WORK/try.tar.gz")" -le $budget_bytes ]; then
    mv "$WORK/try.tar.gz" "$WORK/pack.tar.gz"; echo "checkpoint included: $name" >> "$STAGE/logs/packing.log"
  else
    rm -rf "$STAGE/checkpoints/$name" "$WORK/try.tar.gz"
    # Kept on the machine (while it stays warm) for a second call to fetch in parts.
    mkdir -p "$KEPT/$name" && cp "$ckpt" "$KEPT/$name/"
    echo "checkpoint left out (size limit): $name ($(stat -c %s "$ckpt") bytes), kept as $KEPT/$name/checkpoint.safetensors" >> "$STAGE/logs/packing.log"
  fi
done
[ -f "$STAGE/logs/packing.log" ] && cat "$STAGE/logs/packing.log"
tar -C "$WORK" -czf "$WORK/pack.tar.gz" bundled  # once more, with packing.log
rm -f "$OUTDIR"/bundled.tar.gz.part-*
split -b 15m -d "$WORK/pack.tar.gz" "$OUTDIR/bundled.tar.gz.part-"
cp "$STAGE/summary.txt" "$OUTDIR/summary.txt"
log "packed into $OUTDIR: $(ls "$OUTDIR" | tr '\n' ' ')(cat bundled.tar.gz.part-* | tar -xz)"
rm -rf "$WORK"
for m in $MODELS; do [ "${STATUS[$m]}" = 0 ] || exit 1; done
