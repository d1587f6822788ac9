#!/usr/bin/env python3
"""Statically quantizes a YOLOX ONNX model to INT8 (QDQ), calibrated on a folder of images.

Pre-processing is YOLOX's (docs/models.md): letterbox at the top-left of a square canvas filled
with 114, BGR, 0..255, NCHW float. Weights are per-channel signed INT8, activations unsigned
INT8 (ONNX Runtime's fast path on x86). Used by scripts/quantize_int8.sh.
"""
import argparse
import glob
import os
import sys

import numpy as np
import onnx
from onnx import version_converter
from PIL import Image
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process


def letterbox(path, size):
    rgb = Image.open(path).convert("RGB")
    w, h = rgb.size
    r = min(size / w, size / h)
    resized = rgb.resize((int(w * r), int(h * r)), Image.BILINEAR)
    canvas = np.full((size, size, 3), 114, dtype=np.uint8)
    canvas[: resized.size[1], : resized.size[0]] = np.asarray(resized)
    bgr = canvas[:, :, ::-1].astype(np.float32)
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])


class Images(CalibrationDataReader):
    def __init__(self, paths, size, input_name):
        self.paths = iter(paths)
        self.size = size
        self.input_name = input_name

    def get_next(self):
        path = next(self.paths, None)
        return None if path is None else {self.input_name: letterbox(path, self.size)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, help="FP32 YOLOX .onnx")
    ap.add_argument("--images", required=True, help="folder of calibration images (.jpg)")
    ap.add_argument("--out", required=True, help="the INT8 .onnx to write")
    ap.add_argument("--size", type=int, default=416)
    ap.add_argument("--count", type=int, default=100, help="calibration images, at most")
    ap.add_argument("--method", choices=["minmax", "entropy", "percentile"], default="percentile")
    ap.add_argument("--percentile", type=float, default=99.9,
                    help="with --method percentile: the activation range kept")
    ap.add_argument("--exclude", default="preds",
                    help="leave in float the nodes whose name or inputs contain this (default: "
                         "YOLOX's prediction convolutions, head.*_preds)")
    ap.add_argument("--ops", default="Conv",
                    help="operator types to quantize, comma-separated (default: Conv, the bulk "
                         "of the work; the head's outputs mix box offsets and 0..1 scores in one "
                         "tensor, which one INT8 scale cannot hold)")
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.images, "*.jpg")))[: a.count]
    if not paths:
        sys.exit(f"quantize: no .jpg images in {a.images}")
    # Per-channel QDQ needs opset 13 (DequantizeLinear's axis); YOLOX exports are often 11.
    upgraded = a.out + ".opset13.onnx"
    model = onnx.load(a.model)
    if model.opset_import[0].version < 13:
        model = version_converter.convert_version(model, 13)
    onnx.save(model, upgraded)
    prepared = a.out + ".prep.onnx"
    quant_pre_process(upgraded, prepared)  # shape inference and graph folding first
    os.remove(upgraded)
    graph = onnx.load(prepared).graph
    input_name = graph.input[0].name
    # The prediction convolutions: their outputs are the logits and box offsets themselves.
    excluded = [n.name for n in graph.node
                if a.exclude and any(a.exclude in x for x in list(n.input) + [n.name])]
    method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
              "percentile": CalibrationMethod.Percentile}[a.method]
    quantize_static(prepared, a.out, Images(paths, a.size, input_name),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=method, op_types_to_quantize=a.ops.split(","),
                    nodes_to_exclude=excluded,
                    extra_options={"CalibPercentile": a.percentile})
    os.remove(prepared)
    print(f"quantize: {a.out} ({os.path.getsize(a.out)} bytes), calibrated on {len(paths)} images "
          f"({a.method}; {a.ops}; {len(excluded)} nodes left in float)")


if __name__ == "__main__":
    main()
