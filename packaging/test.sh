#!/usr/bin/env bash
# One command on a fresh Debian 12: install what is missing (test tools included), build and
# run every test. Tests that need ../shared data or a GPU skip with a message when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
./packaging/install-deps.sh --tests
./packaging/fetch-samples.sh
./packaging/build.sh
# Debian's environment may pin OpenBLAS to Haswell kernels; native ones are ~25 % faster.
unset OPENBLAS_CORETYPE
ctest --test-dir "${VITSCOPE_BUILD_DIR:-build}" --output-on-failure -j "${VITSCOPE_TEST_JOBS:-2}"
