#include "alert/rules.h"

#include "common/units.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace kv::alert {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(sep, start);
    const std::string_view part =
        trim(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (!part.empty()) out.emplace_back(part);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// A finite number (no nan, no inf).
bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

constexpr int64_t kMaxCount = 1'000'000;  // objects in a frame, frames in a row

// A whole number from 1 to kMaxCount.
bool parse_count(std::string_view s, int64_t& out) {
  s = trim(s);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && out >= 1 && out <= kMaxCount;
}

// "x,y" -> a point.
Result<Point> parse_point(std::string_view s) {
  const size_t comma = s.find(',');
  Point p;
  if (comma == std::string_view::npos || !parse_double(s.substr(0, comma), p.x) ||
      !parse_double(s.substr(comma + 1), p.y)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}' is not a point: expected X,Y", s));
  }
  return p;
}

Result<std::vector<Point>> parse_points(std::string_view s) {
  std::vector<Point> out;
  for (const std::string& word : split(s, ' ')) {
    auto p = parse_point(word);
    if (!p) return p.error();
    out.push_back(*p);
  }
  return out;
}

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// `present ...`, `count >= K ...` or `crosses ...`, into the rule.
Status parse_when(std::string_view text, Rule& rule) {
  std::vector<std::string> w = split(text, ' ');
  if (w.empty()) return invalid("'when' is empty");
  size_t i = 1;
  if (w[0] == "present") {
    rule.condition = Condition::kPresent;
    rule.min_count = 1;
  } else if (w[0] == "count") {
    rule.condition = Condition::kCount;
    int64_t k = 0;
    if (w.size() < 3 || w[1] != ">=" || !parse_count(w[2], k)) {
      return invalid("expected 'count >= K' with K a whole number from 1 to 1000000");
    }
    rule.min_count = static_cast<int>(k);
    i = 3;
  } else if (w[0] == "crosses") {
    rule.condition = Condition::kCrosses;
    if (w.size() < 3) return invalid("expected 'crosses X1,Y1 X2,Y2 [up|down|left|right|any]'");
    auto a = parse_point(w[1]);
    if (!a) return a.error();
    auto b = parse_point(w[2]);
    if (!b) return b.error();
    if (a->x == b->x && a->y == b->y) return invalid("the line's two ends are the same point");
    rule.line_a = *a;
    rule.line_b = *b;
    if (w.size() == 3) return ok_status();
    static const std::pair<const char*, Direction> kDirections[] = {
        {"any", Direction::kAny},   {"up", Direction::kUp},       {"down", Direction::kDown},
        {"left", Direction::kLeft}, {"right", Direction::kRight},
    };
    if (w.size() > 4) return invalid(fmt::format("unexpected '{}' after the direction", w[4]));
    for (const auto& [name, dir] : kDirections) {
      if (w[3] == name) {
        rule.direction = dir;
        return ok_status();
      }
    }
    return invalid(fmt::format("unknown direction '{}' (up, down, left, right or any)", w[3]));
  } else if (w[0] == "enters" || w[0] == "leaves") {
    rule.condition = w[0] == "enters" ? Condition::kEnters : Condition::kLeaves;
    if (w.size() > 1) return invalid(fmt::format("unexpected '{}' after '{}'", w[1], w[0]));
    return ok_status();
  } else if (w[0] == "dwell") {
    rule.condition = Condition::kDwell;
    if (w.size() < 3 || w[1] != ">=") return invalid("expected 'dwell >= S' (e.g. dwell >= 30s)");
    std::string amount = w[2];
    for (size_t k = 3; k < w.size(); ++k) amount += w[k];  // "30 s"
    auto us = parse_duration(amount);
    if (!us) return us.error();
    if (*us <= 0) return invalid("the dwell time must be more than 0");
    rule.dwell_us = *us;
    return ok_status();
  } else if (w[0] == "distinct") {
    rule.condition = Condition::kDistinct;
    int64_t k = 0;
    if (w.size() < 5 || w[1] != ">=" || !parse_count(w[2], k) || w[3] != "per") {
      return invalid("expected 'distinct >= K per S' (e.g. distinct >= 10 per 1m)");
    }
    rule.min_count = static_cast<int>(k);
    std::string amount = w[4];
    for (size_t j = 5; j < w.size(); ++j) amount += w[j];
    auto us = parse_duration(amount);
    if (!us) return us.error();
    if (*us <= 0) return invalid("the window must be more than 0");
    rule.window_us = *us;
    return ok_status();
  } else {
    return invalid(fmt::format(
        "unknown condition '{}' (present, count, crosses, enters, leaves, dwell or distinct)",
        w[0]));
  }
  if (i == w.size()) return ok_status();
  // "for N frames" or "for 2s" / "for 2 s"
  if (w[i] != "for" || i + 1 >= w.size()) {
    return invalid(fmt::format("expected 'for N frames' or 'for S s' after '{}'", w[i - 1]));
  }
  const std::string amount = w[i + 1];
  const std::string unit = i + 2 < w.size() ? w[i + 2] : "";
  if (i + 3 < w.size()) return invalid(fmt::format("unexpected '{}'", w[i + 3]));
  int64_t n = 0;
  if (unit == "frames" || unit == "frame") {
    if (!parse_count(amount, n)) {
      return invalid(fmt::format("'{}' is not a number of frames from 1 to 1000000", amount));
    }
    rule.for_frames = static_cast<int>(n);
    return ok_status();
  }
  auto us = parse_duration(amount + unit);
  if (!us) return us.error();
  if (*us <= 0) return invalid("the duration must be more than 0");
  rule.for_us = *us;
  return ok_status();
}

