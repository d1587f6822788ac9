#include "common/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
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

Result<int64_t> parse_time_ms(std::string_view text) {
  const std::string_view t = trim(text);
  const auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}' is not a time: give ISO-8601 in UTC, like "
                                  "2026-12-03T13:40:00Z, or milliseconds since the epoch",
                                  text));
  };
  if (!t.empty() && t.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
    if (ec != std::errc() || ptr != t.data() + t.size()) return bad();
    return ms;
  }
  // YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+00:00]
  const std::string s(t);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, consumed = 0;
  char sep = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d%n", &year, &month, &day, &sep, &hour, &minute,
                  &consumed) != 6 ||
      (sep != 'T' && sep != ' '))
    return bad();
  size_t pos = static_cast<size_t>(consumed);
  double seconds = 0;
  if (pos < s.size() && s[pos] == ':') {
    size_t end = pos + 1;
    while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.'))
      ++end;
    if (end == pos + 1) return bad();
    auto [ptr, ec] = std::from_chars(s.data() + pos + 1, s.data() + end, seconds);
    if (ec != std::errc() || ptr != s.data() + end || seconds >= 61) return bad();
    pos = end;
  }
  const std::string_view zone = std::string_view(s).substr(pos);
  if (zone != "Z" && zone != "+00:00" && !zone.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}': give the time in UTC (ending in Z or +00:00)", text));
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  const time_t secs = timegm(&tm);
  if (tm.tm_mday != day) return bad();  // 31 February and the like roll over
  return static_cast<int64_t>(secs) * 1000 + static_cast<int64_t>(std::llround(seconds * 1000));
}

std::string format_time_ms(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(ms - static_cast<int64_t>(secs) * 1000));
}

}  // namespace kv
