// Frame JPEGs kept on disk beside the database: DIR/<camera>/<session_us>-<seq>.jpg, with
// retention by age and by total size (the oldest files go first). One process per directory:
// the retention counts the files found at start-up and those this process wrote.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kv::store {

struct Retention {
  int64_t max_age_us = 0;  // 0: keep regardless of age
  int64_t max_bytes = 0;   // 0: no size limit
};

// Thread-safety: one thread at a time.
class FrameFiles {
 public:
  // Creates the directory if needed and indexes the files already there.
  static Result<std::unique_ptr<FrameFiles>> open(const std::string& dir, Retention retention);

  // Writes the file (to a temporary name, synced, then renamed: never half a JPEG).
  Status save(const std::string& camera, int64_t session_us, int64_t seq, std::string_view jpeg);
  // Syncs the directories that saves changed, so that the files' names survive a power loss
  // too. Call before committing what the saved frames came from.
  Status sync();
  // Deletes what the retention no longer allows; returns how many files went.
  int64_t enforce();

  int64_t bytes() const { return bytes_; }
  size_t files() const { return index_.size(); }

 private:
  struct Entry {
    int64_t mtime_us;
    int64_t size;
    std::string path;
  };
  FrameFiles() = default;

  std::string dir_;
  Retention retention_;
  std::deque<Entry> index_;  // oldest first
  int64_t bytes_ = 0;
  std::set<std::string> dirty_dirs_;
};

// The file a frame is kept in (whether or not it still exists).
std::string frame_file(const std::string& dir, const std::string& camera, int64_t session_us,
                       int64_t seq);

}  // namespace kv::store