constexpr const char* kKeys =
    "labels, min_score, cameras, units, zone, when, cooldown, clip_before, clip_after";

Status set_key(Rule& rule, const std::string& key, std::string_view value) {
  if (key == "labels") {
    rule.labels = split(value, ',');
    if (rule.labels.empty()) return invalid("'labels' needs at least one label");
  } else if (key == "min_score") {
    if (!parse_double(value, rule.min_score) || rule.min_score < 0 || rule.min_score > 1) {
      return invalid(fmt::format("min_score '{}' is not a number from 0 to 1", value));
    }
  } else if (key == "cameras") {
    rule.cameras = split(value, ',');
  } else if (key == "units") {
    if (value == "pixels") {
      rule.normalised = false;
    } else if (value == "normalised" || value == "normalized") {
      rule.normalised = true;
    } else {
      return invalid(fmt::format("units '{}': expected pixels or normalised", value));
    }
  } else if (key == "zone") {
    auto points = parse_points(value);
    if (!points) return points.error();
    if (points->size() < 3) return invalid("a zone needs at least 3 points");
    rule.zone = std::move(*points);
  } else if (key == "when") {
    rule.when = std::string(value);
    return parse_when(value, rule);
  } else if (key == "cooldown") {
    auto us = parse_duration(value);
    if (!us) return us.error();
    rule.cooldown_us = *us;
  } else if (key == "clip_before" || key == "clip_after") {
    auto us = parse_duration(value);
    if (!us) return us.error();
    if (*us > int64_t{600} * 1'000'000)
      return invalid(fmt::format("{} {} is more than 10 minutes", key, value));
    (key == "clip_before" ? rule.clip_before_us : rule.clip_after_us) = *us;
  } else {
    return invalid(fmt::format("unknown key '{}' (expected {})", key, kKeys));
  }
  return ok_status();
}

Status check_rule(const Rule& rule) {
  if (rule.labels.empty()) return invalid("no 'labels'");
  if (rule.when.empty()) return invalid("no 'when'");
  const bool needs_zone = rule.condition == Condition::kEnters ||
                          rule.condition == Condition::kLeaves ||
                          rule.condition == Condition::kDwell;
  if (needs_zone && rule.zone.empty()) return invalid(fmt::format("'{}' needs a zone", rule.when));
  auto out_of_unit = [](Point p) { return p.x < 0 || p.x > 1 || p.y < 0 || p.y > 1; };
  if (rule.normalised) {
    for (const Point& p : rule.zone) {
      if (out_of_unit(p)) return invalid("units = normalised, but a zone point is outside 0..1");
    }
    if (rule.condition == Condition::kCrosses &&
        (out_of_unit(rule.line_a) || out_of_unit(rule.line_b))) {
      return invalid("units = normalised, but the line is outside 0..1");
    }
  }
  return ok_status();
}

}  // namespace

Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& source) {
  std::vector<Rule> rules;
  std::set<std::string> names;
  std::set<std::string> seen_keys;
  auto at = [&](int line, const Error& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}:{}: {}", source, line, e.message));
  };
  auto finish = [&]() -> Status {
    if (rules.empty()) return ok_status();
    if (Status s = check_rule(rules.back()); !s) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("rule '{}' ({}:{}): {}", rules.back().name, source,
                                    rules.back().line, s.error().message));
    }
    return ok_status();
  };
  int number = 0;
  std::istringstream in{std::string(text)};
  std::string raw;
  while (std::getline(in, raw)) {
    ++number;
    std::string_view line = raw;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']') return at(number, invalid("a section header must end with ']'"));
      if (Status s = finish(); !s) return s.error();
      Rule rule;
      rule.name = std::string(trim(line.substr(1, line.size() - 2)));
      rule.line = number;
      if (rule.name.empty()) return at(number, invalid("a rule needs a name: [name]"));
      if (!names.insert(rule.name).second) {
        return at(number, invalid(fmt::format("a second rule named '{}'", rule.name)));
      }
      rules.push_back(std::move(rule));
      seen_keys.clear();
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return at(number, invalid("expected 'key = value' or '[rule name]'"));
    const std::string key(trim(line.substr(0, eq)));
    const std::string_view value = trim(line.substr(eq + 1));
    if (rules.empty()) return at(number, invalid(fmt::format("'{}' before any [rule name]", key)));
    if (!seen_keys.insert(key).second)
      return at(number, invalid(fmt::format("'{}' given twice", key)));
    if (value.empty()) return at(number, invalid(fmt::format("'{}' has no value", key)));
    if (Status s = set_key(rules.back(), key, value); !s) return at(number, s.error());
  }
  if (Status s = finish(); !s) return s.error();
  if (rules.empty())
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: no rules", source));
  return rules;
}

Result<std::vector<Rule>> load_rules(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, fmt::format("cannot read rule file '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_rules(text.str(), path);
}

}  // namespace kv::alert
