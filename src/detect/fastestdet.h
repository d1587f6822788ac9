// Decoding of FastestDet's single-scale head, see the model's MODEL.md.
#pragma once

#include <vector>

#include "detect/detection.h"

namespace kv::detect {

// `data` is the 1 x (5 + classes) x grid_h x grid_w output (channel-major). Boxes come back in
// pixels of an image of image_w x image_h (the model sees the whole image, resized).
std::vector<Detection> decode_fastestdet(const float* data, int channels, int grid_h, int grid_w,
                                         int image_w, int image_h, float score_threshold);

}  // namespace kv::detect
