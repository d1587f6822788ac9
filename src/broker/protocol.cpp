#include "broker/protocol.h"

#include "broker/record_batch.h"

namespace kv::broker {

const uint8_t* Reader::take(size_t n) {
  if (failed_ || n > remaining()) {
    failed_ = true;
    return nullptr;
  }
  const uint8_t* p = bytes_.data() + pos_;
  pos_ += n;
  return p;
}

int8_t Reader::i8() {
  const uint8_t* p = take(1);
  return p ? static_cast<int8_t>(p[0]) : 0;
}
int16_t Reader::i16() {
  const uint8_t* p = take(2);
  return p ? static_cast<int16_t>(static_cast<uint16_t>(p[0] << 8 | p[1])) : 0;
}
int32_t Reader::i32() {
  const uint8_t* p = take(4);
  return p ? static_cast<int32_t>(load_be32(p)) : 0;
}
int64_t Reader::i64() {
  const uint8_t* p = take(8);
  return p ? static_cast<int64_t>(load_be64(p)) : 0;
}

std::optional<std::string> Reader::nullable_string() {
  const int16_t n = i16();
  if (n < 0) {
    if (n != -1) failed_ = true;
    return std::nullopt;
  }
  const uint8_t* p = take(static_cast<size_t>(n));
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::string Reader::string() {
  return nullable_string().value_or(std::string());
}

std::span<const uint8_t> Reader::bytes() {
  const int32_t n = i32();
  if (n < 0) {
    if (n != -1) failed_ = true;
    return {};
  }
  const uint8_t* p = take(static_cast<size_t>(n));
  return p ? std::span<const uint8_t>(p, static_cast<size_t>(n)) : std::span<const uint8_t>();
}

int32_t Reader::array_length() {
  const int32_t n = i32();
  if (n < -1 ||
      (n > 0 && static_cast<size_t>(n) > remaining())) {  // every element takes a byte at least
    failed_ = true;
    return 0;
  }
  return n < 0 ? 0 : n;
}

void Reader::skip(size_t n) {
  take(n);
}

uint32_t Reader::uvarint() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    const uint8_t* p = take(1);
    if (p == nullptr) return 0;
    v |= static_cast<uint32_t>(*p & 0x7f) << shift;
    if ((*p & 0x80) == 0) return v;
  }
  failed_ = true;
  return 0;
}

std::optional<std::string> Reader::compact_nullable_string() {
  const uint32_t n = uvarint();
  if (n == 0) return std::nullopt;
  const uint8_t* p = take(n - 1);
  return p ? std::string(reinterpret_cast<const char*>(p), n - 1) : std::string();
}

std::string Reader::compact_string() {
  return compact_nullable_string().value_or(std::string());
}

int32_t Reader::compact_array_length() {
  const uint32_t n = uvarint();
  if (n == 0) return 0;
  if (n - 1 > remaining()) {  // every element takes a byte at least
    failed_ = true;
    return 0;
  }
  return static_cast<int32_t>(n - 1);
}

void Reader::skip_tagged_fields() {
  const uint32_t n = uvarint();
  for (uint32_t i = 0; i < n && !failed_; ++i) {
    uvarint();  // tag
    take(uvarint());
  }
}

void Writer::i16(int16_t v) {
  out_.push_back(static_cast<uint8_t>(static_cast<uint16_t>(v) >> 8));
  out_.push_back(static_cast<uint8_t>(v));
}
void Writer::i32(int32_t v) {
  uint8_t b[4];
  store_be32(b, static_cast<uint32_t>(v));
  out_.insert(out_.end(), b, b + 4);
}
void Writer::i64(int64_t v) {
  uint8_t b[8];
  store_be64(b, static_cast<uint64_t>(v));
  out_.insert(out_.end(), b, b + 8);
}
void Writer::uvarint(uint32_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

void Writer::compact_string(std::string_view s) {
  uvarint(static_cast<uint32_t>(s.size() + 1));
  out_.insert(out_.end(), s.begin(), s.end());
}

void Writer::string(std::string_view s) {
  i16(static_cast<int16_t>(s.size()));
  out_.insert(out_.end(), s.begin(), s.end());
}
void Writer::nullable_string(const std::optional<std::string>& s) {
  if (!s) {
    i16(-1);
    return;
  }
  string(*s);
}
void Writer::bytes(std::span<const uint8_t> b) {
  i32(static_cast<int32_t>(b.size()));
  raw(b);
}

}  // namespace kv::broker
