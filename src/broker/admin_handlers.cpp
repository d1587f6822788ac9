// The admin APIs of the durable broker: CreateTopics, DeleteTopics, DescribeConfigs,
// AlterConfigs and IncrementalAlterConfigs.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "broker/handlers.h"
#include "broker/topic_config.h"

namespace kv::broker::handler_detail {
namespace {

constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;
// DescribeConfigs config sources (v1+).
constexpr int8_t kSourceTopic = 1;
constexpr int8_t kSourceStaticBroker = 4;
constexpr int8_t kSourceDefault = 5;

int16_t code(KafkaError e) {
  return static_cast<int16_t>(e);
}

std::optional<std::string> message_or_null(const std::string& m) {
  return m.empty() ? std::nullopt : std::optional<std::string>(m);
}

struct ResourceResult {
  KafkaError error = KafkaError::kNone;
  std::string message;
  int8_t type = 0;
  std::string name;
};

bool is_this_broker(const HandlerContext& ctx, const std::string& name) {
  return name.empty() || name == std::to_string(ctx.params.node_id);
}

// A bad resource for the config APIs, or nullopt when `type`/`name` name something we have.
std::optional<ResourceResult> check_resource(HandlerContext& ctx, int8_t type,
                                             const std::string& name) {
  if (type == kTopicResource) {
    if (ctx.store.partition_count(name) > 0) return std::nullopt;
    return ResourceResult{KafkaError::kUnknownTopicOrPartition,
                          fmt::format("unknown topic {}", name), type, name};
  }
  if (type == kBrokerResource) {
    if (is_this_broker(ctx, name)) return std::nullopt;
    return ResourceResult{
        KafkaError::kInvalidRequest,
        fmt::format("unknown broker {} (this is broker {})", name, ctx.params.node_id), type, name};
  }
  return ResourceResult{KafkaError::kInvalidRequest,
                        fmt::format("resource type {} has no configs here", type), type, name};
}

Response write_alter_results(const RequestHeader& h, const std::vector<ResourceResult>& results) {
  Writer w = start(h);
  w.i32(0);  // throttle
  w.array_length(results.size());
  for (const ResourceResult& r : results) {
    w.i16(code(r.error));
    w.nullable_string(message_or_null(r.message));
    w.i8(r.type);
    w.string(r.name);
  }
  return finish(w);
}

// Validates and, unless validate_only, stores new overrides for one resource.
ResourceResult alter_resource(HandlerContext& ctx, int8_t type, const std::string& name,
                              const TopicOverrides& overrides, bool validate_only) {
  if (auto bad = check_resource(ctx, type, name)) return *bad;
  if (type == kBrokerResource) {
    return {KafkaError::kInvalidRequest,
            "broker configs are set by `kvision broker` flags and cannot be altered", type, name};
  }
  for (const auto& [key, value] : overrides) {
    if (Status s = validate_override(key, value); !s)
      return {KafkaError::kInvalidConfig, s.error().message, type, name};
  }
  if (!validate_only) {
    if (Status s = ctx.store.set_overrides(name, overrides); !s)
      return {KafkaError::kUnknownServerError, s.error().message, type, name};
  }
  return {KafkaError::kNone, {}, type, name};
}

}  // namespace

Response create_topics(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  struct Item {
    std::string name;
    int32_t partitions;
    TopicOverrides overrides;
    KafkaError error = KafkaError::kNone;
    std::string message;
  };
  std::vector<Item> items;
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    Item item;
    item.name = in.string();
    item.partitions = in.i32();
    const int16_t replication = in.i16();
    const int32_t assignments = in.array_length();
    for (int32_t a = 0; a < assignments && !in.failed(); ++a) {
      in.i32();
      const int32_t brokers = in.array_length();
      for (int32_t b = 0; b < brokers; ++b) in.i32();
    }
    if (assignments > 0 && item.partitions == -1) item.partitions = assignments;
    const int32_t configs = in.array_length();
    for (int32_t c = 0; c < configs && !in.failed(); ++c) {
      std::string key = in.string();
      std::optional<std::string> value = in.nullable_string();
      if (!value) continue;  // null: the default
      if (Status s = validate_override(key, *value); !s && item.error == KafkaError::kNone) {
        item.error = KafkaError::kInvalidConfig;
        item.message = s.error().message;
      }
      item.overrides[key] = *value;
    }
    if (item.partitions == -1) item.partitions = ctx.params.default_partitions;
    if (item.error != KafkaError::kNone) {
      // already set: a bad config
    } else if (!valid_topic_name(item.name)) {
      item.error = KafkaError::kInvalidTopic;
      item.message = fmt::format("invalid topic name '{}'", item.name);
    } else if (ctx.store.partition_count(item.name) > 0) {
      item.error = KafkaError::kTopicAlreadyExists;
      item.message = fmt::format("topic {} already exists", item.name);
    } else if (item.partitions < 1 || item.partitions > 10000) {
      item.error = KafkaError::kInvalidPartitions;
      item.message = fmt::format("invalid partition count {}", item.partitions);
    } else if (replication != -1 && replication != 1) {
      item.error = KafkaError::kInvalidReplicationFactor;
      item.message = fmt::format(
          "replication factor {} is impossible on this single-node broker (use 1 or -1)",
          replication);
    }
    items.push_back(std::move(item));
  }
  in.i32();  // timeout
  const bool validate_only = v >= 1 && in.i8() != 0;
  if (in.failed()) return bad_request(h);
  for (Item& item : items) {
    if (item.error != KafkaError::kNone || validate_only) continue;
    if (Status s = ctx.store.create_topic(item.name, item.partitions, item.overrides); !s) {
      const bool exists = s.error().message.find("exists") != std::string::npos;
      item.error = exists ? KafkaError::kTopicAlreadyExists : KafkaError::kUnknownServerError;
      item.message = s.error().message;
    }
  }
  Writer w = start(h);
  if (v >= 2) w.i32(0);
  w.array_length(items.size());
  for (const Item& item : items) {
    w.string(item.name);
    w.i16(code(item.error));
    if (v >= 1) w.nullable_string(message_or_null(item.message));
  }
  return finish(w);
}

