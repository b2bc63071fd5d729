#!/usr/bin/env bash
# Installs the Debian 12 packages ViTScope builds, tests and runs with (see docs/BUILDING.md).
# Idempotent: packages already present are skipped by apt. Needs root or sudo.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqt6svg6
  libqcustomplot-dev libqcustomplot2.1-qt6
  libtorch-dev libopencv-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
)
# OpenBLAS: Debian's libtorch otherwise uses the reference BLAS, ~30x slower (toolchain.md §4).
runtime_pkgs=( libopenblas0-pthread )
# Offscreen / virtual-display GUI tests and screenshots; validators of the .deb's desktop files.
test_pkgs=( xvfb xauth python3-torch python3-torchvision desktop-file-utils appstream )

want=( "${build_pkgs[@]}" "${runtime_pkgs[@]}" )
if [[ "${1:-}" == "--tests" ]]; then want+=( "${test_pkgs[@]}" ); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=( "$p" )
done
if (( ${#missing[@]} == 0 )); then echo "install-deps: all ${#want[@]} packages present"; exit 0; fi

SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
