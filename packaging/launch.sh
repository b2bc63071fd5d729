#!/usr/bin/env bash
# One command on a fresh Debian 12: install what is missing, build, start ViTScope with the
# bundled models. Arguments are passed to the app (e.g. image files to open).
set -euo pipefail
cd "$(dirname "$0")/.."
./packaging/install-deps.sh
./packaging/fetch-samples.sh
./packaging/build.sh
exec ./build/app/vitscope "$@"
