#!/usr/bin/env bash
# The demo: set up, build, and run the whole pipeline on vtest.avi on the embedded broker.
# YOLOX-Nano from ../shared/models (or $KV_MODELS_DIR) when present, HOG otherwise.
# Extra arguments go to `kvision run`, e.g. scripts/demo.sh --max-frames 100 --realtime
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
models="${KV_MODELS_DIR:-$root/../shared/models}"
model_args=()
if [ -f "$models/yolox_nano/yolox_nano.onnx" ]; then
  model_args=(--model "$models/yolox_nano/yolox_nano.onnx" --family yolox --input-size 416)
else
  echo "demo: no YOLOX-Nano at $models/yolox_nano; using OpenCV's HOG people detector"
fi
exec "$root/build/src/app/kvision" run --source "${KV_DATA_DIR:-$root/.data}/vtest.avi" "${model_args[@]}" "$@"
