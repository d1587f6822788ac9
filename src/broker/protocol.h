// Kafka wire primitives: big-endian integers, strings, bytes and arrays, and the compact
// encodings of flexible versions (used only where a client needs one, see supported_apis()).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kv::broker {

// Reads from a request. Never reads past the end: an underflow sets failed() and returns zeros,
// so a handler can decode a whole request and check once.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  int8_t i8();
  int16_t i16();
  int32_t i32();
  int64_t i64();
  std::string string();  // INT16 length; -1 (null) reads as ""
  std::optional<std::string> nullable_string();
  std::span<const uint8_t> bytes();  // INT32 length; -1 (null) reads as empty
  int32_t array_length();            // -1 (null) reads as 0; absurd lengths fail
  void skip(size_t n);

  // Flexible versions (KIP-482): unsigned varints, compact strings and arrays (length + 1),
  // and tagged fields, which this broker reads past.
  uint32_t uvarint();
  std::optional<std::string> compact_nullable_string();
  std::string compact_string();    // null reads as ""
  int32_t compact_array_length();  // null reads as 0
  void skip_tagged_fields();

  bool failed() const { return failed_; }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  const uint8_t* take(size_t n);
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Builds a response.
class Writer {
 public:
  void i8(int8_t v) { out_.push_back(static_cast<uint8_t>(v)); }
  void i16(int16_t v);
  void i32(int32_t v);
  void i64(int64_t v);
  void string(std::string_view s);
  void nullable_string(const std::optional<std::string>& s);
  void bytes(std::span<const uint8_t> b);  // INT32 length + bytes
  void null_bytes() { i32(-1); }
  void array_length(size_t n) { i32(static_cast<int32_t>(n)); }
  void uvarint(uint32_t v);
  void compact_string(std::string_view s);
  void compact_array_length(size_t n) { uvarint(static_cast<uint32_t>(n + 1)); }
  void no_tagged_fields() { i8(0); }
  void raw(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

  std::vector<uint8_t>& buffer() { return out_; }
  size_t size() const { return out_.size(); }

 private:
  std::vector<uint8_t> out_;
};

}  // namespace kv::broker
