// kvision web's and the metrics endpoint's request parsing: the request head, cookies and form
// bodies come from anyone who can connect, and must never crash the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kv::http::Request req;
  if (kv::http::parse_request(text, req)) {
    // What parses is a path starting with '/', split into segments.
    if (req.path.empty() || req.path[0] != '/') __builtin_trap();
    if (auto c = req.headers.find("cookie"); c != req.headers.end())
      (void)kv::http::cookie_value(c->second, "kv_session");
  }
  (void)kv::http::form_fields(text);
  (void)kv::http::url_decode(text);
  return 0;
}
