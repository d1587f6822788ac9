#!/usr/bin/env bash
# Configures and builds kvision into build/ (two parallel jobs: the reference machine has 2 cores).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "${KV_JOBS:-2}"
