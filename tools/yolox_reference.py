#!/usr/bin/env python3
"""Independent YOLOX decode, used once to record the golden boxes of tests/detect/golden/.

Written from the model's MODEL.md alone (numpy + cv2.dnn, none of kvision's C++), so that the
C++ pre- and post-processing is checked against a separate implementation:
    /usr/bin/python3 tools/yolox_reference.py MODEL.onnx IMAGE.jpg > golden.json
Needs Debian's python3-opencv.
"""
import json
import sys

import cv2
import numpy as np

SIZE = 416


def main(model_path, image_path):
    img = cv2.imread(image_path)
    h, w = img.shape[:2]
    r = min(SIZE / h, SIZE / w)
    canvas = np.full((SIZE, SIZE, 3), 114, np.uint8)
    canvas[: int(h * r), : int(w * r)] = cv2.resize(img, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    blob = canvas.transpose(2, 0, 1)[None].astype(np.float32)
    net = cv2.dnn.readNet(model_path)
    net.setInput(blob)
    out = net.forward()[0]
    grids, strides = [], []
    for s in (8, 16, 32):
        g = SIZE // s
        ys, xs = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
        grids.append(np.stack([xs.ravel(), ys.ravel()], 1))
        strides.append(np.full((g * g, 1), s))
    grids, strides = np.concatenate(grids), np.concatenate(strides)
    xy = (out[:, :2] + grids) * strides
    wh = np.exp(out[:, 2:4]) * strides
    cls = out[:, 5:].argmax(1)
    score = out[:, 4] * out[:, 5:].max(1)
    keep = score >= 0.3
    xy, wh, cls, score = xy[keep], wh[keep], cls[keep], score[keep]
    boxes = np.concatenate([xy - wh / 2, wh], 1) / r
    result = []
    for c in np.unique(cls):
        idx = np.where(cls == c)[0]
        for i in cv2.dnn.NMSBoxes(boxes[idx].tolist(), score[idx].tolist(), 0.3, 0.45):
            j = idx[int(i)]
            x, y, bw, bh = boxes[j]
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            result.append({"class_id": int(c), "score": round(float(score[j]), 4),
                           "box": [round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)]})
    result.sort(key=lambda d: -d["score"])
    json.dump({"model": "yolox_nano", "image": "dog.jpg (Debian darknet)", "detections": result}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
