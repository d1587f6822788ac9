// KV_ASSERT: programmer errors abort with a message; expected failures use Result.
#pragma once

#include <string_view>

namespace kv::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, std::string_view msg);
}  // namespace kv::detail

#define KV_ASSERT(cond, msg)                                                  \
  do {                                                                        \
    if (!(cond)) ::kv::detail::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
