// kvision store's stage: results into the database in batches (and, when kept, each frame's
// JPEG on disk), on the subscriber loop: a record's offset is stored only once its batch is
// committed and its JPEG synced.
#pragma once

#include <cstdint>
#include <vector>

#include "metrics/stage_metrics.h"
#include "pipeline/subscriber.h"
#include "store/detection_store.h"
#include "store/frame_files.h"
#include "wire/detection_record.h"

namespace kv::store {

struct StoreStageOptions {
  int batch = 100;     // records per database transaction, at most
  int batch_ms = 200;  // how long a record may wait for its batch
};

// Thread-safety: one thread (the loop's).
class StoreStage final : public pipeline::Subscriber {
 public:
  // `files` may be null: no frames kept.
  StoreStage(DetectionStore& db, FrameFiles* files, StoreStageOptions options);

  Status take(const kafka::Message& record) override;
  bool due(int64_t now_us) const override;
  Status flush() override;

  int64_t new_frames() const { return new_frames_; }  // frames not stored before

 private:
  DetectionStore& db_;
  FrameFiles* files_;
  StoreStageOptions options_;
  std::vector<wire::DetectionRecord> batch_;
  int64_t first_us_ = 0;  // when the batch's first record was taken
  int64_t new_frames_ = 0;
  metrics::FrameCounter frames_{"store"};
};

}  // namespace kv::store
