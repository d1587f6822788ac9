// Frame values are arbitrary bytes from the topic: decode_jpeg must reject or decode, never crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/jpeg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)kv::media::decode_jpeg(std::span<const uint8_t>(data, size));
  return 0;
}
