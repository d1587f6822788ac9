#!/usr/bin/env bash
# Two kvision builds side by side on this machine, runs interleaved (A B A B ...) so that a
# shared VM's drift hits both alike: `kvision run` on vtest.avi with YOLOX-Nano, 2 workers.
#   throughput: FRAMES frames as a backlog, steady fps (first to last result);
#   latency:    LIVE_FRAMES frames paced at the file's own 10 fps (--realtime), p50/p99 from
#               capture to result consumed.
# Prints every run and the median of each figure per build.
#   bench/compare_builds.sh KVISION_A KVISION_B [rounds]
# KV_SHARED_DIR (default ../shared) and KV_DATA_DIR (default .data) locate the model and video.
set -euo pipefail
A="$1"
B="$2"
ROUNDS="${3:-4}"
FRAMES="${FRAMES:-400}"
LIVE_FRAMES="${LIVE_FRAMES:-200}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${KV_SHARED_DIR:-$ROOT/../shared}"
VIDEO="${KV_DATA_DIR:-$ROOT/.data}/vtest.avi"
ONNX="$SHARED/models/yolox_nano/yolox_nano.onnx"
for f in "$VIDEO" "$ONNX"; do
  [ -f "$f" ] || { echo "compare_builds: missing $f (scripts/fetch_samples.sh, KV_SHARED_DIR)"; exit 2; }
done
MODEL=(--model "$ONNX" --family yolox --input-size 416 --detectors 1 --threads 2)
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
for r in $(seq "$ROUNDS"); do
  for build in A B; do
    kv="$A"
    [ "$build" = B ] && kv="$B"
    fps="$("$kv" run --source "$VIDEO" "${MODEL[@]}" -n "$FRAMES" 2>/dev/null |
      sed -n 's/^throughput *\([0-9.]*\) fps steady.*/\1/p')"
    lat="$("$kv" run --source "$VIDEO" "${MODEL[@]}" -n "$LIVE_FRAMES" --realtime 2>/dev/null |
      sed -n 's|^latency p50/p99 *\([0-9.]*\) / \([0-9.]*\) ms.*|\1 \2|p')"
    echo "round $r $build: $fps fps backlog; latency p50/p99 $lat ms" >&2
    echo "$build $fps $lat" >>"$OUT"
  done
done
python3 - "$OUT" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 4]
med = {}
for b in "AB":
    r = [list(map(float, x[1:])) for x in rows if x[0] == b]
    med[b] = [statistics.median(c) for c in zip(*r)]
    print(f"{b}: median {med[b][0]:.1f} fps backlog, latency p50 {med[b][1]:.1f} ms, p99 {med[b][2]:.1f} ms ({len(r)} runs)")
print(f"B/A: throughput {med['B'][0] / med['A'][0]:.3f}, p50 {med['B'][1] - med['A'][1]:+.1f} ms, p99 {med['B'][2] - med['A'][2]:+.1f} ms")
PY
