#include "store/frame_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"

namespace kv::store {
namespace fs = std::filesystem;
namespace {

// A camera id as a directory name: anything but letters, digits, '.', '-' and '_' becomes '_'.
std::string safe_name(const std::string& camera) {
  std::string out = camera;
  for (char& c : out) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-' && c != '_')
      c = '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

int64_t mtime_us(fs::file_time_type t) {
  const auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch()).count();
}

}  // namespace

std::string frame_file(const std::string& dir, const std::string& camera, int64_t session_us,
                       int64_t seq) {
  return fmt::format("{}/{}/{}-{:08d}.jpg", dir, safe_name(camera), session_us, seq);
}

Result<std::unique_ptr<FrameFiles>> FrameFiles::open(const std::string& dir, Retention retention) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot create frame directory '{}': {}", dir, ec.message()));
  }
  std::unique_ptr<FrameFiles> f(new FrameFiles());
  f->dir_ = dir;
  f->retention_ = retention;
  std::vector<Entry> found;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    // Files may vanish while this looks (another process's retention): skip them.
    std::error_code gone;
    if (!it->is_regular_file(gone) || it->path().extension() != ".jpg") continue;
    const auto size = it->file_size(gone);
    const auto time = fs::last_write_time(it->path(), gone);
    if (gone) continue;
    found.push_back({mtime_us(time), static_cast<int64_t>(size), it->path().string()});
  }
  std::sort(found.begin(), found.end(),
            [](const Entry& a, const Entry& b) { return a.mtime_us < b.mtime_us; });
  for (Entry& e : found) {
    f->bytes_ += e.size;
    f->index_.push_back(std::move(e));
  }
  return f;
}

Status FrameFiles::save(const std::string& camera, int64_t session_us, int64_t seq,
                        std::string_view jpeg) {
  const std::string path = frame_file(dir_, camera, session_us, seq);
  const std::string parent = fs::path(path).parent_path().string();
  std::error_code ec;
  if (fs::create_directories(parent, ec)) dirty_dirs_.insert(dir_);  // a new camera directory
  dirty_dirs_.insert(parent);
  const bool replacing = ::access(path.c_str(), F_OK) == 0;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  for (size_t done = 0; ok && done < jpeg.size();) {
    const ssize_t n = ::write(fd, jpeg.data() + done, jpeg.size() - done);
    ok = n > 0;
    done += ok ? static_cast<size_t>(n) : 0;
  }
  ok = ok && ::fdatasync(fd) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, fmt::format("cannot write frame '{}': {}", path,
                                                  std::strerror(ok ? errno : err)));
  }
  // A redelivered frame replaces its file: drop the old entry so the size stays right.
  for (auto it = index_.begin(); replacing && it != index_.end(); ++it) {
    if (it->path == path) {
      bytes_ -= it->size;
      index_.erase(it);
      break;
    }
  }
  index_.push_back({wall_now_us(), static_cast<int64_t>(jpeg.size()), path});
  bytes_ += static_cast<int64_t>(jpeg.size());
  return ok_status();
}

Status FrameFiles::sync() {
  for (const std::string& d : dirty_dirs_) {
    const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) {
      return make_error(ErrorCode::kIo,
                        fmt::format("cannot sync directory '{}': {}", d, std::strerror(err)));
    }
  }
  dirty_dirs_.clear();
  return ok_status();
}

int64_t FrameFiles::enforce() {
  const int64_t now = wall_now_us();
  int64_t removed = 0;
  while (!index_.empty()) {
    const Entry& oldest = index_.front();
    const bool too_old = retention_.max_age_us > 0 && now - oldest.mtime_us > retention_.max_age_us;
    const bool too_big = retention_.max_bytes > 0 && bytes_ > retention_.max_bytes;
    if (!too_old && !too_big) break;
    ::unlink(oldest.path.c_str());
    bytes_ -= oldest.size;
    index_.pop_front();
    ++removed;
  }
  return removed;
}

}  // namespace kv::store
