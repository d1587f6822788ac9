#!/usr/bin/env bash
# The accuracy report of issue 4, reproducible: `kvision eval` for every model on the COCO split
# and on vtest.avi, then YOLOX-Nano through Kafka at JPEG qualities 95, 90, 80 and 70.
#   bench/eval_report.sh [build/src/app/kvision]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
KV="${1:-$root/build/src/app/kvision}"
SHARED="${KV_SHARED_DIR:-$root/../shared}"
DATA="${KV_DATA_DIR:-$root/.data}"
COCO="$SHARED/data/coco_val2017_128"
GT="$SHARED/data/pets09_s2l1_vtest/gt.txt"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
spec() {  # spec NAME FAMILY WEIGHTS W H: a sidecar honouring KV_SHARED_DIR
  printf '{"family": "%s", "weights": "%s", "input": [%s, %s]}\n' "$2" "$3" "$4" "$5" >"$WORK/$1.json"
  echo "$WORK/$1.json"
}
models=(
  "yolox_nano $(spec yolox_nano yolox "$SHARED/models/yolox_nano/yolox_nano.onnx" 416 416)"
  "fastestdet $(spec fastestdet fastestdet "$SHARED/models/fastestdet/FastestDet.onnx" 352 352)"
  "yolo_fastest_xl $(spec yolo_fastest_xl darknet "$SHARED/models/yolo_fastest_1.1_xl/yolo-fastest-1.1-xl.weights" 320 320)"
)
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
printf '%-16s %-10s %8s %8s %12s %12s\n' model data mAP AP50 person_AP person_AP50
for m in "${models[@]}"; do
  read -r name model <<<"$m"
  out="$("$KV" eval --model "$model" --dataset "$COCO" 2>/dev/null | grep '^EVAL')"
  printf '%-16s %-10s %8s %8s %12s %12s\n' "$name" coco "$(field map <<<"$out")" "$(field ap50 <<<"$out")" \
    "$(field person_ap <<<"$out")" "$(field person_ap50 <<<"$out")"
  out="$("$KV" eval --model "$model" --video "$DATA/vtest.avi" --mot-gt "$GT" 2>/dev/null | grep '^EVAL')"
  printf '%-16s %-10s %8s %8s %12s %12s\n' "$name" vtest "$(field map <<<"$out")" "$(field ap50 <<<"$out")" \
    "$(field person_ap <<<"$out")" "$(field person_ap50 <<<"$out")"
done
echo
echo "YOLOX-Nano through Kafka (ingest JPEG quality q -> broker -> detect):"
printf '%-8s %10s %10s %14s\n' quality coco_mAP coco_AP50 vtest_AP50
yolox="$WORK/yolox_nano.json"
for q in 100 95 90 80 70; do
  coco="$("$KV" eval --model "$yolox" --dataset "$COCO" --through-kafka -q "$q" 2>/dev/null | grep '^EVAL')"
  mot="$("$KV" eval --model "$yolox" --video "$DATA/vtest.avi" --mot-gt "$GT" --through-kafka -q "$q" 2>/dev/null | grep '^EVAL')"
  printf '%-8s %10s %10s %14s\n' "$q" "$(field map <<<"$coco")" "$(field ap50 <<<"$coco")" "$(field person_ap50 <<<"$mot")"
done
