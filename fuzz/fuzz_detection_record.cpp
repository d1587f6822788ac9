// Detection records are JSON from the topic: any bytes must give a record or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/detection_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto rec = kv::wire::decode_detection_record(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (rec.ok()) {
    auto again = kv::wire::decode_detection_record(kv::wire::encode_detection_record(*rec));
    if (!again.ok() || again->detections.size() != rec->detections.size()) __builtin_trap();
  }
  return 0;
}
