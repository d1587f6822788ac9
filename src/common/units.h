// Durations and sizes as people write them in flags and config files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kv {

// "250ms", "3s", "1.5 s", "2m", "1h", "0": microseconds.
Result<int64_t> parse_duration(std::string_view text);

// "500MB", "2G", "1024" (bytes), decimal units: bytes.
Result<int64_t> parse_size(std::string_view text);

// A point in time: ISO-8601 in UTC ("2026-12-03T13:40:00Z", with optional fractions of a
// second, "T" or a space, "Z" or "+00:00") or milliseconds since the epoch ("1796303427203").
// Milliseconds since the epoch.
Result<int64_t> parse_time_ms(std::string_view text);

// "2026-12-03T13:40:00.250Z".
std::string format_time_ms(int64_t ms);

}  // namespace kv
