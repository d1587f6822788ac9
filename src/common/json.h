// JSON text for what kvision prints and serves.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kv {

// One line of JSON. Bytes that are not UTF-8 (a camera name, a label or a URL from outside)
// become U+FFFD instead of an exception.
inline std::string json_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kv
