#include "common/units.h"

#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace kv {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A finite number >= 0.
bool parse_amount(std::string_view s, double& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out) && out >= 0;
}

constexpr double kLargest = 4e15;  // over a century in microseconds, 4 PB in bytes

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<int64_t> parse_duration(std::string_view text) {
  text = trim(text);
  size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.'))
    ++digits;
  double amount = 0;
  if (digits == 0 || !parse_amount(text.substr(0, digits), amount)) {
    return invalid(fmt::format("'{}' is not a duration (like 500ms, 3s, 2m, 1h)", text));
  }
  const std::string_view unit = trim(text.substr(digits));
  double scale = 0;
  if (unit == "ms") {
    scale = 1e3;
  } else if (unit == "s" || (unit.empty() && amount == 0)) {
    scale = 1e6;
  } else if (unit == "m") {
    scale = 60e6;
  } else if (unit == "h") {
    scale = 3600e6;
  } else {
    return invalid(fmt::format("'{}' is not a duration (like 500ms, 3s, 2m, 1h)", text));
  }
  if (amount * scale > kLargest) return invalid(fmt::format("'{}' is too long", text));
  return static_cast<int64_t>(amount * scale);
}

Result<int64_t> parse_size(std::string_view text) {
  double amount = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  const std::string_view unit(ptr, static_cast<size_t>(text.data() + text.size() - ptr));
  double scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "K" || unit == "KB") {
    scale = 1e3;
  } else if (unit == "M" || unit == "MB") {
    scale = 1e6;
  } else if (unit == "G" || unit == "GB") {
    scale = 1e9;
  }
  if (ec != std::errc() || scale == 0 || !std::isfinite(amount) || amount < 0) {
    return invalid(fmt::format("'{}' is not a size (like 500MB, 2G or 1048576)", text));
  }
  if (amount * scale > kLargest) return invalid(fmt::format("'{}' is too large", text));
  return static_cast<int64_t>(amount * scale);
}

}  // namespace kv
