#!/usr/bin/env bash
# Builds ViTScope against LibTorch 2.x and runs its tests, on this CPU machine, without the GPU
# machine: Debian 13 ("trixie") ships LibTorch 2.6 (libtorch-dev), g++ 14, OpenCV 4.10 and
# Qt 6.8, so a trixie root made by debootstrap next to the project gives the 2.x code paths
# (VITSCOPE_TORCH2_FEATURES: fused attention, the autocast API, the 2.x c10/cuda headers of the
# cuda_stream_syntax test) a real compile and a real run. Debian 12's LibTorch 1.13 never
# compiles them, and the GPU machine is lent only to some sessions.
#
#   sudo tools/torch2/check.sh [--gui] [--root DIR] [-- CTEST_ARGS...]
#
# Needs root (debootstrap, chroot, bind mounts) and Debian's archive. The first run makes the root
# (~7 min with its packages, ~3.6 GB in DIR, default /var/tmp/vitscope-trixie); later runs reuse
# it and its build directory (DIR/work/build, or VITSCOPE_BUILD_DIR inside the root), so they only
# rebuild what changed. The source tree and ../shared are bind-mounted read-write at the same
# relative places, so the tests find ../shared as usual.
# --gui also builds the Qt app and its tests against Qt 6.8 (more packages, a longer build).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=/var/tmp/vitscope-trixie
GUI=OFF
BUILD=${VITSCOPE_BUILD_DIR:-/work/build}
while (($#)); do
  case $1 in
    --gui) GUI=ON ;;
    --root) ROOT=$2; shift ;;
    --) shift; break ;;
    *) echo "usage: $0 [--gui] [--root DIR] [-- CTEST_ARGS...]" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "check.sh: needs root (debootstrap, chroot, mount)" >&2; exit 2; }

packages=(build-essential cmake ninja-build ccache pkg-config libtorch-dev libopencv-dev
          nlohmann-json3-dev libgtest-dev libgmock-dev libopenblas0-pthread gdb)
[[ $GUI == ON ]] && packages+=(qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqcustomplot-dev xvfb xauth
                             file desktop-file-utils appstream)  # the last three: the .deb test

if [[ ! -x $ROOT/usr/bin/apt-get ]]; then
  echo "check.sh: making a Debian 13 root in $ROOT"
  debootstrap --variant=minbase --include=ca-certificates trixie "$ROOT" http://deb.debian.org/debian
fi

# The source and ../shared at /work/<name>, as beside each other here.
inner_src=/work/$(basename "$SRC")
mounts=("$ROOT/proc" "$ROOT/dev" "$ROOT/sys" "$ROOT$inner_src")
unmount_all() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done; }
trap unmount_all EXIT
mkdir -p "$ROOT$inner_src" "$ROOT$BUILD"
mount --bind /proc "$ROOT/proc"; mount --bind /dev "$ROOT/dev"; mount --bind /sys "$ROOT/sys"
mount --bind "$SRC" "$ROOT$inner_src"
if [[ -d $SRC/../shared ]]; then
  mkdir -p "$ROOT/work/shared"
  mount --bind "$SRC/../shared" "$ROOT/work/shared"
  mounts+=("$ROOT/work/shared")
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

chroot "$ROOT" bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages[*]} >/dev/null"
ctest_args=$(printf '%q ' "$@")
chroot "$ROOT" bash -c "
  set -e
  cd $inner_src
  cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITSCOPE_BUILD_GUI=$GUI -DVITSCOPE_BUILD_BENCHMARKS=OFF
  ninja -C $BUILD -k 0
  cd $BUILD
  unset OPENBLAS_CORETYPE
  ctest --output-on-failure -j 2 $ctest_args
"
