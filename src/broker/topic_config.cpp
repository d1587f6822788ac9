#include "broker/topic_config.h"

#include <charconv>
#include <fstream>

#include <fmt/format.h>

#include "broker/fd_io.h"

namespace kv::broker {
namespace {

// A config this broker implements: its name, the smallest value allowed (a number), and
// where it lives in LogConfig.
struct Known {
  const char* name;
  const char* broker_name;
  int64_t min;
  int64_t LogConfig::*field;
};
constexpr Known kKnown[] = {
    {"flush.ms", "log.flush.interval.ms", 0, &LogConfig::flush_interval_ms},
    {"retention.bytes", "log.retention.bytes", -1, &LogConfig::retention_bytes},
    {"retention.ms", "log.retention.ms", -1, &LogConfig::retention_ms},
    {"segment.bytes", "log.segment.bytes", 1024, &LogConfig::segment_bytes},
};
constexpr const char* kCleanupPolicy = "cleanup.policy";

const Known* find_known(const std::string& name) {
  for (const Known& k : kKnown) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<CleanupPolicy> parse_cleanup_policy(const std::string& value) {
  CleanupPolicy out{.compact = false, .remove = false};
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    const std::string item = value.substr(start, comma - start);
    if (item == "compact") {
      out.compact = true;
    } else if (item == "delete") {
      out.remove = true;
    } else {
      return std::nullopt;
    }
    start = comma + 1;
  }
  return out;
}

Status validate_override(const std::string& name, const std::string& value) {
  if (name == kCleanupPolicy) {
    if (parse_cleanup_policy(value)) return ok_status();
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("invalid value '{}' for cleanup.policy: expected 'delete', "
                                  "'compact' or 'compact,delete'",
                                  value));
  }
  const Known* k = find_known(name);
  if (k == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("unknown or unsupported topic config '{}' (supported: "
                                  "cleanup.policy, flush.ms, retention.bytes, retention.ms, "
                                  "segment.bytes)",
                                  name));
  }
  const auto v = parse_int(value);
  if (!v || *v < k->min) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("invalid value '{}' for {}: expected an integer >= {}", value, name, k->min));
  }
  return ok_status();
}

LogConfig apply_overrides(const LogConfig& defaults, const TopicOverrides& overrides) {
  LogConfig out = defaults;
  for (const auto& [name, value] : overrides) {
    const Known* k = find_known(name);
    const auto v = parse_int(value);
    if (k != nullptr && v) out.*(k->field) = *v;
  }
  if (auto it = overrides.find(kCleanupPolicy); it != overrides.end()) {
    if (auto policy = parse_cleanup_policy(it->second)) {
      out.compact = policy->compact;
      out.delete_old = policy->remove;
    }
  }
  return out;
}

std::vector<ConfigEntry> describe_topic_config(const LogConfig& defaults,
                                               const TopicOverrides& overrides) {
  const LogConfig effective = apply_overrides(defaults, overrides);
  std::vector<ConfigEntry> out;
  auto policy = overrides.find(kCleanupPolicy);
  out.push_back({kCleanupPolicy, policy == overrides.end() ? "delete" : policy->second,
                 policy == overrides.end()});
  for (const Known& k : kKnown) {
    out.push_back({k.name, std::to_string(effective.*(k.field)), overrides.count(k.name) == 0});
  }
  return out;
}

std::vector<ConfigEntry> describe_broker_config(const LogConfig& defaults, int default_partitions) {
  std::vector<ConfigEntry> out;
  out.push_back({"auto.create.topics.enable", "true", true});
  out.push_back({"log.cleanup.policy", "delete", true});
  for (const Known& k : kKnown) {
    out.push_back({k.broker_name, std::to_string(defaults.*(k.field)), false});
  }
  out.push_back({"num.partitions", std::to_string(default_partitions), false});
  return out;
}

std::filesystem::path topic_config_path(const std::filesystem::path& data_dir,
                                        const std::string& topic) {
  return data_dir / (topic + ".config");
}

Result<TopicOverrides> load_overrides(const std::filesystem::path& path) {
  TopicOverrides out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    const std::string name = line.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : line.substr(eq + 1);
    Status s = eq == std::string::npos
                   ? Status(make_error(ErrorCode::kDecode, "expected name=value"))
                   : validate_override(name, value);
    if (!s) {
      return make_error(ErrorCode::kDecode,
                        fmt::format("{}:{}: {}", path.string(), number, s.error().message));
    }
    out[name] = value;
  }
  return out;
}

Status save_overrides(const std::filesystem::path& path, const TopicOverrides& overrides) {
  std::string content;
  for (const auto& [name, value] : overrides) content += name + "=" + value + "\n";
  return replace_file(path, content);
}

}  // namespace kv::broker
