// Where tests find data that is not in the repository. Each is overridable by an environment
// variable; a test that needs a missing file skips with a message saying how to get it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace kv::testing {

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// Sample media fetched by scripts/fetch_samples.sh (vtest.avi, dog.jpg).
inline std::string data_dir() {
  return env_or("KV_DATA_DIR", std::string(KV_SOURCE_DIR) + "/.data");
}
// ../shared beside the project root: models and labelled data.
inline std::string shared_dir() {
  return env_or("KV_SHARED_DIR", std::string(KV_SOURCE_DIR) + "/../shared");
}
inline std::string yolox_nano_path() {
  return shared_dir() + "/models/yolox_nano/yolox_nano.onnx";
}

inline bool exists(const std::string& path) {
  return std::filesystem::exists(path);
}

}  // namespace kv::testing

#define KV_REQUIRE_FILE(path)                                                                \
  do {                                                                                       \
    if (!::kv::testing::exists(path))                                                        \
      GTEST_SKIP()                                                                           \
          << "missing " << (path)                                                            \
          << " (run scripts/fetch_samples.sh; set KV_DATA_DIR / KV_SHARED_DIR to override)"; \
  } while (0)
