#include "broker/fd_io.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace kv::broker {

bool write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool pread_exact(int fd, void* data, size_t n, int64_t pos) {
  auto* p = static_cast<uint8_t*>(data);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, pos);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    pos += r;
  }
  return true;
}

Status replace_file(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    const File fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0 || !write_all(fd.get(), content.data(), content.size()) ||
        ::fdatasync(fd.get()) != 0) {
      return make_error(ErrorCode::kIo,
                        fmt::format("cannot write '{}': {}", tmp.string(), std::strerror(errno)));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot replace '{}': {}", path.string(), ec.message()));
  const File dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return ok_status();
}

}  // namespace kv::broker
