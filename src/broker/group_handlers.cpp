// The consumer-group APIs of the durable broker: decode, call the GroupCoordinator, encode.
#include <map>
#include <tuple>

#include "broker/handlers.h"

namespace kv::broker::handler_detail {

// --- Consumer groups ---------------------------------------------------------------------
Response join_group(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  JoinRequest req;
  req.group = in.string();
  req.session_timeout_ms = in.i32();
  req.rebalance_timeout_ms = v >= 1 ? in.i32() : req.session_timeout_ms;
  req.member_id = in.string();
  if (v >= 5) in.nullable_string();  // static membership is not supported: treated as dynamic
  req.protocol_type = in.string();
  req.client_id = h.client_id.value_or("");
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    std::string name = in.string();
    const auto meta = in.bytes();
    req.protocols.emplace_back(std::move(name), std::vector<uint8_t>(meta.begin(), meta.end()));
  }
  if (in.failed()) return bad_request(h);
  const JoinResponse r = ctx.groups.join(req);
  Writer w = start(h);
  if (v >= 2) w.i32(0);
  w.i16(r.error);
  w.i32(r.generation);
  w.string(r.protocol);
  w.string(r.leader);
  w.string(r.member_id);
  w.array_length(r.members.size());
  for (const auto& [id, meta] : r.members) {
    w.string(id);
    if (v >= 5) w.nullable_string(std::nullopt);
    w.bytes(meta);
  }
  return finish(w);
}

Response sync_group(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  const std::string group = in.string();
  const int32_t generation = in.i32();
  const std::string member = in.string();
  if (v >= 3) in.nullable_string();
  std::vector<std::pair<std::string, std::vector<uint8_t>>> assignments;
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) {
    std::string id = in.string();
    const auto bytes = in.bytes();
    assignments.emplace_back(std::move(id), std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }
  if (in.failed()) return bad_request(h);
  const auto [error, assignment] = ctx.groups.sync(group, generation, member, assignments);
  Writer w = start(h);
  if (v >= 1) w.i32(0);
  w.i16(error);
  w.bytes(assignment);
  return finish(w);
}

Response heartbeat(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const std::string group = in.string();
  const int32_t generation = in.i32();
  const std::string member = in.string();
  if (h.api_version >= 3) in.nullable_string();
  if (in.failed()) return bad_request(h);
  Writer w = start(h);
  if (h.api_version >= 1) w.i32(0);
  w.i16(ctx.groups.heartbeat(group, generation, member));
  return finish(w);
}

Response leave_group(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  const std::string group = in.string();
  std::vector<std::string> members;
  if (v >= 3) {
    const int32_t n = in.array_length();
    for (int32_t i = 0; i < n && !in.failed(); ++i) {
      members.push_back(in.string());
      in.nullable_string();
    }
  } else {
    members.push_back(in.string());
  }
  if (in.failed()) return bad_request(h);
  std::vector<int16_t> errors;
  for (const std::string& m : members) errors.push_back(ctx.groups.leave(group, m));
  Writer w = start(h);
  if (v >= 1) w.i32(0);
  w.i16(v >= 3 ? 0 : errors.front());
  if (v >= 3) {
    w.array_length(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      w.string(members[i]);
      w.nullable_string(std::nullopt);
      w.i16(errors[i]);
    }
  }
  return finish(w);
}

