#!/usr/bin/env bash
# ONNX Runtime for kvision's default inference engine, into .cache/onnxruntime/ (ignored):
# Debian 12 packages none, so this takes two official builds, pinned by version and checksum:
#   - the library: Microsoft's CPU build, as npm's onnxruntime-node carries it
#     (bin/napi-v6/linux/x64/libonnxruntime.so.1);
#   - the C and C++ headers: Debian 13's libonnxruntime-dev.
# The headers' C API (ORT_API_VERSION 21) is older than the library's (23): ONNX Runtime's
# C API is versioned so that a library serves every older API version, never a newer one,
# which is the order kept here. docs/models.md says why this pair.
#
# A system that packages onnxruntime (headers in /usr/include/onnxruntime, libonnxruntime.so)
# needs nothing from here: CMake finds it (or -DKV_ONNXRUNTIME_ROOT=DIR names another).
# KV_ONNXRUNTIME=off skips this; kvision then builds with OpenCV DNN only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ "${KV_ONNXRUNTIME:-on}" = off ] && { echo "onnxruntime: skipped (KV_ONNXRUNTIME=off)"; exit 0; }

lib_version=1.23.2
lib_url="https://registry.npmjs.org/onnxruntime-node/-/onnxruntime-node-${lib_version}.tgz"
lib_sha256=fe70e8de46560c57c2dfb7170770da32dbb21684504a5c904346c44a56e154f2
hdr_version=1.21.0+dfsg-1
hdr_url="http://deb.debian.org/debian/pool/main/o/onnxruntime/libonnxruntime-dev_${hdr_version}_amd64.deb"
hdr_sha256=14f7d959d5deacbcf1504830d4189f91fc67382b399ed9ae9d3aa9c4050ced08

dest="$root/.cache/onnxruntime/$lib_version"
if [ -f "$dest/lib/libonnxruntime.so.1" ] && [ -f "$dest/include/onnxruntime_c_api.h" ]; then
  ln -sfn "$lib_version" "$root/.cache/onnxruntime/current"
  exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
  echo "onnxruntime: no pinned build for $(uname -m); kvision uses OpenCV DNN (or a system onnxruntime)"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Downloads are kept by checksum in a per-user cache too, so a new clone takes them from there.
downloads="${KV_DOWNLOAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvision/downloads}"
fetch() {  # url sha256 file
  if [ -f "$downloads/$2" ] && echo "$2  $downloads/$2" | sha256sum -c --quiet - 2>/dev/null; then
    cp "$downloads/$2" "$3"
    return
  fi
  curl -fsSL --retry 3 -o "$3" "$1"
  echo "$2  $3" | sha256sum -c --quiet - || { echo "onnxruntime: checksum mismatch for $1" >&2; exit 1; }
  mkdir -p "$downloads" && cp "$3" "$downloads/$2" 2>/dev/null || true
}
echo "onnxruntime: fetching ONNX Runtime $lib_version (npm onnxruntime-node) and its headers (Debian 13)"
fetch "$lib_url" "$lib_sha256" "$work/lib.tgz"
fetch "$hdr_url" "$hdr_sha256" "$work/dev.deb"
mkdir -p "$work/out/lib" "$work/out/include"
tar -xzf "$work/lib.tgz" -C "$work" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
cp "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$work/out/lib/"
ln -s libonnxruntime.so.1 "$work/out/lib/libonnxruntime.so"
dpkg-deb -x "$work/dev.deb" "$work/deb"
cp -r "$work/deb/usr/include/onnxruntime/." "$work/out/include/"
echo "$lib_version (library, npm onnxruntime-node) + $hdr_version (headers, Debian 13)" >"$work/out/VERSION"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$work/out" "$dest"
ln -sfn "$lib_version" "$root/.cache/onnxruntime/current"
echo "onnxruntime: in $dest"
