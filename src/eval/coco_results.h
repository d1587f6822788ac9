// Detections as a standard COCO results file, for any other evaluator.
#pragma once

#include <filesystem>
#include <vector>

#include "common/result.h"
#include "eval/metrics.h"

namespace kv::eval {

// [{"image_id", "category_id" (COCO's 91-id space), "bbox": [x, y, w, h], "score"}, ...]
Status write_coco_results(const std::filesystem::path& file,
                          const std::vector<ScoredDetection>& detections);

}  // namespace kv::eval
