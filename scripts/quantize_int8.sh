#!/usr/bin/env bash
# An INT8 YOLOX-Nano for ONNX Runtime: statically quantized (QDQ; weights per-channel INT8,
# activations UINT8), calibrated on the shared COCO images, written with its sidecar to
# .cache/models/ (ignored: model files are never committed). The quantization tools come from
# PyPI's onnxruntime, pinned, in a virtual environment under .cache/py.
#   scripts/quantize_int8.sh [--method minmax|entropy|percentile]
# Then: kvision run --model .cache/models/yolox_nano_int8.json ... (docs/models.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${KV_SHARED:-$root/../shared}"
model="$shared/models/yolox_nano/yolox_nano.onnx"
images="$shared/data/coco_val2017_128/images"
[ -f "$model" ] || { echo "quantize: $model not found (set KV_SHARED)" >&2; exit 2; }
[ -d "$images" ] || { echo "quantize: $images not found (set KV_SHARED)" >&2; exit 2; }
venv="$root/.cache/py"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import onnxruntime.quantization" 2>/dev/null; then
  echo "quantize: installing onnxruntime 1.23.2, onnx and Pillow from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check onnxruntime==1.23.2 onnx==1.19.1 \
    pillow==11.3.0 numpy==2.2.6
fi
out="$root/.cache/models"
mkdir -p "$out"
"$venv/bin/python" "$root/tools/quantize_yolox.py" --model "$model" --images "$images" \
  --out "$out/yolox_nano_int8.onnx" "$@"
install -m 0644 "$shared/models/yolox_nano/coco.names" "$out/coco.names"
cat >"$out/yolox_nano_int8.json" <<JSON
{"family": "yolox", "weights": "yolox_nano_int8.onnx", "input": [416, 416], "labels": "coco.names"}
JSON
echo "quantize: model $out/yolox_nano_int8.json"
