// Decoding of YOLOX's raw head (decode_in_inference=False), see the model's MODEL.md.
#pragma once

#include <vector>

#include "detect/detection.h"

namespace kv::detect {

// Rows of the raw output for a square input: sum over strides 8, 16, 32 of (size/stride)^2.
int yolox_rows(int input_size);

// Decodes a rows x (5 + classes) tensor into candidate boxes in model-input pixels whose
// score (objectness x best class probability) is at least score_threshold. No NMS.
std::vector<Detection> decode_yolox(const float* data, int rows, int cols, int input_size,
                                    float score_threshold);

}  // namespace kv::detect
