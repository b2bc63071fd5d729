#!/usr/bin/env bash
# Sample photos for a fresh install, taken from Debian's python3-skimage package (scikit-image's
# test images: CC0 / public domain, see resources/samples/CREDITS.md). Only the .deb is
# downloaded and unpacked into a scratch folder; nothing is installed. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=resources/samples/skimage
wanted=(chelsea.png coffee.png astronaut.png rocket.jpg motorcycle_left.png horse.png brick.png grass.png gravel.png camera.png)
if [[ -f "$dest/${wanted[-1]}" ]]; then exit 0; fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
( cd "$scratch" && chmod 777 . && apt-get download python3-skimage >/dev/null 2>&1 ) || {
  echo "fetch-samples: could not download python3-skimage; the gallery will show the generated samples only" >&2
  exit 0
}
dpkg-deb -x "$scratch"/python3-skimage_*.deb "$scratch/x"
mkdir -p "$dest"
for f in "${wanted[@]}"; do cp "$scratch/x/usr/lib/python3/dist-packages/skimage/data/$f" "$dest/"; done
# Two of the PNGs carry an ICC profile that libpng rejects with a warning on every decode; the
# pixels are plain sRGB, so the profile chunk (iCCP) is dropped where python3 is at hand.
if command -v python3 >/dev/null; then
  python3 - "$dest"/*.png <<'PY'
import struct, sys
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    out, pos = [data[:8]], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind != b"iCCP":
            out.append(data[pos:pos + 12 + length])
        pos += 12 + length
    open(path, "wb").write(b"".join(out))
PY
fi
echo "fetch-samples: ${#wanted[@]} sample images in $dest"
