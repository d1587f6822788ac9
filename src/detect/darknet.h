// Decoding of the outputs of OpenCV's Darknet [yolo] layers, see Yolo-Fastest's MODEL.md.
#pragma once

#include <vector>

#include "detect/detection.h"

namespace kv::detect {

// One [yolo] output: rows x (5 + classes) with [cx, cy, w, h] normalised to the image, then
// objectness, then class scores that already include the objectness. Boxes come back in pixels
// of an image_w x image_h image (the model sees the whole image, resized).
std::vector<Detection> decode_darknet(const float* data, int rows, int cols, int image_w,
                                      int image_h, float score_threshold);

}  // namespace kv::detect
