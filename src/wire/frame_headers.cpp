#include "wire/frame_headers.h"

#include <charconv>

#include <fmt/format.h>

namespace kv::wire {
namespace {

Result<int64_t> parse_int(const Headers& headers, const char* name, int64_t min, int64_t max) {
  const std::string* v = find_header(headers, name);
  if (v == nullptr) return make_error(ErrorCode::kDecode, fmt::format("missing header '{}'", name));
  int64_t out = 0;
  const char* end = v->data() + v->size();
  auto [ptr, ec] = std::from_chars(v->data(), end, out);
  if (ec != std::errc() || ptr != end || v->empty()) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("header '{}' is not an integer: '{}'", name, *v));
  }
  if (out < min || out > max) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("header '{}' = {} is outside [{}, {}]", name, out, min, max));
  }
  return out;
}

}  // namespace

const std::string* find_header(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

Headers encode_frame_headers(const FrameMeta& meta) {
  Headers headers{
      {kHdrSchema, std::to_string(kSchemaVersion)},
      {kHdrCamera, meta.camera},
      {kHdrSeq, std::to_string(meta.seq)},
      {kHdrSession, std::to_string(meta.session_us)},
      {kHdrStreamPos, std::to_string(meta.stream_pos_ms)},
      {kHdrCaptureTime, std::to_string(meta.capture_us)},
      {kHdrWidth, std::to_string(meta.width)},
      {kHdrHeight, std::to_string(meta.height)},
      {kHdrFormat, meta.format},
  };
  if (meta.stale_after_ms > 0)
    headers.emplace_back(kHdrStaleAfter, std::to_string(meta.stale_after_ms));
  return headers;
}

Result<FrameMeta> decode_frame_headers(const Headers& headers) {
  constexpr int64_t kMaxI64 = INT64_MAX;
  auto schema = parse_int(headers, kHdrSchema, 1, kMaxI64);
  if (!schema) return schema.error();
  if (*schema > kSchemaVersion) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("record schema {} is newer than this build understands ({})",
                                  *schema, kSchemaVersion));
  }
  FrameMeta meta;
  const std::string* camera = find_header(headers, kHdrCamera);
  if (camera == nullptr || camera->empty()) {
    return make_error(ErrorCode::kDecode, fmt::format("missing header '{}'", kHdrCamera));
  }
  meta.camera = *camera;
  const std::string* format = find_header(headers, kHdrFormat);
  if (format == nullptr)
    return make_error(ErrorCode::kDecode, fmt::format("missing header '{}'", kHdrFormat));
  meta.format = *format;

  struct IntField {
    const char* name;
    int64_t min;
    int64_t max;
    int64_t* out;
  };
  int64_t width = 0;
  int64_t height = 0;
  const IntField fields[] = {
      {kHdrSeq, 0, kMaxI64, &meta.seq},
      {kHdrSession, 0, kMaxI64, &meta.session_us},
      {kHdrStreamPos, 0, kMaxI64, &meta.stream_pos_ms},
      {kHdrCaptureTime, 0, kMaxI64, &meta.capture_us},
      {kHdrWidth, 1, 1 << 16, &width},
      {kHdrHeight, 1, 1 << 16, &height},
  };
  for (const IntField& f : fields) {
    auto v = parse_int(headers, f.name, f.min, f.max);
    if (!v) return v.error();
    *f.out = *v;
  }
  if (find_header(headers, kHdrStaleAfter) != nullptr) {
    auto stale = parse_int(headers, kHdrStaleAfter, 0, kMaxI64);
    if (!stale) return stale.error();
    meta.stale_after_ms = *stale;
  }
  meta.width = static_cast<int32_t>(width);
  meta.height = static_cast<int32_t>(height);
  return meta;
}

}  // namespace kv::wire
