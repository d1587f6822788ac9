// Frame headers come from any producer on the topic: they must never crash the decoder.
// Input: NUL-separated "key\0value\0key\0value..." pairs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "wire/frame_headers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kv::wire::Headers headers;
  std::string parts[2];
  int which = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      if (which == 1) headers.emplace_back(parts[0], parts[1]), parts[0].clear(), parts[1].clear();
      which ^= 1;
      continue;
    }
    parts[which].push_back(static_cast<char>(data[i]));
  }
  auto meta = kv::wire::decode_frame_headers(headers);
  if (meta.ok()) {
    // What decodes must survive a round trip unchanged.
    auto again = kv::wire::decode_frame_headers(kv::wire::encode_frame_headers(*meta));
    if (!again.ok() || again->seq != meta->seq || again->camera != meta->camera) __builtin_trap();
  }
  return 0;
}
