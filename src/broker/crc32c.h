#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace kv::broker {

// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace kv::broker
