#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace kv::broker {

// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2: the CPU's crc32 instruction
// where it has one (x86-64 with SSE 4.2), else crc32c_portable. `crc` continues a checksum.
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

// The same in portable C++ (slicing-by-8 tables).
uint32_t crc32c_portable(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace kv::broker
