// Frame values are arbitrary bytes from the topic: both decoders (OpenCV's, and libjpeg called
// directly with IDCT scaling) must reject or decode, never crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/jpeg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  (void)kv::media::decode_jpeg(bytes);
  (void)kv::media::decode_jpeg_at_least(bytes, {416, 312}, nullptr);
  return 0;
}
