// Durations and sizes as people write them in flags and config files.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace kv {

// "250ms", "3s", "1.5 s", "2m", "1h", "0": microseconds.
Result<int64_t> parse_duration(std::string_view text);

// "500MB", "2G", "1024" (bytes), decimal units: bytes.
Result<int64_t> parse_size(std::string_view text);

}  // namespace kv