Response delete_topics(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  std::vector<std::string> names;
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) names.push_back(in.string());
  in.i32();  // timeout
  if (in.failed()) return bad_request(h);
  Writer w = start(h);
  if (h.api_version >= 1) w.i32(0);
  w.array_length(names.size());
  for (const std::string& name : names) {
    KafkaError err = KafkaError::kNone;
    if (Status s = ctx.store.delete_topic(name); !s) {
      err = s.error().code == ErrorCode::kNotFound ? KafkaError::kUnknownTopicOrPartition
                                                   : KafkaError::kUnknownServerError;
    }
    w.string(name);
    w.i16(code(err));
  }
  return finish(w);
}

Response describe_configs(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  struct Item {
    int8_t type;
    std::string name;
    std::vector<std::string> keys;  // empty: all
  };
  std::vector<Item> items;
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    Item item{in.i8(), in.string(), {}};
    const int32_t keys = in.array_length();
    for (int32_t k = 0; k < keys && !in.failed(); ++k) item.keys.push_back(in.string());
    items.push_back(std::move(item));
  }
  const bool synonyms = v >= 1 && in.i8() != 0;
  if (in.failed()) return bad_request(h);

  Writer w = start(h);
  w.i32(0);  // throttle
  w.array_length(items.size());
  for (const Item& item : items) {
    std::vector<ConfigEntry> entries;
    std::optional<ResourceResult> bad = check_resource(ctx, item.type, item.name);
    if (!bad && item.type == kTopicResource) {
      const auto overrides = ctx.store.overrides(item.name);
      if (overrides) {
        entries = describe_topic_config(ctx.store.defaults(), *overrides);
      } else {  // deleted meanwhile
        bad = ResourceResult{KafkaError::kUnknownTopicOrPartition, "unknown topic", item.type,
                             item.name};
      }
    } else if (!bad) {
      entries = describe_broker_config(ctx.store.defaults(), ctx.params.default_partitions);
    }
    w.i16(bad ? code(bad->error) : int16_t{0});
    w.nullable_string(bad ? message_or_null(bad->message) : std::nullopt);
    w.i8(item.type);
    w.string(item.name);
    std::vector<const ConfigEntry*> chosen;
    for (const ConfigEntry& e : entries) {
      if (item.keys.empty() ||
          std::find(item.keys.begin(), item.keys.end(), e.name) != item.keys.end())
        chosen.push_back(&e);
    }
    w.array_length(chosen.size());
    for (const ConfigEntry* e : chosen) {
      const int8_t source = item.type == kBrokerResource ? kSourceStaticBroker
                            : e->is_default              ? kSourceDefault
                                                         : kSourceTopic;
      w.string(e->name);
      w.nullable_string(e->value);
      w.i8(item.type == kBrokerResource ? 1 : 0);  // read only
      if (v == 0) w.i8(e->is_default ? 1 : 0);
      if (v >= 1) w.i8(source);
      w.i8(0);  // sensitive
      if (v >= 1) {
        if (synonyms) {
          w.array_length(1);
          w.string(e->name);
          w.nullable_string(e->value);
          w.i8(source);
        } else {
          w.array_length(0);
        }
      }
    }
  }
  return finish(w);
}

