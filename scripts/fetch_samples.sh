#!/usr/bin/env bash
# Sample media from Debian packages (never committed): vtest.avi from opencv-doc (PETS09-S2L1,
# 768x576, 795 frames) and dog.jpg from darknet. Output: .data/vtest.avi, .data/dog.jpg.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${KV_DATA_DIR:-$root/.data}"
mkdir -p "$data"
fetch() {  # fetch <package> <path inside the package> <output name>
  local pkg="$1" inner="$2" out="$3"
  [ -s "$data/$out" ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || {
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download "$pkg" >/dev/null)
  }
  dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/x"
  cp "$tmp/x/$inner" "$data/$out"
  rm -rf "$tmp"
  echo "setup: $data/$out (from Debian package $pkg)"
}
fetch opencv-doc usr/share/doc/opencv-doc/examples/data/vtest.avi vtest.avi
fetch darknet usr/share/darknet/data/dog.jpg dog.jpg
