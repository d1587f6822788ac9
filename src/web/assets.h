// The live view's page, script and style, compiled into the binary (src/web/assets).
#pragma once

#include <optional>
#include <string_view>

namespace kv::web {

// The file's bytes by name (index.html, app.js, app.css), or nullopt.
std::optional<std::string_view> asset(std::string_view name);

}  // namespace kv::web