Response alter_configs(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  struct Item {
    int8_t type;
    std::string name;
    TopicOverrides overrides;
  };
  std::vector<Item> items;
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    Item item{in.i8(), in.string(), {}};
    const int32_t configs = in.array_length();
    for (int32_t c = 0; c < configs && !in.failed(); ++c) {
      std::string key = in.string();
      std::optional<std::string> value = in.nullable_string();
      if (value) item.overrides[key] = *value;  // AlterConfigs replaces the whole set
    }
    items.push_back(std::move(item));
  }
  const bool validate_only = in.i8() != 0;
  if (in.failed()) return bad_request(h);
  std::vector<ResourceResult> results;
  for (const Item& item : items)
    results.push_back(alter_resource(ctx, item.type, item.name, item.overrides, validate_only));
  return write_alter_results(h, results);
}

Response incremental_alter_configs(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  enum Op : int8_t { kSet = 0, kDelete = 1 };
  struct Change {
    std::string key;
    int8_t op;
    std::optional<std::string> value;
  };
  struct Item {
    int8_t type;
    std::string name;
    std::vector<Change> changes;
  };
  std::vector<Item> items;
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    Item item{in.i8(), in.string(), {}};
    const int32_t configs = in.array_length();
    for (int32_t c = 0; c < configs && !in.failed(); ++c) {
      Change change;
      change.key = in.string();
      change.op = in.i8();
      change.value = in.nullable_string();
      item.changes.push_back(std::move(change));
    }
    items.push_back(std::move(item));
  }
  const bool validate_only = in.i8() != 0;
  if (in.failed()) return bad_request(h);
  std::vector<ResourceResult> results;
  for (const Item& item : items) {
    if (auto bad = check_resource(ctx, item.type, item.name)) {
      results.push_back(*bad);
      continue;
    }
    TopicOverrides overrides;
    if (item.type == kTopicResource)
      overrides = ctx.store.overrides(item.name).value_or(TopicOverrides{});
    std::optional<ResourceResult> bad;
    for (const Change& c : item.changes) {
      if (c.op == kSet && c.value) {
        overrides[c.key] = *c.value;
      } else if (c.op == kDelete) {
        overrides.erase(c.key);
      } else {
        bad = ResourceResult{KafkaError::kInvalidRequest,
                             fmt::format("config {}: operation {} is not supported for these "
                                         "single-valued configs (SET or DELETE)",
                                         c.key, c.op),
                             item.type, item.name};
      }
    }
    results.push_back(bad ? *bad
                          : alter_resource(ctx, item.type, item.name, overrides, validate_only));
  }
  return write_alter_results(h, results);
}

}  // namespace kv::broker::handler_detail
