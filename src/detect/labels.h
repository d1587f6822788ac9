#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace kv::detect {

// The 80 COCO class names in the usual contiguous order (0 = person).
const std::vector<std::string>& coco80_labels();

// Reads one class name per line; blank lines are skipped.
Result<std::vector<std::string>> load_labels(const std::string& path);

}  // namespace kv::detect
