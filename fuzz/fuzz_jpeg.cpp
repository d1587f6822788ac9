// Frame values are arbitrary bytes from the topic: decoding them whole and at libjpeg's
// smallest IDCT scale must reject or decode, never crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/jpeg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  (void)kv::media::decode_jpeg(bytes);
  (void)kv::media::decode_jpeg_at_least(bytes, {1, 1}, nullptr);  // 1/8
  return 0;
}
