// Small POSIX file helpers shared by the broker's storage: an owned descriptor and loops that
// finish short reads and writes (retrying EINTR).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace kv::broker {

// Owns a file descriptor; closes it on destruction.
class File {
 public:
  File() = default;
  explicit File(int fd) : fd_(fd) {}
  File(File&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  File& operator=(File&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// Writes all n bytes at the current position; false (errno set) on failure.
bool write_all(int fd, const void* data, size_t n);

// Reads exactly n bytes at `pos`; false on failure or end of file.
bool pread_exact(int fd, void* data, size_t n, int64_t pos);

// Replaces `path` with `content` atomically and durably: a temporary file is written and
// fdatasync'ed, renamed over `path`, and the directory is fsync'ed.
Status replace_file(const std::filesystem::path& path, std::string_view content);

}  // namespace kv::broker