Response offset_commit(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  const std::string group = in.string();
  int32_t generation = -1;
  std::string member;
  if (v >= 1) {
    generation = in.i32();
    member = in.string();
  }
  if (v >= 7) in.nullable_string();
  if (v >= 2 && v <= 4) in.i64();  // retention time
  TopicPartitions order;
  std::vector<std::tuple<std::string, int32_t, int64_t, std::string>> offsets;
  const int32_t topics = in.array_length();
  for (int32_t t = 0; t < topics && !in.failed(); ++t) {
    std::string name = in.string();
    std::vector<int32_t> parts;
    const int32_t np = in.array_length();
    for (int32_t p = 0; p < np && !in.failed(); ++p) {
      const int32_t index = in.i32();
      const int64_t offset = in.i64();
      if (v >= 6) in.i32();
      if (v == 1) in.i64();
      std::string metadata = in.nullable_string().value_or("");
      parts.push_back(index);
      offsets.emplace_back(name, index, offset, std::move(metadata));
    }
    order.emplace_back(std::move(name), std::move(parts));
  }
  if (in.failed()) return bad_request(h);
  const int16_t error = ctx.groups.commit(group, generation, member, offsets);
  Writer w = start(h);
  if (v >= 3) w.i32(0);
  write_partition_errors(w, order, error);
  return finish(w);
}

Response offset_fetch(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  const std::string group = in.string();
  std::vector<std::pair<std::string, std::vector<int32_t>>> wanted;
  const int32_t topics = in.i32();
  if (topics < 0) {  // null: every partition the group committed
    std::map<std::string, std::vector<int32_t>> all;
    for (const auto& [topic, p] : ctx.groups.committed_partitions(group)) all[topic].push_back(p);
    wanted.assign(all.begin(), all.end());
  } else if (static_cast<size_t>(topics) > in.remaining()) {
    return bad_request(h);
  }
  for (int32_t t = 0; t < topics && !in.failed(); ++t) {
    std::string name = in.string();
    std::vector<int32_t> parts;
    const int32_t np = in.array_length();
    for (int32_t p = 0; p < np && !in.failed(); ++p) parts.push_back(in.i32());
    wanted.emplace_back(std::move(name), std::move(parts));
  }
  if (in.failed()) return bad_request(h);
  Writer w = start(h);
  if (v >= 3) w.i32(0);
  w.array_length(wanted.size());
  for (const auto& [name, parts] : wanted) {
    w.string(name);
    w.array_length(parts.size());
    for (int32_t p : parts) {
      const auto c = ctx.groups.committed(group, name, p);
      w.i32(p);
      w.i64(c ? c->offset : -1);
      if (v >= 5) w.i32(-1);
      w.nullable_string(c ? std::optional<std::string>(c->metadata)
                          : std::optional<std::string>(""));
      w.i16(0);
    }
  }
  if (v >= 2) w.i16(0);
  return finish(w);
}

Response list_groups(HandlerContext& ctx, const RequestHeader& h) {
  Writer w = start(h);
  if (h.api_version >= 1) w.i32(0);
  w.i16(0);
  const auto groups = ctx.groups.list_groups();
  w.array_length(groups.size());
  for (const auto& [name, type] : groups) {
    w.string(name);
    w.string(type);
  }
  return finish(w);
}

Response describe_groups(HandlerContext& ctx, const RequestHeader& h, Reader& in) {
  const int16_t v = h.api_version;
  std::vector<std::string> names;
  const int32_t n = in.array_length();
  for (int32_t i = 0; i < n && !in.failed(); ++i) names.push_back(in.string());
  if (v >= 3) in.i8();
  if (in.failed()) return bad_request(h);
  Writer w = start(h);
  if (v >= 1) w.i32(0);
  w.array_length(names.size());
  for (const std::string& name : names) {
    const auto g = ctx.groups.describe(name);
    w.i16(0);
    w.string(name);
    w.string(g ? g->state : "Dead");
    w.string(g ? g->protocol_type : "");
    w.string(g ? g->protocol : "");
    w.array_length(g ? g->members.size() : 0);
    if (g) {
      for (const auto& m : g->members) {
        w.string(m.member_id);
        if (v >= 4) w.nullable_string(std::nullopt);
        w.string(m.client_id);
        w.string("/127.0.0.1");
        w.bytes(m.metadata);
        w.bytes(m.assignment);
      }
    }
    if (v >= 3) w.i32(-2147483648);
  }
  return finish(w);
}

}  // namespace kv::broker::handler_detail
