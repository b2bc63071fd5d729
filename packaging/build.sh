#!/usr/bin/env bash
# Configures and builds ViTScope into ./build (Release, Ninja, ccache when present).
# Extra CMake arguments are passed through, e.g. -DCMAKE_PREFIX_PATH=/path/to/libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${VITSCOPE_BUILD_DIR:-build}
JOBS=${VITSCOPE_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$BUILD_DIR" -j "$JOBS"
